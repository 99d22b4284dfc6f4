"""Input checks shared by the layers and models: bad input raises ValueError, never broadcasts.

Every message names the array, says what it should be and what it is, and, where the mistake
is a common one, how to fix it (a missing batch axis, integer labels where one-hot rows are
meant, a NaN). The models describe their inputs once, as an :class:`Inputs` (which array has
which symbolic shape), and :func:`check_inputs` checks keys, types, shapes, the batch size and
finiteness in one pass; the layers and losses they call then skip their own checks.
"""

from __future__ import annotations

import cmath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

Shape = Sequence[int | None]
#: one axis of a symbolic shape: a fixed size, a name bound by the first array that has it, or a
#: function of the sizes bound so far (which may raise ValueError itself)
Dim = int | str | Callable[[dict[str, int]], int]


def as_array(name: str, value: object) -> np.ndarray:
    """Return ``value`` as a float64 (or complex128) array; reject anything else.

    Integers and booleans are converted to float64; complex input stays complex
    so that the complex-step derivative can pass through.
    """
    arr = np.asarray(value)
    if np.iscomplexobj(arr):
        return arr.astype(np.complex128, copy=False)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _shown(expected: Shape) -> str:
    return "(" + ", ".join("any" if d is None else str(d) for d in expected) + ("," if len(expected) == 1 else "") + ")"


def require_shape(name: str, arr: np.ndarray, expected: Shape, hint: str = "") -> None:
    """Raise ValueError unless ``arr.shape`` matches ``expected`` (``None`` matches any size).

    The message names the array, the shape it should have and the shape it has; ``hint``
    (a sentence starting with "; ") is appended to it.
    """
    got = arr.shape
    if len(got) == len(expected) and all(w is None or w == g for w, g in zip(expected, got)):
        return
    if len(got) != len(expected):
        raise ValueError(f"{name}: expected a {len(expected)}-D array of shape {_shown(expected)}, got shape {got}{hint}")
    raise ValueError(f"{name}: expected shape {_shown(expected)}, got shape {got}{hint}")


def require_finite(name: str, arr: np.ndarray) -> None:
    """Raise ValueError if ``arr`` (real or complex) has a NaN or infinite entry.

    The message gives how many entries are not finite, of how many, how many of them are NaN,
    and the index of the first. The common case costs one sum: a NaN or an infinity makes the
    sum NaN or infinite, so a finite sum proves every entry finite; only a sum that is not
    finite (a bad entry, or finite entries whose sum overflows) looks at the entries one by one.
    """
    if cmath.isfinite(arr.sum()):
        return
    bad = ~np.isfinite(arr)
    count = int(np.count_nonzero(bad))
    if count == 0:  # finite entries whose sum overflowed
        return
    nan = int(np.count_nonzero(np.isnan(arr)))
    first = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), arr.shape))
    kinds = ", ".join(part for part in (f"{nan} NaN" if nan else "", f"{count - nan} infinite" if count > nan else "") if part)
    raise ValueError(
        f"{name}: {count} of {arr.size} {'entry' if arr.size == 1 else 'entries'} {'is' if count == 1 else 'are'} "
        f"not finite ({kinds}), "
        f"the first at index {first}; gradients through a NaN or an infinity are NaN. "
        f"np.argwhere(~np.isfinite({name})) lists them all"
    )


def require_mapping(what: str, mapping: object, expected: Iterable[str], also: str = "") -> None:
    """Raise ValueError unless ``mapping`` is dict-like (a :class:`~collections.abc.Mapping`).

    The message names the keys expected; ``also`` (a clause) can say what the other argument holds.
    """
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{what}: expected a dict of arrays with the keys {list(expected)}, got {type(mapping).__name__}"
                         + (f"; {also}" if also else ""))


def require_keys(what: str, mapping: Mapping[str, object], expected: Iterable[str]) -> None:
    """Raise ValueError if ``mapping`` is not a dict, lacks a key of ``expected`` or has one more."""
    want = list(expected)
    require_mapping(what, mapping, want)
    missing = [k for k in want if k not in mapping]
    extra = sorted(str(k) for k in mapping if k not in want)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing key(s) {missing}")
        if extra:
            parts.append(f"unexpected key(s) {extra}")
        raise ValueError(f"{what}: " + " and ".join(parts) + f"; expected exactly {want}")


@dataclass(frozen=True)
class Inputs:
    """What a model takes: the symbolic shape of every parameter and every data array.

    ``params`` and ``data`` map names to shapes whose axes are :data:`Dim`: an int, a symbol
    (``"B"``, ``"n1"``) or a function of the symbols bound so far. Shapes are checked in the
    order of :meth:`shape_order` (data's first array, the input, then the parameters, then the
    rest of the data): the first array with a symbol binds it, later ones must agree. ``batch``
    is the symbol of the batch axis (the first axis of every data array). ``hints`` maps an
    array's name to ``(applies, text)``: when that array does not fit and ``applies(array,
    sizes)`` is true, ``text.format(**sizes)`` is added to the message (the mistake it explains).
    """

    params: dict[str, tuple[Dim, ...]]
    data: dict[str, tuple[Dim, ...]]
    batch: str = "B"
    hints: dict[str, tuple[Callable[[np.ndarray, dict[str, int]], bool], str]] = field(default_factory=dict)

    def shape_order(self) -> tuple[str, ...]:
        first, *rest = self.data
        return (first, *self.params, *rest)


def _expected(dims: tuple[Dim, ...], sizes: dict[str, int]) -> list[int | None]:
    out: list[int | None] = []
    for d in dims:
        if isinstance(d, str):
            out.append(sizes.get(d))
        elif callable(d):
            out.append(d(sizes))
        else:
            out.append(d)
    return out


def _batch_hint(name: str, arr: np.ndarray, expected: list[int | None]) -> str:
    """The fix for one example given without its batch axis (rank one short, the rest fitting, and
    the batch size not already set to more than 1 by another array)."""
    rest = expected[1:]
    if (arr.ndim != len(rest) or expected[0] not in (None, 1)
            or not all(w is None or w == g for w, g in zip(rest, arr.shape))):
        return ""
    index = ", ".join(["None"] + [":"] * arr.ndim)
    return f"; for one example, pass {name}[{index}] (shape {(1, *arr.shape)}): rows are examples"


_F64, _C128 = np.dtype(np.float64), np.dtype(np.complex128)
_SMALL = 4096  # arrays up to this many entries are checked for NaN together (one sum instead of one each)


def _as_arrays(what: str, mapping: Mapping[str, object], keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """:func:`arrays` with a fast path for what the models receive almost always: float64 or complex128 arrays."""
    if mapping.keys() != set(keys):
        require_keys(what, mapping, keys)
    out = {}
    for k in keys:
        v = mapping[k]
        out[k] = v if type(v) is np.ndarray and (v.dtype == _F64 or v.dtype == _C128) else as_array(k, v)
    return out


def _shape_error(spec: Inputs, name: str, arr: np.ndarray, dims: tuple[Dim, ...], sizes: dict[str, int]) -> ValueError:
    """The ValueError for ``arr`` not fitting ``dims`` given the sizes bound by the arrays before it."""
    expected = _expected(dims, sizes)
    hint = _batch_hint(name, arr, expected) if name in spec.data else ""
    if name in spec.hints:
        applies, text = spec.hints[name]
        try:
            hint = "; " + text.format(**sizes) if applies(arr, sizes) else hint
        except KeyError:  # a size the hint needs is not known yet
            pass
    try:
        require_shape(name, arr, expected, hint)
    except ValueError as err:
        return err
    raise AssertionError(f"{name}: shape {arr.shape} fits {expected}")  # pragma: no cover - the caller saw a misfit


def check_inputs(spec: Inputs, params: object, data: object) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, int]]:
    """Check a model's ``params`` and ``data`` against ``spec``; return them as arrays, and the sizes.

    Raises ValueError for: something other than a dict, a missing or extra key, a non-numeric
    array, a shape that does not fit (with a hint for one example without its batch axis and
    for the common mistakes ``spec.hints`` names), a batch of 0 examples, and a NaN or an
    infinity (how many, and where the first is). Nothing is broadcast: every axis must match.

    A model calls this on every ``loss`` and ``grads``, thousands of times in a gradient check,
    so the common case (float64 arrays that fit) is kept to a few cheap operations; the messages
    are built only on failure.
    """
    if not isinstance(params, Mapping) or not isinstance(data, Mapping):
        both = (f"a model takes loss(params, data), and both are dicts of arrays: params with the keys "
                f"{list(spec.params)}, data with the keys {list(spec.data)} (the model's example(rng) returns such a pair)")
        require_mapping("params", params, spec.params, both)
        require_mapping("data", data, spec.data, both)
    p = _as_arrays("params", params, tuple(spec.params))
    d = _as_arrays("data", data, tuple(spec.data))
    values = {**p, **d}
    shapes = {**spec.params, **spec.data}
    sizes: dict[str, int] = {}
    for name in spec.shape_order():
        arr, dims = values[name], shapes[name]
        shape = arr.shape
        if len(shape) != len(dims):
            raise _shape_error(spec, name, arr, dims, sizes)
        new = []
        for dim, size in zip(dims, shape):
            if type(dim) is str:
                bound = sizes.get(dim)
                if bound is None:
                    sizes[dim] = size
                    new.append(dim)
                    continue
                fits = bound == size
            elif type(dim) is int:
                fits = dim == size
            else:
                fits = dim(sizes) == size
            if not fits:
                for dim_name in new:  # the message shows the sizes known before this array
                    del sizes[dim_name]
                raise _shape_error(spec, name, arr, dims, sizes)
        if spec.batch in new and sizes[spec.batch] < 1:
            raise ValueError(f"{name}: a batch needs at least one example, got shape {shape} "
                             f"(rows are examples: {name}.shape[0] is the batch size)")
    _require_all_finite(values)
    return p, d, sizes


def _require_all_finite(values: dict[str, np.ndarray]) -> None:
    """:func:`require_finite` for every array; the small ones share one sum (one NumPy call each is what
    costs, on small arrays)."""
    small = [a.reshape(-1) for a in values.values() if a.size <= _SMALL]
    if small and not cmath.isfinite(np.concatenate(small).sum() if len(small) > 1 else small[0].sum()):
        for name, arr in values.items():
            require_finite(name, arr)
    for name, arr in values.items():
        if arr.size > _SMALL:
            require_finite(name, arr)

"""Input checks shared by the layers and models: bad input raises ValueError, never broadcasts.

Every message names the array, says what it should be and what it is, and, where the mistake
is a common one, how to fix it (a missing batch axis, integer labels where one-hot rows are
meant, a NaN). Where two arrays disagree about a size they share (the columns of ``x`` and the
rows of ``W1``), the message names both. The models describe their inputs once, as an
:class:`Inputs` (which array has which symbolic shape), and :func:`check_inputs` checks keys,
types, shapes, the batch size and finiteness in one pass; the layers and losses they call then
skip their own checks.
"""

from __future__ import annotations

import cmath
import os
import sys
import warnings
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
    so that the complex-step derivative can pass through. A nested list whose rows differ
    in length is refused, naming the first place where they differ.
    """
    try:
        arr = np.asarray(value)
    except ValueError as err:  # NumPy: "inhomogeneous shape"
        raise ValueError(f"{name}: not an array: {_ragged(name, value)}; the rows of a nested list "
                         f"must all have the same length") from err
    if np.iscomplexobj(arr):
        return arr.astype(np.complex128, copy=False)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _ragged(name: str, value: object) -> str:
    """Where a nested sequence stops being rectangular: "x[2] has 4 entries but x[0] has 5"."""
    def length(v: object) -> int | None:
        return None if isinstance(v, (str, bytes)) or not hasattr(v, "__len__") else len(v)  # type: ignore[arg-type]

    def says(k: int | None) -> str:
        return "is a number" if k is None else f"has {k} {'entry' if k == 1 else 'entries'}"

    level = [(name, value)]
    while level:
        lengths = [length(v) for _, v in level]
        for (where, _), n in zip(level, lengths):
            if n != lengths[0]:
                return f"{where} {says(n)} but {level[0][0]} {says(lengths[0])}"
        if lengths[0] is None:
            break
        level = [(f"{where}[{i}]", item) for where, v in level for i, item in enumerate(v)]  # type: ignore[arg-type]
    return "NumPy cannot make it an array"


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


#: ``(applies, text)``: when an array does not fit and ``applies(array, sizes)`` is true, the
#: message adds ``text.format(**sizes)``, or ``text(array, sizes)`` for a callable ``text``
Hint = tuple[Callable[[np.ndarray, dict[str, int]], bool], str | Callable[[np.ndarray, dict[str, int]], str]]


def one_hot_hint(name: str, classes: str, batch: str = "B") -> Hint:
    """The hint for integer class labels, shape (B,) or (B, 1), where one-hot rows over ``classes`` are meant.

    It shows the fix, ``np.eye(n)[labels]``, when every label is one of 0, ..., n - 1; otherwise
    it names the labels that are not (the fix would raise NumPy's IndexError), and for labels
    counted from 1 it says so.
    """
    def applies(arr: np.ndarray, n: dict[str, int]) -> bool:
        return arr.size == n[batch]

    def text(arr: np.ndarray, n: dict[str, int]) -> str:
        k, b = n[classes], n[batch]
        head = f"{name} holds one row per example of {k} numbers, one-hot (or probabilities), not class labels"
        fix = f"np.eye({k})[labels] turns integer labels of shape ({b},) into rows of shape ({b}, {k})"
        v = np.real(arr).ravel()
        bad = np.flatnonzero((v != np.round(v)) | (v < 0) | (v >= k))
        if not bad.size:
            return f"{head}: {fix}"
        one = bad.size == 1
        out = (f"{head}; read as class labels, {_listed([f'{v[i]:g}' for i in bad])} (at "
               f"{'index' if one else 'indices'} {_listed([str(i) for i in bad])}) {'is' if one else 'are'} "
               f"out of range for {k} classes, whose labels are 0 to {k - 1}")
        if (v == np.round(v)).all() and v.min() >= 1 and v.max() == k:
            return out + f": labels counted from 1? np.eye({k})[labels - 1]"
        return out + f"; {fix} for labels in that range only"

    return applies, text


def _listed(items: list[str], most: int = 6) -> str:
    """ "3", "3 and 5", "1, 3 and 5", or the first ``most`` and "...": items in a sentence."""
    if len(items) > most:
        return ", ".join(items[:most]) + ", ..."
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


#: the warnings already shown by check_inputs, keyed by (model, array): each is shown once
_WARNED: set[tuple[int, str]] = set()


class TargetWarning(UserWarning):
    """Targets a model accepts but that are not what its loss is usually meant for."""


@dataclass(frozen=True)
class Inputs:
    """What a model takes: the symbolic shape of every parameter and every data array.

    ``params`` and ``data`` map names to shapes whose axes are :data:`Dim`: an int, a symbol
    (``"B"``, ``"n1"``) or a function of the symbols bound so far. Shapes are checked in the
    order of :meth:`shape_order` (data's first array, the input, then the parameters, then the
    rest of the data): the first array with a symbol binds it, later ones must agree, and a
    disagreement names both arrays ("x has 4 columns but W1 has 5 rows"). ``batch`` is the
    symbol of the batch axis (the first axis of every data array). ``hints`` maps an array's
    name to a :data:`Hint` (the mistake it explains; :func:`one_hot_hint` is one).
    ``probability_rows`` maps a data array whose rows are meant to be probabilities to what the
    model does when they are not: a negative entry raises ValueError, a row that does not sum
    to 1 gives a :class:`TargetWarning`, once, with that text.
    """

    params: dict[str, tuple[Dim, ...]]
    data: dict[str, tuple[Dim, ...]]
    batch: str = "B"
    hints: dict[str, Hint] = field(default_factory=dict)
    probability_rows: dict[str, str] = field(default_factory=dict)
    one_hot_hint = staticmethod(one_hot_hint)

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


def _extent(ndim: int, axis: int, n: int) -> str:
    """Axis ``axis`` of length n of an ``ndim``-D array, in words: "5 rows", "1 column", "3 entries"."""
    if ndim > 2 and axis == 0:
        return f"{n} {'example' if n == 1 else 'examples'} on axis 0"
    if ndim == 1:
        return f"{n} {'entry' if n == 1 else 'entries'}"
    if ndim == 2:
        return f"{n} {('row' if axis == 0 else 'column') + ('' if n == 1 else 's')}"
    return f"size {n} on axis {axis}"


class _Reads(dict):
    """A dict of sizes that records which keys are read (to learn what a computed size depends on)."""

    def __init__(self, sizes: dict[str, int]) -> None:
        super().__init__(sizes)
        self.read: list[str] = []

    def __getitem__(self, key: str) -> int:
        self.read.append(key)
        return super().__getitem__(key)


Bound = dict[str, tuple[str, int, int]]  # symbol -> (the array that bound it, its axis, its ndim)


def _pair(spec: Inputs, name: str, arr: np.ndarray, dims: tuple[Dim, ...], sizes: dict[str, int],
          bound: Bound, shapes: dict[str, tuple[int, ...]]) -> str:
    """The first axis of ``arr`` that disagrees with an array checked before it, naming both arrays."""
    for axis, (dim, n) in enumerate(zip(dims, arr.shape)):
        if isinstance(dim, str) and dim in bound and sizes.get(dim) != n:
            other, o_axis, o_ndim = bound[dim]
            why = "both count the examples" if dim == spec.batch else "they must be equal"
            return (f"{other} has {_extent(o_ndim, o_axis, sizes[dim])} but {name} has "
                    f"{_extent(arr.ndim, axis, n)} ({why})")
        if callable(dim):
            reads = _Reads(sizes)
            want = dim(reads)
            given = list(dict.fromkeys(bound[k][0] for k in reads.read if k in bound))
            if want != n and given:
                of = " and ".join(f"{a} of shape {shapes[a]}" for a in given)
                return (f"{name} has {_extent(arr.ndim, axis, n)} where {of} call for {want} "
                        f"(its size follows from theirs)")
    return ""


def _shape_error(spec: Inputs, name: str, arr: np.ndarray, dims: tuple[Dim, ...], sizes: dict[str, int],
                 bound: Bound | None = None, shapes: dict[str, tuple[int, ...]] | None = None) -> ValueError:
    """The ValueError for ``arr`` not fitting ``dims`` given the sizes bound by the arrays before it."""
    expected = _expected(dims, sizes)
    hint = _batch_hint(name, arr, expected) if name in spec.data else ""
    if name in spec.hints:
        applies, text = spec.hints[name]
        try:
            if applies(arr, sizes):
                hint = "; " + (text(arr, sizes) if callable(text) else text.format(**sizes))
        except KeyError:  # a size the hint needs is not known yet
            pass
    pair = _pair(spec, name, arr, dims, sizes, bound, shapes or {}) if bound and arr.ndim == len(dims) else ""
    if pair:
        hint = "; " + pair + hint
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
    bound: Bound = {}  # which array bound each symbol, and its axis: the other half of a mismatch
    for name in spec.shape_order():
        arr, dims = values[name], shapes[name]
        shape = arr.shape
        if len(shape) != len(dims):
            raise _shape_error(spec, name, arr, dims, sizes)
        new = []
        for axis, (dim, size) in enumerate(zip(dims, shape)):
            if type(dim) is str:
                known = sizes.get(dim)
                if known is None:
                    sizes[dim] = size
                    bound[dim] = (name, axis, len(shape))
                    new.append(dim)
                    continue
                fits = known == size
            elif type(dim) is int:
                fits = dim == size
            else:
                fits = dim(sizes) == size
            if not fits:
                for dim_name in new:  # the message shows the sizes known before this array
                    del sizes[dim_name], bound[dim_name]
                raise _shape_error(spec, name, arr, dims, sizes, bound, {k: v.shape for k, v in values.items()})
        if spec.batch in new and sizes[spec.batch] < 1:
            raise ValueError(f"{name}: a batch needs at least one example, got shape {shape} "
                             f"(rows are examples: {name}.shape[0] is the batch size)")
    _require_all_finite(values)
    for name, note in spec.probability_rows.items():
        _check_probability_rows(spec, name, d[name], note)
    return p, d, sizes


def _check_probability_rows(spec: Inputs, name: str, arr: np.ndarray, note: str) -> None:
    """Raise ValueError for a negative entry of ``arr``; warn once (per model and array) for a row that
    does not sum to 1. Rows are the last axis; complex input is judged by its real part."""
    t = arr.real
    if t.min() < 0:  # one reduction: the common case is called on every loss and grads
        negative = t < 0
        count = int(np.count_nonzero(negative))
        first = tuple(int(i) for i in np.unravel_index(int(np.argmax(negative)), t.shape))
        raise ValueError(f"{name}: {count} of {t.size} entries {'is' if count == 1 else 'are'} negative, the first "
                         f"{t[first]:.4g} at index {first}; each row of {name} holds probabilities "
                         f"(one-hot, or label-smoothed) or nonnegative scores")
    key = (id(spec), name)
    if key in _WARNED:
        return
    tol = 1e-9 * t.shape[-1]
    sums = t @ np.ones(t.shape[-1])  # the row sums; a product is 7x faster than t.sum(axis=-1) here
    if sums.max() - 1.0 <= tol and 1.0 - sums.min() <= tol:
        return
    off = np.abs(sums - 1.0) > tol
    if off.any():
        _WARNED.add(key)
        rows = t.reshape(-1, t.shape[-1])
        first = int(np.argmax(off.ravel()))
        count = int(np.count_nonzero(off))
        warnings.warn(f"{name}: {count} of {off.size} rows do not sum to 1 (row {first} sums to "
                      f"{rows[first].sum():.4g}); {note}. Divide each row by its sum if probabilities are "
                      f"meant (this warning is shown once)", TargetWarning, stacklevel=_caller_outside())


def _caller_outside() -> int:
    """The ``stacklevel`` of the first caller outside this package, for a warning about the caller's input."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level


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

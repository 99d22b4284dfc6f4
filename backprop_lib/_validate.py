"""Input checks shared by the layers and models: bad input raises ValueError, never broadcasts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

Shape = Sequence[int | None]


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


def require_shape(name: str, arr: np.ndarray, expected: Shape) -> None:
    """Raise ValueError unless ``arr.shape`` matches ``expected`` (``None`` matches any size).

    The message names the array, the shape it should have and the shape it has.
    """
    got = arr.shape
    if len(got) == len(expected) and all(w is None or w == g for w, g in zip(expected, got)):
        return
    shown = "(" + ", ".join("any" if d is None else str(d) for d in expected) + ("," if len(expected) == 1 else "") + ")"
    if len(got) != len(expected):
        raise ValueError(f"{name}: expected a {len(expected)}-D array of shape {shown}, got shape {got}")
    raise ValueError(f"{name}: expected shape {shown}, got shape {got}")


def require_keys(what: str, mapping: Mapping[str, object], expected: Iterable[str]) -> None:
    """Raise ValueError if ``mapping`` lacks a key of ``expected`` or has one more."""
    want = list(expected)
    missing = [k for k in want if k not in mapping]
    extra = sorted(k for k in mapping if k not in want)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing key(s) {missing}")
        if extra:
            parts.append(f"unexpected key(s) {extra}")
        raise ValueError(f"{what}: " + " and ".join(parts) + f"; expected exactly {want}")


def arrays(what: str, mapping: Mapping[str, object], expected: Iterable[str]) -> dict[str, np.ndarray]:
    """Check the keys of ``mapping`` and return its values as float64/complex arrays."""
    keys = list(expected)
    require_keys(what, mapping, keys)
    return {k: as_array(k, mapping[k]) for k in keys}

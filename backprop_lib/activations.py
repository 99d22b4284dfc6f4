r"""Activations, their derivatives and their Jacobians.

Every function accepts real (float64) or complex (complex128) arrays of any
shape, so that the complex-step derivative can pass through it. Branches and
shifts look only at the real part; no ``abs``, ``max`` or norm touches the
imaginary part.

References: C. M. Bishop, *Pattern Recognition and Machine Learning* (2006),
sections 4.3.4 and 5.3; the seeds in ``shared/seeds`` for the notation.
"""

from __future__ import annotations

import numpy as np


def _exp_minus_abs(z: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """:math:`e^{-s|z|}` (s = ``scale`` > 0) for real z; for complex z, :math:`e^{-sz}` where Re z >= 0 and
    :math:`e^{sz}` elsewhere. Returns a new array of z's shape.

    The exponent's real part is never positive, so nothing overflows. ``abs`` is used on real
    input only: on the complex path the sign is read off the real part (``abs`` is not analytic).
    """
    if np.iscomplexobj(z):
        return np.asarray(np.exp(np.where(z.real >= 0, -scale * z, scale * z)))
    e = np.empty(z.shape, np.result_type(z, 1.0))  # float64 for integer input, as np.exp gives
    np.abs(z, out=e)
    e *= -scale
    return np.exp(e, out=e)  # in place: on a batch, every temporary array costs time (see the README)


def _sigmoid_parts(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(r, er, e)`` with :math:`e = e^{-|z|}`, :math:`r = 1/(1+e)`, :math:`er = e r`; new arrays."""
    e = _exp_minus_abs(z)
    r = np.asarray(e + 1.0)  # asarray: NumPy's arithmetic turns 0-d arrays into scalars
    np.divide(1.0, r, out=r)
    return r, np.asarray(e * r), e


def sigmoid(z: np.ndarray) -> np.ndarray:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, element-wise.

    Shape: any -> same. With :math:`e = e^{-|z|}`, :math:`\sigma(z) = 1/(1+e)` where z >= 0 and
    :math:`e/(1+e)` where z < 0, so the exponential never overflows (|z| = 1e4 gives 0 or 1)
    and small values keep full relative accuracy.
    """
    z = np.asarray(z)
    r, er, _ = _sigmoid_parts(z)
    np.copyto(r, er, where=z.real < 0)
    return r


def sigmoid_and_prime(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`\sigma(z)` and :math:`\sigma'(z)` together, from one exponential :math:`e = e^{-|z|}`.

    Shape: any -> (same, same). With :math:`r = 1/(1+e)`: :math:`\sigma = r` where z >= 0 and
    :math:`e r` elsewhere (as :func:`sigmoid`), :math:`\sigma' = e r^2` (as :func:`sigmoid_prime`, no
    subtraction). A backward pass needs both; computing them apart costs a second exponential.
    """
    z = np.asarray(z)
    r, er, prime = _sigmoid_parts(z)
    np.multiply(er, r, out=prime)
    np.copyto(r, er, where=z.real < 0)
    return r, prime[()]


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    r""":math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = e^{-|z|} / (1 + e^{-|z|})^2`, element-wise. Shape: any -> same.

    :math:`\sigma'` is even, and this form needs one exponential and no subtraction: for large z,
    :math:`1 - \sigma(z)` subtracts two numbers close to 1 and keeps only a few correct digits
    (relative error :math:`\varepsilon / (1 - \sigma)`), which a complex-step check would notice.
    """
    return _sech2_like(_exp_minus_abs(np.asarray(z)), 1.0)


def _sech2_like(e: np.ndarray, c: float) -> np.ndarray:
    r""":math:`c\,e/(1+e)^2`, overwriting e; returns it (a scalar for 0-d input, as NumPy's arithmetic does)."""
    one_plus = np.asarray(e + 1.0)
    one_plus *= one_plus
    if c != 1.0:
        e *= c
    e /= one_plus
    return e[()]


def tanh(z: np.ndarray) -> np.ndarray:
    r""":math:`\tanh z = (e^{z} - e^{-z}) / (e^{z} + e^{-z})`, element-wise. Shape: any -> same."""
    return np.tanh(z)


#: below this |z|, 1 - e^{-2|z|} cancels (more than 1.6 units in the last place): tanh_and_prime uses np.tanh
TANH_DIRECT = 0.25


def tanh_and_prime(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`\tanh z` and :math:`\tanh' z` together, from one exponential :math:`e = e^{-2|z|}`.

    Shape: any -> (same, same). :math:`\tanh |z| = (1 - e)/(1 + e)`, with the sign of z, and
    :math:`\tanh' z = 4e/(1 + e)^2` (as :func:`tanh_prime`, no subtraction). Where
    :math:`|z| <` :data:`TANH_DIRECT` = 1/4, e is above 0.6 and :math:`1 - e` would lose up to a
    few bits to cancellation, so those entries take ``np.tanh``; elsewhere the relative error of
    :math:`1 - e` is at most :math:`e/(1-e) < 1.6` times that of e. A backward pass needs both;
    ``np.tanh`` plus :func:`tanh_prime` costs about three exponentials' time, this about one.
    Complex z (the complex step) takes :func:`tanh` and :func:`tanh_prime`, which are analytic.
    """
    z = np.asarray(z)
    if np.iscomplexobj(z) or z.ndim == 0:
        return tanh(z), tanh_prime(z)
    e = _exp_minus_abs(z, 2.0)
    one_plus = e + 1.0
    t = 1.0 - e
    t /= one_plus
    np.copysign(t, z, out=t)
    near_zero = np.abs(z) < TANH_DIRECT
    if near_zero.any():
        t[near_zero] = np.tanh(z[near_zero])
    one_plus *= one_plus
    e *= 4.0
    e /= one_plus
    return t, e


def tanh_prime(z: np.ndarray) -> np.ndarray:
    r""":math:`\tanh'(z) = 1 - \tanh^2 z = \operatorname{sech}^2 z = 4e^{-2|z|} / (1 + e^{-2|z|})^2`, element-wise.

    Shape: any -> same. The last form never overflows and keeps full relative accuracy where
    :math:`1 - \tanh^2 z` cancels (large |z|).
    """
    return _sech2_like(_exp_minus_abs(np.asarray(z), 2.0), 4.0)


def _row_max(a: np.ndarray) -> np.ndarray:
    """The maximum over the last axis, shape (..., 1). For a few columns, a running maximum over the
    columns: NumPy reduces a short last axis one row at a time, tens of times slower."""
    n = a.shape[-1]
    if not 1 <= n <= 16:
        return a.max(axis=-1, keepdims=True)
    m = a[..., 0]
    for k in range(1, n):
        m = np.maximum(m, a[..., k])
    return np.asarray(m)[..., None]


def _row_sum(a: np.ndarray) -> np.ndarray:
    """The sum over the last axis, shape (..., 1), as a product with a ones vector (a BLAS call; NumPy's
    ``.sum(axis=-1)`` over a short last axis is many times slower)."""
    return (a @ np.ones(a.shape[-1]))[..., None]


def softmax(a: np.ndarray) -> np.ndarray:
    r"""Softmax over the last axis: :math:`s_k = e^{a_k} / \sum_i e^{a_i}`.

    Shape: (..., n) -> (..., n). The logits are shifted by the maximum of their
    real part before exponentiating (softmax is unchanged by a shift), so logits
    of size 1e4 give finite probabilities.
    """
    a = np.asarray(a)
    e = a - _row_max(a.real)
    np.exp(e, out=e)
    e /= _row_sum(e)
    return e


def log_softmax(a: np.ndarray) -> np.ndarray:
    r"""Log of the softmax over the last axis, :math:`a_k - \log \sum_i e^{a_i}`, computed stably.

    Shape: (..., n) -> (..., n). With :math:`m = \max_i \mathrm{Re}\, a_i`,
    :math:`\log s_k = (a_k - m) - \log \sum_i e^{a_i - m}`: the sum is at least 1,
    so its log is finite, and no probability is rounded to 0 before the log.
    """
    a = np.asarray(a)
    shifted = a - _row_max(a.real)
    shifted -= np.log(_row_sum(np.exp(shifted)))
    return shifted


def softmax_jacobian(s: np.ndarray) -> np.ndarray:
    r"""Jacobian of the softmax, from its output: :math:`\partial s_i/\partial a_j = s_i(\delta_{ij} - s_j)`.

    That is :math:`\operatorname{diag}(s) - s^T s` for a row s (the book's convention), symmetric. Shape: (..., n) ->
    (..., n, n), rows indexed by the output i, columns by the input j; for a batch
    (B, n) -> (B, n, n), one Jacobian per example.
    """
    s = np.asarray(s)
    eye = np.eye(s.shape[-1])
    return s[..., :, None] * eye - s[..., :, None] * s[..., None, :]


def softmax_vjp(s: np.ndarray, g: np.ndarray) -> np.ndarray:
    r"""Vector-Jacobian product :math:`g\,(\operatorname{diag}(s) - s^T s) = s \odot (g - (g \cdot s))`.

    Shapes: s (..., n), g (..., n) -> (..., n). The same numbers as
    ``einsum('...i,...ij->...j', g, softmax_jacobian(s))`` in O(n) per row instead of O(n^2).
    """
    s = np.asarray(s)
    out = g * s
    np.subtract(g, _row_sum(out), out=out)
    out *= s
    return out


def tanh_jacobian(f: np.ndarray) -> np.ndarray:
    r"""Jacobian of element-wise tanh, from its output f = tanh(h): :math:`\operatorname{diag}(1 - f^2)`.

    Shape: (..., n) -> (..., n, n), diagonal because output i depends on input i only.
    """
    f = np.asarray(f)
    return (1.0 - f * f)[..., :, None] * np.eye(f.shape[-1])

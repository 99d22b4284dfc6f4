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


def _exp_minus_abs(z: np.ndarray) -> np.ndarray:
    """:math:`e^{-|z|}` for real z; for complex z, :math:`e^{-z}` where Re z >= 0 and :math:`e^{z}` elsewhere.

    The exponent's real part is never positive, so nothing overflows. ``abs`` is used on real
    input only: on the complex path the sign is read off the real part (``abs`` is not analytic).
    """
    if np.iscomplexobj(z):
        return np.exp(np.where(z.real >= 0, -z, z))
    return np.exp(-np.abs(z))


def sigmoid(z: np.ndarray) -> np.ndarray:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, element-wise.

    Shape: any -> same. With :math:`e = e^{-|z|}`, :math:`\sigma(z) = 1/(1+e)` where z >= 0 and
    :math:`e/(1+e)` where z < 0, so the exponential never overflows (|z| = 1e4 gives 0 or 1)
    and small values keep full relative accuracy.
    """
    z = np.asarray(z)
    e = _exp_minus_abs(z)
    r = 1.0 / (1.0 + e)
    return np.where(z.real >= 0, r, e * r)


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    r""":math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = e^{-|z|} / (1 + e^{-|z|})^2`, element-wise. Shape: any -> same.

    :math:`\sigma'` is even, and this form needs one exponential and no subtraction: for large z,
    :math:`1 - \sigma(z)` subtracts two numbers close to 1 and keeps only a few correct digits
    (relative error :math:`\varepsilon / (1 - \sigma)`), which a complex-step check would notice.
    """
    e = _exp_minus_abs(np.asarray(z))
    one_plus = 1.0 + e
    return e / (one_plus * one_plus)


def tanh(z: np.ndarray) -> np.ndarray:
    r""":math:`\tanh z = (e^{z} - e^{-z}) / (e^{z} + e^{-z})`, element-wise. Shape: any -> same."""
    return np.tanh(z)


def tanh_prime(z: np.ndarray) -> np.ndarray:
    r""":math:`\tanh'(z) = 1 - \tanh^2 z = \operatorname{sech}^2 z = 4e^{-2|z|} / (1 + e^{-2|z|})^2`, element-wise.

    Shape: any -> same. The last form never overflows and keeps full relative accuracy where
    :math:`1 - \tanh^2 z` cancels (large |z|).
    """
    e = _exp_minus_abs(2.0 * np.asarray(z))
    one_plus = 1.0 + e
    return 4.0 * e / (one_plus * one_plus)


def softmax(a: np.ndarray) -> np.ndarray:
    r"""Softmax over the last axis: :math:`s_k = e^{a_k} / \sum_i e^{a_i}`.

    Shape: (..., n) -> (..., n). The logits are shifted by the maximum of their
    real part before exponentiating (softmax is unchanged by a shift), so logits
    of size 1e4 give finite probabilities.
    """
    a = np.asarray(a)
    e = np.exp(a - a.real.max(axis=-1, keepdims=True))
    return e / (e @ np.ones(e.shape[-1]))[..., None]  # row sums, as a product (faster than .sum for few classes)


def log_softmax(a: np.ndarray) -> np.ndarray:
    r"""Log of the softmax over the last axis, :math:`a_k - \log \sum_i e^{a_i}`, computed stably.

    Shape: (..., n) -> (..., n). With :math:`m = \max_i \mathrm{Re}\, a_i`,
    :math:`\log s_k = (a_k - m) - \log \sum_i e^{a_i - m}`: the sum is at least 1,
    so its log is finite, and no probability is rounded to 0 before the log.
    """
    a = np.asarray(a)
    shifted = a - a.real.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_jacobian(s: np.ndarray) -> np.ndarray:
    r"""Jacobian of the softmax, from its output: :math:`\partial s_i/\partial a_j = s_i(\delta_{ij} - s_j)`.

    That is :math:`\operatorname{diag}(s) - s s^T`, symmetric. Shape: (..., n) ->
    (..., n, n), rows indexed by the output i, columns by the input j; for a batch
    (B, n) -> (B, n, n), one Jacobian per example.
    """
    s = np.asarray(s)
    eye = np.eye(s.shape[-1])
    return s[..., :, None] * eye - s[..., :, None] * s[..., None, :]


def softmax_vjp(s: np.ndarray, g: np.ndarray) -> np.ndarray:
    r"""Vector-Jacobian product :math:`g\,(\operatorname{diag}(s) - s s^T) = s \odot (g - (g \cdot s))`.

    Shapes: s (..., n), g (..., n) -> (..., n). The same numbers as
    ``einsum('...i,...ij->...j', g, softmax_jacobian(s))`` in O(n) per row instead of O(n^2).
    """
    s = np.asarray(s)
    return s * (g - ((g * s) @ np.ones(s.shape[-1]))[..., None])


def tanh_jacobian(f: np.ndarray) -> np.ndarray:
    r"""Jacobian of element-wise tanh, from its output f = tanh(h): :math:`\operatorname{diag}(1 - f^2)`.

    Shape: (..., n) -> (..., n, n), diagonal because output i depends on input i only.
    """
    f = np.asarray(f)
    return (1.0 - f * f)[..., :, None] * np.eye(f.shape[-1])

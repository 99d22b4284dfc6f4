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


def sigmoid(z: np.ndarray) -> np.ndarray:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, element-wise.

    Shape: any -> same. Computed as :math:`1/(1+e^{-z})` where Re z >= 0 and as
    :math:`e^{z}/(1+e^{z})` where Re z < 0, so the exponential never has a
    positive real argument: no overflow for any finite z (|z| = 1e4 gives 0 or 1).
    """
    z = np.asarray(z)
    e = np.exp(np.where(z.real >= 0, -z, z))  # Re(argument) <= 0: e is in (0, 1]
    return np.where(z.real >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    r""":math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = \sigma(z)\,\sigma(-z)`, element-wise. Shape: any -> same.

    Computed as :math:`\sigma(z)\sigma(-z)`: for large z, :math:`1 - \sigma(z)` subtracts two
    numbers close to 1 and keeps only a few correct digits (relative error
    :math:`\varepsilon / (1 - \sigma)`), while :math:`\sigma(-z)` is exact to rounding.
    """
    z = np.asarray(z)
    return sigmoid(z) * sigmoid(-z)


def tanh(z: np.ndarray) -> np.ndarray:
    r""":math:`\tanh z = (e^{z} - e^{-z}) / (e^{z} + e^{-z})`, element-wise. Shape: any -> same."""
    return np.tanh(z)


def tanh_prime(z: np.ndarray) -> np.ndarray:
    r""":math:`\tanh'(z) = 1 - \tanh^2 z = \operatorname{sech}^2 z`, element-wise. Shape: any -> same.

    Computed as :math:`4e^{-2|z|} / (1 + e^{-2|z|})^2` (the sign taken from the real part), which
    never overflows and keeps full relative accuracy where :math:`1 - \tanh^2 z` cancels.
    """
    z = np.asarray(z)
    e = np.exp(2.0 * np.where(z.real >= 0, -z, z))  # Re(argument) <= 0
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def softmax(a: np.ndarray) -> np.ndarray:
    r"""Softmax over the last axis: :math:`s_k = e^{a_k} / \sum_i e^{a_i}`.

    Shape: (..., n) -> (..., n). The logits are shifted by the maximum of their
    real part before exponentiating (softmax is unchanged by a shift), so logits
    of size 1e4 give finite probabilities.
    """
    a = np.asarray(a)
    e = np.exp(a - a.real.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


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
    return s * (g - (g * s).sum(axis=-1, keepdims=True))


def tanh_jacobian(f: np.ndarray) -> np.ndarray:
    r"""Jacobian of element-wise tanh, from its output f = tanh(h): :math:`\operatorname{diag}(1 - f^2)`.

    Shape: (..., n) -> (..., n, n), diagonal because output i depends on input i only.
    """
    f = np.asarray(f)
    return (1.0 - f * f)[..., :, None] * np.eye(f.shape[-1])

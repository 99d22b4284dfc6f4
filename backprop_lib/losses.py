r"""Losses and their gradients with respect to their first argument.

Each loss ``L(p, target)`` comes with ``L_grad(p, target)``, an array of the shape
of ``p``. All of them accept complex ``p`` (squares are written as ``r * r``,
never ``abs(r)**2``), so that the complex step can check them. Each checks its
arguments; the ``*_unchecked`` and ``*_from_softmax`` forms skip the checks, for the
models, which check their inputs once (``backprop_lib._validate.check_inputs``).
"""

from __future__ import annotations

import numpy as np

from ._validate import as_array, require_shape
from .activations import _row_sum, log_softmax, softmax


def _pair(pred: object, target: object) -> tuple[np.ndarray, np.ndarray]:
    p = as_array("pred", pred)
    t = as_array("target", target)
    require_shape("target", t, p.shape)  # a (B, 1) target against (B,) would broadcast to (B, B)
    return p, t


def _matrix_pair(name: str, pred: object, target: object) -> tuple[np.ndarray, np.ndarray]:
    p = as_array(name, pred)
    require_shape(name, p, (None, None))
    t = as_array("t", target)
    require_shape("t", t, p.shape)
    return p, t


def sum_of_squares(pred: np.ndarray, target: np.ndarray) -> float | complex:
    r""":math:`L = \sum_i (p_i - t_i)^2` over every entry. Shapes: pred and target equal."""
    return sum_of_squares_unchecked(*_pair(pred, target))


def sum_of_squares_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    r""":math:`\partial L / \partial p = 2 (p - t)`, shape of ``pred``."""
    return sum_of_squares_grad_unchecked(*_pair(pred, target))


def mse(pred: np.ndarray, target: np.ndarray) -> float | complex:
    r"""Mean squared error :math:`L = \frac{1}{N} \sum_i (p_i - t_i)^2`, N = number of entries."""
    return mse_unchecked(*_pair(pred, target))


def mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    r""":math:`\partial L / \partial p = \frac{2}{N} (p - t)`, shape of ``pred``."""
    return mse_grad_unchecked(*_pair(pred, target))


def sum_of_squares_unchecked(pred: np.ndarray, target: np.ndarray) -> float | complex:
    """:func:`sum_of_squares` without its checks, for the models: pred and target of one shape."""
    r = pred - target
    return (r * r).sum()[()]


def sum_of_squares_grad_unchecked(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """:func:`sum_of_squares_grad` without its checks: ``2 (pred - target)``."""
    return 2.0 * (pred - target)


def mse_unchecked(pred: np.ndarray, target: np.ndarray) -> float | complex:
    """:func:`mse` without its checks, for the models: pred and target of one shape."""
    r = pred - target
    return (r * r).mean()[()]


def mse_grad_unchecked(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """:func:`mse_grad` without its checks: ``2 (pred - target) / N``, N the number of entries."""
    r = pred - target
    return 2.0 * r / r.size


def frobenius_sq(pred: np.ndarray, target: np.ndarray) -> float | complex:
    r"""Squared Frobenius norm :math:`\|T - P\|_F^2 = \operatorname{tr}[(T-P)^T (T-P)] = \sum_{ij} (t_{ij} - p_{ij})^2`.

    Shapes: pred (N, o), target (N, o).
    """
    p = as_array("pred", pred)
    require_shape("pred", p, (None, None))
    return sum_of_squares(p, target)


def frobenius_sq_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    r""":math:`\partial \|T - P\|_F^2 / \partial P = 2 (P - T)`, shape (N, o)."""
    p = as_array("pred", pred)
    require_shape("pred", p, (None, None))
    return sum_of_squares_grad(p, target)


def cross_entropy_unchecked(a: np.ndarray, t: np.ndarray) -> float | complex:
    """:func:`cross_entropy` without its checks: logits a (B, n) and targets t (B, n) of one shape."""
    return -(t * log_softmax(a)).sum()[()] / a.shape[0]


def cross_entropy_grad_from_softmax(s: np.ndarray, t: np.ndarray) -> np.ndarray:
    r""":func:`cross_entropy_grad` from the softmax s = softmax(a) a forward pass computed already, unchecked.

    :math:`\frac{1}{B}(s \odot \textstyle\sum_k t_{bk} - t)`, shape (B, n); the row sums as a product.
    """
    return (s * _row_sum(t) - t) / s.shape[0]


def cross_entropy(logits: np.ndarray, t: np.ndarray) -> float | complex:
    r"""Mean cross-entropy from logits: :math:`L = -\frac{1}{B} \sum_b \sum_k t_{bk} \log \operatorname{softmax}(a_b)_k`.

    Shapes: logits a (B, n), targets t (B, n) (one-hot rows or probabilities).
    Uses :func:`~backprop_lib.activations.log_softmax`, so logits of size 1000
    give a finite loss where ``log(softmax(a))`` would give ``log(0) = -inf``.
    """
    a, tt = _matrix_pair("logits", logits, t)
    return cross_entropy_unchecked(a, tt)


def cross_entropy_grad(logits: np.ndarray, t: np.ndarray) -> np.ndarray:
    r""":math:`\partial L / \partial a = \frac{1}{B} \left(s \odot \textstyle\sum_k t_{bk} - t\right)`, shape (B, n).

    With s = softmax(a). When every row of t sums to 1 this is the familiar
    :math:`(s - t)/B`; the general form stays right for targets that do not.
    """
    a, tt = _matrix_pair("logits", logits, t)
    return cross_entropy_grad_from_softmax(softmax(a), tt)


def nll(s: np.ndarray, t: np.ndarray) -> float | complex:
    r"""Cross-entropy from probabilities: :math:`L = -\frac{1}{B} \sum_b \sum_k t_{bk} \ln s_{bk}`.

    Shapes: s (B, n), t (B, n). The seeds' form; prefer :func:`cross_entropy` on logits.
    """
    ss, tt = _matrix_pair("s", s, t)
    return -(tt * np.log(ss)).sum()[()] / ss.shape[0]


def nll_grad(s: np.ndarray, t: np.ndarray) -> np.ndarray:
    r""":math:`\partial L / \partial s_{bk} = -\frac{1}{B} \, t_{bk} / s_{bk}`, shape (B, n)."""
    ss, tt = _matrix_pair("s", s, t)
    return -tt / ss / ss.shape[0]

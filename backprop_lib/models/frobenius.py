r"""Seed 003 (Simplified Chinese): matrix calculus with the squared Frobenius norm.

.. math::
    h = X W_1 + b_1 \quad h_\sigma = \sigma(h) \quad Y_{pred} = h_\sigma W_2 + b_2 \quad
    f = \|Y - Y_{pred}\|_F^2 = \operatorname{tr}[(Y - Y_{pred})^T (Y - Y_{pred})]

The biases are added to every row (broadcast), so their gradients sum over the rows.

Shapes: params ``W1`` (d, h), ``b1`` (h,), ``W2`` (h, o), ``b2`` (o,); data ``X`` (N, d),
``Y`` (N, o). Default sizes d = 3, h = 5, o = 2 (and N = batch), all different, so that a
transposed or unsummed term cannot hide behind a square shape.
"""

from __future__ import annotations

import numpy as np

from .._validate import arrays, require_shape
from ..activations import sigmoid, sigmoid_prime
from ..layers import affine_backward, affine_forward
from ..losses import frobenius_sq, frobenius_sq_grad

PARAMS = ("W1", "b1", "W2", "b2")
DATA = ("X", "Y")


def example(rng: np.random.Generator, batch: int = 1, *, d: int = 3, h: int = 5, o: int = 2) -> tuple[dict, dict]:
    """A random instance with N = ``batch`` rows (the book uses N = 6) and widths d, h, o."""
    params = {
        "W1": rng.normal(size=(d, h)),
        "b1": rng.normal(scale=0.1, size=h),
        "W2": rng.normal(size=(h, o)),
        "b2": rng.normal(scale=0.1, size=o),
    }
    data = {"X": rng.normal(size=(batch, d)), "Y": rng.normal(size=(batch, o))}
    return params, data


def _checked(params: dict, data: dict) -> tuple[dict, dict]:
    p, d = arrays("params", params, PARAMS), arrays("data", data, DATA)
    require_shape("X", d["X"], (None, None))
    require_shape("W1", p["W1"], (d["X"].shape[1], None))
    require_shape("b1", p["b1"], (p["W1"].shape[1],))
    require_shape("W2", p["W2"], (p["W1"].shape[1], None))
    require_shape("b2", p["b2"], (p["W2"].shape[1],))
    require_shape("Y", d["Y"], (d["X"].shape[0], p["W2"].shape[1]))
    return p, d


def _forward(p: dict, d: dict) -> tuple[dict, tuple]:
    h, c1 = affine_forward(d["X"], p["W1"], p["b1"])
    h_sigmoid = sigmoid(h)
    Y_pred, c2 = affine_forward(h_sigmoid, p["W2"], p["b2"])
    values = {"h": h, "h_sigmoid": h_sigmoid, "Y_pred": Y_pred, "loss": frobenius_sq(Y_pred, d["Y"])}
    return values, (c1, c2)


def forward(params: dict, data: dict) -> dict:
    """Intermediates: ``h`` (N, h), ``h_sigmoid`` (N, h), ``Y_pred`` (N, o), ``loss``."""
    return _forward(*_checked(params, data))[0]


def loss(params: dict, data: dict) -> float | complex:
    r""":math:`f = \|Y - Y_{pred}\|_F^2`."""
    return forward(params, data)["loss"]


def backward(params: dict, data: dict) -> dict:
    r"""The gradients read off :math:`df = \operatorname{tr}(G^T dX)`.

    - ``Y``: :math:`2(Y - Y_{pred})` (N, o); ``Y_pred``: :math:`2(Y_{pred} - Y)` (N, o)
    - ``W2``: :math:`h_\sigma^T \, 2(Y_{pred} - Y)` (h, o); ``b2``: :math:`\mathbf 1^T 2(Y_{pred} - Y)` (o,)
    - ``h_sigmoid``: :math:`2(Y_{pred} - Y) W_2^T` (N, h)
    - ``h``: :math:`[2(Y_{pred} - Y) W_2^T] \odot \sigma'(h)` (N, h)
    - ``W1``: :math:`X^T \{[2(Y_{pred} - Y) W_2^T] \odot \sigma'(h)\}` (d, h) -- the brackets matter
    - ``b1``: :math:`\mathbf 1^T \{[2(Y_{pred} - Y) W_2^T] \odot \sigma'(h)\}` (h,)
    """
    p, d = _checked(params, data)
    fw, (c1, c2) = _forward(p, d)
    d_Yp = frobenius_sq_grad(fw["Y_pred"], d["Y"])
    d_hs, d_W2, d_b2 = affine_backward(d_Yp, c2)
    d_h = d_hs * sigmoid_prime(fw["h"])  # = h_sigmoid (1 - h_sigmoid), without its cancellation
    d_X, d_W1, d_b1 = affine_backward(d_h, c1)
    return {
        "Y": -d_Yp, "Y_pred": d_Yp, "h_sigmoid": d_hs, "h": d_h, "X": d_X,
        "W1": d_W1, "b1": d_b1, "W2": d_W2, "b2": d_b2,
    }


def grads(params: dict, data: dict) -> dict:
    """Gradients of :func:`loss` with respect to ``W1``, ``b1``, ``W2``, ``b2`` (their shapes)."""
    g = backward(params, data)
    return {k: g[k] for k in PARAMS}

r"""Seed 004 (Shantou University, Chinese): the Jacobian form of backpropagation.

.. math::
    h = x + b_0 \quad y_0 = f(h) = \tanh(h) \quad t = y_0 w_1 + b_1 \quad
    y_{pre} = g(t) = \operatorname{softmax}(t) \quad J = \sum_{b,i} (y_{pre,bi} - y_{bi})^2

Row vectors throughout (the seed's convention): an example, a prediction g and a gradient are
rows, a Jacobian :math:`\partial g/\partial t` has rows indexed by the outputs g_i and columns
by the inputs t_k, and the outer product of a row g with itself is :math:`g^T g`, so the
softmax Jacobian is :math:`\operatorname{diag}(g) - g^T g`.

Shapes: params ``b0`` (m,), ``w1`` (m, n), ``b1`` (n,); data ``x`` (B, m), ``y`` (B, n).
Default m = 4, n = 3.
"""

from __future__ import annotations

import numpy as np

from .._validate import arrays, require_shape
from ..activations import softmax, softmax_vjp, tanh, tanh_prime
from ..layers import affine_backward, affine_forward
from ..losses import sum_of_squares, sum_of_squares_grad

PARAMS = ("b0", "w1", "b1")
DATA = ("x", "y")


def example(rng: np.random.Generator, batch: int = 1, *, m: int = 4, n: int = 3) -> tuple[dict, dict]:
    """A random instance; the targets y are probability vectors (rows of a softmax)."""
    params = {"b0": rng.normal(scale=0.5, size=m), "w1": rng.normal(size=(m, n)), "b1": rng.normal(scale=0.5, size=n)}
    data = {"x": rng.normal(size=(batch, m)), "y": softmax(rng.normal(size=(batch, n)))}
    return params, data


def _checked(params: dict, data: dict) -> tuple[dict, dict]:
    p, d = arrays("params", params, PARAMS), arrays("data", data, DATA)
    require_shape("x", d["x"], (None, None))
    require_shape("b0", p["b0"], (d["x"].shape[1],))
    require_shape("w1", p["w1"], (d["x"].shape[1], None))
    require_shape("b1", p["b1"], (p["w1"].shape[1],))
    require_shape("y", d["y"], (d["x"].shape[0], p["w1"].shape[1]))
    return p, d


def _forward(p: dict, d: dict) -> tuple[dict, tuple]:
    h = d["x"] + p["b0"]
    y0 = tanh(h)
    t, cache = affine_forward(y0, p["w1"], p["b1"])
    y_pre = softmax(t)
    return {"h": h, "y0": y0, "t": t, "y_pre": y_pre, "loss": sum_of_squares(y_pre, d["y"])}, cache


def forward(params: dict, data: dict) -> dict:
    """Intermediates: ``h`` (B, m), ``y0`` (B, m), ``t`` (B, n), ``y_pre`` (B, n), ``loss``."""
    return _forward(*_checked(params, data))[0]


def loss(params: dict, data: dict) -> float | complex:
    r""":math:`J = \sum_{b,i} (y_{pre,bi} - y_{bi})^2`."""
    return forward(params, data)["loss"]


def backward(params: dict, data: dict) -> dict:
    r"""The seed's results (1)-(3) as vector-Jacobian products, one row per example.

    - ``y_pre``: :math:`2(y_{pre} - y)` (B, n)
    - ``t``: :math:`2(y_{pre} - y)\,\partial g/\partial t` with :math:`\partial g/\partial t = \operatorname{diag}(g) - g^T g`
      (g a row), computed as :math:`g \odot (v - v \cdot g)` without forming the matrix (B, n)
    - ``b1`` (1): :math:`\sum_b \partial J/\partial t_b` (n,); ``w1`` (2): :math:`y_0^T \partial J/\partial t` (m, n)
    - ``y0``: :math:`\partial J/\partial t \; w_1^T` (B, m)
    - ``h``: :math:`\partial J/\partial y_0 \,\partial f/\partial h`, :math:`\partial f/\partial h = \operatorname{diag}(1 - f^2)` (B, m)
    - ``b0`` (3): :math:`\sum_b \partial J/\partial h_b` (m,)
    """
    p, d = _checked(params, data)
    fw, cache = _forward(p, d)
    d_ypre = sum_of_squares_grad(fw["y_pre"], d["y"])
    d_t = softmax_vjp(fw["y_pre"], d_ypre)
    d_y0, d_w1, d_b1 = affine_backward(d_t, cache)
    d_h = d_y0 * tanh_prime(fw["h"])  # diag(1 - y0^2) applied as a product, without its cancellation
    return {"y_pre": d_ypre, "t": d_t, "y0": d_y0, "h": d_h, "b0": np.ones(d_h.shape[0]) @ d_h, "w1": d_w1, "b1": d_b1}


def grads(params: dict, data: dict) -> dict:
    """Gradients of :func:`loss` with respect to ``b0`` (m,), ``w1`` (m, n), ``b1`` (n,)."""
    g = backward(params, data)
    return {k: g[k] for k in PARAMS}

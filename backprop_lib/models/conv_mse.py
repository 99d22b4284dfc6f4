r"""Seed 000 (homework 1-3, Traditional Chinese): a convolution, a sigmoid, a weighted sum, the MSE.

.. math::
    z = a \star w + \beta \quad o = \sigma(z) \quad \hat y = \sum_{ij} v_{ij}\, o_{ij}
    \quad L = \frac{1}{B} \sum_b (y_b - \hat y_b)^2

:math:`\star` is the valid cross-correlation of :func:`backprop_lib.layers.conv2d_forward`.
The seed's :math:`w_{11}` is ``w[0, 0]`` and its wa, wb, wc, wd are ``v[0, 0], v[0, 1],
v[1, 0], v[1, 1]``; its a_11 .. a_33 are ``a[b, 0, 0] .. a[b, 2, 2]``.

Shapes: params ``w`` (kh, kw), ``b`` (), ``v`` (H-kh+1, W-kw+1); data ``a`` (B, H, W), ``y`` (B,).
Seed sizes H = W = 3, kh = kw = 2.
"""

from __future__ import annotations

import numpy as np

from .._validate import arrays, require_shape
from ..activations import sigmoid, sigmoid_prime
from ..layers import conv2d_backward, conv2d_backward_params, conv2d_forward
from ..losses import mse, mse_grad

PARAMS = ("w", "b", "v")
DATA = ("a", "y")


def example(rng: np.random.Generator, batch: int = 1, *, n: int = 3, k: int = 2) -> tuple[dict, dict]:
    """A random instance: an n x n input, a k x k kernel, ``batch`` examples (seed: n = 3, k = 2)."""
    m = n - k + 1
    params = {"w": rng.normal(size=(k, k)), "b": np.array(rng.normal(scale=0.1)), "v": rng.normal(size=(m, m))}
    data = {"a": rng.normal(size=(batch, n, n)), "y": rng.normal(size=batch)}
    return params, data


def _checked(params: dict, data: dict) -> tuple[dict, dict]:
    p, d = arrays("params", params, PARAMS), arrays("data", data, DATA)
    require_shape("a", d["a"], (None, None, None))
    require_shape("w", p["w"], (None, None))
    B, H, W = d["a"].shape
    kh, kw = p["w"].shape
    require_shape("b", p["b"], ())
    require_shape("v", p["v"], (H - kh + 1, W - kw + 1))
    require_shape("y", d["y"], (B,))
    return p, d


def _forward(p: dict, d: dict) -> tuple[dict, tuple]:
    z, cache = conv2d_forward(d["a"], p["w"], p["b"])
    o = sigmoid(z)
    y_hat = np.einsum("bij,ij->b", o, p["v"])
    return {"z": z, "o": o, "y_hat": y_hat, "loss": mse(y_hat, d["y"])}, cache


def forward(params: dict, data: dict) -> dict:
    """Intermediates: ``z`` (B, m, m), ``o`` (B, m, m), ``y_hat`` (B,), ``loss`` (scalar)."""
    return _forward(*_checked(params, data))[0]


def loss(params: dict, data: dict) -> float | complex:
    r""":math:`L = \frac{1}{B}\sum_b (y_b - \hat y_b)^2` (the seed's MSE with n = 1 when B = 1)."""
    return forward(params, data)["loss"][()]


def backward(params: dict, data: dict, *, inputs: bool = True) -> dict:
    r"""Hand-derived gradients, the seed's chain summed over the four (in general m x m) paths.

    - ``y_hat``: :math:`\partial L/\partial \hat y_b = -\frac{2}{B}(y_b - \hat y_b)`, (B,)
    - ``o``: :math:`\partial L/\partial o_{bij} = \partial L/\partial \hat y_b \; v_{ij}`, (B, m, m)
    - ``z`` (the delta map): :math:`\delta_{bij} = \partial L/\partial o_{bij}\, o_{bij}(1 - o_{bij})`, (B, m, m)
    - ``w``: cross-correlation of a with δ, summed over the batch, (kh, kw)
    - ``b``: :math:`\sum_{bij} \delta_{bij}`, (); ``v``: :math:`\sum_b \partial L/\partial\hat y_b\, o_b`, (m, m)
    - ``a``: full convolution of δ with w, (B, H, W); left out when ``inputs`` is False
    """
    p, d = _checked(params, data)
    fw, cache = _forward(p, d)
    o, y_hat = fw["o"], fw["y_hat"]
    d_yhat = mse_grad(y_hat, d["y"])  # -2 (y - y_hat) / B
    d_o = d_yhat[:, None, None] * p["v"]
    delta = d_o * sigmoid_prime(fw["z"])  # = o (1 - o), without the cancellation of 1 - o
    d_v = np.einsum("b,bij->ij", d_yhat, o)
    out = {"y_hat": d_yhat, "o": d_o, "z": delta, "v": d_v}
    if inputs:
        out["a"], out["w"], out["b"] = conv2d_backward(delta, cache)
    else:
        out["w"], out["b"] = conv2d_backward_params(delta, cache)
    return out


def grads(params: dict, data: dict) -> dict:
    """Gradients of :func:`loss` with respect to ``w`` (kh, kw), ``b`` () and ``v`` (m, m)."""
    g = backward(params, data, inputs=False)
    return {k: g[k] for k in PARAMS}

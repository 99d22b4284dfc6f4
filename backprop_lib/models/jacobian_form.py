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

from .._validate import Inputs, check_inputs
from ..activations import softmax, softmax_vjp, tanh, tanh_and_prime
from ..layers import affine, affine_params_backward

PARAMS = ("b0", "w1", "b1")
DATA = ("x", "y")
INPUTS = Inputs(
    params={"b0": ("m",), "w1": ("m", "n"), "b1": ("n",)},
    data={"x": ("B", "m"), "y": ("B", "n")},
)


def example(rng: np.random.Generator, batch: int = 1, *, m: int = 4, n: int = 3) -> tuple[dict, dict]:
    """A random instance; the targets y are probability vectors (rows of a softmax)."""
    params = {"b0": rng.normal(scale=0.5, size=m), "w1": rng.normal(size=(m, n)), "b1": rng.normal(scale=0.5, size=n)}
    data = {"x": rng.normal(size=(batch, m)), "y": softmax(rng.normal(size=(batch, n)))}
    return params, data


def _checked(params: dict, data: dict) -> tuple[dict, dict]:
    p, d, _ = check_inputs(INPUTS, params, data)
    return p, d


def forward(params: dict, data: dict) -> dict:
    """Intermediates: ``h`` (B, m), ``y0`` (B, m), ``t`` (B, n), ``y_pre`` (B, n), ``loss``."""
    p, d = _checked(params, data)
    h = d["x"] + p["b0"]
    y0 = tanh(h)
    t = affine(y0, p["w1"], p["b1"])
    y_pre = softmax(t)
    r = y_pre - d["y"]
    return {"h": h, "y0": y0, "t": t, "y_pre": y_pre, "loss": (r * r).sum()[()]}


def loss(params: dict, data: dict) -> float | complex:
    r""":math:`J = \sum_{b,i} (y_{pre,bi} - y_{bi})^2`."""
    p, d = _checked(params, data)
    r = softmax(affine(tanh(d["x"] + p["b0"]), p["w1"], p["b1"])) - d["y"]
    return (r * r).sum()[()]


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
    return _backward(*_checked(params, data), full=True)


def grads(params: dict, data: dict) -> dict:
    """Gradients of :func:`loss` with respect to ``b0`` (m,), ``w1`` (m, n), ``b1`` (n,)."""
    return _backward(*_checked(params, data), full=False)


def _backward(p: dict, d: dict, *, full: bool) -> dict:
    """:func:`backward` on checked arrays. With ``full`` False, the parameters' gradients only, and every
    intermediate array is released as soon as it has been used (less memory to allocate per call)."""
    y0, dy0_dh = tanh_and_prime(d["x"] + p["b0"])  # f'(h) = 1 - y0^2, without its cancellation
    y_pre = softmax(affine(y0, p["w1"], p["b1"]))
    g = 2.0 * (y_pre - d["y"])  # dJ/dy_pre, as losses.sum_of_squares_grad
    delta = softmax_vjp(y_pre, g)  # dJ/dt
    del y_pre
    out = {"y_pre": g, "t": delta} if full else {}
    del g
    out["w1"], out["b1"] = affine_params_backward(delta, y0)
    del y0
    delta = delta @ p["w1"].T  # dJ/dy0
    if full:
        out["y0"] = delta
    delta = delta * dy0_dh  # dJ/dh: diag(1 - y0^2) applied as a product
    if full:
        out["h"] = delta
    out["b0"] = np.ones(delta.shape[0]) @ delta
    order = ("y_pre", "t", "y0", "h", "b0", "w1", "b1") if full else PARAMS
    return {k: out[k] for k in order}

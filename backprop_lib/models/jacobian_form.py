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

from .. import autodiff as ad
from .._validate import Inputs
from ..activations import softmax, softmax_vjp, tanh, tanh_and_prime
from ..layers import affine, affine_params_backward
from ..losses import sum_of_squares_grad_unchecked, sum_of_squares_unchecked
from ._declare import Symbol, declare

INPUTS = Inputs(
    params={"b0": ("m",), "w1": ("m", "n"), "b1": ("n",)},
    data={"x": ("B", "m"), "y": ("B", "n")},
)


def example(rng: np.random.Generator, batch: int = 1, *, m: int = 4, n: int = 3) -> tuple[dict, dict]:
    """A random instance; the targets y are probability vectors (rows of a softmax)."""
    params = {"b0": rng.normal(scale=0.5, size=m), "w1": rng.normal(size=(m, n)), "b1": rng.normal(scale=0.5, size=n)}
    data = {"x": rng.normal(size=(batch, m)), "y": softmax(rng.normal(size=(batch, n)))}
    return params, data


def _forward(p: dict, d: dict) -> dict:
    r"""Intermediates: ``h`` (B, m), ``y0`` (B, m), ``t`` (B, n), ``y_pre`` (B, n), and ``loss``,
    :math:`J = \sum_{b,i} (y_{pre,bi} - y_{bi})^2`."""
    h = d["x"] + p["b0"]
    y0 = tanh(h)
    t = affine(y0, p["w1"], p["b1"])
    y_pre = softmax(t)
    return {"h": h, "y0": y0, "t": t, "y_pre": y_pre, "loss": sum_of_squares_unchecked(y_pre, d["y"])}


def _backward(p: dict, d: dict, *, full: bool, inputs: bool) -> dict:
    r"""The seed's results (1)-(3) as vector-Jacobian products, one row per example.

    - ``y_pre``: :math:`2(y_{pre} - y)` (B, n)
    - ``t``: :math:`2(y_{pre} - y)\,\partial g/\partial t` with :math:`\partial g/\partial t = \operatorname{diag}(g) - g^T g`
      (g a row), computed as :math:`g \odot (v - v \cdot g)` without forming the matrix (B, n)
    - ``b1`` (1): :math:`\sum_b \partial J/\partial t_b` (n,); ``w1`` (2): :math:`y_0^T \partial J/\partial t` (m, n)
    - ``y0``: :math:`\partial J/\partial t \; w_1^T` (B, m)
    - ``h``: :math:`\partial J/\partial y_0 \,\partial f/\partial h`, :math:`\partial f/\partial h = \operatorname{diag}(1 - f^2)` (B, m)
    - ``b0`` (3): :math:`\sum_b \partial J/\partial h_b` (m,)
    - ``x``: :math:`\partial J/\partial h` again, as h = x + b0 (B, m); left out when ``inputs`` is False

    With ``full`` False, the parameters' gradients only, and every intermediate array is released as
    soon as it has been used (less memory to allocate per call).
    """
    y0, dy0_dh = tanh_and_prime(d["x"] + p["b0"])  # f'(h) = 1 - y0^2, without its cancellation
    y_pre = softmax(affine(y0, p["w1"], p["b1"]))
    g = sum_of_squares_grad_unchecked(y_pre, d["y"])  # dJ/dy_pre = 2 (y_pre - y)
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
    if inputs:
        out["x"] = delta.copy()  # a copy: the caller may change h's gradient or x's
    order = ("y_pre", "t", "y0", "h", "x", "b0", "w1", "b1") if full else INPUTS.params
    return {k: out[k] for k in order if k in out}


def _engine(p: dict, d: dict) -> ad.Tensor:
    """jacobian_form's loss on chapter 6's engine (no hand-derived rule)."""
    x, y = ad.constant(d["x"], "x"), ad.constant(d["y"], "y")
    y0 = ad.tanh(x + p["b0"]).named("y0")
    y_pre = ad.softmax(y0 @ p["w1"] + p["b1"]).named("y_pre")
    return ad.square(y_pre - y).sum().named("J")


MODEL = declare(
    "jacobian_form", seed="004", chapter="book/ch5_jacobian_form", inputs=INPUTS, reduction="sum", target="y",
    symbols={
        "x": Symbol(("B", "m"), "the inputs, a row per example", ("x",)),
        "y": Symbol(("B", "n"), "the targets, a probability row per example", ("y",)),
        "b0": Symbol(("m",), "the bias added to the input (the seed's first line: b)", ("b_0",)),
        "w1": Symbol(("m", "n"), "the weights", ("w_1",)),
        "b1": Symbol(("n",), "the output bias", ("b_1",)),
        "h": Symbol(("B", "m"), "the input of f, x + b0", ("h",)),
        "y0": Symbol(("B", "m"), "the hidden rows f(h) = tanh(h)", ("y_0",)),
        "t": Symbol(("B", "n"), "the logits y0 w1 + b1", ("t",)),
        "y_pre": Symbol(("B", "n"), "the predictions g(t) = softmax(t), probability rows", ("y_{pre}",)),
    },
    example=example, sizes=({}, {"m": 2, "n": 5}, {"m": 5, "n": 2}),
    any_sizes=lambda draw: {"m": draw(1, 8), "n": draw(2, 8)},
    forward=_forward, backward=_backward, engine=_engine,
    functions={"f": "tanh", "g": "softmax"},  # the seed's y_0 = f(h), y_pre = g(t)
)
forward, loss, backward, grads = MODEL.forward, MODEL.loss, MODEL.backward, MODEL.grads

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

from .. import autodiff as ad
from .._validate import Inputs
from ..activations import sigmoid, sigmoid_and_prime
from ..layers import affine, affine_params_backward
from ..losses import sum_of_squares_grad_unchecked, sum_of_squares_unchecked
from ._declare import Symbol, declare

INPUTS = Inputs(
    params={"W1": ("d", "h"), "b1": ("h",), "W2": ("h", "o"), "b2": ("o",)},
    data={"X": ("N", "d"), "Y": ("N", "o")},
    batch="N",
)


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


def _forward(p: dict, d: dict) -> dict:
    r"""Intermediates: ``h`` (N, h), ``h_sigmoid`` (N, h), ``Y_pred`` (N, o), and ``loss``,
    :math:`f = \|Y - Y_{pred}\|_F^2`."""
    h = affine(d["X"], p["W1"], p["b1"])
    h_sigmoid = sigmoid(h)
    Y_pred = affine(h_sigmoid, p["W2"], p["b2"])
    return {"h": h, "h_sigmoid": h_sigmoid, "Y_pred": Y_pred, "loss": sum_of_squares_unchecked(Y_pred, d["Y"])}


def _backward(p: dict, d: dict, *, full: bool, inputs: bool) -> dict:
    r"""The gradients read off :math:`df = \operatorname{tr}(G^T dX)`.

    - ``Y``: :math:`2(Y - Y_{pred})` (N, o); ``Y_pred``: :math:`2(Y_{pred} - Y)` (N, o)
    - ``W2``: :math:`h_\sigma^T \, 2(Y_{pred} - Y)` (h, o); ``b2``: :math:`\mathbf 1^T 2(Y_{pred} - Y)` (o,)
    - ``h_sigmoid``: :math:`2(Y_{pred} - Y) W_2^T` (N, h)
    - ``h``: :math:`[2(Y_{pred} - Y) W_2^T] \odot \sigma'(h)` (N, h)
    - ``W1``: :math:`X^T \{[2(Y_{pred} - Y) W_2^T] \odot \sigma'(h)\}` (d, h) -- the brackets matter
    - ``b1``: :math:`\mathbf 1^T \{[2(Y_{pred} - Y) W_2^T] \odot \sigma'(h)\}` (h,)
    - ``X``: :math:`\{[2(Y_{pred} - Y) W_2^T] \odot \sigma'(h)\} W_1^T` (N, d); ``X`` and ``Y`` are left out
      when ``inputs`` is False

    With ``full`` False, the parameters' gradients only, and every intermediate array is released as
    soon as it has been used (less memory to allocate per call).
    """
    X, W1, W2 = d["X"], p["W1"], p["W2"]
    h_sigmoid, dhs_dh = sigmoid_and_prime(affine(X, W1, p["b1"]))  # h_sigmoid (1 - h_sigmoid), no cancellation
    G = sum_of_squares_grad_unchecked(affine(h_sigmoid, W2, p["b2"]), d["Y"])  # df/dY_pred = 2 (Y_pred - Y)
    out = {"Y": -G, "Y_pred": G} if full and inputs else {"Y_pred": G} if full else {}
    out["W2"], out["b2"] = affine_params_backward(G, h_sigmoid)
    del h_sigmoid
    delta = G @ W2.T  # df/dh_sigmoid
    del G
    if full:
        out["h_sigmoid"] = delta
    delta = delta * dhs_dh  # df/dh, the brackets of W1's formula
    del dhs_dh
    if full:
        out["h"] = delta
    out["W1"], out["b1"] = affine_params_backward(delta, X)
    if inputs:
        out["X"] = delta @ W1.T
    order = ("Y", "Y_pred", "h_sigmoid", "h", "X", "W1", "b1", "W2", "b2") if full else INPUTS.params
    return {k: out[k] for k in order if k in out}


def _engine(p: dict, d: dict) -> ad.Tensor:
    """frobenius's loss on chapter 6's engine (no hand-derived rule)."""
    X, Y = ad.constant(d["X"], "X"), ad.constant(d["Y"], "Y")
    h_sigma = ad.sigmoid(X @ p["W1"] + p["b1"]).named("h_sigma")
    Y_pred = (h_sigma @ p["W2"] + p["b2"]).named("Y_pred")
    return ad.square(Y - Y_pred).sum().named("f")


MODEL = declare(
    "frobenius", seed="003", chapter="book/ch4_frobenius", inputs=INPUTS, reduction="sum", target="Y",
    symbols={
        "X": Symbol(("N", "d"), "the inputs, one example per row", ("X",)),
        "Y": Symbol(("N", "o"), "the targets, one example per row", ("Y",)),
        "W1": Symbol(("d", "h"), "the input-to-hidden weights", ("W_1",)),
        "b1": Symbol(("h",), "the hidden biases, added to every row", ("b_1",)),
        "W2": Symbol(("h", "o"), "the hidden-to-output weights", ("W_2",)),
        "b2": Symbol(("o",), "the output biases, added to every row", ("b_2",)),
        "h": Symbol(("N", "h"), "the hidden pre-activations X W1 + b1", ("h",)),
        "h_sigmoid": Symbol(("N", "h"), "the hidden activations sigmoid(h)", ("h_{sigmoid}", "h_\\sigma")),
        "Y_pred": Symbol(("N", "o"), "the predictions h_sigmoid W2 + b2", ("Y_{pred}", "\\hat Y")),
    },
    example=example, sizes=({}, {"d": 4, "h": 2, "o": 3}, {"d": 2, "h": 3, "o": 4}),
    any_sizes=lambda draw: {"d": draw(1, 8), "h": draw(1, 8), "o": draw(1, 8)},
    forward=_forward, backward=_backward, engine=_engine,
)
forward, loss, backward, grads = MODEL.forward, MODEL.loss, MODEL.backward, MODEL.grads

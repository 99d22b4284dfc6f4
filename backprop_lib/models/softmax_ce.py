r"""Seed 001 (Traditional Chinese): a 5-4-3 network, sigmoid hidden layer, softmax, mean cross-entropy.

.. math::
    a_1 = x W_1 + b_1 \quad \bar z = \sigma(a_1) \quad a_2 = \bar z W_2 + b_2 \quad
    s = \operatorname{softmax}(a_2) \quad L = -\frac{1}{B} \sum_b \sum_k t_{bk} \ln s_{bk}

The names follow the seed: :math:`a_1, a_2` are pre-activations, :math:`\bar z` the hidden
output (the seed's ``z``), :math:`s` the probabilities.

Shapes: params ``W1`` (5, 4), ``b1`` (4,), ``W2`` (4, 3), ``b2`` (3,); data ``x`` (B, 5),
``t`` (B, 3) with one-hot rows (or probabilities). The loss is computed through
log-softmax, never ``ln`` of a rounded probability.
"""

from __future__ import annotations

import numpy as np

from .. import autodiff as ad
from .._validate import Inputs
from ..activations import sigmoid, sigmoid_and_prime, softmax
from ..layers import affine, affine_params_backward
from ..losses import cross_entropy_grad_from_softmax, cross_entropy_unchecked
from ._declare import Symbol, declare

INPUTS = Inputs(
    params={"W1": ("n1", "n2"), "b1": ("n2",), "W2": ("n2", "n3"), "b2": ("n3",)},
    data={"x": ("B", "n1"), "t": ("B", "n3")},
    # integer labels, or one column of them, where one-hot rows are meant (naming labels out of range)
    hints={"t": Inputs.one_hot_hint("t", classes="n3")},
    # rows of t that do not sum to 1 (scores, counts) are chapter 2's general case: allowed, with a warning
    probability_rows={"t": "chapter 2's general case: the loss is still -(1/B) sum_bk t_bk ln s_bk, and its gradient "
                           "at the logits is (s * t.sum(axis=1, keepdims=True) - t) / B, not (s - t) / B"},
)


def example(rng: np.random.Generator, batch: int = 1, *, sizes: tuple[int, int, int] = (5, 4, 3)) -> tuple[dict, dict]:
    """A random instance with layer sizes ``sizes`` (seed: [5, 4, 3]) and one-hot targets."""
    n1, n2, n3 = sizes
    params = {
        "W1": rng.normal(size=(n1, n2)),
        "b1": rng.normal(scale=0.1, size=n2),
        "W2": rng.normal(size=(n2, n3)),
        "b2": rng.normal(scale=0.1, size=n3),
    }
    data = {"x": rng.normal(size=(batch, n1)), "t": np.eye(n3)[rng.integers(n3, size=batch)]}
    return params, data


def _forward(p: dict, d: dict) -> dict:
    """Intermediates: ``a1`` (B, 4), ``z`` (B, 4), ``a2`` (B, 3), ``s`` (B, 3), ``loss``."""
    a1 = affine(d["x"], p["W1"], p["b1"])
    z = sigmoid(a1)
    a2 = affine(z, p["W2"], p["b2"])
    return {"a1": a1, "z": z, "a2": a2, "s": softmax(a2), "loss": cross_entropy_unchecked(a2, d["t"])}


def _loss(p: dict, d: dict) -> float | complex:
    r""":math:`L = -\frac{1}{B}\sum_b\sum_k t_{bk} \ln \operatorname{softmax}(a_2)_{bk}`."""
    a2 = affine(sigmoid(affine(d["x"], p["W1"], p["b1"])), p["W2"], p["b2"])
    return cross_entropy_unchecked(a2, d["t"])


def _backward(p: dict, d: dict, *, full: bool, inputs: bool) -> dict:
    r"""The seed's steps 1-8, vectorised (shapes for sizes [5, 4, 3]).

    - ``a2``: :math:`\partial L/\partial a_2 = \frac{1}{B}(s \odot \textstyle\sum_k t_{bk} - t)`, which is
      :math:`(s - t)/B` when each row of t sums to 1 (steps 1-2), (B, 3)
    - ``b2``: :math:`\mathbf 1^T \partial L/\partial a_2` (3,); ``W2``: :math:`\bar z^T \partial L/\partial a_2` (4, 3)
    - ``z``: :math:`\partial L/\partial a_2\, W_2^T` (B, 4) (step 5)
    - ``a1``: :math:`\partial L/\partial \bar z \odot \bar z(1 - \bar z)` (B, 4) (step 6, "writing 2")
    - ``b1``: :math:`\mathbf 1^T \partial L/\partial a_1` (4,); ``W1``: :math:`x^T \partial L/\partial a_1` (5, 4)
    - ``x``: :math:`\partial L/\partial a_1\, W_1^T` (B, 5); left out when ``inputs`` is False

    The forward pass it runs computes the softmax once and not the loss, and :math:`\bar z` and
    :math:`\bar z(1 - \bar z)` from one exponential (:func:`~backprop_lib.activations.sigmoid_and_prime`).
    With ``full`` False, the parameters' gradients only, and every intermediate array is released as
    soon as it has been used (less memory to allocate per call).
    """
    x, W1, W2 = d["x"], p["W1"], p["W2"]
    z, dz_da1 = sigmoid_and_prime(affine(x, W1, p["b1"]))  # z (1 - z), without the cancellation of 1 - z
    delta = cross_entropy_grad_from_softmax(softmax(affine(z, W2, p["b2"])), d["t"])  # dL/da2
    out = {"a2": delta} if full else {}
    out["W2"], out["b2"] = affine_params_backward(delta, z)
    del z
    delta = delta @ W2.T  # dL/dz
    if full:
        out["z"] = delta
    delta = delta * dz_da1  # dL/da1
    del dz_da1
    if full:
        out["a1"] = delta
    out["W1"], out["b1"] = affine_params_backward(delta, x)
    if inputs:
        out["x"] = delta @ W1.T
    order = ("a2", "z", "a1", "x", "W1", "b1", "W2", "b2") if full else INPUTS.params
    return {k: out[k] for k in order if k in out}


def _engine(p: dict, d: dict) -> ad.Tensor:
    """softmax_ce's loss on chapter 6's engine (no hand-derived rule)."""
    x, t = ad.constant(d["x"], "x"), ad.constant(d["t"], "t")
    z = ad.sigmoid(x @ p["W1"] + p["b1"]).named("z")
    a2 = (z @ p["W2"] + p["b2"]).named("a2")
    return -(t * ad.log_softmax(a2)).sum(axis=-1).mean().named("L")


MODEL = declare(
    "softmax_ce", seed="001", chapter="book/ch2_softmax_ce", inputs=INPUTS, reduction="mean", target="t",
    symbols={
        "x": Symbol(("B", "n1"), "the inputs, one example a row", ("x",)),
        "t": Symbol(("B", "n3"), "the targets, one-hot rows", ("t",)),
        "W1": Symbol(("n1", "n2"), "the hidden layer's weights", ("W_1", "W^{(1)}")),
        "b1": Symbol(("n2",), "the hidden layer's bias", ("b_1", "b^{(1)}")),
        "W2": Symbol(("n2", "n3"), "the output layer's weights", ("W_2", "W^{(2)}")),
        "b2": Symbol(("n3",), "the output layer's bias", ("b_2", "b^{(2)}")),
        "a1": Symbol(("B", "n2"), "the hidden pre-activations x W1 + b1", ("a_1",)),
        "z": Symbol(("B", "n2"), "the hidden outputs sigmoid(a1) (the seed's z)", ("\\bar z", "z")),
        "a2": Symbol(("B", "n3"), "the output pre-activations z W2 + b2", ("a_2",)),
        "s": Symbol(("B", "n3"), "the probabilities softmax(a2)", ("s",)),
    },
    example=example, sizes=({}, {"sizes": (2, 5, 3)}, {"sizes": (6, 2, 4)}),
    any_sizes=lambda draw: {"sizes": (draw(1, 8), draw(1, 8), draw(2, 8))},
    forward=_forward, loss=_loss, backward=_backward, engine=_engine,
)
forward, loss, backward, grads = MODEL.forward, MODEL.loss, MODEL.backward, MODEL.grads

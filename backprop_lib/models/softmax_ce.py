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

from .._validate import arrays, require_shape
from ..activations import sigmoid, sigmoid_prime, softmax
from ..layers import affine_backward, affine_forward
from ..losses import cross_entropy, cross_entropy_grad

PARAMS = ("W1", "b1", "W2", "b2")
DATA = ("x", "t")


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


def _checked(params: dict, data: dict) -> tuple[dict, dict]:
    p, d = arrays("params", params, PARAMS), arrays("data", data, DATA)
    require_shape("x", d["x"], (None, None))
    require_shape("W1", p["W1"], (d["x"].shape[1], None))
    require_shape("b1", p["b1"], (p["W1"].shape[1],))
    require_shape("W2", p["W2"], (p["W1"].shape[1], None))
    require_shape("b2", p["b2"], (p["W2"].shape[1],))
    require_shape("t", d["t"], (d["x"].shape[0], p["W2"].shape[1]))
    return p, d


def _forward(p: dict, d: dict) -> tuple[dict, tuple]:
    a1, cache1 = affine_forward(d["x"], p["W1"], p["b1"])
    z = sigmoid(a1)
    a2, cache2 = affine_forward(z, p["W2"], p["b2"])
    values = {"a1": a1, "z": z, "a2": a2, "s": softmax(a2), "loss": cross_entropy(a2, d["t"])}
    return values, (cache1, cache2)


def forward(params: dict, data: dict) -> dict:
    """Intermediates: ``a1`` (B, 4), ``z`` (B, 4), ``a2`` (B, 3), ``s`` (B, 3), ``loss``."""
    return _forward(*_checked(params, data))[0]


def loss(params: dict, data: dict) -> float | complex:
    r""":math:`L = -\frac{1}{B}\sum_b\sum_k t_{bk} \ln \operatorname{softmax}(a_2)_{bk}`."""
    return forward(params, data)["loss"]


def backward(params: dict, data: dict) -> dict:
    r"""The seed's steps 1-8, vectorised (shapes for sizes [5, 4, 3]).

    - ``a2``: :math:`\partial L/\partial a_2 = \frac{1}{B}(s \odot \textstyle\sum_k t_{bk} - t)`, which is
      :math:`(s - t)/B` when each row of t sums to 1 (steps 1-2), (B, 3)
    - ``b2``: :math:`\mathbf 1^T \partial L/\partial a_2` (3,); ``W2``: :math:`\bar z^T \partial L/\partial a_2` (4, 3)
    - ``z``: :math:`\partial L/\partial a_2\, W_2^T` (B, 4) (step 5)
    - ``a1``: :math:`\partial L/\partial \bar z \odot \bar z(1 - \bar z)` (B, 4) (step 6, "writing 2")
    - ``b1``: :math:`\mathbf 1^T \partial L/\partial a_1` (4,); ``W1``: :math:`x^T \partial L/\partial a_1` (5, 4)
    - ``x``: :math:`\partial L/\partial a_1\, W_1^T` (B, 5)
    """
    p, d = _checked(params, data)
    fw, (cache1, cache2) = _forward(p, d)
    d_a2 = cross_entropy_grad(fw["a2"], d["t"])
    d_z, d_W2, d_b2 = affine_backward(d_a2, cache2)
    d_a1 = d_z * sigmoid_prime(fw["a1"])  # = z (1 - z), without the cancellation of 1 - z
    d_x, d_W1, d_b1 = affine_backward(d_a1, cache1)
    return {"a2": d_a2, "z": d_z, "a1": d_a1, "x": d_x, "W1": d_W1, "b1": d_b1, "W2": d_W2, "b2": d_b2}


def grads(params: dict, data: dict) -> dict:
    """Gradients of :func:`loss` with respect to ``W1``, ``b1``, ``W2``, ``b2`` (their shapes)."""
    g = backward(params, data)
    return {k: g[k] for k in PARAMS}

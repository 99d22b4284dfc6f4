r"""Seed 002 (Persian): a 2-2-2-1 network with tanh, tanh, sigmoid and a squared loss.

.. math::
    a^{(1)} = \tanh(x W^{(1)} + b^{(1)}) \quad a^{(2)} = \tanh(a^{(1)} W^{(2)} + b^{(2)}) \quad
    \hat y = \sigma(a^{(2)} W^{(3)} + b^{(3)}) \quad L = \sum_b (y_b - \hat y_b)^2

``Wl[i, j]`` is the seed's :math:`w_{ij}^{(l)}`, the weight from unit i of layer l-1 to unit j
of layer l (indices from 0 here, from 1 in the seed). The loss is the seed's per-example
:math:`(y - \hat y)^2`, summed over the batch; the seed's cost :math:`\frac12\sum` is half of it.

Shapes: params ``W1`` (2, 2), ``b1`` (2,), ``W2`` (2, 2), ``b2`` (2,), ``W3`` (2, 1), ``b3`` (1,);
data ``x`` (B, 2), ``y`` (B,). Other widths n0-n1-n2-1 (``example(..., sizes=(n0, n1, n2))``) fit too.
"""

from __future__ import annotations

import numpy as np

from .. import autodiff as ad
from .._validate import Inputs
from ..activations import sigmoid, sigmoid_and_prime, tanh, tanh_and_prime
from ..layers import affine, affine_params_backward
from ..losses import sum_of_squares_grad_unchecked, sum_of_squares_unchecked
from ._declare import Symbol, declare

INPUTS = Inputs(
    params={"W1": ("n0", "n1"), "b1": ("n1",), "W2": ("n1", "n2"), "b2": ("n2",), "W3": ("n2", 1), "b3": (1,)},
    data={"x": ("B", "n0"), "y": ("B",)},
)


def example(rng: np.random.Generator, batch: int = 1, *, scale: float = 1.0,
            sizes: tuple[int, int, int] = (2, 2, 2)) -> tuple[dict, dict]:
    """A random instance with layer sizes ``sizes`` n0-n1-n2-1 (seed: 2-2-2-1); weights and biases
    are N(0, scale^2), targets y in (0, 1)."""
    n0, n1, n2 = sizes
    shapes = {"W1": (n0, n1), "b1": (n1,), "W2": (n1, n2), "b2": (n2,), "W3": (n2, 1), "b3": (1,)}
    params = {k: scale * rng.normal(size=s) for k, s in shapes.items()}
    data = {"x": rng.normal(size=(batch, n0)), "y": rng.uniform(size=batch)}
    return params, data


def _forward(p: dict, d: dict) -> dict:
    r"""Intermediates: ``z1, a1, z2, a2`` (B, 2), ``z3`` (B, 1), ``y_hat`` (B,), and ``loss``,
    :math:`L = \sum_b (y_b - \hat y_b)^2`."""
    z1 = affine(d["x"], p["W1"], p["b1"])
    a1 = tanh(z1)
    z2 = affine(a1, p["W2"], p["b2"])
    a2 = tanh(z2)
    z3 = affine(a2, p["W3"], p["b3"])
    y_hat = sigmoid(z3)[:, 0]
    return {"z1": z1, "a1": a1, "z2": z2, "a2": a2, "z3": z3, "y_hat": y_hat,
            "loss": sum_of_squares_unchecked(y_hat, d["y"])}


def _backward(p: dict, d: dict, *, full: bool, inputs: bool) -> dict:
    r"""The delta recursion :math:`\delta^{(l)} = (\delta^{(l+1)} W^{(l+1)T}) \odot f_l'(z^{(l)})`.

    Here :math:`\delta^{(l)} = \partial L/\partial z^{(l)}` (B, width of layer l):

    - ``z3``: :math:`-2(y - \hat y)\,\hat y(1 - \hat y)`, (B, 1)
    - ``z2``: :math:`(\delta^{(3)} W^{(3)T}) \odot (1 - a^{(2)2})`, (B, 2)
    - ``z1``: :math:`(\delta^{(2)} W^{(2)T}) \odot (1 - a^{(1)2})`, (B, 2)
    - ``Wl``: :math:`a^{(l-1)T} \delta^{(l)}` with :math:`a^{(0)} = x`; ``bl``: :math:`\sum_b \delta^{(l)}_b`
    - ``a2``, ``a1``: :math:`\partial L/\partial a^{(l)} = \delta^{(l+1)} W^{(l+1)T}`
    - ``x``: :math:`\delta^{(1)} W^{(1)T}` (B, 2); left out when ``inputs`` is False

    With ``full`` False, the parameters' gradients only, and every intermediate array is released as
    soon as it has been used (less memory to allocate per call).
    """
    x = d["x"]
    a1, da1_dz1 = tanh_and_prime(affine(x, p["W1"], p["b1"]))  # f' = 1 - a^2, without its cancellation
    a2, da2_dz2 = tanh_and_prime(affine(a1, p["W2"], p["b2"]))
    y_hat, delta = sigmoid_and_prime(affine(a2, p["W3"], p["b3"]))  # f3' = y_hat (1 - y_hat), no cancellation
    delta *= sum_of_squares_grad_unchecked(y_hat, d["y"][:, None])  # delta3 = -2 (y - y_hat) f3'(z3), in the fresh f3'
    del y_hat
    out = {"z3": delta} if full else {}
    out["W3"], out["b3"] = affine_params_backward(delta, a2)
    del a2
    delta = delta @ p["W3"].T  # dL/da2
    if full:
        out["a2"] = delta
    delta = _times_fresh(da2_dz2, delta)  # delta2 = dL/da2 (1 - a2^2)
    del da2_dz2
    if full:
        out["z2"] = delta
    out["W2"], out["b2"] = affine_params_backward(delta, a1)
    del a1
    delta = delta @ p["W2"].T  # dL/da1
    if full:
        out["a1"] = delta
    delta = _times_fresh(da1_dz1, delta)  # delta1
    if full:
        out["z1"] = delta
    out["W1"], out["b1"] = affine_params_backward(delta, x)
    if inputs:
        out["x"] = delta @ p["W1"].T
    order = ("z3", "z2", "z1", "a2", "a1", "x", *INPUTS.params) if full else INPUTS.params
    return {k: out[k] for k in order if k in out}


def _times_fresh(fresh: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``fresh * other``, written into ``fresh`` (an array no one else holds) unless its dtype cannot
    hold the product (a real derivative times a complex delta on the complex step)."""
    if fresh.dtype == np.result_type(fresh, other):
        fresh *= other
        return fresh
    return fresh * other


def _engine(p: dict, d: dict) -> ad.Tensor:
    """three_layer's loss on chapter 6's engine (no hand-derived rule)."""
    x = ad.constant(d["x"], "x")
    y = ad.constant(np.asarray(d["y"])[:, None], "y")  # (B, 1), as y_hat
    a1 = ad.tanh(x @ p["W1"] + p["b1"]).named("a1")
    a2 = ad.tanh(a1 @ p["W2"] + p["b2"]).named("a2")
    y_hat = ad.sigmoid(a2 @ p["W3"] + p["b3"]).named("y_hat")
    return ad.square(y - y_hat).sum().named("L")


MODEL = declare(
    "three_layer", seed="002", chapter="book/ch3_three_layer", inputs=INPUTS, reduction="sum", target="y",
    symbols={
        "x": Symbol(("B", "n0"), "the inputs, a row per example (the seed's a_1, a_2)", ("x", "a^{(0)}")),
        "y": Symbol(("B",), "the targets, one number in (0, 1) per example", ("y",), column=True),
        "W1": Symbol(("n0", "n1"), "the weights into layer 1 (the seed's w_ij^(1))", ("W^{(1)}", "W_1", "w^{(1)}")),
        "b1": Symbol(("n1",), "the biases of layer 1", ("b^{(1)}", "b_1")),
        "W2": Symbol(("n1", "n2"), "the weights into layer 2", ("W^{(2)}", "W_2", "w^{(2)}")),
        "b2": Symbol(("n2",), "the biases of layer 2", ("b^{(2)}", "b_2")),
        "W3": Symbol(("n2", 1), "the weights into the output unit", ("W^{(3)}", "W_3", "w^{(3)}")),
        "b3": Symbol((1,), "the output unit's bias", ("b^{(3)}", "b_3")),
        "z1": Symbol(("B", "n1"), "the inputs of layer 1's units, x W1 + b1", ("z^{(1)}", "z_1")),
        "a1": Symbol(("B", "n1"), "the outputs of layer 1, tanh(z1)", ("a^{(1)}", "a_1")),
        "z2": Symbol(("B", "n2"), "the inputs of layer 2's units, a1 W2 + b2", ("z^{(2)}", "z_2")),
        "a2": Symbol(("B", "n2"), "the outputs of layer 2, tanh(z2)", ("a^{(2)}", "a_2")),
        "z3": Symbol(("B", 1), "the input of the output unit, a2 W3 + b3", ("z^{(3)}", "z_3")),
        "y_hat": Symbol(("B",), "the predictions sigmoid(z3), one per example", ("\\hat y", "a^{(3)}"), column=True),
    },
    example=example, sizes=({}, {"sizes": (3, 4, 2)}, {"sizes": (4, 2, 3)}),
    any_sizes=lambda draw: {"sizes": (draw(1, 8), draw(1, 8), draw(1, 8))},
    forward=_forward, backward=_backward, engine=_engine,
)
forward, loss, backward, grads = MODEL.forward, MODEL.loss, MODEL.backward, MODEL.grads

r"""Seed 002 (Persian): a 2-2-2-1 network with tanh, tanh, sigmoid and a squared loss.

.. math::
    a^{(1)} = \tanh(x W^{(1)} + b^{(1)}) \quad a^{(2)} = \tanh(a^{(1)} W^{(2)} + b^{(2)}) \quad
    \hat y = \sigma(a^{(2)} W^{(3)} + b^{(3)}) \quad L = \sum_b (y_b - \hat y_b)^2

``Wl[i, j]`` is the seed's :math:`w_{ij}^{(l)}`, the weight from unit i of layer l-1 to unit j
of layer l (indices from 0 here, from 1 in the seed). The loss is the seed's per-example
:math:`(y - \hat y)^2`, summed over the batch; the seed's cost :math:`\frac12\sum` is half of it.

Shapes: params ``W1`` (2, 2), ``b1`` (2,), ``W2`` (2, 2), ``b2`` (2,), ``W3`` (2, 1), ``b3`` (1,);
data ``x`` (B, 2), ``y`` (B,).
"""

from __future__ import annotations

import numpy as np

from .._validate import Inputs, check_inputs
from ..activations import sigmoid, sigmoid_and_prime, tanh, tanh_and_prime
from ..layers import affine, affine_params_backward

PARAMS = ("W1", "b1", "W2", "b2", "W3", "b3")
DATA = ("x", "y")
INPUTS = Inputs(
    params={"W1": ("n0", "n1"), "b1": ("n1",), "W2": ("n1", "n2"), "b2": ("n2",), "W3": ("n2", 1), "b3": (1,)},
    data={"x": ("B", "n0"), "y": ("B",)},
)


def example(rng: np.random.Generator, batch: int = 1, *, scale: float = 1.0) -> tuple[dict, dict]:
    """A random instance; weights and biases are N(0, scale^2), targets y in (0, 1)."""
    shapes = {"W1": (2, 2), "b1": (2,), "W2": (2, 2), "b2": (2,), "W3": (2, 1), "b3": (1,)}
    params = {k: scale * rng.normal(size=s) for k, s in shapes.items()}
    data = {"x": rng.normal(size=(batch, 2)), "y": rng.uniform(size=batch)}
    return params, data


def _checked(params: dict, data: dict) -> tuple[dict, dict]:
    p, d, _ = check_inputs(INPUTS, params, data)
    return p, d


def forward(params: dict, data: dict) -> dict:
    """Intermediates: ``z1, a1, z2, a2`` (B, 2), ``z3`` (B, 1), ``y_hat`` (B,), ``loss``."""
    p, d = _checked(params, data)
    z1 = affine(d["x"], p["W1"], p["b1"])
    a1 = tanh(z1)
    z2 = affine(a1, p["W2"], p["b2"])
    a2 = tanh(z2)
    z3 = affine(a2, p["W3"], p["b3"])
    y_hat = sigmoid(z3)[:, 0]
    r = y_hat - d["y"]
    return {"z1": z1, "a1": a1, "z2": z2, "a2": a2, "z3": z3, "y_hat": y_hat, "loss": (r * r).sum()[()]}


def loss(params: dict, data: dict) -> float | complex:
    r""":math:`L = \sum_b (y_b - \hat y_b)^2`."""
    p, d = _checked(params, data)
    a2 = tanh(affine(tanh(affine(d["x"], p["W1"], p["b1"])), p["W2"], p["b2"]))
    r = sigmoid(affine(a2, p["W3"], p["b3"]))[:, 0] - d["y"]
    return (r * r).sum()[()]


def backward(params: dict, data: dict) -> dict:
    r"""The delta recursion :math:`\delta^{(l)} = (\delta^{(l+1)} W^{(l+1)T}) \odot f_l'(z^{(l)})`.

    Here :math:`\delta^{(l)} = \partial L/\partial z^{(l)}` (B, width of layer l):

    - ``z3``: :math:`-2(y - \hat y)\,\hat y(1 - \hat y)`, (B, 1)
    - ``z2``: :math:`(\delta^{(3)} W^{(3)T}) \odot (1 - a^{(2)2})`, (B, 2)
    - ``z1``: :math:`(\delta^{(2)} W^{(2)T}) \odot (1 - a^{(1)2})`, (B, 2)
    - ``Wl``: :math:`a^{(l-1)T} \delta^{(l)}` with :math:`a^{(0)} = x`; ``bl``: :math:`\sum_b \delta^{(l)}_b`
    """
    return _backward(*_checked(params, data), full=True)


def grads(params: dict, data: dict) -> dict:
    """Gradients of :func:`loss` with respect to every weight and bias (their shapes)."""
    return _backward(*_checked(params, data), full=False)


def _backward(p: dict, d: dict, *, full: bool) -> dict:
    """:func:`backward` on checked arrays. With ``full`` False, the parameters' gradients only, and every
    intermediate array is released as soon as it has been used (less memory to allocate per call)."""
    x = d["x"]
    a1, da1_dz1 = tanh_and_prime(affine(x, p["W1"], p["b1"]))  # f' = 1 - a^2, without its cancellation
    a2, da2_dz2 = tanh_and_prime(affine(a1, p["W2"], p["b2"]))
    y_hat, delta = sigmoid_and_prime(affine(a2, p["W3"], p["b3"]))  # f3' = y_hat (1 - y_hat), no cancellation
    # delta3 = -2 (y - y_hat) f3'(z3), as losses.sum_of_squares_grad times f3' (in place in the fresh f3')
    delta *= 2.0 * (y_hat - d["y"][:, None])
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
    order = ("z3", "z2", "z1", "a2", "a1", *PARAMS) if full else PARAMS
    return {k: out[k] for k in order}


def _times_fresh(fresh: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``fresh * other``, written into ``fresh`` (an array no one else holds) unless its dtype cannot
    hold the product (a real derivative times a complex delta on the complex step)."""
    if fresh.dtype == np.result_type(fresh, other):
        fresh *= other
        return fresh
    return fresh * other

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

from collections.abc import Callable

import numpy as np

from .. import autodiff as ad
from .._validate import Inputs
from ..activations import sigmoid, sigmoid_and_prime
from ..layers import conv2d, conv2d_backward, conv2d_params_backward_unchecked
from ..losses import mse_grad_unchecked, mse_unchecked
from ._declare import Symbol, declare


def _valid_size(axis: int) -> Callable[[dict[str, int]], int]:
    """The output size of the valid cross-correlation along one axis, H - kh + 1 (or W - kw + 1)."""
    size, kernel = ("H", "kh") if axis == 0 else ("W", "kw")

    def out(n: dict[str, int]) -> int:
        if n["kh"] > n["H"] or n["kw"] > n["W"]:
            raise ValueError(f"w: kernel shape {(n['kh'], n['kw'])} is larger than the input a of shape {(n['H'], n['W'])}")
        return n[size] - n[kernel] + 1

    return out


MAP = (_valid_size(0), _valid_size(1))  # the shape of a feature map, (H - kh + 1, W - kw + 1)
INPUTS = Inputs(
    params={"w": ("kh", "kw"), "b": (), "v": MAP},
    data={"a": ("B", "H", "W"), "y": ("B",)},
)


def example(rng: np.random.Generator, batch: int = 1, *, n: int = 3, k: int = 2) -> tuple[dict, dict]:
    """A random instance: an n x n input, a k x k kernel, ``batch`` examples (seed: n = 3, k = 2)."""
    m = n - k + 1
    params = {"w": rng.normal(size=(k, k)), "b": np.array(rng.normal(scale=0.1)), "v": rng.normal(size=(m, m))}
    data = {"a": rng.normal(size=(batch, n, n)), "y": rng.normal(size=batch)}
    return params, data


def _any_sizes(draw: Callable[[int, int], int]) -> dict[str, int]:
    """An input of 2 to 6 pixels a side and any kernel that fits it (see ``Model.any_sizes``)."""
    n = draw(2, 6)
    return {"n": n, "k": draw(1, n)}


def _y_hat(o: np.ndarray, v: np.ndarray) -> np.ndarray:
    r""":math:`\hat y_b = \sum_{ij} v_{ij} o_{bij}`, (B,): each example's map flattened, times v flattened."""
    return o.reshape(o.shape[0], -1) @ v.reshape(-1)


def _forward(p: dict, d: dict) -> dict:
    r"""Intermediates: ``z`` (B, m, m), ``o`` (B, m, m), ``y_hat`` (B,), and ``loss``,
    :math:`L = \frac{1}{B}\sum_b (y_b - \hat y_b)^2` (the seed's MSE with n = 1 when B = 1)."""
    z = conv2d(d["a"], p["w"], p["b"])
    o = sigmoid(z)
    y_hat = _y_hat(o, p["v"])
    return {"z": z, "o": o, "y_hat": y_hat, "loss": mse_unchecked(y_hat, d["y"])}


def _backward(p: dict, d: dict, *, full: bool, inputs: bool) -> dict:
    r"""Hand-derived gradients, the seed's chain summed over the four (in general m x m) paths.

    - ``y_hat``: :math:`\partial L/\partial \hat y_b = -\frac{2}{B}(y_b - \hat y_b)`, (B,)
    - ``o``: :math:`\partial L/\partial o_{bij} = \partial L/\partial \hat y_b \; v_{ij}`, (B, m, m)
    - ``z`` (the delta map): :math:`\delta_{bij} = \partial L/\partial o_{bij}\, o_{bij}(1 - o_{bij})`, (B, m, m)
    - ``w``: cross-correlation of a with δ, summed over the batch, (kh, kw)
    - ``b``: :math:`\sum_{bij} \delta_{bij}`, (); ``v``: :math:`\sum_b \partial L/\partial\hat y_b\, o_b`, (m, m)
    - ``a``: full convolution of δ with w, (B, H, W); left out when ``inputs`` is False

    With ``full`` False, the parameters' gradients only, and every intermediate array is released as
    soon as it has been used (less memory to allocate per call).
    """
    a, w, v = d["a"], p["w"], p["v"]
    o, do_dz = sigmoid_and_prime(conv2d(a, w, p["b"]))  # o (1 - o), without the cancellation of 1 - o
    d_yhat = mse_grad_unchecked(_y_hat(o, v), d["y"])  # -2 (y - y_hat) / B
    out = {"y_hat": d_yhat, "v": (d_yhat @ o.reshape(o.shape[0], -1)).reshape(v.shape)}
    del o
    delta = d_yhat[:, None, None] * v  # dL/do
    if full:
        out["o"] = delta
    delta = delta * do_dz  # the delta map dL/dz
    del do_dz
    if full:
        out["z"] = delta
    if inputs:
        out["a"], out["w"], out["b"] = conv2d_backward(delta, (a, w))
    else:
        out["w"], out["b"] = conv2d_params_backward_unchecked(delta, a, w.shape)
    order = ("y_hat", "o", "z", "v", "a", "w", "b") if full else INPUTS.params
    return {k: out[k] for k in order if k in out}


def _engine(p: dict, d: dict) -> ad.Tensor:
    """conv_mse's loss on chapter 6's engine (no hand-derived rule)."""
    a = ad.constant(d["a"], "a")
    o = ad.sigmoid(ad.conv2d(a, p["w"]) + p["b"]).named("o")
    y_hat = (o * p["v"]).sum(axis=(1, 2)).named("y_hat")
    return ad.square(ad.constant(d["y"], "y") - y_hat).mean().named("L")


MODEL = declare(
    "conv_mse", seed="000", chapter="book/ch1_conv_mse", inputs=INPUTS, reduction="mean", target="y",
    symbols={
        "a": Symbol(("B", "H", "W"), "the input images, one per example", ("a",)),
        "y": Symbol(("B",), "the targets, one number per example", ("y",), column=True),
        "w": Symbol(("kh", "kw"), "the convolution kernel (the seed's w11 .. w22)", ("w",)),
        "b": Symbol((), "the convolution's bias", ("\\beta",)),
        "v": Symbol(MAP, "the weights of the sum over the map (the seed's wa .. wd)", ("v",)),
        "z": Symbol(("B", *MAP), "the feature maps a * w + beta (valid cross-correlation)", ("z",)),
        "o": Symbol(("B", *MAP), "the maps after the sigmoid, sigmoid(z)", ("o",)),
        "y_hat": Symbol(("B",), "the predictions, sum_ij v_ij o_ij", ("\\hat y",), column=True),
    },
    example=example, sizes=({}, {"n": 5, "k": 2}, {"n": 6, "k": 3}),
    any_sizes=_any_sizes,
    forward=_forward, backward=_backward, engine=_engine,
)
forward, loss, backward, grads = MODEL.forward, MODEL.loss, MODEL.backward, MODEL.grads

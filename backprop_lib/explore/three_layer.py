r"""Chapter 3's widget (seed 002): each layer's gradient as every weight and bias is scaled.

The network is :mod:`backprop_lib.models.three_layer` (2-2-2-1, tanh, tanh, sigmoid,
:math:`L = \sum_b (y_b - \hat y_b)^2`); rows are examples, ``B`` is the batch size. The
delta recursion :math:`\delta^{(l)} = (\delta^{(l+1)} W^{(l+1)T}) \odot f_l'(z^{(l)})`
multiplies by one weight matrix and one slope per layer, so with every parameter scaled by
``s`` the layers far from the output lose their gradient both for small ``s`` (one factor
``s`` per layer above) and for large ``s`` (saturated slopes).

:func:`scale_panel` is the slider's update and :func:`draw_scale_panel` its drawing
(matplotlib is imported there only); :func:`scaled`, :func:`layer_gradient_norms` and
:func:`mean_slopes` are what the update computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..activations import sigmoid_prime, tanh_prime
from ..models import three_layer

LAYER_NAMES = ("layer 1", "layer 2", "layer 3")
Arrays = Mapping[str, np.ndarray]


def scaled(params: Arrays, scale: float) -> dict[str, np.ndarray]:
    """Every weight and bias multiplied by ``scale`` (new arrays, same keys and shapes).

    ``three_layer.example(rng, scale=s)`` draws N(0, s^2) parameters, so ``scaled(p, s)`` of
    a draw with scale 1 is the draw with scale s.
    """
    return {k: scale * np.asarray(v, dtype=float) for k, v in params.items()}


def layer_gradient_norms(params: Arrays, data: Arrays) -> np.ndarray:
    r"""Each layer's gradient norm, :math:`\sqrt{\|\partial L/\partial W^{(l)}\|_F^2 + \|\partial L/\partial b^{(l)}\|^2}`.

    Shape (3,): layers 1, 2, 3. Uses ``three_layer.grads``.
    """
    g = three_layer.grads(params, data)
    return np.array([np.sqrt((g["W" + k] ** 2).sum() + (g["b" + k] ** 2).sum()) for k in "123"])


def mean_slopes(params: Arrays, data: Arrays) -> np.ndarray:
    r"""Mean slope of each layer's activation, :math:`\operatorname{mean} f_l'(z^{(l)})` over batch and units.

    Shape (3,): tanh' of layers 1 and 2 (at most 1), sigmoid' of layer 3 (at most 1/4). A
    slope near 0 is a saturated unit: it passes almost no gradient back.
    """
    fw = three_layer.forward(params, data)
    return np.array([tanh_prime(fw["z1"]).mean(), tanh_prime(fw["z2"]).mean(), sigmoid_prime(fw["z3"]).mean()])


def scale_panel(params: Arrays, data: Arrays, scale: float) -> dict[str, np.ndarray]:
    """The widget's update: ``norms`` and ``slopes`` (each (3,), layers 1-3) of ``scaled(params, scale)``."""
    p = scaled(params, scale)
    return {"norms": layer_gradient_norms(p, data), "slopes": mean_slopes(p, data)}


def draw_scale_panel(panel: Arrays, scale: float, ax: Any = None, ylim: tuple[float, float] = (1e-8, 1e1)) -> Any:
    """Bars of each layer's gradient norm (log axis), each labelled with its layer's mean slope f'.

    ``panel`` is the output of :func:`scale_panel`; norms below ``ylim[0]`` are drawn at
    ``ylim[0]``. Draws on ``ax`` (or a new 2.9 x 3.2 in figure) and returns the figure.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(2.9, 3.2), layout="constrained")
    else:
        fig = ax.figure
    bars = ax.bar(["1", "2", "3"], np.maximum(panel["norms"], ylim[0]), color=["C0", "C1", "C2"])
    for bar, slope in zip(bars, panel["slopes"]):
        ax.text(bar.get_x() + bar.get_width() / 2, ylim[0] * 3, f"f' = {slope:.2g}",
                ha="center", va="bottom", fontsize=9, rotation=90, color="white")
    ax.set_yscale("log")
    ax.set_ylim(*ylim)
    ax.set_xlabel("layer")
    ax.set_ylabel("gradient norm of the layer")
    ax.set_title(f"weights scaled by {scale:.3g}")
    return fig

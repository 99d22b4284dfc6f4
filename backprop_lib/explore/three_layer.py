r"""Chapter 3 (seed 002): the loss seen from an intermediate, the paths from a bias, and saturation.

The network is :mod:`backprop_lib.models.three_layer` (2-2-2-1, tanh, tanh, sigmoid,
:math:`L = \sum_b (y_b - \hat y_b)^2`). Rows are examples; ``B`` is the batch size.

- :func:`loss_from`: the loss as a function of one intermediate (``z1, a1, z2, a2, z3,
  y_hat``), so that every delta of the chapter can be checked by numerical differentiation
  (it accepts complex input: the complex step). For one parameter entry, use
  :func:`backprop_lib.gradcheck.loss_of_entry`.
- :func:`b1_paths` and :func:`draw_b1_paths`: the seed's route to :math:`\partial L/\partial b_1^{(1)}`,
  one product of local derivatives per path through the second layer.
- :func:`layer_gradient_norms`, :func:`mean_slopes`, :func:`scale_panel`, :func:`scale_study` and
  the two drawing functions: the size of each layer's gradient as the weights grow (the widget).

Matplotlib is imported inside the drawing functions only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..activations import sigmoid, sigmoid_prime, tanh, tanh_prime
from ..layers import affine_forward
from ..losses import sum_of_squares
from ..models import three_layer

STAGES = ("z1", "a1", "z2", "a2", "z3", "y_hat")
LAYER_NAMES = ("layer 1", "layer 2", "layer 3")


def loss_from(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], key: str, value: np.ndarray) -> Any:
    r"""The loss :math:`\sum_b (y_b - \hat y_b)^2` computed from the intermediate ``key`` set to ``value``.

    Everything downstream of ``key`` is recomputed with the library's layers and activations;
    nothing upstream is used. Shapes: ``value`` (B, 2) for z1, a1, z2, a2; (B, 1) for z3;
    (B,) for y_hat. Returns a scalar (complex if ``value`` is complex). Its gradient with
    respect to ``value`` is ``three_layer.backward(...)[key]`` for the keys backward returns.
    """
    if key not in STAGES:
        raise ValueError(f"loss_from: key must be one of {STAGES}, got {key!r}")
    v = np.asarray(value)
    for stage in STAGES[STAGES.index(key) + 1:]:
        if stage in ("a1", "a2"):
            v = tanh(v)
        elif stage in ("z2", "z3"):
            layer = stage[1]
            v, _ = affine_forward(v, params["W" + layer], params["b" + layer])
        else:  # y_hat
            v = sigmoid(v)[:, 0]
    return sum_of_squares(v, data["y"])


@dataclass
class PathTerm:
    r"""One path from :math:`b_i^{(1)}` through unit ``via`` of layer 2 to the loss.

    ``factors`` maps the name of each local derivative, in the order of the seed's chain
    (loss end first), to its values, shape (B,); ``value`` is the product summed over the batch.
    """

    via: int
    factors: dict[str, np.ndarray]
    value: float


def b1_paths(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], unit: int = 0) -> list[PathTerm]:
    r"""The paths from :math:`b^{(1)}_{unit}` to the loss, one per unit j of layer 2 (0-based).

    Path j: :math:`b_i^{(1)} \to z_i^{(1)} \to a_i^{(1)} \to z_j^{(2)} \to a_j^{(2)} \to z^{(3)}
    \to \hat y \to L`, contributing, per example,

    .. math:: -2(y - \hat y)\; \sigma'(z^{(3)})\; w_{j1}^{(3)}\; \tanh'(z_j^{(2)})\; w_{ij}^{(2)}\; \tanh'(z_i^{(1)}) \cdot 1

    (seed's 1-based indices in the formula). The sum of the returned ``value`` over j is
    :math:`\partial L/\partial b_i^{(1)}`. Local derivatives come from ``three_layer.forward``.
    """
    fw = three_layer.forward(params, data)
    y = np.asarray(data["y"], dtype=float)
    W2, W3 = np.asarray(params["W2"]), np.asarray(params["W3"])
    paths = []
    for j in range(W2.shape[1]):
        factors = {
            "dloss/da3": -2.0 * (y - fw["y_hat"]),
            "f3'(z3)": sigmoid_prime(fw["z3"][:, 0]),
            f"w{j + 1}1(3)": np.full(y.shape, W3[j, 0]),
            f"f2'(z{j + 1}(2))": tanh_prime(fw["z2"][:, j]),
            f"w{unit + 1}{j + 1}(2)": np.full(y.shape, W2[unit, j]),
            f"f1'(z{unit + 1}(1))": tanh_prime(fw["z1"][:, unit]),
            f"dz{unit + 1}(1)/db{unit + 1}(1)": np.ones(y.shape),
        }
        value = float(np.prod(np.array(list(factors.values())), axis=0).sum())
        paths.append(PathTerm(j, factors, value))
    return paths


def draw_b1_paths(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], unit: int = 0) -> Any:
    """Two panels of the graph from b_unit^(1) to the loss, path j highlighted in panel j.

    For one example (batch 1): edges carry their local derivatives, the panel title the path's
    contribution, the product of its edges. Returns the figure.
    """
    if np.shape(data["y"]) != (1,):
        raise ValueError(f"draw_b1_paths: needs a batch of 1, got y of shape {np.shape(data['y'])}")
    import matplotlib.pyplot as plt

    from ..plotting import draw_graph

    paths = b1_paths(params, data, unit)
    i = unit + 1
    dx, dy = 1.9, 1.0
    nodes = {
        "b": (0.0, 0.0, rf"$b_{i}^{{(1)}}$"), "z1": (dx, 0.0, rf"$z_{i}^{{(1)}}$"),
        "a1": (2 * dx, 0.0, rf"$a_{i}^{{(1)}}$"),
        "z21": (3 * dx, dy, r"$z_1^{(2)}$"), "a21": (4 * dx, dy, r"$a_1^{(2)}$"),
        "z22": (3 * dx, -dy, r"$z_2^{(2)}$"), "a22": (4 * dx, -dy, r"$a_2^{(2)}$"),
        "z3": (5 * dx, 0.0, r"$z_1^{(3)}$"), "yh": (6 * dx, 0.0, r"$\hat y$"), "L": (7 * dx, 0.0, "loss"),
    }
    fw = three_layer.forward(params, data)
    W2, W3 = params["W2"], params["W3"]
    edges = [
        ("b", "z1", "1"),
        ("z1", "a1", rf"$f_1'$={tanh_prime(fw['z1'][0, unit]):.3f}"),
        ("a1", "z21", rf"$w_{{{i}1}}^{{(2)}}$={W2[unit, 0]:.3f}"),
        ("a1", "z22", rf"$w_{{{i}2}}^{{(2)}}$={W2[unit, 1]:.3f}"),
        ("z21", "a21", rf"$f_2'$={tanh_prime(fw['z2'][0, 0]):.3f}"),
        ("z22", "a22", rf"$f_2'$={tanh_prime(fw['z2'][0, 1]):.3f}"),
        ("a21", "z3", rf"$w_{{11}}^{{(3)}}$={W3[0, 0]:.3f}"),
        ("a22", "z3", rf"$w_{{21}}^{{(3)}}$={W3[1, 0]:.3f}"),
        ("z3", "yh", rf"$f_3'$={sigmoid_prime(fw['z3'][0, 0]):.3f}"),
        ("yh", "L", rf"$-2(y-\hat y)$={-2.0 * (data['y'][0] - fw['y_hat'][0]):.3f}"),
    ]
    fig, axes = plt.subplots(len(paths), 1, figsize=(10.5, 3.0 * len(paths)), layout="constrained")
    for ax, path in zip(np.atleast_1d(axes), paths):
        j = path.via + 1
        hot = [("b", "z1"), ("z1", "a1"), ("a1", f"z2{j}"), (f"z2{j}", f"a2{j}"), (f"a2{j}", "z3"),
               ("z3", "yh"), ("yh", "L")]
        draw_graph(nodes, edges, highlight=hot, ax=ax,
                   title=f"path {j}, through unit {j} of layer 2: product of the red edges = {path.value:.6f}")
    return fig


def scaled(params: Mapping[str, np.ndarray], scale: float) -> dict[str, np.ndarray]:
    """Every weight and bias multiplied by ``scale`` (new arrays, same keys and shapes).

    With ``three_layer.example(rng, scale=s)`` drawing N(0, s^2) parameters, ``scaled(p, s)``
    of a draw with scale 1 is a draw with scale s.
    """
    return {k: scale * np.asarray(v, dtype=float) for k, v in params.items()}


def layer_gradient_norms(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray]) -> np.ndarray:
    r"""Each layer's gradient norm :math:`\sqrt{\|\partial L/\partial W^{(l)}\|_F^2 + \|\partial L/\partial b^{(l)}\|^2}`.

    Shape (3,): layers 1, 2, 3. Uses ``three_layer.grads``.
    """
    g = three_layer.grads(params, data)
    return np.array([np.sqrt((g["W" + k] ** 2).sum() + (g["b" + k] ** 2).sum()) for k in ("1", "2", "3")])


def mean_slopes(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray]) -> np.ndarray:
    r"""Mean slope of each layer's activation, :math:`\operatorname{mean}\, f_l'(z^{(l)})` over batch and units.

    Shape (3,): tanh' of layer 1 and 2 (at most 1), sigmoid' of layer 3 (at most 1/4). A slope
    near 0 is a saturated unit: it passes almost no gradient back.
    """
    fw = three_layer.forward(params, data)
    return np.array([tanh_prime(fw["z1"]).mean(), tanh_prime(fw["z2"]).mean(), sigmoid_prime(fw["z3"]).mean()])


def scale_panel(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], scale: float) -> dict[str, np.ndarray]:
    """The widget's update: ``norms`` and ``slopes`` (each shape (3,), layers 1-3) of ``scaled(params, scale)``."""
    p = scaled(params, scale)
    return {"norms": layer_gradient_norms(p, data), "slopes": mean_slopes(p, data)}


def scale_study(scales: Sequence[float], *, n_nets: int = 100, batch: int = 32, seed: int = 0) -> dict[str, np.ndarray]:
    """:func:`scale_panel` over ``n_nets`` random networks (N(0, 1) parameters, each its own batch).

    Returns ``scales`` (S,), ``norms`` and ``slopes`` of shape (n_nets, S, 3).
    """
    rng = np.random.default_rng(seed)
    s = np.asarray(scales, dtype=float)
    norms = np.empty((n_nets, s.size, 3))
    slopes = np.empty((n_nets, s.size, 3))
    for n in range(n_nets):
        params, data = three_layer.example(rng, batch=batch)
        for k, sc in enumerate(s):
            panel = scale_panel(params, data, sc)
            norms[n, k], slopes[n, k] = panel["norms"], panel["slopes"]
    return {"scales": s, "norms": norms, "slopes": slopes}


def draw_scale_panel(panel: Mapping[str, np.ndarray], scale: float, ax: Any = None,
                     ylim: tuple[float, float] = (1e-8, 1e1)) -> Any:
    """Bars of each layer's gradient norm (log axis), labelled with the layer's mean slope f'.

    ``panel`` is the output of :func:`scale_panel`. Returns the figure.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 3.5), layout="constrained")
    else:
        fig = ax.figure
    norms, slopes = panel["norms"], panel["slopes"]
    bars = ax.bar(LAYER_NAMES, np.maximum(norms, ylim[0]), color=["C0", "C1", "C2"])
    for bar, slope in zip(bars, slopes):
        ax.text(bar.get_x() + bar.get_width() / 2, ylim[0] * 3, f"mean f' = {slope:.2g}",
                ha="center", va="bottom", fontsize=9, rotation=90, color="white")
    ax.set_yscale("log")
    ax.set_ylim(*ylim)
    ax.set_ylabel("gradient norm of the layer")
    ax.set_title(f"weights scaled by {scale:.3g}")
    return fig


def draw_scale_study(study: Mapping[str, np.ndarray]) -> Any:
    """Two panels against the scale (log-log): median gradient norm per layer with its
    interquartile band, and the median mean slope f' per layer. Returns the figure."""
    import matplotlib.pyplot as plt

    s = study["scales"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for layer in range(3):
        q1, med, q3 = np.percentile(study["norms"][:, :, layer], [25, 50, 75], axis=0)
        left.loglog(s, med, color=f"C{layer}", label=LAYER_NAMES[layer])
        left.fill_between(s, q1, q3, color=f"C{layer}", alpha=0.2)
        right.loglog(s, np.median(study["slopes"][:, :, layer], axis=0), color=f"C{layer}",
                     label=LAYER_NAMES[layer] + (" (sigmoid')" if layer == 2 else " (tanh')"))
    left.set_xlabel("scale of the weights and biases")
    left.set_ylabel("gradient norm of the layer")
    left.set_title("median and interquartile range over random networks")
    left.legend()
    right.set_xlabel("scale of the weights and biases")
    right.set_ylabel("mean slope f'(z) of the layer")
    right.set_title("saturation: the slopes that multiply the deltas")
    right.legend()
    return fig

r"""Chapter 1 (seed 000): the loss along :math:`w_{11}` with its tangent, and the maps of the backward pass.

The widget of chapter 1 moves the seed's :math:`w_{11}` (``w[0, 0]``) and the target :math:`y`
and redraws the loss as a function of :math:`w_{11}` together with the tangent whose slope is
the derived gradient ``conv_mse.grads(...)["w"][0, 0]``. Everything here is a plain function of
``(params, data)`` in the contract of :mod:`backprop_lib.models.conv_mse`:
``w`` (kh, kw), ``b`` (), ``v`` (m, m), ``a`` (B, H, W), ``y`` (B,), with m = H - kh + 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..gradcheck import with_entry
from ..models import conv_mse

W11 = (0, 0)  # the seed's w_11 is the library's w[0, 0]


def with_target(data: Mapping[str, np.ndarray], y: float) -> dict[str, np.ndarray]:
    """``data`` with every target ``y_b`` set to the number ``y``: ``y`` becomes (B,) filled with it."""
    return {**data, "y": np.full(np.shape(data["y"]), float(y))}


def loss_along_w11(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray],
                   values: np.ndarray) -> np.ndarray:
    r"""The loss :math:`L(w_{11})` with every other parameter held fixed, at each of ``values``.

    Shapes: values (N,) -> (N,). Accepts complex ``values`` (the complex step).
    """
    values = np.asarray(values)
    return np.array([conv_mse.loss({**params, "w": with_entry(params["w"], W11, x)}, data) for x in values])


def w11_tangent(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], w11: float, y: float, *,
                lo: float = -4.0, hi: float = 4.0, num: int = 201) -> dict[str, Any]:
    r"""The widget's update: the curve :math:`L(w_{11})` on [lo, hi] and its tangent at ``w11`` for target ``y``.

    Returns a dict: ``xs`` (num,), ``ys`` (num,) the loss along :math:`w_{11}`; ``x0 = w11``;
    ``y0`` the loss there; ``slope`` the library's derived gradient
    :math:`\partial L/\partial w_{11}` = ``conv_mse.grads(...)["w"][0, 0]`` at that point;
    ``params`` and ``data`` as evaluated (``w[0, 0] = w11``, every ``y_b = y``).
    """
    if not lo < hi or num < 2:
        raise ValueError(f"w11_tangent: need lo < hi and num >= 2, got lo={lo}, hi={hi}, num={num}")
    p = {**params, "w": with_entry(params["w"], W11, float(w11))}
    d = with_target(data, y)
    xs = np.linspace(lo, hi, num)
    return {
        "xs": xs,
        "ys": loss_along_w11(p, d, xs),
        "x0": float(w11),
        "y0": float(conv_mse.loss(p, d)),
        "slope": float(conv_mse.grads(p, d)["w"][W11]),
        "params": p,
        "data": d,
    }


def draw_w11_tangent(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], w11: float, y: float, *,
                     lo: float = -4.0, hi: float = 4.0, ax: Any = None) -> Any:
    """Draw :func:`w11_tangent` with :func:`backprop_lib.plotting.tangent_plot`; returns the figure."""
    from ..plotting import tangent_plot

    t = w11_tangent(params, data, w11, y, lo=lo, hi=hi)
    fig = tangent_plot(t["xs"], t["ys"], t["x0"], t["y0"], t["slope"], xlabel=r"$w_{11}$ (w[0, 0])",
                       ylabel="MSE", title=rf"$L(w_{{11}})$ for $y = {y:.2f}$; tangent at $w_{{11}} = {w11:.2f}$",
                       ax=ax)
    ax = fig.axes[0] if ax is None else ax
    ax.set_ylim(bottom=min(0.0, float(t["ys"].min())), top=1.15 * float(t["ys"].max()) + 1e-3)
    return fig


def backward_maps(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray],
                  example: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    r"""Each array of the forward pass paired with the gradient of the loss with respect to it.

    Keys ``"a"``, ``"w"``, ``"z"``, ``"o"``; each value is ``(value, gradient)`` of equal shapes:
    a (H, W), w (kh, kw), z (m, m), o (m, m) of example ``example``. The gradient of ``z`` is the
    delta map :math:`\delta = \partial L/\partial z`; the gradient of ``w`` is the library's
    :math:`\partial L/\partial w`, summed over the batch (with a batch of one, that example's
    :math:`a \star \delta`).
    """
    fw, g = conv_mse.forward(params, data), conv_mse.backward(params, data)
    return {
        "a": (np.asarray(data["a"])[example], g["a"][example]),
        "w": (np.asarray(params["w"]), g["w"]),
        "z": (fw["z"][example], g["z"][example]),
        "o": (fw["o"][example], g["o"][example]),
    }


_TITLES = {
    "a": (r"input $a$", r"$\partial L/\partial a$ (full conv. of $\delta$, $w$)"),
    "w": (r"kernel $w$", r"$\partial L/\partial w = a \star \delta$"),
    "z": (r"$z = a \star w + \beta$", r"$\delta = \partial L/\partial z$"),
    "o": (r"$o = \sigma(z)$", r"$\partial L/\partial o = \partial L/\partial\hat y\; v$"),
}


def draw_backward_maps(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], example: int = 0, *,
                       annotate: bool = True, figsize: tuple[float, float] = (12, 6.2)) -> Any:
    """Heatmaps of :func:`backward_maps`: forward values on the top row, each gradient under its variable.

    Colour scales are symmetric about 0 (red positive, blue negative), one per panel; the cells carry
    their values (``annotate``, arrays of at most 64 entries), so no colour bar is drawn. Returns the figure.
    """
    import matplotlib.pyplot as plt

    maps = backward_maps(params, data, example)
    fig, axes = plt.subplots(2, len(maps), figsize=figsize, gridspec_kw={"wspace": 0.25, "hspace": 0.3})
    fig.subplots_adjust(left=0.05, right=0.99, top=0.93, bottom=0.04)
    for col, (key, pair) in enumerate(maps.items()):
        for row, arr in enumerate(pair):
            ax = axes[row, col]
            lim = float(np.max(np.abs(arr), initial=0.0)) or 1.0
            ax.imshow(arr, cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(_TITLES[key][row], fontsize=10)
            ax.set_xticks(range(arr.shape[1]))
            ax.set_yticks(range(arr.shape[0]))
            ax.tick_params(labelsize=8)
            if annotate and arr.size <= 64:
                for (i, j), val in np.ndenumerate(arr):
                    ax.text(j, i, f"{val:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if abs(val) > 0.6 * lim else "black")
    axes[0, 0].set_ylabel("forward", fontsize=11)
    axes[1, 0].set_ylabel("backward", fontsize=11)
    return fig


def draw_network(*, ax: Any = None) -> Any:
    r"""The seed's network as a computation graph, the four paths from :math:`w_{11}` to the MSE in red.

    Edge labels are the local derivatives of the seed's route: :math:`\partial z_{ij}/\partial w_{11}`,
    :math:`\partial o_{ij}/\partial z_{ij}`, :math:`\partial \hat y/\partial o_{ij}`. Returns the figure.
    """
    from ..plotting import draw_graph

    outs = ["00", "01", "10", "11"]
    seed_a = {"00": "a_{11}", "01": "a_{12}", "10": "a_{21}", "11": "a_{22}"}
    weights = {"00": "wa", "01": "wb", "10": "wc", "11": "wd"}
    nodes: dict[str, tuple[float, float, str]] = {
        "a": (1.0, 3.0, r"$a$ ($3\times 3$)"),
        "w11": (0.0, 0.0, r"$w_{11}$"),
        "rest": (1.0, -3.0, r"$w_{12}, w_{21}, w_{22}, \beta$"),
        "yhat": (6.6, 0.0, r"$\hat y$"),
        "y": (6.6, -2.4, r"$y$ (yy)"),
        "mse": (8.6, 0.0, r"MSE"),
    }
    edges: list[tuple[str, str]] = []
    labels: list[tuple[str, str, str]] = [("yhat", "mse", r"$-2(y-\hat y)$")]
    hot: list[tuple[str, str]] = [("yhat", "mse")]
    for k, ij in enumerate(outs):
        row = 2.4 - 1.6 * k
        nodes["z" + ij] = (2.8, row, rf"$z_{{{ij}}}$")
        nodes["o" + ij] = (4.6, row, rf"$o_{{{ij}}}$")
        edges += [("a", "z" + ij), ("rest", "z" + ij), ("w11", "z" + ij), ("z" + ij, "o" + ij), ("o" + ij, "yhat")]
        labels += [("w11", "z" + ij, rf"${seed_a[ij]}$"), ("z" + ij, "o" + ij, r"$\sigma'(z_{%s})$" % ij),
                   ("o" + ij, "yhat", rf"$\mathrm{{{weights[ij]}}}$")]
        hot += [("w11", "z" + ij), ("z" + ij, "o" + ij), ("o" + ij, "yhat")]
    edges += [("yhat", "mse"), ("y", "mse")]
    colors = {"w11": "#fde2e2", "mse": "#e4f4e4"}
    fig = draw_graph(nodes, edges, highlight=hot, node_color=colors, ax=ax, figsize=(9, 4.6),
                     title=r"seed 000: the four paths from $w_{11}$ to the MSE (red), labelled with their local derivatives")
    axis = fig.axes[0] if ax is None else ax
    for src, dst, text in labels:  # on a white patch at the middle of the edge, so the arrow does not hide it
        (x0, y0, _), (x1, y1, _) = nodes[src], nodes[dst]
        axis.text(0.5 * (x0 + x1), 0.5 * (y0 + y1), text, fontsize=9, ha="center", va="center", zorder=6,
                  bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none"))
    return fig

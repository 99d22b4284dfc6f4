"""Figures shared by the chapters: computation diagrams, heatmaps, tangent lines, loss curves.

Imports matplotlib when called, never when ``backprop_lib`` is imported. Every function
draws on an axis it is given (or a new figure) and returns the figure, so a chapter cell
stays one line and a test can inspect what was drawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

# The HTML book's text column at 1280 px (book/_static/book.css), in CSS pixels: a figure wider
# than this is shown scaled down to it. tests/test_page_fit.py checks that the column is at least
# this wide.
COLUMN_PX = 860
# The smallest text a reader should meet, as shown on the page: 8 pt = 8/72 inch = 10.67 CSS px.
MIN_TEXT_PT = 8.0


def text_sizes_as_shown(fig: Any, renderer: Any = None, column_px: float = COLUMN_PX) -> list[tuple[str, float]]:
    """Every visible text of ``fig`` with its size in points as the book shows it.

    A figure saved at ``fig.dpi`` (the inline backend crops it to its tight bounding box) is
    ``width_px`` wide; shown in a column of ``column_px`` CSS pixels it is scaled by
    ``s = min(1, column_px / width_px)``, and a text of ``size`` points becomes
    ``size * dpi / 96 * s`` points on the screen (a CSS pixel is 1/96 inch).
    Returns ``[(text, shown_pt), ...]``, smallest first.
    """
    from matplotlib.text import Text

    if renderer is None:
        renderer = fig.canvas.get_renderer()
    width_px = fig.get_tightbbox(renderer).width * fig.dpi
    scale = min(1.0, column_px / width_px)
    found = [
        (t.get_text(), t.get_fontsize() * fig.dpi / 96 * scale)
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.figure is not None
    ]
    return sorted(found, key=lambda item: item[1])


def check_readable(fig: Any, renderer: Any = None) -> None:
    """Raise ValueError if a text of ``fig`` would be shown smaller than MIN_TEXT_PT.

    The message names the smallest texts and says the two cures: a larger font, or a figure
    drawn no wider than the column (see :func:`text_sizes_as_shown`).
    """
    small = [(text, pt) for text, pt in text_sizes_as_shown(fig, renderer) if pt < MIN_TEXT_PT - 1e-9]
    if small:
        shown = ", ".join(f"{text[:30]!r} at {pt:.1f} pt" for text, pt in small[:5])
        raise ValueError(
            f"figure text smaller than {MIN_TEXT_PT:g} pt as shown in the book: {shown}"
            f"{' and more' if len(small) > 5 else ''}. Use a larger font, or draw the figure no wider than "
            f"{COLUMN_PX / fig.dpi:.1f} in at {fig.dpi:g} dpi so that it is not scaled down."
        )


def readable_hook(fig: Any) -> None:
    """matplotlib ``figure.hooks`` entry (book/matplotlibrc): check every drawing of ``fig``."""
    fig.canvas.mpl_connect("draw_event", lambda event: check_readable(event.canvas.figure, event.renderer))


def _axes(ax: Any = None, figsize: tuple[float, float] = (6, 4)) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def draw_graph(
    nodes: Mapping[str, tuple[float, float, str]],
    edges: Iterable[tuple[str, str] | tuple[str, str, str]],
    *,
    highlight: Iterable[tuple[str, str]] = (),
    node_color: Mapping[str, str] | None = None,
    title: str = "",
    ax: Any = None,
    figsize: tuple[float, float] = (8, 3.5),
) -> Any:
    """Draw a computation graph: ``nodes`` maps a key to ``(x, y, TeX label)``; ``edges`` are
    ``(src, dst)`` or ``(src, dst, edge label)``; edges in ``highlight`` are drawn thick and red.
    Edge labels are 9 pt on a white patch, so they stay readable where edges cross.

    Returns the figure. Node labels are matplotlib mathtext (``$w_{11}$``).
    """
    fig, ax = _axes(ax, figsize)
    hot = set(highlight)
    colors = node_color or {}
    for edge in edges:
        src, dst = edge[0], edge[1]
        (x0, y0, _), (x1, y1, _) = nodes[src], nodes[dst]
        on = (src, dst) in hot
        ax.annotate(
            "", xy=(x1, y1), xytext=(x0, y0),
            arrowprops=dict(arrowstyle="-|>", color="crimson" if on else "0.55", lw=2.6 if on else 1.0,
                            shrinkA=16, shrinkB=16),
            zorder=3 if on else 1,
        )
        if len(edge) > 2:  # on a white patch: readable where edges cross
            ax.text(0.62 * x0 + 0.38 * x1, 0.62 * y0 + 0.38 * y1, edge[2], fontsize=9, color="0.25",
                    ha="center", va="center", zorder=5, bbox=dict(fc="white", ec="none", pad=0.5))
    for key, (x, y, label) in nodes.items():
        ax.text(x, y, label, ha="center", va="center", fontsize=11, zorder=4,
                bbox=dict(boxstyle="round,pad=0.35", fc=colors.get(key, "#eef3fb"), ec="0.3"))
    xs = [v[0] for v in nodes.values()]
    ys = [v[1] for v in nodes.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def layered_graph(
    layers: Sequence[Sequence[tuple[str, str]]],
    *,
    dense: Sequence[bool] | None = None,
    highlight: Iterable[tuple[str, str]] = (),
    title: str = "",
    ax: Any = None,
    figsize: tuple[float, float] = (8, 3.5),
) -> Any:
    """Draw layers left to right; ``layers[i]`` lists ``(key, TeX label)`` of the nodes of column i.

    Column i is joined to column i+1 by every edge when ``dense[i]`` (default), else node by
    node (for element-wise maps such as an activation). Returns the figure.
    """
    nodes: dict[str, tuple[float, float, str]] = {}
    for i, column in enumerate(layers):
        for j, (key, label) in enumerate(column):
            nodes[key] = (1.6 * i, (len(column) - 1) / 2 - j, label)
    dense = list(dense) if dense is not None else [True] * (len(layers) - 1)
    edges: list[tuple[str, str]] = []
    for i in range(len(layers) - 1):
        left, right = [k for k, _ in layers[i]], [k for k, _ in layers[i + 1]]
        if dense[i]:
            edges += [(a, b) for a in left for b in right]
        else:
            if len(left) != len(right):
                raise ValueError(f"layers {i} and {i + 1}: element-wise edges need equal sizes, got {len(left)} and {len(right)}")
            edges += list(zip(left, right))
    return draw_graph(nodes, edges, highlight=highlight, title=title, ax=ax, figsize=figsize)


def heatmaps(
    arrays: Mapping[str, np.ndarray],
    *,
    annotate: bool = True,
    cmap: str = "RdBu_r",
    fmt: str = "{:.2f}",
    figsize: tuple[float, float] | None = None,
    suptitle: str = "",
    ncols: int = 3,
) -> Any:
    """Heatmaps of 2-D arrays (title -> array), each on a colour scale symmetric about 0.

    At most ``ncols`` side by side, more in further rows, so that the figure fits the book's
    text column (``COLUMN_PX``) and its labels stay readable. Cells are annotated with their
    values when ``annotate`` and the array has at most 64 entries.
    """
    import matplotlib.pyplot as plt

    n = len(arrays)
    cols = min(n, ncols)
    rows = -(-n // cols)
    width = min(2.8 * cols, COLUMN_PX / plt.rcParams["figure.dpi"])
    fig, axes = plt.subplots(rows, cols, figsize=figsize or (width, 2.8 * rows), layout="constrained", squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    for ax, (title, arr) in zip(axes.flat, arrays.items()):
        arr = np.atleast_2d(np.asarray(arr, dtype=float))
        lim = float(np.max(np.abs(arr), initial=0.0)) or 1.0
        im = ax.imshow(arr, cmap=cmap, vmin=-lim, vmax=lim)
        ax.set_title(title)
        ax.set_xticks(range(arr.shape[1]))
        ax.set_yticks(range(arr.shape[0]))
        if annotate and arr.size <= 64:
            for (i, j), val in np.ndenumerate(arr):
                ax.text(j, i, fmt.format(val), ha="center", va="center", fontsize=8,
                        color="white" if abs(val) > 0.6 * lim else "black")
        fig.colorbar(im, ax=ax, shrink=0.8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def tangent_plot(
    xs: np.ndarray, ys: np.ndarray, x0: float, y0: float, slope: float, *,
    xlabel: str = "", ylabel: str = "loss", title: str = "", ax: Any = None,
) -> Any:
    """A curve ``ys(xs)`` with the point ``(x0, y0)`` and the tangent of slope ``slope`` through it."""
    fig, ax = _axes(ax)
    ax.plot(xs, ys, color="C0", label=ylabel or "curve")
    half = 0.25 * (xs[-1] - xs[0])
    tx = np.array([x0 - half, x0 + half])
    ax.plot(tx, y0 + slope * (tx - x0), color="crimson", lw=2, label=f"tangent, slope {slope:.4g}")
    ax.plot([x0], [y0], "o", color="crimson")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best")
    return fig


def loss_curve(losses: Mapping[str, Sequence[float]] | Sequence[float], *, title: str = "", logy: bool = True,
               ax: Any = None) -> Any:
    """Loss against the gradient-descent step; a mapping draws one labelled curve per entry."""
    fig, ax = _axes(ax)
    curves = losses if isinstance(losses, Mapping) else {"loss": losses}
    for label, values in curves.items():
        ax.plot(np.arange(len(values)), values, marker="." if len(values) <= 60 else None, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    return fig

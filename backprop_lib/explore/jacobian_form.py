r"""Chapter 5 (seed 004, the Jacobian form): the softmax widget's update logic and its figure.

Row vectors throughout, as in the seed: the logits t and the prediction g = softmax(t) are
rows, a gradient is a row, and the softmax Jacobian :math:`\partial g/\partial t =
\operatorname{diag}(g) - g^T g` (an outer product of the row g with itself) has rows indexed
by the outputs :math:`g_i` and columns by the logits :math:`t_k`.

- :func:`softmax_view` is the widget's update function: for logits t and a target y it returns
  g, the Jacobian and the gradient :math:`\partial J/\partial b_1 = 2 (g - y)\, \partial g/\partial t`
  of the seed's result (1) for one example (there :math:`t = y_0 w_1 + b_1`, so
  :math:`\partial t/\partial b_1 = I`).
- :func:`draw_softmax_view` draws it, for the widget and for the static figure of the book.

Matplotlib is imported inside the drawing function only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..activations import softmax, softmax_jacobian
from ..losses import sum_of_squares

# The book's text column at 100 dpi is 8.6 in: a figure this wide is shown at its natural size.
WIDTH_IN = 8.6


def softmax_view(t: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> dict[str, Any]:
    r"""Everything the softmax widget shows, for one example.

    Parameters: logits ``t`` (n,) and target ``y`` (n,).

    Returns a dict with ``g`` (n,) = softmax(t); ``jacobian`` (n, n) =
    :math:`\operatorname{diag}(g) - g^T g`, entry (i, k) = :math:`\partial g_i/\partial t_k`;
    ``dJ_db1`` (n,) = :math:`2 (g - y)\,\partial g/\partial t`, the seed's result (1);
    ``loss`` = :math:`\sum_i (g_i - y_i)^2`.
    Raises ValueError unless t and y are 1-D of the same length.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.ndim != 1 or y.shape != t.shape:
        raise ValueError(f"softmax_view: t and y must be 1-D of the same length, "
                         f"got shapes {t.shape} and {y.shape}")
    g = softmax(t)
    jac = softmax_jacobian(g)
    return {"g": g, "jacobian": jac, "dJ_db1": 2.0 * (g - y) @ jac, "loss": float(sum_of_squares(g, y))}


def draw_softmax_view(t: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> Any:
    r"""Two panels for logits t (n,) and target y (n,), drawn :data:`WIDTH_IN` wide.

    Left, the heatmap of :math:`\partial g/\partial t` (annotated, colour scale symmetric about
    0, rows and columns numbered from 1 as the seed counts); right, bars of g, y and
    :math:`\partial J/\partial b_1` for each entry. Returns the figure; ``fig.axes[0]`` holds the
    heatmap (its image array is the Jacobian), ``fig.axes[1]`` the bars.
    """
    import matplotlib.pyplot as plt

    view = softmax_view(t, y)
    jac, n = view["jacobian"], len(view["g"])
    fig, (ax_j, ax_b) = plt.subplots(1, 2, figsize=(WIDTH_IN, 3.5), layout="constrained",
                                     gridspec_kw={"width_ratios": [1, 1.25]})
    lim = float(np.abs(jac).max()) or 1.0
    im = ax_j.imshow(jac, cmap="RdBu_r", vmin=-lim, vmax=lim)
    for (i, k), val in np.ndenumerate(jac):
        ax_j.text(k, i, f"{val:.3f}", ha="center", va="center", fontsize=9,
                  color="white" if abs(val) > 0.6 * lim else "black")
    ticks = range(n)
    ax_j.set_xticks(ticks, [f"$t_{k + 1}$" for k in ticks])
    ax_j.set_yticks(ticks, [f"$g_{i + 1}$" for i in ticks])
    ax_j.set_title(r"$\partial g/\partial t = \mathrm{diag}(g) - g^T g$")
    fig.colorbar(im, ax=ax_j, shrink=0.85)

    x = np.arange(n)
    width = 0.27
    ax_b.bar(x - width, view["g"], width, label=r"$y_{pre} = g(t)$", color="C0")
    ax_b.bar(x, np.asarray(y, dtype=float), width, label=r"target $y$", color="0.6")
    ax_b.bar(x + width, view["dJ_db1"], width, label=r"$\partial J/\partial b_1$", color="crimson")
    ax_b.axhline(0.0, color="0.3", lw=0.8)
    ax_b.set_xticks(x, [f"{k + 1}" for k in x])
    ax_b.set_xlabel("entry")
    logits = ", ".join(f"{v:.2f}" for v in np.asarray(t, float))
    ax_b.set_title(f"J = {view['loss']:.4f}; t = ({logits})")
    ax_b.legend(fontsize=9, loc="best")
    return fig

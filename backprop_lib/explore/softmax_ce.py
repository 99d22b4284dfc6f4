r"""Chapter 2 (seed 001): the widget's update -- three logits and a target class of one example.

:func:`softmax_panel` computes what the widget shows: the probabilities
:math:`s = \operatorname{softmax}(a)`, the softmax Jacobian
:math:`\partial s_k/\partial a_i = s_k(\delta_{ki} - s_i)` and the cross-entropy's gradient
:math:`\partial L/\partial a = s - t` (one example, B = 1). :func:`draw_softmax_panel` draws
them; :func:`class_bars` draws the bars of s and s - t of one example, for the widget and for
the chapter's picture of a whole batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..activations import softmax, softmax_jacobian
from ..losses import cross_entropy_grad


def softmax_panel(logits: np.ndarray, target: int) -> dict[str, np.ndarray]:
    r"""The widget's update for the logits of one example and its target class (0-based).

    Shapes: logits (n,) -> ``s`` (n,), ``J`` (n, n) with rows the outputs :math:`s_k` and
    columns the inputs :math:`a_i`, ``t`` (n,) one-hot, ``grad`` (n,) = s - t. The library's
    shifted softmax and log-softmax gradient keep logits of size 1000 finite.
    """
    a = np.asarray(logits, dtype=np.float64)
    if a.ndim != 1 or not 0 <= target < a.size:
        raise ValueError(f"softmax_panel: need logits (n,) and 0 <= target < n, got {a.shape} and {target}")
    s, t = softmax(a), np.eye(a.size)[target]
    grad = cross_entropy_grad(a[None, :], t[None, :])[0]
    return {"logits": a, "s": s, "J": softmax_jacobian(s), "t": t, "grad": grad}


def class_bars(ax: Any, s: np.ndarray, t: np.ndarray) -> Any:
    r"""Bars of :math:`s_k` (grey) and :math:`s_k - t_k` (red below 0, blue above) on ``ax``.

    Shapes: s (n,), t (n,); the classes are numbered from 1 and the target is starred.
    Returns the container of the s - t bars (``[bar.get_height() for bar in it]``).
    """
    s, t = np.asarray(s, dtype=np.float64), np.asarray(t, dtype=np.float64)
    if s.ndim != 1 or s.shape != t.shape:
        raise ValueError(f"class_bars: need s and t of one shape (n,), got {s.shape} and {t.shape}")
    k, d = np.arange(s.size), s - t
    ax.bar(k - 0.2, s, width=0.4, color="0.75", label="$s_k$")
    bars = ax.bar(k + 0.2, d, width=0.4, color=["crimson" if v < 0 else "C0" for v in d], label="$s_k - t_k$")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(k, [f"{i + 1}*" if t[i] == t.max() > 0 else f"{i + 1}" for i in k])
    ax.set_ylim(-1.05, 1.05)
    return bars


def draw_softmax_panel(logits: np.ndarray, target: int, *, fig: Any = None) -> Any:
    """Draw :func:`softmax_panel`: bars of s and s - t (left), a heatmap of the Jacobian (right).

    Drawn 8.4 in wide, so that with its margins it fits the book's text column at 100 dpi.
    Returns the figure: ``fig.axes[0]`` holds the bars, ``fig.axes[1]`` the image of ``J``
    (plus a colour bar).
    """
    import matplotlib.pyplot as plt

    p = softmax_panel(logits, target)
    n = p["s"].size
    if fig is None:
        fig = plt.figure(figsize=(8.4, 3.3), layout="constrained")
    ax_s, ax_j = fig.subplots(1, 2, width_ratios=[1, 1.15])
    class_bars(ax_s, p["s"], p["t"])
    ax_s.legend(loc="lower left", fontsize=9)
    ax_s.set_xlabel("class k (* target)")
    ax_s.set_title("logits " + ", ".join(f"{v:.1f}" for v in p["logits"]))
    lim = max(float(np.abs(p["J"]).max()), 1e-3)
    im = ax_j.imshow(p["J"], cmap="RdBu_r", vmin=-lim, vmax=lim)
    for (i, j), value in np.ndenumerate(p["J"]):
        ax_j.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=9,
                  color="white" if abs(value) > 0.6 * lim else "black")
    ax_j.set_xticks(range(n), [f"$a_{k + 1}$" for k in range(n)])
    ax_j.set_yticks(range(n), [f"$s_{k + 1}$" for k in range(n)])
    ax_j.set_title(r"Jacobian $s_k(\delta_{ki} - s_i)$")
    fig.colorbar(im, ax=ax_j, shrink=0.85)
    return fig

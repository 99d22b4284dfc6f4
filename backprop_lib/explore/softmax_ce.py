r"""Chapter 2 (seed 001): per-example Jacobians of a batch, the softmax widget and its figures.

The seed writes two Jacobians one example at a time: the softmax's
:math:`\partial s_b/\partial (a_2)_b` (3, 3) and the sigmoid's diagonal
:math:`\partial \bar z_b/\partial (a_1)_b` (4, 4), and multiplies row :math:`b` of a
gradient by the Jacobian of example :math:`b` (its "dot" column). Here those are plain
functions of stacks: a stack of B Jacobians has shape (B, n, m), example b's Jacobian
``J[b]`` with rows indexed by the outputs and columns by the inputs (numerator layout).

The widget of chapter 2 moves three logits and redraws the softmax probabilities and the
softmax Jacobian: :func:`softmax_panel` computes them, :func:`draw_softmax_panel` draws them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..activations import softmax, softmax_jacobian


def diagonal_stack(d: np.ndarray) -> np.ndarray:
    r"""One diagonal matrix per row: ``out[b] = diag(d[b])``, the seed's step 6 "writing 1".

    Shapes: d (B, n) -> (B, n, n). For ``d = z(1 - z)`` this is the stack of the sigmoid's
    Jacobians :math:`\partial \bar z_b/\partial (a_1)_b`; B n (n - 1) of its entries are 0.
    """
    d = np.asarray(d)
    if d.ndim != 2:
        raise ValueError(f"diagonal_stack: d must be 2-D (B, n), got shape {d.shape}")
    return d[:, :, None] * np.eye(d.shape[1])


def rows_times_jacobians(g: np.ndarray, J: np.ndarray) -> np.ndarray:
    r"""Row b of ``g`` times example b's Jacobian: :math:`\text{out}_b = g_b\, J_b`, the seed's boxed rows "dot".

    Shapes: g (B, n), J (B, n, m) -> (B, m). With g the gradient with respect to a map's
    output and J its Jacobians, this is the gradient with respect to the map's input.
    """
    g, J = np.asarray(g), np.asarray(J)
    if J.ndim != 3 or g.shape != J.shape[:2]:
        raise ValueError(f"rows_times_jacobians: need g (B, n) and J (B, n, m), got {g.shape} and {J.shape}")
    return np.einsum("bi,bij->bj", g, J)


def block_diagonal(J: np.ndarray) -> np.ndarray:
    r"""The Jacobian of a row-wise map of a whole batch, from the stack of its per-example Jacobians.

    Shapes: J (B, n, m) -> (B, n, B, m) with ``out[b, :, c, :] = J[b]`` if b = c and 0
    otherwise: output row b does not depend on input row c. This is the shape
    :func:`backprop_lib.gradcheck.check_function` expects for a map (B, m) -> (B, n).
    """
    J = np.asarray(J)
    if J.ndim != 3:
        raise ValueError(f"block_diagonal: J must be a stack (B, n, m), got shape {J.shape}")
    B = J.shape[0]
    return np.einsum("bij,bc->bicj", J, np.eye(B))


def softmax_panel(logits: np.ndarray) -> dict[str, np.ndarray]:
    r"""The widget's update: for three (or n) logits, the probabilities and the softmax Jacobian.

    Shapes: logits (n,) -> ``s`` (n,) with :math:`s_k = e^{a_k}/\sum_i e^{a_i}` and
    ``J`` (n, n) with :math:`J_{ki} = \partial s_k/\partial a_i = s_k(\delta_{ki} - s_i)`.
    Computed by :func:`backprop_lib.activations.softmax` (shifted, so logits of size 1000 are fine).
    """
    a = np.asarray(logits, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"softmax_panel: logits must be 1-D (n,), got shape {a.shape}")
    s = softmax(a)
    return {"logits": a, "s": s, "J": softmax_jacobian(s)}


def draw_softmax_panel(logits: np.ndarray, *, fig: Any = None) -> Any:
    """Draw :func:`softmax_panel`: bars of the probabilities (left) and a heatmap of the Jacobian (right).

    Shapes: logits (n,). Returns the figure: ``fig.axes[0]`` holds n bars of heights ``s``,
    ``fig.axes[1]`` the image of ``J`` (plus a colour bar).
    """
    import matplotlib.pyplot as plt

    panel = softmax_panel(logits)
    s, J = panel["s"], panel["J"]
    n = s.size
    if fig is None:
        fig = plt.figure(figsize=(8.5, 3.4), layout="constrained")
    ax_s, ax_j = fig.subplots(1, 2, width_ratios=[1, 1.15])
    names = [f"$s_{k + 1}$" for k in range(n)]
    bars = ax_s.bar(names, s, color=[f"C{k}" for k in range(n)])
    for k, (bar, value, a) in enumerate(zip(bars, s, panel["logits"])):
        ax_s.text(bar.get_x() + bar.get_width() / 2, value + 0.02, f"{value:.3f}\n($a_{{2,{k + 1}}}$ = {a:.1f})",
                  ha="center", va="bottom", fontsize=8)
    ax_s.set_ylim(0, 1.25)
    ax_s.set_ylabel("probability")
    ax_s.set_title(f"softmax; sum = {s.sum():.3f}")
    lim = max(float(np.abs(J).max()), 1e-3)
    im = ax_j.imshow(J, cmap="RdBu_r", vmin=-lim, vmax=lim)
    for (i, j), value in np.ndenumerate(J):
        ax_j.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=9,
                  color="white" if abs(value) > 0.6 * lim else "black")
    ax_j.set_xticks(range(n), [f"$a_{{2,{k + 1}}}$" for k in range(n)])
    ax_j.set_yticks(range(n), names)
    ax_j.set_title(r"$\partial s_k/\partial a_{2,i} = s_k(\delta_{ki} - s_i)$; rows sum to 0")
    fig.colorbar(im, ax=ax_j, shrink=0.85)
    return fig


def draw_class_gradient(s: np.ndarray, t: np.ndarray, *, fig: Any = None) -> Any:
    r"""How :math:`\partial L/\partial a_2 = (s - t)/B` shares the gradient among the classes, one panel per example.

    Shapes: s (B, n), t (B, n). Panel b shows bars of :math:`s_{bk}` (light) and of
    :math:`B\,\partial L/\partial (a_2)_{bk} = s_{bk} - t_{bk}` (dark), the target class marked.
    Returns the figure; ``fig.axes[b].containers[1]`` holds the bars of ``s[b] - t[b]``.
    """
    import matplotlib.pyplot as plt

    s, t = np.asarray(s, dtype=np.float64), np.asarray(t, dtype=np.float64)
    if s.ndim != 2 or s.shape != t.shape:
        raise ValueError(f"draw_class_gradient: need s and t of one shape (B, n), got {s.shape} and {t.shape}")
    B, n = s.shape
    if fig is None:
        fig = plt.figure(figsize=(2.3 * B + 0.5, 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, B, sharey=True))
    k = np.arange(n)
    for b, ax in enumerate(axes):
        d = s[b] - t[b]
        ax.bar(k - 0.2, s[b], width=0.4, color="0.8", label="$s_{bk}$")
        ax.bar(k + 0.2, d, width=0.4, color=["crimson" if v < 0 else "C0" for v in d], label="$s_{bk} - t_{bk}$")
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_xticks(k, [f"{i + 1}" + ("*" if t[b, i] == t[b].max() and t[b].max() > 0 else "") for i in k])
        ax.set_xlabel("class k (* target)")
        total = float(d.sum())
        ax.set_title(f"example {b + 1}: sum over k = {0.0 if abs(total) < 1e-12 else total:.3f}", fontsize=9)
    axes[0].set_ylabel(r"$s$ and $B\,\partial L/\partial a_2$")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8)
    return fig

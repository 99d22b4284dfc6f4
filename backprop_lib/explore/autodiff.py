"""Chapter 6's widget: where a gradient formula is wrong, entry by entry, at any batch size.

- :func:`slip_figure` is the widget's update: it checks a formula ``my_grad(params, data)``
  for a model at a batch size with :func:`backprop_lib.gradcheck.check_derivation` and draws
  the heatmap, or the reason when the formula is refused before any number is compared (a
  gradient of the wrong shape, or arrays NumPy cannot broadcast);
- :func:`derivation_heatmap` draws a report: one panel per parameter, each cell one entry.

Both draw for the book's text column (at most 8.6 in wide, no text under 8 pt as shown).
matplotlib is imported inside the functions only.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from ..gradcheck import CS_TOL, DerivationReport, check_derivation

FLOOR = 1e-17  # a relative error of exactly 0 is drawn here on the log scale
CELL = 0.42  # inches per cell: 14 cells side by side and the colour bar fit in 8.6 in


def derivation_heatmap(report: DerivationReport, title: str = "") -> Any:
    """One panel per parameter: each entry's relative error against the complex step.

    Log colour scale from 1e-17 (exactly right) to 2 (a flipped sign); the tolerance is
    marked on the colour bar. A vector is drawn as a row, a scalar as one cell; wrong
    entries (by both tolerances of ``report``) are framed in black. Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    errs = [np.atleast_2d(np.maximum(r.cs_error, FLOOR)) for r in report.rows]
    widths = [max(e.shape[1], 1.6) for e in errs]
    height = CELL * max(e.shape[0] for e in errs) + 1.3
    fig, axes = plt.subplots(1, len(errs), figsize=(CELL * sum(widths) + 2.2, height),
                             layout="constrained", squeeze=False,
                             gridspec_kw={"width_ratios": widths})
    norm = LogNorm(vmin=FLOOR, vmax=2.0)
    for ax, row, err in zip(axes[0], report.rows, errs):
        ok = np.atleast_2d(report.entry_ok(row.name))
        image = ax.imshow(err, cmap="YlOrRd", norm=norm)
        for (i, j), e in np.ndenumerate(err):
            if not ok[i, j]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="black", lw=1.8))
            shown = "0" if e <= FLOOR else f"{e:.2g}" if e >= 0.01 else f"{e:.0e}"
            ax.text(j, i, shown, ha="center", va="center", fontsize=8,
                    color="white" if e > 1e-3 else "0.25")
        ax.set_xticks([])
        ax.set_yticks([])
        bad = int((~ok).sum())
        ax.set_title(f"{row.name}\n{bad} wrong" if bad else f"{row.name}\nright", fontsize=9)
    bar = fig.colorbar(image, ax=list(axes[0]), shrink=0.9, label="relative error")
    bar.ax.axhline(CS_TOL, color="black", lw=1.5)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def slip_figure(model: ModuleType, my_grad: Callable[..., Any], batch: int, seed: int = 6,
                title: str = "") -> Any:
    """The widget's update: check ``my_grad`` for ``model`` at ``batch`` and draw the result.

    ``model`` is a module of :mod:`backprop_lib.models` (its ``example`` and ``loss``);
    ``my_grad(params, data) -> dict`` as for ``check_derivation``. The instance is
    ``model.example(default_rng(seed), batch)``. Returns the heatmap, or a figure holding the
    ValueError's message when the formula is refused before any number is compared.
    """
    import matplotlib.pyplot as plt

    params, data = model.example(np.random.default_rng(seed), batch)
    try:
        report = check_derivation(model.loss, my_grad, params, data)
    except ValueError as err:
        fig, ax = plt.subplots(figsize=(8.2, 1.6), layout="constrained")
        text = textwrap.fill(f"refused before any number was compared: {err}", 96)
        ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9)
        ax.set_axis_off()
        if title:
            ax.set_title(title, fontsize=10)
        return fig
    return derivation_heatmap(report, title)

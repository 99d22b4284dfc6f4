"""Figures are drawn for the width they are shown at: no text below 8 pt on the page.

backprop_lib.plotting.check_readable measures every text of a figure as the book shows it
(scaled down if the figure is wider than the text column); book/matplotlibrc runs it on every
drawing of every chapter, so a figure that breaks the rule shows an error in the build, which
tests/test_page_fit.py then finds.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from backprop_lib import plotting  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def figure(width_in: float, fontsize: float, dpi: float = 100):
    fig, ax = plt.subplots(figsize=(width_in, 3), dpi=dpi)
    ax.set_title("a title", fontsize=fontsize)
    ax.tick_params(labelsize=fontsize)
    ax.set_xlabel("x label", fontsize=fontsize)
    return fig


def test_text_size_as_shown_follows_dpi_and_scaling():
    fig = figure(6, 10)
    sizes = dict(plotting.text_sizes_as_shown(fig))
    assert sizes["a title"] == pytest.approx(10 * 100 / 96)  # shown at natural size
    wide = figure(17.2, 10)  # wider than the column: scaled down to it, and its text with it
    shown_px = wide.get_tightbbox(wide.canvas.get_renderer()).width * wide.dpi  # cropped, as saved
    assert shown_px > plotting.COLUMN_PX
    wide_sizes = dict(plotting.text_sizes_as_shown(wide))
    assert wide_sizes["a title"] == pytest.approx(sizes["a title"] * plotting.COLUMN_PX / shown_px)
    plt.close("all")


def test_check_readable_passes_a_readable_figure_and_names_small_text():
    plotting.check_readable(figure(6, 9))
    with pytest.raises(ValueError, match=r"'x label' at 5\.\d pt"):
        plotting.check_readable(figure(6, 5.5))
    with pytest.raises(ValueError, match="smaller than 8 pt.*no wider than 8.6 in"):
        plotting.check_readable(figure(16, 10))  # fine at its own size, too small once scaled
    plt.close("all")


def test_the_hook_checks_every_drawing():
    with matplotlib.rc_context({"figure.hooks": ["backprop_lib.plotting:readable_hook"]}):
        good, bad = figure(6, 10), figure(6, 4)
        good.savefig(io.BytesIO(), format="png")
        with pytest.raises(ValueError, match="smaller than 8 pt"):
            bad.savefig(io.BytesIO(), format="png")
    plt.close("all")


def test_the_book_installs_the_hook():
    rc = matplotlib.rc_params_from_file(ROOT / "book" / "matplotlibrc", use_default_template=False)
    assert rc["figure.hooks"] == ["backprop_lib.plotting:readable_hook"]
    assert rc["figure.dpi"] == 100

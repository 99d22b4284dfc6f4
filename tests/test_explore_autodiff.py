"""Chapter 6's widget: the heatmap of a derivation checked entry by entry, and its update."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from backprop_lib.explore import autodiff as ex  # noqa: E402
from backprop_lib.gradcheck import check_derivation  # noqa: E402
from backprop_lib.models import ALL, frobenius, softmax_ce  # noqa: E402
from backprop_lib.plotting import check_readable  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def two_columns_wrong(p, d):
    """softmax_ce's gradient with columns 2 and 3 of W1 scaled: 10 wrong entries of W1."""
    g = softmax_ce.grads(p, d)
    g["W1"][:, 2:] *= 1.5
    return g


def framed(fig) -> int:
    return sum(isinstance(p, Rectangle) and p.get_edgecolor()[:3] == (0, 0, 0)
               for ax in fig.axes for p in ax.patches)


def test_heatmap_frames_exactly_the_wrong_entries():
    params, data = softmax_ce.example(np.random.default_rng(1), 4)
    report = check_derivation(softmax_ce.loss, two_columns_wrong, params, data)
    fig = ex.derivation_heatmap(report, "t")
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title().split()[0] for ax in panels] == ["W1", "b1", "W2", "b2"]
    assert framed(fig) == len(report.wrong_entries("W1")) == 10
    assert panels[0].images[0].get_array().shape == (5, 4) and panels[1].images[0].get_array().shape == (1, 4)
    assert "10 wrong" in panels[0].get_title() and "right" in panels[2].get_title()
    wrong_cells = {(round(t.get_position()[1]), round(t.get_position()[0])) for t in panels[0].texts
                   if t.get_text() != "0" and float(t.get_text()) > 0.01}
    assert wrong_cells == {(i, j) for i in range(5) for j in (2, 3)}  # the error is written in its cell


def test_a_right_formula_draws_no_frame():
    params, data = frobenius.example(np.random.default_rng(0), 3)
    fig = ex.derivation_heatmap(check_derivation(frobenius.loss, frobenius.grads, params, data))
    assert framed(fig) == 0
    assert all("right" in ax.get_title() for ax in fig.axes if ax.images)


def test_slip_figure_draws_the_heatmap_at_the_batch_size_asked():
    fig = ex.slip_figure(softmax_ce, two_columns_wrong, batch=3, title="slip")
    assert len([ax for ax in fig.axes if ax.images]) == 4 and framed(fig) == 10
    assert fig._suptitle.get_text() == "slip"


def test_slip_figure_shows_a_refusal_as_a_message():
    def per_example_bias(p, d):  # one row per example: refused for its shape
        return {**frobenius.grads(p, d), "b2": 2 * (frobenius.forward(p, d)["Y_pred"] - d["Y"])}

    def cannot_broadcast(p, d):
        return {"W1": np.ones((3, 5)) * np.ones((4, 5))}

    for my_grad, said in [(per_example_bias, "(4, 2)"), (cannot_broadcast, "broadcast")]:
        fig = ex.slip_figure(frobenius, my_grad, batch=4)
        text = " ".join(" ".join(t.get_text().split()) for ax in fig.axes for t in ax.texts)
        assert "refused" in text and said in text
        assert not any(ax.images for ax in fig.axes)


@pytest.mark.parametrize("name", list(ALL))
def test_figures_fit_the_column_and_are_readable(name):
    model = ALL[name]
    fig = ex.slip_figure(model, model.grads, batch=6)
    fig.canvas.draw()
    assert fig.get_size_inches()[0] <= 8.6
    check_readable(fig)  # raises if any text would show under 8 pt in the book

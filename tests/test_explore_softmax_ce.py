"""Tests of backprop_lib.explore.softmax_ce (chapter 2's widget): each compares with an independent route."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from backprop_lib.explore import softmax_ce as ex  # noqa: E402
from backprop_lib.gradcheck import complex_step_gradient  # noqa: E402
from backprop_lib.plotting import check_readable  # noqa: E402

LOGITS = np.array([2.0, 1.0, -1.0])


def e_over_sum(a: np.ndarray) -> np.ndarray:
    """The softmax written out (no max shift), complex-step safe for small logits."""
    return np.exp(a) / np.exp(a).sum()


def cross_entropy_of_one(a: np.ndarray, target: int) -> np.ndarray:
    """-ln s_target written out (no max shift), complex-step safe for small logits."""
    return -(a[target] - np.log(np.exp(a).sum()))


def test_softmax_panel_against_the_exponentials_and_the_complex_step() -> None:
    panel = ex.softmax_panel(LOGITS, 1)
    e = np.exp(LOGITS)
    np.testing.assert_allclose(panel["s"], e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(panel["s"], [0.7054, 0.2595, 0.0351], atol=5e-5)  # exercise 1 of the chapter
    np.testing.assert_array_equal(panel["t"], [0.0, 1.0, 0.0])
    np.testing.assert_allclose(panel["J"], complex_step_gradient(e_over_sum, LOGITS), rtol=1e-13)
    np.testing.assert_allclose(panel["grad"], complex_step_gradient(lambda a: cross_entropy_of_one(a, 1), LOGITS),
                               rtol=1e-13)


@given(shift=st.floats(-1e3, 1e3), target=st.integers(0, 2))
@settings(max_examples=30, deadline=None)
def test_a_shift_of_every_logit_changes_nothing(shift: float, target: int) -> None:
    base, moved = ex.softmax_panel(LOGITS, target), ex.softmax_panel(LOGITS + shift, target)
    for key in ("s", "J", "grad"):
        np.testing.assert_allclose(moved[key], base[key], rtol=1e-9, atol=1e-15)


def test_a_saturated_wrong_prediction_keeps_its_gradient() -> None:
    # the Jacobian vanishes, s - t does not: the widget's lesson
    panel = ex.softmax_panel(np.array([1000.0, 0.0, -1000.0]), 2)
    assert np.isfinite(panel["J"]).all() and np.abs(panel["J"]).max() == 0.0
    np.testing.assert_array_equal(panel["grad"], [1.0, 0.0, -1.0])


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="softmax_panel"):
        ex.softmax_panel(np.ones((1, 3)), 0)
    with pytest.raises(ValueError, match="target"):
        ex.softmax_panel(LOGITS, 3)
    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match="class_bars"):
            ex.class_bars(ax, np.ones(3), np.ones(2))
    finally:
        plt.close(fig)


def test_class_bars_are_s_minus_t_and_mark_the_target() -> None:
    s, t = np.array([0.2, 0.5, 0.3]), np.array([0.0, 0.0, 1.0])
    fig, ax = plt.subplots()
    try:
        bars = ex.class_bars(ax, s, t)
        np.testing.assert_allclose([b.get_height() for b in bars], [0.2, 0.5, -0.7], rtol=1e-15)
        assert [label.get_text() for label in ax.get_xticklabels()] == ["1", "2", "3*"]
    finally:
        plt.close(fig)


def test_draw_softmax_panel_draws_the_panel_readably() -> None:
    fig = ex.draw_softmax_panel(LOGITS, 1)
    try:
        panel = ex.softmax_panel(LOGITS, 1)
        np.testing.assert_allclose(fig.axes[1].images[0].get_array(), panel["J"], rtol=1e-15)
        heights = [bar.get_height() for bar in fig.axes[0].containers[1]]
        np.testing.assert_allclose(heights, panel["grad"], rtol=1e-15)
        check_readable(fig)  # no text below 8 pt in the book's column
    finally:
        plt.close(fig)

"""Tests of backprop_lib.explore.jacobian_form (chapter 5): each compares with an independent route."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop_lib.activations import softmax  # noqa: E402
from backprop_lib.explore import jacobian_form as ex  # noqa: E402
from backprop_lib.gradcheck import complex_step_gradient, numerical_gradient  # noqa: E402
from backprop_lib.losses import sum_of_squares  # noqa: E402
from backprop_lib.models import jacobian_form  # noqa: E402
from backprop_lib.plotting import check_readable  # noqa: E402

T = np.array([0.5, -1.0, 2.0])
Y = np.array([0.2, 0.3, 0.5])


def test_softmax_view_jacobian_matches_numerical_jacobian_entry_by_entry() -> None:
    view = ex.softmax_view(T, Y)
    np.testing.assert_allclose(view["g"], softmax(T), rtol=1e-15)
    np.testing.assert_allclose(view["jacobian"], complex_step_gradient(softmax, T), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(view["jacobian"], numerical_gradient(softmax, T), rtol=1e-8, atol=1e-11)


def test_softmax_view_gradient_is_the_derivative_of_the_loss() -> None:
    view = ex.softmax_view(T, Y)
    numeric = complex_step_gradient(lambda t: sum_of_squares(softmax(t), Y), T)
    np.testing.assert_allclose(view["dJ_db1"], numeric, rtol=1e-13, atol=1e-16)
    assert view["loss"] == pytest.approx(float(((softmax(T) - Y) ** 2).sum()), rel=1e-15)


def test_softmax_view_gradient_is_the_models_b1_gradient() -> None:
    # with w1 = 0 the logits are t = b1 whatever x is, so the model's dJ/db1 is the widget's
    params = {"b0": np.array([0.3, -0.2, 0.1, 0.0]), "w1": np.zeros((4, 3)), "b1": T}
    data = {"x": np.array([[0.4, -1.0, 0.2, 0.7]]), "y": Y[None, :]}
    np.testing.assert_allclose(ex.softmax_view(T, Y)["dJ_db1"], jacobian_form.grads(params, data)["b1"], rtol=1e-13)


def test_softmax_view_gradient_sums_to_zero() -> None:
    # the rows of diag(g) - g^T g sum to 0, so adding a constant to every logit changes nothing
    assert abs(ex.softmax_view(T, Y)["dJ_db1"].sum()) < 1e-15


def test_softmax_view_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="same length"):
        ex.softmax_view(T, Y[:2])
    with pytest.raises(ValueError, match="1-D"):
        ex.softmax_view(T[None, :], Y[None, :])


def test_draw_softmax_view_shows_the_jacobian_and_the_gradient() -> None:
    fig = ex.draw_softmax_view(T, Y)
    try:
        view = ex.softmax_view(T, Y)
        np.testing.assert_array_equal(np.asarray(fig.axes[0].images[0].get_array()), view["jacobian"])
        bars = fig.axes[1].containers
        assert len(bars) == 3
        np.testing.assert_allclose([b.get_height() for b in bars[2]], view["dJ_db1"], rtol=1e-15)
        np.testing.assert_allclose([b.get_height() for b in bars[0]], view["g"], rtol=1e-15)
        fig.canvas.draw()
        check_readable(fig)  # drawn for the column: no text below 8 pt as the book shows it
    finally:
        plt.close(fig)

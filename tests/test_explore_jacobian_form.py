"""Tests of backprop_lib.explore.jacobian_form (chapter 5): each compares with an independent route."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from backprop_lib.activations import softmax  # noqa: E402
from backprop_lib.explore import jacobian_form as ex  # noqa: E402
from backprop_lib.gradcheck import complex_step_gradient, numerical_gradient  # noqa: E402
from backprop_lib.losses import sum_of_squares  # noqa: E402
from backprop_lib.models import jacobian_form  # noqa: E402

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
    # the rows of diag(g) - g g^T sum to 0, so adding a constant to every logit changes nothing
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
    finally:
        plt.close(fig)


def test_one_based_ticks_relabels_heatmaps_only() -> None:
    fig, (a, b) = plt.subplots(1, 2)
    try:
        a.imshow(np.zeros((3, 4)))
        b.plot([0, 1], [0, 1])
        before = [t.get_text() for t in b.get_xticklabels()]
        ex.one_based_ticks(fig)
        assert [t.get_text() for t in a.get_xticklabels()] == ["1", "2", "3", "4"]
        assert [t.get_text() for t in a.get_yticklabels()] == ["1", "2", "3"]
        assert list(a.get_xticks()) == [0, 1, 2, 3]
        assert [t.get_text() for t in b.get_xticklabels()] == before
    finally:
        plt.close(fig)


def _case(rng: np.random.Generator, batch: int, n: int) -> tuple[np.ndarray, ...]:
    t, h = rng.normal(size=(batch, n)), rng.normal(size=(batch, n))
    return t, h, rng.normal(size=(batch, n)), rng.normal(size=(batch, n))


def test_both_routes_equal_the_numerical_vector_jacobian_products() -> None:
    t, h, r, u = _case(np.random.default_rng(5), 3, 4)
    for route in (ex.jacobian_route, ex.vjp_route):
        dt, dh = route(softmax(t), r, np.tanh(h), u)
        # d/dt of sum(r * softmax(t)) is r times the softmax Jacobian, row by row
        np.testing.assert_allclose(dt, complex_step_gradient(lambda tt: (r * softmax(tt)).sum(), t), rtol=1e-12,
                                   atol=1e-15)
        np.testing.assert_allclose(dh, complex_step_gradient(lambda hh: (u * np.tanh(hh)).sum(), h), rtol=1e-12,
                                   atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 4), n=st.integers(1, 9), seed=st.integers(0, 2**32 - 1))
def test_routes_agree_for_any_shape(batch: int, n: int, seed: int) -> None:
    t, h, r, u = _case(np.random.default_rng(seed), batch, n)
    args = (softmax(t), r, np.tanh(h), u)
    for a, b in zip(ex.jacobian_route(*args), ex.vjp_route(*args)):
        assert a.shape == (batch, n)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_time_routes_returns_positive_medians_at_the_requested_widths() -> None:
    res = ex.time_routes({"Jacobians": [4, 8], "VJPs": [4, 8, 16]}, batch=2, repeats=3, target=1e-4)
    assert list(res) == ["Jacobians", "VJPs"]
    np.testing.assert_array_equal(res["VJPs"]["n"], [4, 8, 16])
    for r in res.values():
        assert r["seconds"].shape == r["n"].shape
        assert np.all(np.isfinite(r["seconds"])) and np.all(r["seconds"] > 0)


def test_time_routes_refuses_a_route_that_computes_something_else() -> None:
    def transposed_tanh(s, r, f, u):  # noqa: ANN001, ANN202 - a broken route
        dt, dh = ex.jacobian_route(s, r, f, u)
        return dt, dh[:, ::-1]

    with pytest.raises(ValueError, match="disagrees"):
        ex.time_routes({"broken": [3]}, routes={"broken": transposed_tanh}, repeats=1, target=1e-5)
    with pytest.raises(ValueError, match="no route"):
        ex.time_routes({"nonsense": [3]})


def test_loglog_slope_recovers_the_power() -> None:
    n = np.array([8, 16, 32, 64])
    assert ex.loglog_slope(n, 3e-6 * n**2) == pytest.approx(2.0, abs=1e-12)
    assert ex.loglog_slope(n, 5e-7 * n) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError):
        ex.loglog_slope([1.0], [1.0])


def test_draw_timing_draws_each_route_and_its_guide() -> None:
    res = {"Jacobians": {"n": np.array([4, 8]), "seconds": np.array([1e-5, 4e-5])},
           "VJPs": {"n": np.array([4, 8, 16]), "seconds": np.array([1e-6, 2e-6, 4e-6])}}
    fig = ex.draw_timing(res)
    try:
        lines = fig.axes[0].get_lines()
        assert len(lines) == 4
        np.testing.assert_allclose(lines[0].get_ydata(), res["Jacobians"]["seconds"])
        np.testing.assert_allclose(lines[2].get_ydata(), 4e-5 * (np.array([4, 8]) / 8) ** 2)  # the n^2 guide
    finally:
        plt.close(fig)

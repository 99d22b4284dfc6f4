"""Tests of backprop_lib.explore.softmax_ce (chapter 2): each compares with an independent route."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from backprop_lib.activations import sigmoid, softmax, softmax_jacobian  # noqa: E402
from backprop_lib.explore import softmax_ce as ex  # noqa: E402
from backprop_lib.gradcheck import complex_step_gradient, numerical_gradient  # noqa: E402
from backprop_lib.models import softmax_ce  # noqa: E402

LOGITS = np.array([2.0, 1.0, -1.0])


def test_diagonal_stack_puts_each_row_on_a_diagonal() -> None:
    d = np.arange(1.0, 9.0).reshape(2, 4)
    out = ex.diagonal_stack(d)
    assert out.shape == (2, 4, 4)
    for b in range(2):
        np.testing.assert_array_equal(out[b], np.diag(d[b]))


def test_diagonal_stack_of_sigmoid_prime_is_the_sigmoid_jacobian_per_example() -> None:
    a1 = np.random.default_rng(0).normal(size=(3, 4))
    z = sigmoid(a1)
    numeric = complex_step_gradient(sigmoid, a1)  # (3, 4, 3, 4)
    stack = ex.diagonal_stack(z * (1.0 - z))
    for b in range(3):
        np.testing.assert_allclose(numeric[b, :, b, :], stack[b], rtol=1e-13, atol=1e-16)


def test_rows_times_jacobians_is_one_product_per_example() -> None:
    rng = np.random.default_rng(1)
    g, J = rng.normal(size=(5, 3)), rng.normal(size=(5, 3, 2))
    expected = np.array([g[b] @ J[b] for b in range(5)])
    np.testing.assert_allclose(ex.rows_times_jacobians(g, J), expected, rtol=1e-14)


def test_rows_times_jacobians_is_not_the_transposed_product() -> None:
    # J[b] is not symmetric here: multiplying by J[b].T instead would give other numbers
    rng = np.random.default_rng(2)
    g, J = rng.normal(size=(2, 3)), rng.normal(size=(2, 3, 3))
    assert not np.allclose(ex.rows_times_jacobians(g, J), np.einsum("bi,bji->bj", g, J))


def test_block_diagonal_matches_the_numerical_jacobian_of_a_batched_softmax() -> None:
    a = np.random.default_rng(3).normal(size=(4, 3))
    full = ex.block_diagonal(softmax_jacobian(softmax(a)))
    assert full.shape == (4, 3, 4, 3)
    np.testing.assert_allclose(full, complex_step_gradient(softmax, a), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(full, numerical_gradient(softmax, a), rtol=1e-7, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 5), n=st.integers(1, 4), m=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_block_diagonal_blocks_and_zeros(B: int, n: int, m: int, seed: int) -> None:
    J = np.random.default_rng(seed).normal(size=(B, n, m))
    full = ex.block_diagonal(J)
    assert full.shape == (B, n, B, m)
    for b in range(B):
        for c in range(B):
            np.testing.assert_array_equal(full[b, :, c, :], J[b] if b == c else np.zeros((n, m)))


def test_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="2-D"):
        ex.diagonal_stack(np.ones(3))
    with pytest.raises(ValueError, match="rows_times_jacobians"):
        ex.rows_times_jacobians(np.ones((2, 3)), np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match="stack"):
        ex.block_diagonal(np.ones((3, 3)))
    with pytest.raises(ValueError, match="1-D"):
        ex.softmax_panel(np.ones((1, 3)))


def test_softmax_panel_probabilities_and_jacobian() -> None:
    panel = ex.softmax_panel(LOGITS)
    e = np.exp(LOGITS)
    np.testing.assert_allclose(panel["s"], e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(panel["J"], complex_step_gradient(softmax, LOGITS), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(panel["J"].sum(axis=1), 0.0, atol=1e-16)  # a shift of every logit changes nothing


@given(shift=st.floats(-1e3, 1e3))
@settings(max_examples=30, deadline=None)
def test_softmax_panel_is_unchanged_by_a_shift_and_finite_for_large_logits(shift: float) -> None:
    base, moved = ex.softmax_panel(LOGITS), ex.softmax_panel(LOGITS + shift)
    np.testing.assert_allclose(moved["s"], base["s"], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(moved["J"], base["J"], rtol=1e-9, atol=1e-15)


def test_softmax_panel_with_logits_of_size_1000() -> None:
    panel = ex.softmax_panel(np.array([1000.0, 0.0, -1000.0]))
    assert np.isfinite(panel["s"]).all() and np.isfinite(panel["J"]).all()
    np.testing.assert_array_equal(panel["s"], [1.0, 0.0, 0.0])


def test_draw_softmax_panel_draws_the_panel() -> None:
    fig = ex.draw_softmax_panel(LOGITS)
    try:
        panel = ex.softmax_panel(LOGITS)
        heights = [bar.get_height() for bar in fig.axes[0].patches]
        np.testing.assert_allclose(heights, panel["s"], rtol=1e-15)
        np.testing.assert_allclose(fig.axes[1].images[0].get_array(), panel["J"], rtol=1e-15)
    finally:
        plt.close(fig)


def test_draw_class_gradient_bars_are_s_minus_t() -> None:
    rng = np.random.default_rng(4)
    params, data = softmax_ce.example(rng, batch=3)
    s, t = softmax_ce.forward(params, data)["s"], data["t"]
    fig = ex.draw_class_gradient(s, t)
    try:
        assert len(fig.axes) == 3
        for b, ax in enumerate(fig.axes):
            drawn = [bar.get_height() for bar in ax.containers[1]]
            np.testing.assert_allclose(drawn, s[b] - t[b], rtol=1e-15)
            # and those bars are B times the model's gradient with respect to the logits
            np.testing.assert_allclose(drawn, 3 * softmax_ce.backward(params, data)["a2"][b], rtol=1e-13)
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="one shape"):
        ex.draw_class_gradient(s, t[:, :2])

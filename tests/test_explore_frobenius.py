"""Tests of backprop_lib.explore.frobenius: the widget that checks gradient formulas batch by batch."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from backprop_lib.activations import sigmoid_prime  # noqa: E402
from backprop_lib.explore import frobenius as ex  # noqa: E402
from backprop_lib.models import frobenius  # noqa: E402


def residual(p, d, fw):
    """G = 2 (Y_pred - Y), (N, o)."""
    return 2 * (fw["Y_pred"] - d["Y"])


def delta(p, d, fw):
    """[G W2^T] ⊙ σ'(h), (N, n_h)."""
    return (residual(p, d, fw) @ p["W2"].T) * sigmoid_prime(fw["h"])


RIGHT = {  # the corrected formulas of chapter 4
    "b2": ("b2", lambda p, d, fw: np.ones(len(d["X"])) @ residual(p, d, fw)),
    "b1": ("b1", lambda p, d, fw: np.ones(len(d["X"])) @ delta(p, d, fw)),
    "W1": ("W1", lambda p, d, fw: d["X"].T @ delta(p, d, fw)),
    "W2": ("W2", lambda p, d, fw: fw["h_sigmoid"].T @ residual(p, d, fw)),
}
SEED = {  # the seed's formulas as written
    "b2": ("b2", residual),
    "b1": ("b1", delta),
    "W1 (a)": ("W1", lambda p, d, fw: (d["X"].T @ residual(p, d, fw) @ p["W2"].T) * sigmoid_prime(fw["h"])),
    "W1 (b)": ("W1", lambda p, d, fw: d["X"].T @ residual(p, d, fw) @ (p["W2"].T * sigmoid_prime(fw["h"]))),
}


def verdicts(formulas, batch):
    return {c.name: c.verdict for c in ex.seed_check(formulas, batch)}


@settings(max_examples=8, deadline=None)
@given(st.integers(1, 9))
def test_the_corrected_formulas_are_right_at_every_batch_size(batch):
    checks = ex.seed_check(RIGHT, batch)
    assert [c.verdict for c in checks] == ["right"] * 4
    assert max(c.error for c in checks) < 1e-7
    for c in checks:
        assert c.numeric.shape == c.value.shape == frobenius.example(np.random.default_rng(0))[0][c.param].shape


def test_the_seed_is_right_for_one_example_only():
    assert verdicts(SEED, 1) == dict.fromkeys(SEED, "right")
    assert verdicts(SEED, 2) == {"b2": "wrong shape", "b1": "wrong shape", "W1 (a)": "not defined",
                                 "W1 (b)": "wrong values"}           # N = o: reading (b) fits
    assert verdicts(SEED, 3) == {"b2": "wrong shape", "b1": "wrong shape", "W1 (a)": "wrong values",
                                 "W1 (b)": "not defined"}           # N = d: reading (a) fits
    assert verdicts(SEED, 6) == {"b2": "wrong shape", "b1": "wrong shape", "W1 (a)": "not defined",
                                 "W1 (b)": "not defined"}


def test_a_bias_with_a_row_per_example_is_compared_row_by_row_and_its_rows_add_up():
    b2, b1 = ex.seed_check({k: SEED[k] for k in ("b2", "b1")}, 4)
    for c, width in ((b2, 2), (b1, 5)):
        assert c.value.shape == (4, width) and c.numeric.shape == (width,)
        assert c.error > 0.1                                          # no single row is the gradient
        assert np.allclose(c.value.sum(axis=0), c.numeric, rtol=1e-6)  # their sum is


def test_wrong_values_and_refused_formulas_are_reported():
    off = {"W2": ("W2", lambda p, d, fw: RIGHT["W2"][1](p, d, fw) * np.array([[1.0, 1.001]]))}
    (c,) = ex.seed_check(off, 6)
    assert c.verdict == "wrong values" and 5e-4 < c.error < 2e-3     # one column 0.1 % off is caught
    (w,) = ex.seed_check({"W1 (a)": SEED["W1 (a)"]}, 6)
    assert w.value is None and np.isnan(w.error) and "(3,5)" in w.message and "(6,5)" in w.message
    with pytest.raises(ValueError, match="batch"):
        ex.seed_check(SEED, 0)


def test_the_instance_is_fixed():
    a, b = ex.seed_check(SEED, 3), ex.seed_check(SEED, 3)
    assert all(np.array_equal(x.numeric, y.numeric) for x, y in zip(a, b))
    assert not np.array_equal(a[0].numeric, ex.seed_check(SEED, 3, seed=4)[0].numeric)


def test_draw_seed_check_plots_formula_against_numerical_entries():
    checks = ex.seed_check(SEED, 3)
    fig = ex.draw_seed_check(checks)
    axes = fig.axes
    assert len(axes) == 4
    assert [ax.get_title() for ax in axes] == [f"{c.name}: {c.verdict}" for c in checks]
    rows, sums = axes[0].collections                                  # b2: 3 rows of 2, then the row sums
    assert rows.get_offsets().shape == (6, 2) and np.allclose(rows.get_offsets()[:, 1], checks[0].value.ravel())
    assert np.allclose(sums.get_offsets(), np.column_stack([checks[0].numeric, checks[0].value.sum(axis=0)]))
    (pts,) = axes[2].collections                                      # W1 (a) at N = 3: 15 entries
    assert np.allclose(pts.get_offsets(), np.column_stack([checks[2].numeric.ravel(), checks[2].value.ravel()]))
    assert not axes[3].collections and "broadcast" in " ".join(t.get_text() for t in axes[3].texts)
    plt.close(fig)

"""Tests of backprop_lib.explore.frobenius: the widget's training curves, shapes, brackets."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from backprop_lib.explore import frobenius as ex  # noqa: E402
from backprop_lib.gradcheck import numerical_gradient  # noqa: E402
from backprop_lib.models import frobenius  # noqa: E402

# ----------------------------------------------------------------------------- training


def test_regression_data_is_fixed_and_follows_its_formula():
    a, b = ex.regression_data(), ex.regression_data()
    assert a["X"].shape == (32, 3) and a["Y"].shape == (32, 2)
    assert np.array_equal(a["X"], b["X"]) and np.array_equal(a["Y"], b["Y"])
    X = a["X"]
    assert np.all(np.abs(X) <= 2.0)
    assert np.allclose(a["Y"][:, 0], np.sin(X[:, 0]) + 0.5 * X[:, 1])
    assert np.allclose(a["Y"][:, 1], np.tanh(X[:, 2]) - 0.3 * X[:, 0] * X[:, 1])
    assert ex.regression_data(n=7)["X"].shape == (7, 3)


def test_initial_params_have_the_width_and_reject_zero():
    p = ex.initial_params(7)
    assert {k: v.shape for k, v in p.items()} == {"W1": (3, 7), "b1": (7,), "W2": (7, 2), "b2": (2,)}
    assert np.array_equal(p["W1"], ex.initial_params(7)["W1"])   # deterministic
    with pytest.raises(ValueError, match="width"):
        ex.initial_params(0)


def test_training_curve_starts_at_the_initial_loss_and_has_steps_plus_one_entries():
    losses = ex.training_curve(5, 0.01, steps=30)
    assert losses.shape == (31,)
    assert losses[0] == pytest.approx(frobenius.loss(ex.initial_params(5), ex.regression_data()))


def test_training_curve_first_step_is_a_step_along_the_numerical_gradient():
    """The curve must use the true gradient: compare step 1 with a step built from central differences."""
    lr, p, data = 0.01, ex.initial_params(4), ex.regression_data()
    stepped = {}
    for name, value in p.items():
        num = numerical_gradient(lambda v, name=name: frobenius.loss({**p, name: v}, data), value)
        stepped[name] = value - lr * num
    assert ex.training_curve(4, lr, steps=1)[1] == pytest.approx(frobenius.loss(stepped, data), rel=1e-7)


def test_small_learning_rate_goes_down_every_step_and_width_matters():
    c5 = ex.training_curve(5, 0.003, steps=100)
    assert np.all(np.diff(c5) < 0)
    assert c5[-1] < 0.2 * c5[0]
    c1 = ex.training_curve(1, 0.003, steps=100)
    assert c1[-1] > 2 * c5[-1]          # one hidden unit fits worse than five


def test_too_large_a_learning_rate_diverges_without_a_warning():
    # pytest turns RuntimeWarning into an error (pyproject.toml), so an overflow warning fails here
    c = ex.training_curve(20, 0.05, steps=200)
    assert c.shape == (201,)
    assert not np.all(np.isfinite(c) & (c < 1e6))


def test_plot_training_curves_draws_one_line_per_setting_and_marks_divergence():
    fig = ex.plot_training_curves([(5, 0.01), (10, 0.03)], steps=40)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("width 5, lr 0.01") and "diverged" not in labels[0]
    assert "diverged" in labels[1]
    assert np.allclose(lines[0].get_ydata(), ex.training_curve(5, 0.01, steps=40))
    assert ax.get_yscale() == "log"
    plt.close(fig)


# ----------------------------------------------------------------------------- shapes

N, D, H, O = 6, 3, 5, 2
G = ("G", (N, O))
W2T = ("W_2^T", (O, H))
SP = (r"\sigma'(h)", (N, H))
XT = ("X^T", (D, N))
DW1 = ("@", XT, ("*", ("@", G, W2T), SP))


def test_shape_of_the_correct_gradients():
    assert ex.shape_of(G) == (N, O)
    assert ex.shape_of(("@", ("h^T", (H, N)), G)) == (H, O)
    assert ex.shape_of(DW1) == (D, H)
    assert ex.shape_of(("@", ("1^T", (1, N)), ("*", ("@", G, W2T), SP))) == (1, H)


def test_shape_of_rejects_the_seeds_bracketless_readings():
    reading_a = ("*", ("@", ("@", XT, G), W2T), SP)       # [X^T G W2^T] ⊙ σ'
    reading_b = ("@", ("@", XT, G), ("*", W2T, SP))       # X^T G [W2^T ⊙ σ']
    with pytest.raises(ValueError, match="element-wise"):
        ex.shape_of(reading_a)
    with pytest.raises(ValueError, match="element-wise"):
        ex.shape_of(reading_b)
    with pytest.raises(ValueError, match="matrix product"):
        ex.shape_of(("@", ("@", G, W2T), SP))             # (6,5)(6,5)
    with pytest.raises(ValueError, match="unknown operator"):
        ex.shape_of(("+", G, G))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(1, 5))
def test_shape_of_agrees_with_numpy(n, d, h, o):
    """shape_of raises exactly when NumPy's strict (non-broadcasting) evaluation would, else gives its shape."""
    rng = np.random.default_rng(0)
    arrays = {"X^T": rng.normal(size=(d, n)), "G": rng.normal(size=(n, o)), "W_2^T": rng.normal(size=(o, h)),
              "S": rng.normal(size=(n, h))}

    def leaf(name):
        return (name, arrays[name].shape)

    def evaluate(e):
        if len(e) == 2:
            return arrays[e[0]]
        op, left, right = e
        a, b = evaluate(left), evaluate(right)
        if op == "*" and a.shape != b.shape:
            raise ValueError("shapes differ")     # no broadcasting: a (1, h) row is not an (n, h) matrix
        return a @ b if op == "@" else a * b

    for expr in [("@", leaf("X^T"), ("*", ("@", leaf("G"), leaf("W_2^T")), leaf("S"))),
                 ("*", ("@", ("@", leaf("X^T"), leaf("G")), leaf("W_2^T")), leaf("S")),
                 ("@", ("@", leaf("X^T"), leaf("G")), ("*", leaf("W_2^T"), leaf("S")))]:
        try:
            expected = evaluate(expr).shape
        except ValueError:
            with pytest.raises(ValueError):
                ex.shape_of(expr)
        else:
            assert ex.shape_of(expr) == expected


def test_tex_of_brackets_the_elementwise_product_inside_a_matrix_product():
    assert ex.tex_of(DW1) == r"X^T \left[\left(G W_2^T\right) \odot \sigma'(h)\right]"
    assert ex.tex_of(("@", ("@", XT, G), W2T)) == "X^T G W_2^T"          # products associate: no brackets
    assert ex.tex_of(("*", ("@", G, W2T), SP)) == r"\left(G W_2^T\right) \odot \sigma'(h)"


def test_draw_shapes_draws_a_rectangle_per_factor_and_result():
    rows = [("$W_2$", ("@", ("h^T", (H, N)), G)), ("$W_1$", DW1)]
    fig = ex.draw_shapes(rows, unit=0.1)
    patches = fig.axes[0].patches
    assert len(patches) == (2 + 1) + (4 + 1)
    result = patches[2]                                     # the first row's result: 5 x 2 entries
    assert result.get_width() == pytest.approx(O * 0.1) and result.get_height() == pytest.approx(H * 0.1)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "3×5" in texts and texts.count("(") == 2 and "⊙" in texts
    plt.close(fig)
    with pytest.raises(ValueError):
        ex.draw_shapes([("bad", ("*", XT, SP))])


# ----------------------------------------------------------------------------- brackets


def test_bracket_problems_balanced_lines():
    assert ex.bracket_problems(r"df = d\{tr[(Y - Y_{pred})^T(Y - Y_{pred})]\}") == []
    assert ex.bracket_problems(r"\frac{\partial f}{\partial W_2} = 2h_{\text{sigmoid}}^T[(Y_{pred} - Y)]") == []
    assert ex.bracket_problems(r"\left( a \right)") == []


def test_bracket_problems_finds_the_seeds_stray_brace():
    line = r"&= tr[(dY)^T(Y - Y_{pred}) + (Y - Y_{pred})^T dY]\}"
    assert ex.bracket_problems(line) == [r"'\}' closes nothing (bracket 9)"]


def test_bracket_problems_wrong_kind_and_unclosed():
    assert ex.bracket_problems("tr[(a]") == ["']' closes '(' (bracket 3)", "'[' is never closed (bracket 1)"]
    assert ex.bracket_problems("(a") == ["'(' is never closed (bracket 1)"]
    assert ex.bracket_problems("{a}") == []               # TeX grouping braces are not brackets

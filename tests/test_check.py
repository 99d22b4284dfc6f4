r"""The derivation checker, backprop_lib.check: right formulas in several notations for every parameter
of every model, wrong ones for every slip class, input that must not run anything, and the verdict's
forms. The right formulas are derived from the models' backward docstrings, and the checker compares
them with the complex-step gradient of the loss (never with the library's ``grads``)."""

from __future__ import annotations

import json
import re
import statistics
import time

import numpy as np
import pytest

from backprop_lib.check import SLIPS, Verdict, _pattern, check_formula, symbols
from backprop_lib.models import MODELS

WINDOWS = "np.lib.stride_tricks.sliding_window_view"
# softmax_ce: dL/da2 = (s - t)/B; conv_mse: dL/dy_hat = 2 (y_hat - y)/B; three_layer: delta3 =
# 2 (y_hat - y) y_hat (1 - y_hat); frobenius: G = 2 (Y_pred - Y); jacobian_form: dJ/dt = g (v - v.g), v = 2 (y_pre - y)
D3 = "(2 * (y_hat - y) * y_hat * (1 - y_hat))[:, None]"
D3_TEX = r"[2(\hat y - y) \odot \hat y \odot (1 - \hat y)]"
DT = "(y_pre * (2 * (y_pre - y) - (2 * (y_pre - y) * y_pre).sum(axis=1, keepdims=True)))"
JAC_TEX = r"2(y_{pre,b} - y_b)(\operatorname{diag}(y_{pre,b}) - y_{pre,b}^T y_{pre,b})"

RIGHT: dict[str, dict[str, list[str]]] = {
    "conv_mse": {
        "w": [f"np.einsum('bijuv,bij->uv', {WINDOWS}(a, w.shape, axis=(1, 2)), "
              f"2 / B * (y_hat - y)[:, None, None] * v * o * (1 - o))",
              r"\frac{2}{B}\sum_b (\hat y_b - y_b)\, a_b \star (v \odot o_b \odot (1 - o_b))",
              r"\frac{2}{B}\sum_{b=1}^{B} (\hat{y}_{b} - y_{b})\, a_b \star (v \odot \sigma'(z_b))"],
        "b": ["2 / B * np.einsum('b,ij,bij->', y_hat - y, v, o * (1 - o))",
              r"\frac{2}{B}\sum_b (\hat y_b - y_b)\, \mathbf 1^T (v \odot o_b \odot (1 - o_b)) \mathbf 1"],
        "v": ["np.einsum('b,bij->ij', 2 * (y_hat - y) / B, o)", "2 * np.mean((y_hat - y)[:, None, None] * o, axis=0)",
              r"\frac{2}{B}\sum_b (\hat y_b - y_b) o_b"],
    },
    "softmax_ce": {
        "W1": ["x.T @ ((s - t) @ W2.T * z * (1 - z)) / B",
               r"\frac{1}{B} x^T \left[(s - t) W_2^T \odot \bar z \odot (1 - \bar z)\right]",
               r"\frac{1}{B} x^T [(s - t) W_2^T \odot \sigma'(a_1)]"],
        "b1": ["((s - t) @ W2.T * z * (1 - z)).sum(0) / B",
               r"\frac{1}{B} \mathbf 1^T [(s - t) W_2^T \odot \sigma'(a_1)]",
               r"\frac{1}{B}\sum_b (s - t) W^{(2)T} \odot \bar{z} \odot (1 - \bar{z})"],
        "W2": ["z.T @ (s - t) / B", "np.einsum('bi,bj->ij', z, s - t) / B", r"\frac{1}{B}\bar z^T (s - t)",
               r"\frac{1}{B} \sum_b \bar z_b^T (s_b - t_b)",
               r"\frac{1}{B}\,\bar{z}^{T}\cdot\left[\operatorname{softmax}(a_2) - t\right]"],
        "b2": ["(s - t).sum(axis=0) / B", "np.mean(s - t, axis=0)", r"\frac{1}{B}\mathbf 1^T (s - t)",
               r"\frac{1}{B}\, 1^T (s - t)", r"\frac{1}{B}\sum_{b=1}^{B} (s_{b} - t_{b})"],
    },
    "three_layer": {
        "W1": [f"x.T @ (({D3} @ W3.T * (1 - a2**2)) @ W2.T * (1 - a1**2))",
               rf"x^T (\{{{D3_TEX} W_3^T \odot (1 - a_2^2)\}} W_2^T \odot (1 - a_1^2))"],
        "b1": [f"(({D3} @ W3.T * (1 - a2**2)) @ W2.T * (1 - a1**2)).sum(0)",
               rf"\sum_b (\{{{D3_TEX} W_3^T \odot \tanh'(z_2)\}} W_2^T \odot \tanh'(z_1))"],
        "W2": [f"a1.T @ ({D3} @ W3.T * (1 - a2**2))",
               rf"a^{{(1)T}} \{{{D3_TEX} W^{{(3)T}} \odot (1 - a^{{(2)2}})\}}"],
        "b2": [f"({D3} @ W3.T * (1 - a2**2)).sum(0)",
               r"\mathbf 1^T \{[2(\hat{y} - y) \odot \sigma'(z_3)] W_3^T \odot \tanh'(z^{(2)})\}"],
        "W3": [f"a2.T @ {D3}", rf"a^{{(2)T}} {D3_TEX}"],
        "b3": [f"{D3}.sum(axis=0)", rf"\mathbf 1^T {D3_TEX}", r"\sum_b 2(\hat y_b - y_b)\hat y_b(1 - \hat y_b)"],
    },
    "frobenius": {
        "W1": ["X.T @ (2 * (Y_pred - Y) @ W2.T * h_sigmoid * (1 - h_sigmoid))",
               r"X^T \left\{\left[2 (\hat Y - Y) W_2^T\right] \odot \sigma'(h)\right\}"],
        "b1": ["(2 * (Y_pred - Y) @ W2.T * h_sigmoid * (1 - h_sigmoid)).sum(0)",
               r"\mathbf 1^T \{[2(Y_{pred} - Y) W_2^T] \odot h_\sigma \odot (1 - h_\sigma)\}"],
        "W2": ["h_sigmoid.T @ (2 * (Y_pred - Y))", r"2 h_{sigmoid}^T (Y_{pred} - Y)",
               r"2h_{\text{sigmoid}}^T[(Y_{pred} - Y)]"],
        "b2": ["2 * (Y_pred - Y).sum(axis=0)", r"2\mathbf 1^T (\hat Y - Y)", r"2\sum_n (Y_{pred,n} - Y_n)"],
    },
    "jacobian_form": {
        "b0": [f"({DT} @ w1.T * (1 - y0**2)).sum(0)", rf"\sum_b {JAC_TEX} w_1^T \odot (1 - y_{{0,b}}^2)"],
        "w1": [f"y0.T @ {DT}", rf"\sum_b y_{{0,b}}^T\, {JAC_TEX}"],
        "b1": [f"{DT}.sum(0)", rf"\sum_b {JAC_TEX}",
               r"\mathbf 1^T [y_{pre} \odot (2(y_{pre} - y) - (2(y_{pre} - y) \odot y_{pre}) \mathbf 1)]"],
    },
}

RIGHT_CASES = [(m, p, f) for m, d in RIGHT.items() for p, fs in d.items() for f in fs]


def _declared(model: str) -> None:
    if model not in MODELS:
        pytest.skip(f"model {model} is not declared in backprop_lib.models.MODELS yet")


@pytest.mark.parametrize("model", list(RIGHT))
def test_every_parameter_of_every_model_has_right_formulas_in_both_notations(model):
    _declared(model)
    assert set(RIGHT[model]) == set(MODELS[model].params)
    for param, formulas in RIGHT[model].items():
        kinds = {check_formula(model, param, f).notation for f in formulas}
        assert kinds == {"numpy", "latex"}, (param, kinds)


@pytest.mark.parametrize("model, param, formula", RIGHT_CASES)
def test_right_formulas_are_ok(model, param, formula):
    _declared(model)
    v = check_formula(model, param, formula)
    assert v.ok and v.slip is None, str(v)
    assert v.param == param and v.instances >= 4
    assert v.max_error is not None and v.max_error < 1e-9
    assert v.message.startswith("Right")


# (model, param, formula, slip, a phrase the message must hold)
WRONG = [
    ("softmax_ce", "W2", r"\frac{1}{B}\bar z^T (t - s)", "sign", "minus the gradient"),
    ("frobenius", "W2", "2 * h_sigmoid.T @ (Y - Y_pred)", "sign", "minus the gradient"),
    ("softmax_ce", "W2", r"\bar z^T (s - t)", "factor", "the mean's 1/B is missing"),
    ("conv_mse", "v", r"2\sum_b (\hat y_b - y_b) o_b", "factor", "the mean's 1/B is missing"),
    ("frobenius", "W2", r"\frac{2}{N} h_{sigmoid}^T (Y_{pred} - Y)", "factor", "drop the 1/B"),
    ("softmax_ce", "W2", r"\frac{2}{B}\bar z^T (s - t)", "factor", "factor 2"),
    ("three_layer", "W3", rf"a^{{(2)T}} [(\hat y - y) \odot \hat y \odot (1 - \hat y)]", "factor", "factor 1/2"),
    ("softmax_ce", "W2", "z.T @ (s - t) / 3", "factor", "changes with the batch"),
    ("softmax_ce", "W2", r"\frac{1}{B}(s - t)^T \bar z", "transpose", "transpose"),
    ("softmax_ce", "W1", "((s - t) @ W2.T * z * (1 - z)).T @ x / B", "transpose", "shape (4, 5)"),
    ("three_layer", "W2", rf"\{{{D3_TEX} W^{{(3)T}} \odot (1 - a^{{(2)2}})\}}^T a^{{(1)}}", "transpose",
     "transpose"),
    ("frobenius", "b2", r"\frac{\partial f}{\partial b_2} = 2(Y_{pred} - Y)", "batch", "sum over the batch is missing"),
    ("softmax_ce", "b2", "(s - t) / B", "batch", "one row per example"),
    ("frobenius", "W1", r"2X^T(Y_{pred} - Y)W_2^T \odot \text{sigmoid}'(h)", "batch", "combines shapes"),
    ("softmax_ce", "W2", r"\frac{1}{B} (\mathbf 1^T \bar z)^T (\mathbf 1^T (s - t))", "batch",
     "Right for one example but not for a batch"),
    ("jacobian_form", "b1", r"2(y_{pre} - y)(\operatorname{diag}(y_{pre}) - y_{pre}^T y_{pre})", "batch",
     "diag takes a vector"),
    ("softmax_ce", "W2", r"\bar z (s - t)^T", "shape", "the product \\bar z (s - t)^T multiplies (1, 4) by (3, 1)"),
    ("softmax_ce", "W2", "z @ (s - t)", "shape", "inner sizes"),
    ("softmax_ce", "W2", "s - t", "shape", "has shape (2, 3) where W2 has shape (4, 3)"),
    ("softmax_ce", "W2", r"\frac{1}{B}\bar z^T (s \odot s - t)", "other", "every entry is wrong"),
    ("softmax_ce", "W2", "z.T @ (s - 2 * t) / B", "other", "column"),
    ("softmax_ce", "W2", r"\frac{1}{B}\bar q^T (s - t)", "unreadable", "unknown name '\\bar q'"),
    ("softmax_ce", "W2", r"\frac{1}{B}\bar z^T (s - t", "unreadable", "ends too early"),
    ("softmax_ce", "W2", r"\frac{1}{B}\bar z^T (s - t))", "unreadable", "at character 27"),
    ("softmax_ce", "W2", r"\frac{1}{B}\bar z^T (s - t) \foo", "unreadable", "unknown command \\foo at character 28"),
    ("softmax_ce", "W2", "z.T @ (s - t", "unreadable", "never closed"),
    ("softmax_ce", "W2", "q.T @ (s - t)", "unreadable", "the names are"),
]


@pytest.mark.parametrize("model, param, formula, slip, phrase", WRONG)
def test_wrong_formulas_get_their_slip_named(model, param, formula, slip, phrase):
    _declared(model)
    v = check_formula(model, param, formula)
    assert not v.ok and v.slip == slip, str(v)
    assert phrase.lower() in v.message.lower(), v.message


def test_every_slip_class_is_exercised():
    assert {w[3] for w in WRONG} == set(SLIPS)


def test_a_factor_names_its_value_and_a_batch_of_one_cannot_show_a_missing_mean():
    v = check_formula("softmax_ce", "W2", "z.T @ (s - t)")
    assert v.slip == "factor" and "factor B" in v.message and "batch of 1" in v.message


def test_errors_of_evaluation_point_at_the_operator():
    formula = r"2X^T(Y_{pred} - Y)W_2^T \odot \text{sigmoid}'(h)"
    v = check_formula("frobenius", "W1", formula)
    assert formula[v.position:].startswith(r"\odot")
    v = check_formula("softmax_ce", "W2", r"\bar z (s - t)^T")
    assert v.position == r"\bar z (s - t)^T".index("(")


# --- input that must not run anything -------------------------------------------------------------

HOSTILE = [
    ("__import__('os')", "'__import__' is not allowed", 0),
    ("().__class__", "'__class__' is not allowed", 0),
    ("x.__class__.__bases__", "not allowed", 0),
    ("np.load('x')", "np.load is not one of the numpy functions", 0),
    ("np.save('x', x)", "no file", 0),
    ("np.memmap('x')", "no file", 0),
    ("np.lib.stride_tricks.as_strided(x, (10**4, 10**4), (0, 0))", "not one of the numpy functions", 0),
    ("x.tofile('f')", ".tofile is not allowed", 0),
    ("getattr(x, 'T')", "builtins are not available", 0),
    ("open('/etc/passwd')", "builtins are not available", 0),
    ("np.exp(x, x)", "np.exp takes at most 1 argument", 0),
    ("x.sum(0, None, x)", ".sum takes at most 1 argument", 0),
    ("np.ones(3, 'object')", "a string is allowed only as np.einsum's subscripts", 11),
    ("np.diagflat(np.ones((2000, 2000)))", "1.6e+13 entries", 0),
    ("lambda: 1", "a lambda is not allowed", 0),
    ("[i for i in x]", "a comprehension is not allowed", 0),
    ("{k: 1 for k in 'ab'}", "a comprehension is not allowed", 0),
    ("(y := x)", "assignment", None),
    ("x.sum(out=x)", "keyword out is not allowed", None),
    ("np.ones((10**5, 10**5))", "1.0e+10 entries", 0),
    ("np.tile(x, (10**4, 10**4))", "the limit is 4e+06", 0),
    ("np.ones((2000, 2000)) @ np.ones((2000, 2000))", "multiply-adds", 0),
    ("np.einsum('i,j,k->', np.ones(1000), np.ones(1000), np.ones(1000))", "multiply-adds", 0),
    ("(" * 300 + "x" + ")" * 300, "nested more than 40 deep", 40),
    (r"\frac{" * 45 + "x" + "}{2}" * 45, "nested more than 40 deep", None),
    ("-" * 1990 + "x", "nested more than 100 deep", None),
    ("-" * 1990 + r"\bar x", "nested more than 100 deep", None),
    ("x+" * 5000 + "x", "10001 characters; the limit is 2000", 2000),
    ("+".join(["np.exp(np.ones(4000000)).sum()"] * 50), "more than 2e+07 entries in all", None),
    ("[" + ", ".join(["np.ones(4000000)"] * 60) + "]", "more than 2e+07 entries in all", None),
    ("".join(rf"\sum_{i}" for i in "acdefghijk") + r" \odot ".join(f"x_{i}" for i in "acdefghijk"), "too long", None),
]


@pytest.mark.parametrize("formula, phrase, position", HOSTILE)
def test_hostile_input_is_refused_quickly_with_the_problem_named(formula, phrase, position):
    start = time.perf_counter()
    v = check_formula("three_layer", "W1", formula)
    assert time.perf_counter() - start < 2.0
    assert v.slip == "unreadable" and not v.ok, str(v)
    assert phrase.lower() in v.message.lower(), v.message
    if position is not None:
        assert v.position == position


def test_a_formula_cannot_write_into_the_models_arrays():
    for formula in ("np.add(x, x, x)", "np.exp(x, x)", "x.sum(0, None, x)"):
        assert check_formula("three_layer", "W1", formula).slip == "unreadable"
    assert check_formula("three_layer", "W1", RIGHT["three_layer"]["W1"][0]).ok
    from backprop_lib.check import _instances

    for inst in _instances(MODELS["three_layer"]):
        assert not any(v.flags.writeable for v in inst.values.values())


@pytest.mark.parametrize("formula", ["9**9**9", "9" * 1999, "B ** 10 ** 6 * x.T @ x"])
def test_huge_numbers_are_float64_and_judged_at_once(formula):
    start = time.perf_counter()
    v = check_formula("three_layer", "W1", formula)
    assert time.perf_counter() - start < 2.0
    assert not v.ok and v.slip in ("shape", "other")


# --- shapes, left-hand sides, notation ------------------------------------------------------------

@pytest.mark.parametrize("formula, shape", [("(s - t).sum(axis=0, keepdims=True) / B", "(1, 3)"),
                                            (r"\frac{1}{B}(s - t)^T \mathbf{1}", "(3, 1)"),
                                            ("(s - t).sum(axis=0)[:, None, None] / B", "(3, 1, 1)")])
def test_a_result_with_extra_axes_of_length_1_is_accepted_and_reshaped_with_a_note(formula, shape):
    v = check_formula("softmax_ce", "b2", formula)
    assert v.ok, str(v)
    assert f"shape {shape}; it was read as (3,)" in v.message


def test_a_latex_row_for_a_vector_parameter_needs_no_note():
    v = check_formula("softmax_ce", "b2", r"\frac{1}{B}\mathbf 1^T (s - t)")
    assert v.ok and "read as" not in v.message


@pytest.mark.parametrize("formula", [r"\frac{\partial L}{\partial W_2} = \frac{1}{B}\bar z^T (s - t)",
                                     r"\partial L/\partial W_{2} = \frac{1}{B}\bar z^T (s - t)",
                                     "dL/dW2 = z.T @ (s - t) / B", "dW2 = z.T @ (s - t) / B",
                                     r"\frac{dL}{dW^{(2)}} = \frac{\partial L}{\partial a_2}\frac{\partial a_2}"
                                     r"{\partial W_2} = \frac{1}{B}\bar z^T (s - t)"])
def test_the_parameter_is_read_from_the_left_hand_side(formula):
    v = check_formula("softmax_ce", None, formula)
    assert v.ok and v.param == "W2", str(v)


def test_a_left_hand_side_that_disagrees_with_the_selection_wins_and_is_named():
    v = check_formula("softmax_ce", "W1", r"\frac{\partial L}{\partial W_2} = \frac{1}{B}\bar z^T (s - t)")
    assert v.ok and v.param == "W2"
    assert "checked against W2, not W1" in v.message


def test_a_left_hand_side_of_an_intermediate_or_nothing_at_all():
    v = check_formula("softmax_ce", None, r"\frac{\partial L}{\partial a_2} = \frac{1}{B}(s - t)")
    assert v.slip == "unreadable" and "a2, which is not a parameter" in v.message
    v = check_formula("softmax_ce", None, r"\frac{1}{B}\bar z^T (s - t)")
    assert v.slip == "unreadable" and "Which parameter" in v.message
    v = check_formula("softmax_ce", "W9", "z")
    assert v.slip == "unreadable" and "the parameters are W1, b1, W2, b2" in v.message


@pytest.mark.parametrize("formula, notation", [("z.T @ (s - t) / B", "numpy"), ("2 * (Y_pred - Y).sum(0)", "numpy"),
                                               (r"\bar z^T (s - t)", "latex"), ("2(Y_{pred} - Y)", "latex"),
                                               ("2(Y_p - Y)", "latex"), ("z^T (s - t)", "latex")])
def test_notation_is_detected(formula, notation):
    model = "frobenius" if "Y" in formula else "softmax_ce"
    assert check_formula(model, "b2", formula).notation == notation


def test_a_parameter_may_be_selected_by_its_latex_spelling():
    assert check_formula("softmax_ce", "W_2", "z.T @ (s - t) / B").param == "W2"


def test_pattern_names_rows_columns_and_the_diagonal():
    assert _pattern(np.eye(3, dtype=bool)) == "the wrong entries are the diagonal"
    assert _pattern(~np.eye(3, dtype=bool)) == "the wrong entries are those off the diagonal"
    rows = np.zeros((3, 4), bool)
    rows[1] = True
    assert _pattern(rows) == "the wrong entries are row 1"
    assert _pattern(rows.T) == "the wrong entries are column 1"
    assert _pattern(np.ones((2, 2), bool)) == "every entry is wrong"


# --- a chapter's letters for its activations (seed 004's f and g) ---------------------------------

JG_B = r"(\operatorname{diag}(g(t_b)) - g(t_b)^T g(t_b))"  # the seed's dg/dt of example b, g = softmax


@pytest.mark.parametrize("param, formula", [
    ("b1", rf"\sum_b 2(g(t_b) - y_b)\, {JG_B}"),
    ("w1", rf"\sum_b 2\, f(h_b)^T (y_{{pre,b}} - y_b)\, {JG_B}"),
    ("b0", rf"\sum_b 2(y_{{pre,b}} - y_b)\, {JG_B}\, w_1^T \operatorname{{diag}}(f'(h_b))"),
    ("b0", r"\mathbf 1^T [\{y_{pre} \odot (2(y_{pre} - y) - (2(y_{pre} - y) \odot g(t)) \mathbf 1)\} w_1^T"
           r" \odot f' (h)]"),
])
def test_a_models_function_letters_read_as_its_activations(param, formula):
    v = check_formula("jacobian_form", param, formula)
    assert v.ok and v.notation == "latex", str(v)


def test_function_letters_belong_to_their_model_and_a_jacobian_is_not_a_prime():
    assert MODELS["jacobian_form"].functions == {"f": "tanh", "g": "softmax"}
    assert check_formula("jacobian_form", "b1", r"\sum_b f(t_b)").slip == "other"  # tanh, not softmax: wrong
    v = check_formula("jacobian_form", "b1", "g'(t)")
    assert v.slip == "unreadable" and "the derivative of softmax is a Jacobian" in v.message
    v = check_formula("softmax_ce", "b2", r"\frac{1}{B}\mathbf 1^T (f(a_2) - t)")
    assert v.slip == "unreadable" and "unknown name 'f'" in v.message.lower()
    names = [row[0] for row in symbols("jacobian_form").rows]
    assert names[-2:] == ["f", "g"] and "f" not in [row[0] for row in symbols("softmax_ce").rows]


# --- the verdict's forms --------------------------------------------------------------------------

def test_verdict_text_html_and_dict():
    for v in (check_formula("softmax_ce", "W2", r"\frac{1}{B}\bar z^T (s - t)"),
              check_formula("softmax_ce", "W2", r"\bar z (s - t)^T"),
              check_formula("softmax_ce", "W2", "q" * 300)):
        text = str(v)
        assert all(len(line) <= 80 for line in text.splitlines()), text
        assert repr(v) == text
        page = v._repr_html_()
        assert f"data-slip='{'ok' if v.ok else v.slip}'" in page
        assert not re.search(r"width:\s*\d+px", page) and "overflow-wrap:anywhere" in page
        d = json.loads(json.dumps(v.as_dict()))
        assert d["ok"] == v.ok and d["slip"] == v.slip and d["message"] == v.message
    ok = check_formula("softmax_ce", "W2", r"\frac{1}{B}\bar z^T (s - t)")
    assert re.search(r"largest relative error \d\.\de-\d\d", ok._repr_html_())
    assert isinstance(ok, Verdict) and ok.notation == "latex"


@pytest.mark.parametrize("model", ["conv_mse", "softmax_ce", "three_layer", "frobenius", "jacobian_form"])
def test_the_symbol_table_lists_every_name(model):
    _declared(model)
    table = symbols(model)
    text = str(table)
    assert all(len(line) <= 80 for line in text.splitlines()), text
    names = [row[0] for row in table.rows]
    assert set(MODELS[model].symbols) <= set(names) and "np" in names
    assert "<table" in table._repr_html_()


def test_symbol_table_shapes_use_the_batch_symbol():
    rows = {r[0]: r for r in symbols("frobenius").rows}
    assert rows["X"][2] == "(N, 3)" and rows["b1"][2] == "(5,) row"
    assert symbols("conv_mse").rows[1][2] == "(B,) column"


def test_a_verdict_is_fast():
    formulas = [("softmax_ce", "W2", r"\frac{1}{B}\bar z^T (s - t)"), ("softmax_ce", "W1", "x.T @ (s - t)"),
                ("frobenius", "W1", r"2X^T(Y_{pred} - Y)W_2^T \odot \text{sigmoid}'(h)"),
                ("conv_mse", "w", RIGHT["conv_mse"]["w"][1]), ("jacobian_form", "b1", RIGHT["jacobian_form"]["b1"][1])]
    times = []
    for m, p, f in formulas * 3:
        start = time.perf_counter()
        check_formula(m, p, f)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 1.0

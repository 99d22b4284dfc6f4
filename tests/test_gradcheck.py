import numpy as np
import pytest

from backprop_lib import gradcheck as gc
from backprop_lib.models import ALL, frobenius, softmax_ce, three_layer

RNG = np.random.default_rng(3)


def test_numerical_gradient_of_known_functions():
    x = RNG.normal(size=(3, 2))
    np.testing.assert_allclose(gc.numerical_gradient(lambda v: (v**3).sum(), x), 3 * x**2, rtol=1e-8)
    np.testing.assert_allclose(gc.complex_step_gradient(lambda v: (v**3).sum(), x), 3 * x**2, rtol=1e-15)
    # a vector function gives its Jacobian, rows indexed by outputs
    A = RNG.normal(size=(4, 3))
    v = RNG.normal(size=3)
    np.testing.assert_allclose(gc.numerical_gradient(lambda u: A @ u, v), A, rtol=1e-8)
    np.testing.assert_allclose(gc.complex_step_gradient(lambda u: A @ u, v), A, rtol=1e-15)


def test_complex_step_reaches_rounding_level():
    x = np.array([0.7])
    f = lambda v: (np.exp(v) * np.sin(v)).sum()  # noqa: E731
    exact = np.exp(0.7) * (np.sin(0.7) + np.cos(0.7))
    assert gc.relative_error(gc.complex_step_gradient(f, x), np.array([exact])).max() < 1e-15
    cd = gc.relative_error(gc.numerical_gradient(f, x), np.array([exact])).max()
    assert 1e-13 < cd < 1e-8  # central differences: limited by truncation and rounding


def test_relative_error_definition():
    a = np.array([1.0, 0.0, -1.0, 1e-3])
    b = np.array([1.0 + 1e-6, 0.0, 1.0, 2e-3])
    np.testing.assert_allclose(gc.relative_error(a, b), [1e-6 / (1 + 1e-6), 0.0, 2.0, 0.5], rtol=1e-9)
    assert gc.relative_error(np.array([0.0]), np.array([1e-30]), tiny=1e-20)[0] == pytest.approx(1e-10)
    with pytest.raises(ValueError, match=r"\(2,\) and b \(3,\)"):
        gc.relative_error(np.zeros(2), np.zeros(3))


@pytest.mark.parametrize("model", list(ALL.values()), ids=list(ALL))
def test_report_passes_for_correct_gradients(model):
    params, data = model.example(RNG, batch=4)
    report = gc.check_gradients(model.loss, model.grads, params, data)
    assert report.ok and report.assert_ok() is report
    assert report.max_cs < 1e-13 and report.max_cd < 1e-7
    text = str(report)
    assert all(name in text for name in params) and "pass" in text and "FAIL" not in text
    assert "<table" in report._repr_html_()


def _broken(model, edit):
    def grads(p, d):
        g = {k: np.array(v) for k, v in model.grads(p, d).items()}
        edit(g, p, d)
        return g

    return grads


def _missing_batch_sum(g, p, d):
    g["b2"] = frobenius.backward(p, d)["Y_pred"][0]  # first row only


def _missing_transpose(g, p, d):
    # three_layer's W2 is square (2, 2): delta2^T a1 has the right shape and the wrong entries
    g["W2"] = three_layer.backward(p, d)["z2"].T @ three_layer.forward(p, d)["a1"]


def _sign_flip(g, p, d):
    g["W2"] = -g["W2"]


def _one_entry(g, p, d):
    g["b1"][2] *= 1.0 + 1e-7  # wrong in the 7th digit only: central differences pass, the complex step does not


@pytest.mark.parametrize(
    "model, edit, param",
    [
        (frobenius, _missing_batch_sum, "b2"),
        (three_layer, _missing_transpose, "W2"),
        (frobenius, _sign_flip, "W2"),
        (frobenius, _one_entry, "b1"),
    ],
    ids=["missing batch sum", "missing transpose", "sign flip", "7th digit"],
)
def test_report_catches_wrong_gradients(model, edit, param):
    params, data = model.example(np.random.default_rng(4), batch=6)
    report = gc.check_gradients(model.loss, _broken(model, edit), params, data)
    assert not report.ok
    assert not report.passed(report[param])
    assert all(report.passed(r) for r in report.rows if r.name != param)
    with pytest.raises(AssertionError, match=rf"'{param}' at entry"):
        report.assert_ok()
    assert "FAIL" in str(report)


def test_check_gradients_rejects_wrong_keys_and_shapes():
    params, data = frobenius.example(RNG, batch=3)
    with pytest.raises(ValueError, match="differ from params keys"):
        gc.check_gradients(frobenius.loss, lambda p, d: {"W1": p["W1"]}, params, data)
    bad = lambda p, d: {**frobenius.grads(p, d), "b1": np.zeros(7)}  # noqa: E731
    with pytest.raises(ValueError, match=r"grads\['b1'\]: shape \(7,\) differs .* \(5,\)"):
        gc.check_gradients(frobenius.loss, bad, params, data)


def test_check_function_on_a_jacobian():
    from backprop_lib.activations import softmax, softmax_jacobian

    a = RNG.normal(size=4)
    gc.check_function(softmax, a, softmax_jacobian(softmax(a)), "a").assert_ok()
    wrong = softmax_jacobian(softmax(a)).T.copy()
    wrong[0, 1] += 0.01
    with pytest.raises(AssertionError, match="'a' at entry"):
        gc.check_function(softmax, a, wrong, "a").assert_ok()
    with pytest.raises(ValueError, match=r"shape \(4,\), expected \(4, 4\)"):
        gc.check_function(softmax, a, np.zeros(4), "a")


# The shared one-entry and one-step helpers ----------------------------------------------------


def test_with_entry_sets_one_entry_and_leaves_the_input_alone():
    w = np.arange(4.0).reshape(2, 2)
    out = gc.with_entry(w, (0, 0), 7.5)
    assert out[0, 0] == 7.5 and (out.ravel()[1:] == [1.0, 2.0, 3.0]).all()
    assert w[0, 0] == 0.0  # a copy, not a view
    c = gc.with_entry(w, (1, 0), 1.0 + 2e-20j)
    assert c.dtype == np.complex128 and c[1, 0].imag == 2e-20  # the complex step survives
    assert gc.with_entry(np.zeros((2, 2), dtype=int), (0, 1), 0.5)[0, 1] == 0.5  # promoted, not truncated


@pytest.mark.parametrize("name, index", [("W3", (0, 0)), ("W2", (0, 1)), ("b1", (0,)), ("W1", (1, 0))])
def test_loss_of_entry_is_the_loss_along_one_entry(name, index):
    params, data = three_layer.example(np.random.default_rng(2), batch=2)
    keep = {k: v.copy() for k, v in params.items()}
    f = gc.loss_of_entry(three_layer.loss, params, data, name, index)
    x0 = np.array(params[name][index])
    assert f(x0) == pytest.approx(three_layer.loss(params, data), rel=1e-14)
    assert f(x0 + 0.5) != pytest.approx(f(x0))  # it does move that entry
    assert np.iscomplexobj(f(x0 + 1e-20j))
    gc.check_function(f, x0, np.array(three_layer.grads(params, data)[name][index]), name).assert_ok()
    assert all(np.array_equal(keep[k], params[k]) for k in params)


def test_loss_of_entry_rejects_a_wrong_name_or_index():
    params, data = three_layer.example(np.random.default_rng(2))
    with pytest.raises(ValueError, match="'W9' is not a parameter"):
        gc.loss_of_entry(three_layer.loss, params, data, "W9", (0, 0))
    with pytest.raises(ValueError, match=r"index \(2, 0\) is not an entry of 'W1'"):
        gc.loss_of_entry(three_layer.loss, params, data, "W1", (2, 0))
    with pytest.raises(ValueError, match=r"index \(0,\) is not an entry"):
        gc.loss_of_entry(three_layer.loss, params, data, "W1", (0,))


def test_check_step_prints_one_line_and_raises_on_a_wrong_step(capsys):
    params, data = softmax_ce.example(np.random.default_rng(1), batch=3)
    g = softmax_ce.grads(params, data)

    def f(w):
        return softmax_ce.loss({**params, "W2": w}, data)

    report = gc.check_step("dL/dW2", f, params["W2"], g["W2"])
    line = capsys.readouterr().out
    assert report.ok and line.count("\n") == 1 and len(line) <= 81
    assert line.startswith("dL/dW2           (4, 3)") and "central diff." in line and "complex step" in line
    with pytest.raises(AssertionError, match="'dL/dW2' at entry"):
        gc.check_step("dL/dW2", f, params["W2"], g["W2"].T.T * 1.001)
    assert capsys.readouterr().out == ""  # nothing is printed for a step that fails


def test_report_prints_within_80_columns_and_renders_a_styled_table():
    params, data = softmax_ce.example(np.random.default_rng(1), batch=3)
    report = gc.check_gradients(softmax_ce.loss, softmax_ce.grads, params, data)
    assert max(len(line) for line in str(report).splitlines()) <= 80
    html = report._repr_html_()
    assert "class='table gradcheck'" in html and html.count("<tr>") == 1 + len(params)
    broken = gc.check_gradients(softmax_ce.loss, {**softmax_ce.grads(params, data), "b2": np.zeros(3)}, params, data)
    assert "class='fail'>FAIL" in broken._repr_html_()
    with pytest.raises(AssertionError) as err:
        broken.assert_ok()
    assert max(len(line) for line in str(err.value).splitlines()) <= 80


def test_loss_of_param_is_the_loss_along_one_parameter():
    params, data = softmax_ce.example(np.random.default_rng(5), batch=3)
    f = gc.loss_of_param(softmax_ce.loss, params, data, "W2")
    assert f(params["W2"]) == pytest.approx(softmax_ce.loss(params, data), rel=1e-15)
    assert f(1.1 * params["W2"]) != pytest.approx(f(params["W2"]))  # (a shift would not: softmax)
    gc.check_step("dL/dW2", f, params["W2"], softmax_ce.grads(params, data)["W2"])
    with pytest.raises(ValueError, match="'W3' is not a parameter"):
        gc.loss_of_param(softmax_ce.loss, params, data, "W3")

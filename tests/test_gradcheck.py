import json
import re
import subprocess
import sys

import numpy as np
import pytest
from bs4 import BeautifulSoup

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
    assert 'class="table gradcheck"' in html and html.count("<tr>") == 1 + len(params)
    assert html.count('<th scope="row">') == len(params) and html.count('<th scope="col">') == 5
    broken = gc.check_gradients(softmax_ce.loss, {**softmax_ce.grads(params, data), "b2": np.zeros(3)}, params, data)
    assert 'class="fail">FAIL' in broken._repr_html_()
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


ERROR = re.compile(r"^\d\.\de[+-]\d\d$")  # 1.2e-09: two significant digits, as the text line prints them
STEP_COLUMNS = ["quantity", "shape", "central diff.", "complex step", "verdict"]


def _step_table(html: str):
    """The one table of a StepCheck's HTML, its header names and its body rows (lists of cells)."""
    soup = BeautifulSoup(html, "html.parser")
    (table,) = soup.find_all("table")
    heads = table.thead.find_all("th")
    rows = [tr.find_all(["th", "td"]) for tr in table.tbody.find_all("tr")]
    return table, heads, rows


def test_check_step_result_renders_as_a_one_row_table():
    """check_step's result as HTML: the table the book stacks into a card at 390 px (a thead of
    th scope="col", the quantity a th scope="row", no ids), its errors as the text line prints them."""
    params, data = softmax_ce.example(np.random.default_rng(1), batch=3)
    f = gc.loss_of_param(softmax_ce.loss, params, data, "W2")
    step = gc.check_step("dL/dW2", f, params["W2"], softmax_ce.grads(params, data)["W2"])
    assert isinstance(step, gc.StepCheck) and isinstance(step, gc.GradCheckReport)
    table, heads, rows = _step_table(step._repr_html_())
    assert table["class"] == ["table", "gradcheck"]
    assert [h.get_text() for h in heads] == STEP_COLUMNS
    assert all(h["scope"] == "col" for h in heads)
    assert not table.find_all(attrs={"id": True}), "an id in the table: two checks on a page would repeat it"
    (row,) = rows
    name, shape, cd, cs, verdict = row
    assert (name.name, name["scope"], name.get_text()) == ("th", "row", "dL/dW2")
    assert shape.get_text() == "(4, 3)"
    assert ERROR.match(cd.get_text()) and ERROR.match(cs.get_text()), (cd, cs)
    assert float(cd.get_text()) == float(f"{step.max_cd:.1e}") and float(cs.get_text()) == float(f"{step.max_cs:.1e}")
    assert verdict.get_text() == "pass" and "fail" not in verdict["class"]
    # the text form is the line check_step prints, the same numbers
    assert str(step) == repr(step) and "\n" not in str(step) and len(str(step)) <= 80
    assert f"central diff. {cd.get_text()}  complex step {cs.get_text()}" in str(step)


def test_a_failing_check_shows_its_failure_in_both_forms():
    a = np.array([0.3, -1.2, 2.0])
    f = lambda v: (v * v * v).sum()  # noqa: E731
    wrong = gc.check_function(f, a, 3 * a * a * np.array([1, 1, -1]), "d/da")
    assert not wrong.ok and isinstance(wrong, gc.StepCheck)
    _, _, rows = _step_table(wrong._repr_html_())
    (row,) = rows
    verdict = row[-1]
    assert verdict.get_text() == "FAIL" and "fail" in verdict["class"]
    assert float(row[2].get_text()) > gc.CD_TOL and float(row[3].get_text()) > gc.CS_TOL
    assert str(wrong).endswith("  FAIL") and len(str(wrong)) <= 80
    right = gc.check_function(f, a, 3 * a * a, "d/da")
    assert right.ok and _step_table(right._repr_html_())[2][0][-1].get_text() == "pass"
    assert "FAIL" not in str(right)


def test_a_check_whose_loss_drops_the_imaginary_part_says_so_in_the_html():
    f = lambda v: (np.real(v) ** 2).sum()  # noqa: E731  (np.real: the complex step sees 0)
    a = np.array([1.0, 2.0])
    report = gc.check_function(f, a, 2 * a, "x")
    _, _, rows = _step_table(report._repr_html_())
    assert rows[0][-1].get_text() == "FAIL: loss not cs-safe"
    assert "not complex-step safe" in report._repr_html_() and "not complex-step safe" in str(report)
    assert str(report).splitlines()[1] == "  FAIL: loss not cs-safe"  # below the line, which it would push past 80
    assert max(len(line) for line in str(report).splitlines()) <= 80


NOTEBOOK_CELLS = [
    "import numpy as np\nfrom backprop_lib.gradcheck import check_step\n"
    "f = lambda v: (v * v).sum()\nx = np.arange(1.0, 4.0)",
    'check_step("a", f, x, 2 * x)\nprint("between")\ncheck_step("b", f, x, 2 * x)',
    'check_step("c", f, x, 2 * x)',  # the cell's last expression: shown once, not twice
    'r = check_step("r", f, x, 2 * x);',
    "r",  # shown again when asked for in a later cell
]


def test_check_step_in_a_notebook_shows_its_table_once_per_call():
    """In a kernel, each check_step call shows its result where it is called (a loop's, one not
    last in its cell, one with a trailing ';'), as HTML and text; the book's pages show the HTML."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK_CELLS])
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    shown = [[(o.output_type, o.get("data", {}).get("text/plain", o.get("text", ""))) for o in c.outputs]
             for c in nb.cells[1:]]
    line = "{:<16} (3,)       central diff. "
    assert [[kind for kind, _ in cell] for cell in shown] == [
        ["display_data", "stream", "display_data"], ["display_data"], ["display_data"], ["display_data"]]
    assert [text[:len(line.format(""))] for cell in shown for kind, text in cell if kind == "display_data"] == [
        line.format(name) for name in ("a", "b", "c", "r", "r")]
    for cell in nb.cells[1:]:
        for o in cell.outputs:
            if o.output_type == "display_data":
                assert _step_table(o.data["text/html"])[2][0][-1].get_text() == "pass"


def test_check_step_prints_where_no_ipython_runs():
    """A script (no IPython shell) gets the text line on stdout, and the library imports no IPython."""
    code = ("import sys, numpy as np; from backprop_lib.gradcheck import check_step;"
            "x = np.arange(1.0, 4.0); check_step('dL/dx', lambda v: (v * v).sum(), x, 2 * x);"
            "print(json.dumps('IPython' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", "import json;" + code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0].startswith("dL/dx            (3,)       central diff. ") and json.loads(out[1]) is False

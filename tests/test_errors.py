"""A student's mistakes get an answer they can act on (issue 19): one row per mistake, each with
the message it must produce. Every row runs against every model where it applies."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from backprop_lib import autodiff as ad
from backprop_lib.gradcheck import check_derivation, check_gradients
from backprop_lib.models import ALL, frobenius, softmax_ce
from backprop_lib.models import MODELS as DECLARED

MODELS = list(ALL)
INPUT = {name: model.input for name, model in DECLARED.items()}  # the data key of each network's input


def _instance(name: str, batch: int = 4) -> tuple[dict, dict]:
    return ALL[name].example(np.random.default_rng(3), batch=batch)


def _with_entry(arr: np.ndarray, index: tuple[int, ...], value: complex) -> np.ndarray:
    out = np.array(arr, dtype=np.result_type(arr, value))
    out[index] = value
    return out


# --------------------------------------------------------------------------- not finite


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("fn", ["loss", "grads", "forward", "backward"])
def test_one_nan_in_the_input_is_named_counted_and_located(name, fn):
    params, data = _instance(name)
    x = INPUT[name]
    index = (2,) + (1,) * (data[x].ndim - 1)
    bad = {**data, x: _with_entry(data[x], index, np.nan)}
    expected = rf"^{x}: 1 of {data[x].size} entries is not finite \(1 NaN\), the first at index {re.escape(str(index))}"
    with pytest.raises(ValueError, match=expected):
        getattr(ALL[name], fn)(params, bad)


@pytest.mark.parametrize("name", MODELS)
def test_a_parameter_all_nan_raises_without_a_flood_of_warnings(name):
    params, data = _instance(name)
    key = DECLARED[name].params[0]
    bad = {**params, key: np.full(np.shape(params[key]), np.nan)}
    n = bad[key].size
    verb = "entry is" if n == 1 else "entries are"  # 1 of 1 entry is, 4 of 4 entries are
    first = re.escape(str((0,) * bad[key].ndim))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not one RuntimeWarning before the error
        for fn in (ALL[name].loss, ALL[name].grads):
            with pytest.raises(ValueError, match=rf"^{key}: {n} of {n} {verb} not finite \({n} NaN\), the first at index {first};"):
                fn(bad, data)


@pytest.mark.parametrize("name", MODELS)
def test_an_infinite_input_gives_the_same_error(name):
    params, data = _instance(name)
    x = INPUT[name]
    with pytest.raises(ValueError, match=rf"^{x}: {data[x].size} of {data[x].size} entries are not finite "
                                         rf"\({data[x].size} infinite\), the first at index \(0, 0"):
        ALL[name].grads(params, {**data, x: np.full(data[x].shape, np.inf)})
    mixed = _with_entry(_with_entry(data[x], (0,) * data[x].ndim, -np.inf), (1,) * data[x].ndim, np.nan)
    with pytest.raises(ValueError, match=rf"^{x}: 2 of {data[x].size} entries are not finite \(1 NaN, 1 infinite\)"):
        ALL[name].loss(params, {**data, x: mixed})


@pytest.mark.parametrize("name", MODELS)
def test_complex_parameters_are_checked_too_and_the_complex_step_still_passes(name):
    params, data = _instance(name)
    key = DECLARED[name].params[-1]
    stepped = params[key] + 1e-20j
    assert np.iscomplexobj(ALL[name].loss({**params, key: stepped}, data))
    index = (0,) * np.ndim(stepped)
    for bad in (_with_entry(stepped, index, complex(1.0, np.nan)), _with_entry(stepped, index, complex(np.inf, 0.0))):
        with pytest.raises(ValueError, match=rf"^{key}: 1 of {stepped.size} entr(y|ies) is not finite"):
            ALL[name].loss({**params, key: bad}, data)


def test_finite_entries_whose_sum_overflows_are_accepted():
    params, data = frobenius.example(np.random.default_rng(0), batch=3)
    huge = np.full(data["X"].shape, 1e308)
    with np.errstate(over="ignore", invalid="ignore"):  # the loss itself overflows, as it should
        frobenius.forward(params, {**data, "X": huge})


# --------------------------------------------------------------------------- batch, dicts, shapes


@pytest.mark.parametrize("name", MODELS)
def test_a_batch_of_zero_examples(name):
    params, data = _instance(name)
    empty = {k: v[:0] for k, v in data.items()}
    for fn in (ALL[name].loss, ALL[name].grads):
        with pytest.raises(ValueError, match=rf"^{INPUT[name]}: a batch needs at least one example, got shape \(0,"):
            fn(params, empty)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("which", ["params", "data"])
@pytest.mark.parametrize("wrong", [None, "list", "tuple of arrays"])
def test_something_other_than_a_dict(name, which, wrong):
    model = ALL[name]
    params, data = _instance(name)
    given = {"params": params, "data": data}[which]
    value = {None: None, "list": list(given), "tuple of arrays": tuple(given.values())}[wrong]
    args = (value, data) if which == "params" else (params, value)
    keys = model.MODEL.params if which == "params" else model.MODEL.data
    message = (rf"^{which}: expected a dict of arrays with the keys {re.escape(str(list(keys)))}, got "
               rf"{type(value).__name__}; .*both are dicts of arrays: params with the keys "
               rf"{re.escape(str(list(model.MODEL.params)))}, data with the keys {re.escape(str(list(model.MODEL.data)))}")
    with pytest.raises(ValueError, match=message):
        model.loss(*args)


@pytest.mark.parametrize("labels", ["(B,)", "(B, 1)"])
def test_class_labels_where_one_hot_rows_are_meant(labels):
    params, data = softmax_ce.example(np.random.default_rng(0), batch=5)
    ints = data["t"].argmax(axis=1)
    t = ints if labels == "(B,)" else ints[:, None]
    with pytest.raises(ValueError, match=rf"^t: expected (a 2-D array of )?shape \(5, 3\), got shape {re.escape(str(t.shape))}; "
                                         r".*np\.eye\(3\)\[labels\]"):
        softmax_ce.grads(params, {**data, "t": t})
    # the hint is right: np.eye(3)[labels] is what the model takes
    assert np.array_equal(np.eye(3)[ints], data["t"])


def test_the_label_hint_is_not_given_for_other_wrong_targets():
    params, data = softmax_ce.example(np.random.default_rng(0), batch=5)
    with pytest.raises(ValueError) as err:
        softmax_ce.loss(params, {**data, "t": np.zeros((5, 4))})
    assert "np.eye" not in str(err.value)


@pytest.mark.parametrize("name", MODELS)
def test_one_example_without_its_batch_axis(name):
    params, data = _instance(name, batch=1)
    x = INPUT[name]
    one = data[x][0]
    index = ", ".join(["None"] + [":"] * one.ndim)
    with pytest.raises(ValueError, match=rf"^{x}: expected a {one.ndim + 1}-D array .*got shape {re.escape(str(one.shape))}; "
                                         rf"for one example, pass {re.escape(f'{x}[{index}]')} \(shape \(1, "):
        ALL[name].loss(params, {**data, x: one})
    # and the hint is right: with the axis added, the same example is accepted
    assert np.isfinite(ALL[name].loss(params, {**data, x: eval(f"one[{index}]")}))  # noqa: S307 - the hint's own text


def test_a_kernel_larger_than_the_input():
    params, data = ALL["conv_mse"].example(np.random.default_rng(0), batch=2)
    with pytest.raises(ValueError, match=r"^w: kernel shape \(4, 4\) is larger than the input a of shape \(3, 3\)"):
        ALL["conv_mse"].loss({**params, "w": np.ones((4, 4))}, data)


# --------------------------------------------------------------------------- the gradient check

LOSSES_THAT_DROP_THE_IMAGINARY_PART: dict[str, Callable] = {
    "float()": lambda p, d: float(np.real(frobenius.loss(p, d))),
    "np.abs": lambda p, d: (np.abs(frobenius.forward(p, d)["Y_pred"] - d["Y"]) ** 2).sum(),
    "np.real": lambda p, d: (np.real(frobenius.forward(p, d)["Y_pred"] - d["Y"]) ** 2).sum(),
    "a comparison": lambda p, d: (np.maximum((frobenius.forward(p, d)["Y_pred"] - d["Y"]).real, -np.inf) ** 2).sum(),
}


@pytest.mark.parametrize("cause", list(LOSSES_THAT_DROP_THE_IMAGINARY_PART))
def test_a_loss_that_is_not_complex_step_safe_is_named_and_a_correct_gradient_not_blamed(cause):
    params, data = frobenius.example(np.random.default_rng(1), batch=4)
    report = check_gradients(LOSSES_THAT_DROP_THE_IMAGINARY_PART[cause], frobenius.grads, params, data)
    assert not report.ok
    assert all(report.cs_unsafe(r) for r in report.rows)
    assert "FAIL: loss not cs-safe" in str(report) and "not complex-step safe" in report._repr_html_()
    with pytest.raises(AssertionError, match=r"^the loss is not complex-step safe: .* central differences, which agree "
                                             r"with the analytic gradient .*float\(\.\.\.\).*np\.abs.*np\.real.*comparison") as err:
        report.assert_ok()
    assert "gradient check failed" not in str(err.value)


def test_a_wrong_gradient_with_an_unsafe_loss_is_still_blamed():
    params, data = frobenius.example(np.random.default_rng(1), batch=4)

    def wrong(p, d):
        g = frobenius.grads(p, d)
        return {**g, "b2": -g["b2"]}

    report = check_gradients(LOSSES_THAT_DROP_THE_IMAGINARY_PART["np.abs"], wrong, params, data)
    assert not report.cs_unsafe(report["b2"]) and report.cs_unsafe(report["W1"])
    with pytest.raises(AssertionError, match=r"^gradient check failed for 'b2'"):
        report.assert_ok()


def test_a_loss_that_refuses_complex_input_says_so():
    params, data = frobenius.example(np.random.default_rng(1), batch=4)

    def loss(p, d):  # math.fsum takes real numbers only: a TypeError for a complex parameter
        return frobenius.loss(p, d) + 0.0 * math.fsum(np.ravel(p["W1"]))

    with pytest.raises(TypeError, match=r"the complex step could not evaluate the function with 'W1' complex"):
        check_gradients(loss, frobenius.grads, params, data)


def test_check_derivation_names_a_transposed_gradient():
    params, data = frobenius.example(np.random.default_rng(0), batch=6)
    W2 = frobenius.grads(params, data)["W2"]  # (5, 2)
    with pytest.raises(ValueError, match=r"^check_derivation: your gradient of 'W2' has shape \(2, 5\), but 'W2' has "
                                         r"shape \(5, 2\); it looks transposed"):
        check_derivation(frobenius.loss, lambda p, d: W2.T, params, data, name="W2")
    # a wrong shape that is no transpose gets no such hint
    with pytest.raises(ValueError) as err:
        check_derivation(frobenius.loss, {"W2": np.zeros((5, 3))}, params, data)
    assert "transposed" not in str(err.value)


def test_check_derivation_with_name_and_a_function_that_returns_a_dict():
    params, data = frobenius.example(np.random.default_rng(0), batch=6)
    with pytest.raises(ValueError, match=r"^check_derivation\(name='W1'\): your function returned a dict with the keys "
                                         r"\['W1', 'W2', 'b1', 'b2'\]; with name given it must be one array, the gradient "
                                         r"of 'W1', of shape \(3, 5\): return g\['W1'\] instead"):
        check_derivation(frobenius.loss, frobenius.grads, params, data, name="W1")
    with pytest.raises(ValueError, match=r"^check_derivation: your function returned ndarray of shape \(3, 5\); without "
                                         r"name= it must be a dict"):
        check_derivation(frobenius.loss, lambda p, d: frobenius.grads(p, d)["W1"], params, data)
    with pytest.raises(ValueError, match=r"return statement missing"):
        check_derivation(frobenius.loss, lambda p, d: None, params, data, name="b1")


def test_autodiff_conv2d_with_a_2d_input_gives_its_own_message():
    with pytest.raises(ValueError, match=r"^conv2d: need a \(B, H, W\) and a kernel \(kh, kw\) no larger, got \(3, 3\) and \(2, 2\)$"):
        ad.conv2d(ad.constant(np.ones((3, 3))), ad.tensor(np.ones((2, 2))))
    with pytest.raises(ValueError, match=r"^conv2d: .* got \(1, 3, 3\) and \(2,\)$"):
        ad.conv2d(ad.constant(np.ones((1, 3, 3))), ad.tensor(np.ones(2)))


# --------------------------------------------------------------------------- issue 26: the right arrays


def _sharing(name: str) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """Every pair (the array that binds a size symbol, a later array with the same symbol), each with its axis."""
    from backprop_lib.models import MODELS as DECLARED

    spec = DECLARED[name].inputs
    dims = {**spec.params, **spec.data}
    first: dict[str, tuple[str, int]] = {}
    pairs = []
    for array in spec.shape_order():
        for axis, dim in enumerate(dims[array]):
            if isinstance(dim, str):
                if dim in first:
                    pairs.append((first[dim], (array, axis)))
                else:
                    first[dim] = (array, axis)
    return pairs


@pytest.mark.parametrize("name", MODELS)
def test_two_arrays_that_share_a_size_are_both_named_when_they_disagree(name):
    params, data = _instance(name)
    pairs = _sharing(name)
    assert pairs, name  # every model ties some sizes together
    for (first, axis0), (other, axis) in pairs:
        values = {**params, **data}
        n = values[first].shape[axis0]
        longer = np.concatenate([values[other], np.take(values[other], [0], axis=axis)], axis=axis)
        p = {k: longer if k == other else v for k, v in params.items()}
        d = {k: longer if k == other else v for k, v in data.items()}
        for fn in (ALL[name].loss, ALL[name].grads):
            with pytest.raises(ValueError, match=rf"^{other}: expected .*; {first} has {n} \w+.* but {other} has "
                                                 rf"{n + 1} \w+"):
                fn(p, d)


def test_x_with_the_wrong_width_names_x_and_w1():
    params, data = softmax_ce.example(np.random.default_rng(0), batch=4)
    for x in (data["x"][:, :4], np.ones((5, 4))):  # 4 columns, or the (4, 5) batch transposed
        with pytest.raises(ValueError, match=r"x has 4 columns but W1 has 5 rows"):
            softmax_ce.grads(params, {**data, "x": x})


def test_a_size_computed_from_other_arrays_names_them():
    params, data = ALL["conv_mse"].example(np.random.default_rng(0), batch=2)  # a (2, 3, 3), w (2, 2), v (2, 2)
    with pytest.raises(ValueError, match=r"^v: expected shape \(3, 3\), got shape \(2, 2\); v has 2 rows where "
                                         r"w of shape \(2, 2\) and a of shape \(2, 4, 4\) call for 3"):
        ALL["conv_mse"].loss(params, {**data, "a": np.ones((2, 4, 4))})


def test_labels_out_of_range_are_named():
    params, data = softmax_ce.example(np.random.default_rng(0), batch=4)
    for labels in ([0, 3, 1, 5], [[0], [3], [1], [5]]):
        with pytest.raises(ValueError, match=r"^t: expected .*; read as class labels, 3 and 5 \(at indices 1 and 3\) "
                                             r"are out of range for 3 classes, whose labels are 0 to 2") as err:
            softmax_ce.loss(params, {**data, "t": np.array(labels)})
        assert "np.eye(3)[labels] turns" in str(err.value)  # the fix, for labels in range
    # labels counted from 1: the hint says so, and its fix is accepted
    ones = np.array([1, 3, 2, 3])
    with pytest.raises(ValueError, match=r"3 and 3 \(at indices 1 and 3\) are out of range.*labels counted from 1\? "
                                         r"np\.eye\(3\)\[labels - 1\]"):
        softmax_ce.loss(params, {**data, "t": ones})
    assert np.isfinite(softmax_ce.loss(params, {**data, "t": np.eye(3)[ones - 1]}))


def test_targets_that_are_not_probabilities(monkeypatch):
    from backprop_lib import _validate

    monkeypatch.setattr(_validate, "_WARNED", set())
    params, data = softmax_ce.example(np.random.default_rng(0), batch=4)
    negative = _with_entry(data["t"], (2, 1), -0.5)
    with pytest.raises(ValueError, match=r"^t: 1 of 12 entries is negative, the first -0\.5 at index \(2, 1\)"):
        softmax_ce.grads(params, {**data, "t": negative})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rows that sum to 1 up to rounding: no warning
        softmax_ce.loss(params, {**data, "t": 0.9 * data["t"] + 0.1 / 3})
    scores = {**data, "t": 2.0 * data["t"]}  # rows sum to 2: chapter 2's general case, allowed, said once
    with pytest.warns(_validate.TargetWarning, match=r"^t: 4 of 4 rows do not sum to 1 \(row 0 sums to 2\); "
                                                     r"chapter 2's general case.*shown once"):
        report = check_gradients(softmax_ce.loss, softmax_ce.grads, params, scores)
    report.assert_ok()  # the gradient is right for such targets
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once: not again
        softmax_ce.loss(params, scores)


@pytest.mark.parametrize("swap", ["both", "loss twice", "grads twice"])
def test_check_gradients_with_loss_and_grads_swapped_names_the_order(swap):
    params, data = frobenius.example(np.random.default_rng(0), batch=3)
    loss, grads = {"both": (frobenius.grads, frobenius.loss), "loss twice": (frobenius.loss, frobenius.loss),
                   "grads twice": (frobenius.grads, frobenius.grads)}[swap]
    with pytest.raises(ValueError, match=r"^check_gradients: (grads returned float64, not a dict|loss returned a "
                                         r"dict, not a number).*are loss and grads swapped\? The order is "
                                         r"check_gradients\(loss, grads, params, data\)"):
        check_gradients(loss, grads, params, data)


def test_a_ragged_list_is_named():
    params, data = softmax_ce.example(np.random.default_rng(0), batch=3)
    ragged = [list(row) for row in data["x"]]
    ragged[2] = ragged[2][:4]
    with pytest.raises(ValueError, match=r"^x: not an array: x\[2\] has 4 entries but x\[0\] has 5 entries; "
                                         r"the rows of a nested list must all have the same length"):
        softmax_ce.loss(params, {**data, "x": ragged})

"""check_derivation: a reader's gradient judged entry by entry, for any subset of the parameters."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lib.gradcheck import DerivationReport, check_derivation
from backprop_lib.models import ALL, frobenius, three_layer


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("batch", [1, 4])
def test_the_hand_derived_grads_pass_entry_by_entry(name, batch):
    model = ALL[name]
    params, data = model.example(np.random.default_rng(2), batch)
    report = check_derivation(model.loss, model.grads, params, data)
    assert isinstance(report, DerivationReport) and report.ok and report.assert_ok() is report
    assert [r.name for r in report.rows] == list(params)
    for r in report.rows:
        assert report.entry_ok(r.name).shape == np.shape(params[r.name]) and report.entry_ok(r.name).all()
        assert report.wrong_entries(r.name) == []
    assert "FAIL" not in str(report)


def test_one_wrong_entry_is_found_where_it_is():
    params, data = frobenius.example(np.random.default_rng(0), 6)

    def mine(p, d):
        g = frobenius.grads(p, d)
        g["W1"][2, 3] *= 1.0001
        return g

    report = check_derivation(frobenius.loss, mine, params, data)
    assert not report.ok
    assert report.wrong_entries("W1") == [(2, 3)]
    assert all(report.entry_ok(k).all() for k in ("b1", "W2", "b2"))
    assert 5e-5 < report["W1"].cs_error[2, 3] < 2e-4
    assert "FAIL: 1 of 15 entries" in str(report)
    with pytest.raises(AssertionError, match=r"'W1' at entry \(2, 3\)"):
        report.assert_ok()


def test_a_subset_of_the_parameters_and_a_single_array():
    params, data = three_layer.example(np.random.default_rng(1), 3)
    right = three_layer.grads(params, data)
    sub = check_derivation(three_layer.loss, lambda p, d: {"W2": right["W2"], "b3": right["b3"]}, params, data)
    assert [r.name for r in sub.rows] == ["W2", "b3"] and sub.ok
    one = check_derivation(three_layer.loss, lambda p, d: -right["b1"], params, data, name="b1")
    assert [r.name for r in one.rows] == ["b1"] and not one.ok
    np.testing.assert_allclose(one["b1"].cs_error, 2.0)  # a flipped sign: relative error exactly 2
    as_value = check_derivation(three_layer.loss, right["W1"], params, data, name="W1")
    assert as_value.ok


def test_a_gradient_of_the_wrong_shape_is_refused_before_any_number():
    params, data = frobenius.example(np.random.default_rng(0), 6)
    G = 2 * (frobenius.forward(params, data)["Y_pred"] - data["Y"])  # the seed's dJ/db2, one row per example
    with pytest.raises(ValueError, match=r"'b2' has shape \(6, 2\).*sum over the batch missing"):
        check_derivation(frobenius.loss, G, params, data, name="b2")
    with pytest.raises(ValueError, match=r"'W1' has shape \(5, 3\), but 'W1' has shape \(3, 5\); it looks transposed"):
        check_derivation(frobenius.loss, {"W1": np.zeros((5, 3))}, params, data)
    with pytest.raises(ValueError, match=r"\['W3'\] are not parameters"):
        check_derivation(frobenius.loss, {"W3": np.zeros(2)}, params, data)

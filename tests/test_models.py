"""The model contract, batch semantics and bad input, for every registered model."""

import numpy as np
import pytest

from backprop_lib import models
from backprop_lib.gradcheck import check_gradients

MODELS = list(models.ALL.items())
IDS = [name for name, _ in MODELS]
# each model's declaration (models.MODELS) says how its loss treats the batch (the mean over
# examples or the sum), which data array is the target and which the input


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
@pytest.mark.parametrize("batch", [1, 7])
def test_gradients_pass_both_checks(name, model, batch):
    params, data = model.example(np.random.default_rng(batch), batch=batch)
    report = check_gradients(model.loss, model.grads, params, data)
    report.assert_ok()
    assert report.max_cs < 1e-13, (name, report)


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
def test_contract(name, model):
    params, data = model.example(np.random.default_rng(0), batch=3)
    assert list(params) == list(model.MODEL.params) and list(data) == list(model.MODEL.data)
    assert all(v.dtype == np.float64 for v in (*params.values(), *data.values()))
    assert data[model.MODEL.input].shape[0] == 3
    value = model.loss(params, data)
    assert isinstance(value, float | np.floating) and np.isfinite(value)
    g = model.grads(params, data)
    assert list(g) == list(params)
    assert all(g[k].shape == params[k].shape and g[k].dtype == np.float64 for k in params)
    # the same expression evaluates with one complex parameter (the complex step)
    key = model.MODEL.params[0]
    assert np.iscomplexobj(model.loss({**params, key: params[key] + 1e-20j}, data))
    # forward and backward name the intermediates; backward contains the parameter gradients
    assert np.isclose(model.forward(params, data)["loss"], value)
    back = model.backward(params, data)
    assert all(np.array_equal(back[k], g[k]) for k in params)


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
def test_batch_is_the_mean_or_sum_of_examples(name, model):
    params, data = model.example(np.random.default_rng(5), batch=4)
    singles = [model.loss(params, {k: v[i : i + 1] for k, v in data.items()}) for i in range(4)]
    expected = np.mean(singles) if model.MODEL.reduction == "mean" else np.sum(singles)
    assert model.loss(params, data) == pytest.approx(expected, rel=1e-13)
    g_singles = [model.grads(params, {k: v[i : i + 1] for k, v in data.items()}) for i in range(4)]
    for key, g in model.grads(params, data).items():
        parts = np.array([gs[key] for gs in g_singles])
        combined = parts.mean(axis=0) if model.MODEL.reduction == "mean" else parts.sum(axis=0)
        np.testing.assert_allclose(g, combined, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
def test_missing_and_extra_keys(name, model):
    params, data = model.example(np.random.default_rng(0), batch=2)
    first = model.MODEL.params[0]
    missing = {k: v for k, v in params.items() if k != first}
    with pytest.raises(ValueError, match=rf"params: missing key\(s\) \['{first}'\]"):
        model.loss(missing, data)
    with pytest.raises(ValueError, match=r"params: unexpected key\(s\) \['W9'\]"):
        model.grads({**params, "W9": np.zeros(2)}, data)
    with pytest.raises(ValueError, match=r"data: missing key"):
        model.loss(params, {k: v for k, v in data.items() if k != model.MODEL.target})


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
def test_target_of_shape_b_1_is_rejected(name, model):
    """A (B, 1) target where (B,) is meant would broadcast the residual to (B, B)."""
    params, data = model.example(np.random.default_rng(0), batch=3)
    key = model.MODEL.target
    bad = data[key].reshape(3, 1) if data[key].ndim == 1 else data[key][:, :, None]
    with pytest.raises(ValueError, match=rf"{key}: expected .*{tuple(data[key].shape)}.*got shape {tuple(bad.shape)}".replace("(", r"\(").replace(")", r"\)")):
        model.loss(params, {**data, key: bad})


@pytest.mark.parametrize("name, model", MODELS, ids=IDS)
def test_wrong_rank_and_mismatched_sizes(name, model):
    params, data = model.example(np.random.default_rng(0), batch=2)
    x = model.MODEL.input
    with pytest.raises(ValueError, match=rf"{x}: expected a \d-D array .*got shape {tuple(data[x][0].shape)}".replace("(", r"\(").replace(")", r"\)")):
        model.loss(params, {**data, x: data[x][0]})  # one example without its batch axis
    # every parameter with one size too many along its first axis: the sizes no longer fit together,
    # and the error names an array and both of its shapes (the one it needs and the one it got), then
    # perhaps why
    names = "|".join((*model.MODEL.params, *model.MODEL.data))
    for key, value in params.items():
        bad = value.reshape(1) if value.ndim == 0 else np.concatenate([value, value[:1]], axis=0)
        with pytest.raises(ValueError, match=rf"^({names}): expected (a \d-D array of )?shape \(.*\), got shape \(.*\)(; .*)?$"):
            model.grads({**params, key: bad}, data)


def test_non_numeric_input_is_rejected():
    from backprop_lib.models import frobenius

    params, data = frobenius.example(np.random.default_rng(0), batch=2)
    with pytest.raises(ValueError, match="X: expected a numeric array"):
        frobenius.loss(params, {**data, "X": np.array([["a", "b", "c"]] * 2)})

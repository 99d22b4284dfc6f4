"""Chapter 3's helpers: the loss from an intermediate, the paths from b1, the weight-scale study."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from backprop_lib.explore import three_layer as ex  # noqa: E402
from backprop_lib.gradcheck import check_function  # noqa: E402
from backprop_lib.models import three_layer  # noqa: E402


def _example(seed: int = 2, batch: int = 1, scale: float = 1.0):
    return three_layer.example(np.random.default_rng(seed), batch=batch, scale=scale)


@pytest.mark.parametrize("key", ex.STAGES)
def test_loss_from_reproduces_the_loss(key):
    params, data = _example(batch=3)
    fw = three_layer.forward(params, data)
    assert ex.loss_from(params, data, key, fw[key]) == pytest.approx(three_layer.loss(params, data), rel=1e-14)


@pytest.mark.parametrize("key", ["z1", "a1", "z2", "a2", "z3"])
def test_gradient_of_loss_from_is_the_backward_delta(key):
    # two independent routes: numerical derivative of loss_from, and the library's backward
    params, data = _example(seed=4, batch=3)
    fw, bw = three_layer.forward(params, data), three_layer.backward(params, data)
    check_function(lambda v: ex.loss_from(params, data, key, v), fw[key], bw[key], key).assert_ok()


def test_loss_from_depends_only_on_what_is_downstream():
    params, data = _example(batch=2)
    fw = three_layer.forward(params, data)
    before = ex.loss_from(params, data, "a2", fw["a2"])
    changed = {**params, "W1": params["W1"] + 5.0, "b2": params["b2"] - 3.0}
    assert ex.loss_from(changed, data, "a2", fw["a2"]) == before
    assert ex.loss_from({**params, "W3": params["W3"] + 1.0}, data, "a2", fw["a2"]) != before


def test_loss_from_rejects_an_unknown_key():
    params, data = _example()
    with pytest.raises(ValueError, match="loss_from"):
        ex.loss_from(params, data, "x", data["x"])


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("unit", [0, 1])
def test_b1_paths_sum_to_the_gradient(batch, unit):
    params, data = _example(batch=batch)
    paths = ex.b1_paths(params, data, unit)
    assert [p.via for p in paths] == [0, 1]
    assert all(len(p.factors) == 7 and all(v.shape == (batch,) for v in p.factors.values()) for p in paths)
    total = sum(p.value for p in paths)
    assert total == pytest.approx(three_layer.grads(params, data)["b1"][unit], rel=1e-12)


def test_b1_paths_factors_are_the_local_derivatives():
    params, data = _example()
    fw = three_layer.forward(params, data)
    path2 = ex.b1_paths(params, data, 0)[1]
    f = {k: v[0] for k, v in path2.factors.items()}
    assert f["w21(3)"] == params["W3"][1, 0] and f["w12(2)"] == params["W2"][0, 1]
    assert f["f2'(z2(2))"] == pytest.approx(1.0 - np.tanh(fw["z2"][0, 1]) ** 2, rel=1e-14)
    assert f["dz1(1)/db1(1)"] == 1.0
    # the two paths share every factor except the two weights and the slope in layer 2
    path1 = ex.b1_paths(params, data, 0)[0]
    shared = ["dloss/da3", "f3'(z3)", "f1'(z1(1))"]
    assert all(path1.factors[k][0] == path2.factors[k][0] for k in shared)
    assert path1.value != pytest.approx(path2.value)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.05, 4.0), batch=st.integers(1, 5))
def test_paths_sum_to_the_gradient_for_random_networks(seed, scale, batch):
    params, data = _example(seed, batch, scale)
    g = three_layer.grads(params, data)["b1"]
    for unit in (0, 1):
        total = sum(p.value for p in ex.b1_paths(params, data, unit))
        assert total == pytest.approx(g[unit], rel=1e-10, abs=1e-15)


def test_draw_b1_paths_highlights_one_path_per_panel():
    params, data = _example()
    fig = ex.draw_b1_paths(params, data)
    try:
        assert len(fig.axes) == 2
        for ax, path in zip(fig.axes, ex.b1_paths(params, data)):
            assert f"{path.value:.6f}" in ax.get_title()
            thick = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None and a.arrow_patch.get_linewidth() > 2]
            assert len(thick) == 7  # b -> z -> a -> z2_j -> a2_j -> z3 -> y_hat -> loss
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="batch of 1"):
        ex.draw_b1_paths(*_example(batch=2))


def test_scaled_is_example_with_that_scale():
    params, data = _example(seed=9, batch=3)
    p3, d3 = _example(seed=9, batch=3, scale=3.0)
    s = ex.scaled(params, 3.0)
    assert all(np.allclose(s[k], p3[k], rtol=1e-15) for k in params)
    assert np.array_equal(data["x"], d3["x"])
    assert not np.shares_memory(s["W1"], params["W1"])


def test_layer_gradient_norms():
    params, data = _example(batch=5)
    g = three_layer.grads(params, data)
    norms = ex.layer_gradient_norms(params, data)
    expected = [np.linalg.norm(np.concatenate([g["W" + k].ravel(), g["b" + k]])) for k in "123"]
    np.testing.assert_allclose(norms, expected, rtol=1e-14)


def test_mean_slopes_at_zero_and_at_large_scale():
    params, data = _example(batch=8)
    np.testing.assert_allclose(ex.mean_slopes(ex.scaled(params, 0.0), data), [1.0, 1.0, 0.25], rtol=1e-15)
    big = ex.mean_slopes(ex.scaled(params, 30.0), data)
    assert (big < [1.0, 1.0, 0.25]).all() and big[2] < 1e-3


def test_scale_panel_is_the_scaled_network():
    params, data = _example(batch=6)
    panel = ex.scale_panel(params, data, 2.5)
    np.testing.assert_array_equal(panel["norms"], ex.layer_gradient_norms(ex.scaled(params, 2.5), data))
    np.testing.assert_array_equal(panel["slopes"], ex.mean_slopes(ex.scaled(params, 2.5), data))
    assert not np.array_equal(panel["norms"], ex.layer_gradient_norms(params, data))


def test_small_weights_order_the_layers_by_powers_of_the_scale():
    # delta^(l) carries the weights of every layer above l: the norm of layer l goes as s^(3 - l)
    study = ex.scale_study([1e-6, 2e-6], n_nets=5, batch=4, seed=1)
    exponents = np.log2(study["norms"][:, 1] / study["norms"][:, 0])
    np.testing.assert_allclose(exponents, np.broadcast_to([2.0, 1.0, 0.0], exponents.shape), atol=0.01)


def test_scale_study_shapes_and_determinism():
    a = ex.scale_study([0.5, 1.0, 2.0], n_nets=3, batch=4, seed=5)
    b = ex.scale_study([0.5, 1.0, 2.0], n_nets=3, batch=4, seed=5)
    assert a["norms"].shape == a["slopes"].shape == (3, 3, 3)
    np.testing.assert_array_equal(a["norms"], b["norms"])


def test_draw_scale_panel_bars_are_the_norms():
    params, data = _example(batch=4)
    panel = ex.scale_panel(params, data, 1.5)
    fig = ex.draw_scale_panel(panel, 1.5)
    try:
        heights = [bar.get_height() for bar in fig.axes[0].patches]
        np.testing.assert_allclose(heights, panel["norms"], rtol=1e-15)
        assert "1.5" in fig.axes[0].get_title()
    finally:
        plt.close(fig)


def test_draw_scale_study_draws_a_line_per_layer():
    study = ex.scale_study([0.5, 1.0, 2.0], n_nets=3, batch=4)
    fig = ex.draw_scale_study(study)
    try:
        left, right = fig.axes
        assert len(left.get_lines()) == 3 and len(right.get_lines()) == 3
        np.testing.assert_allclose(left.get_lines()[0].get_ydata(), np.median(study["norms"][:, :, 0], axis=0))
    finally:
        plt.close(fig)

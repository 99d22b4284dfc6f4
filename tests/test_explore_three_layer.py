"""Chapter 3's widget: each layer's gradient norm and mean slope as every parameter is scaled."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from backprop_lib.explore import three_layer as ex  # noqa: E402
from backprop_lib.models import three_layer  # noqa: E402


def _example(seed: int = 2, batch: int = 1, scale: float = 1.0):
    return three_layer.example(np.random.default_rng(seed), batch=batch, scale=scale)


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
    for seed in range(5):
        params, data = _example(seed=seed, batch=4)
        small, twice = (ex.scale_panel(params, data, s)["norms"] for s in (1e-6, 2e-6))
        np.testing.assert_allclose(np.log2(twice / small), [2.0, 1.0, 0.0], atol=0.01)


def test_draw_scale_panel_bars_are_the_norms():
    params, data = _example(batch=4)
    panel = ex.scale_panel(params, data, 1.5)
    panel["norms"][0] = 1e-12  # below the axis: drawn at its floor
    fig = ex.draw_scale_panel(panel, 1.5)
    try:
        ax = fig.axes[0]
        heights = [bar.get_height() for bar in ax.patches]
        np.testing.assert_allclose(heights, [1e-8, *panel["norms"][1:]], rtol=1e-15)
        assert "1.5" in ax.get_title()
        assert [t.get_text() for t in ax.texts] == [f"f' = {s:.2g}" for s in panel["slopes"]]
    finally:
        plt.close(fig)

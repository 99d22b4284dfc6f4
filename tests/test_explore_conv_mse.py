"""Chapter 1's widget: the loss along w11 and its tangent, as the sliders set them."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from backprop_lib.explore import conv_mse as ex  # noqa: E402
from backprop_lib.gradcheck import check_function, complex_step_gradient, numerical_gradient  # noqa: E402
from backprop_lib.models import conv_mse  # noqa: E402


def _example(seed: int = 2, batch: int = 1, n: int = 3, k: int = 2):
    return conv_mse.example(np.random.default_rng(seed), batch=batch, n=n, k=k)


def test_with_target_fills_every_target():
    _, data = _example(batch=3)
    d = ex.with_target(data, 0.25)
    assert d["y"].shape == (3,) and (d["y"] == 0.25).all()
    assert d["a"] is data["a"] and not (data["y"] == 0.25).all()


def test_loss_along_w11_is_the_loss_and_its_complex_step_is_the_gradient():
    params, data = _example(seed=5, batch=2)
    xs = np.array([-1.0, 0.3, 2.0])
    ys = ex.loss_along_w11(params, data, xs)
    for x, yv in zip(xs, ys):
        p = {**params, "w": params["w"].copy()}
        p["w"][0, 0] = x
        assert yv == pytest.approx(conv_mse.loss(p, data), rel=1e-15)
    w11 = np.array(params["w"][0, 0])
    slope = complex_step_gradient(lambda t: ex.loss_along_w11(params, data, [t])[0], w11)
    assert slope == pytest.approx(conv_mse.grads(params, data)["w"][0, 0], rel=1e-12)


def test_w11_tangent_applies_both_sliders():
    params, data = _example()
    t = ex.w11_tangent(params, data, w11=-1.5, y=0.8, lo=-3.0, hi=3.0, num=61)
    assert t["params"]["w"][0, 0] == -1.5 and (t["params"]["w"].ravel()[1:] == params["w"].ravel()[1:]).all()
    assert (t["data"]["y"] == 0.8).all() and params["w"][0, 0] != -1.5  # the input params are unchanged
    assert t["xs"].shape == t["ys"].shape == (61,) and t["xs"][0] == -3.0 and t["xs"][-1] == 3.0
    assert t["x0"] == -1.5 and t["y0"] == pytest.approx(conv_mse.loss(t["params"], t["data"]), rel=1e-15)
    # the curve is drawn for the slider's target too: at w11 = -1.5 it passes through y0
    assert np.interp(-1.5, t["xs"], t["ys"]) == pytest.approx(t["y0"], rel=1e-3)


def test_w11_tangent_slope_is_the_slope_of_its_curve():
    params, data = _example()
    t = ex.w11_tangent(params, data, w11=0.7, y=-0.4)
    cd = numerical_gradient(lambda v: ex.loss_along_w11(params, ex.with_target(data, -0.4), [v])[0], np.array(0.7))
    assert t["slope"] == pytest.approx(float(cd), rel=1e-8)


def test_w11_tangent_slope_changes_sign_with_the_target():
    # dL/dw11 = -2 (y - y_hat) * sum(...): moving y across y_hat flips the sign of the slope
    params, data = _example()
    y_hat = conv_mse.forward(params, data)["y_hat"][0]
    w11 = float(params["w"][0, 0])
    above = ex.w11_tangent(params, data, w11=w11, y=y_hat + 0.5)["slope"]
    below = ex.w11_tangent(params, data, w11=w11, y=y_hat - 0.5)["slope"]
    at = ex.w11_tangent(params, data, w11=w11, y=y_hat)["slope"]
    assert above * below < 0 and abs(at) < 1e-12 and above == pytest.approx(-below, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), batch=st.integers(1, 4), n=st.integers(2, 6), k=st.integers(1, 3),
       w11=st.floats(-3, 3), y=st.floats(-2, 2))
def test_w11_tangent_slope_property(seed, batch, n, k, w11, y):
    k = min(k, n)
    params, data = _example(seed=seed, batch=batch, n=n, k=k)
    t = ex.w11_tangent(params, data, w11=w11, y=y, num=5)
    check_function(lambda v: ex.loss_along_w11(t["params"], t["data"], [v])[0], np.array(w11),
                   np.array(t["slope"]), "dL/dw11").assert_ok()


def test_w11_tangent_rejects_a_bad_range():
    params, data = _example()
    with pytest.raises(ValueError, match="w11_tangent"):
        ex.w11_tangent(params, data, 0.0, 0.0, lo=1.0, hi=-1.0)
    with pytest.raises(ValueError, match="w11_tangent"):
        ex.w11_tangent(params, data, 0.0, 0.0, num=1)


def test_draw_w11_tangent_draws_the_derived_slope():
    params, data = _example()
    fig = ex.draw_w11_tangent(params, data, w11=0.5, y=1.0)
    t = ex.w11_tangent(params, data, w11=0.5, y=1.0)
    curve, tangent, point = fig.axes[0].lines[:3]
    np.testing.assert_allclose(curve.get_ydata(), t["ys"], rtol=1e-15)
    (x0, x1), (y0, y1) = tangent.get_xdata(), tangent.get_ydata()
    assert (y1 - y0) / (x1 - x0) == pytest.approx(t["slope"], rel=1e-9)
    assert point.get_xdata()[0] == 0.5 and point.get_ydata()[0] == pytest.approx(t["y0"], rel=1e-15)
    plt.close(fig)

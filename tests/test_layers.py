import numpy as np
import pytest
from reference_impl import full_convolution_reference

from backprop_lib import layers
from helpers import assert_derivative

RNG = np.random.default_rng(2)


def test_affine_gradients():
    x, W, b = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 2)), RNG.normal(size=2)
    out, cache = layers.affine_forward(x, W, b)
    np.testing.assert_allclose(out, x @ W + b)
    up = RNG.normal(size=out.shape)  # dL/dout for L = sum(up * out)
    dx, dW, db = layers.affine_backward(up, cache)
    assert_derivative(lambda v: (up * layers.affine_forward(v, W, b)[0]).sum(), x, dx, "x")
    assert_derivative(lambda v: (up * layers.affine_forward(x, v, b)[0]).sum(), W, dW, "W")
    assert_derivative(lambda v: (up * layers.affine_forward(x, W, v)[0]).sum(), b, db, "b")


@pytest.mark.parametrize("shape, kernel", [((3, 3), (2, 2)), ((6, 6), (3, 3)), ((5, 7), (2, 4)), ((4, 4), (1, 1))])
def test_conv_gradients(shape, kernel):
    a, w, b = RNG.normal(size=(2, *shape)), RNG.normal(size=kernel), np.array(0.3)
    z, cache = layers.conv2d_forward(a, w, b)
    assert z.shape == (2, shape[0] - kernel[0] + 1, shape[1] - kernel[1] + 1)
    up = RNG.normal(size=z.shape)
    da, dw, db = layers.conv2d_backward(up, cache)
    assert_derivative(lambda v: (up * layers.conv2d_forward(v, w, b)[0]).sum(), a, da, "a")
    assert_derivative(lambda v: (up * layers.conv2d_forward(a, v, b)[0]).sum(), w, dw, "w")
    assert_derivative(lambda v: (up * layers.conv2d_forward(a, w, v)[0]).sum(), b, db, "b")


def test_conv_is_cross_correlation():
    # z[0, 0] = sum_pq a[p, q] w[p, q]: the kernel is not flipped
    a = np.arange(9.0).reshape(1, 3, 3)
    w = np.array([[1.0, 0.0], [0.0, 0.0]])
    z, _ = layers.conv2d_forward(a, w, 0.0)
    np.testing.assert_array_equal(z[0], a[0, :2, :2])


def test_input_gradient_is_full_convolution():
    dz = RNG.normal(size=(1, 4, 4))
    w = RNG.normal(size=(3, 3))
    _, cache = layers.conv2d_forward(RNG.normal(size=(1, 6, 6)), w, 0.0)
    da, _, _ = layers.conv2d_backward(dz, cache)
    np.testing.assert_allclose(da[0], full_convolution_reference(dz[0], w), rtol=1e-13, atol=1e-13)


def test_layer_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"W: expected shape \(3, any\), got shape \(4, 2\)"):
        layers.affine_forward(np.zeros((5, 3)), np.zeros((4, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"b: expected shape \(2,\), got shape \(3,\)"):
        layers.affine_forward(np.zeros((5, 3)), np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"x: expected a 2-D array .* got shape \(3,\)"):
        layers.affine_forward(np.zeros(3), np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"a: expected a 3-D array .* got shape \(3, 3\)"):
        layers.conv2d_forward(np.zeros((3, 3)), np.zeros((2, 2)), 0.0)
    with pytest.raises(ValueError, match=r"kernel shape \(4, 4\) is larger than .* \(3, 3\)"):
        layers.conv2d_forward(np.zeros((1, 3, 3)), np.zeros((4, 4)), 0.0)

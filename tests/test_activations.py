import numpy as np
import pytest

from backprop_lib import activations as act
from helpers import assert_derivative

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    "f, fprime",
    [(act.sigmoid, act.sigmoid_prime), (act.tanh, act.tanh_prime)],
    ids=["sigmoid", "tanh"],
)
def test_elementwise_derivative(f, fprime):
    z = RNG.normal(scale=3.0, size=(4, 3))
    # the Jacobian of an element-wise map is diagonal: d f(z)_ij / d z_kl = f'(z_ij) [ij == kl]
    jac = np.einsum("ij,ik,jl->ijkl", fprime(z), np.eye(4), np.eye(3))
    assert_derivative(f, z, jac)


def test_sigmoid_values():
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(act.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    assert act.sigmoid(np.array(0.0)) == 0.5


def test_softmax_rows_sum_to_one_and_shift_invariant():
    a = RNG.normal(size=(5, 4))
    s = act.softmax(a)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(act.softmax(a + 100.0), s, rtol=1e-13)
    np.testing.assert_allclose(act.log_softmax(a), np.log(s), rtol=1e-13)


def test_softmax_jacobian_single_and_batched():
    a = RNG.normal(size=3)
    s = act.softmax(a)
    assert_derivative(act.softmax, a, act.softmax_jacobian(s), "a")
    batch = RNG.normal(size=(4, 3))
    jac = act.softmax_jacobian(act.softmax(batch))
    assert jac.shape == (4, 3, 3)
    # the batch Jacobian of row-wise softmax is block diagonal; compare each block
    full = np.einsum("bij,bc->bicj", jac, np.eye(4))
    assert_derivative(act.softmax, batch, full, "a")
    np.testing.assert_allclose(jac, np.swapaxes(jac, 1, 2))  # diag(s) - s s^T is symmetric


def test_softmax_vjp_equals_row_times_jacobian():
    s = act.softmax(RNG.normal(size=(6, 5)))
    g = RNG.normal(size=(6, 5))
    np.testing.assert_allclose(act.softmax_vjp(s, g), np.einsum("bi,bij->bj", g, act.softmax_jacobian(s)), rtol=1e-12, atol=1e-15)


def test_log_softmax_derivative():
    a = RNG.normal(size=(2, 3))
    s = act.softmax(a)
    jac = np.einsum("bc,ij->bicj", np.eye(2), np.eye(3))[:, :, :, :] - np.einsum("bc,bj->bcj", np.eye(2), s)[:, None, :, :]
    assert_derivative(act.log_softmax, a, jac, "a")


def test_tanh_jacobian():
    h = RNG.normal(size=4)
    assert_derivative(act.tanh, h, act.tanh_jacobian(act.tanh(h)), "h")
    assert act.tanh_jacobian(act.tanh(RNG.normal(size=(3, 4)))).shape == (3, 4, 4)


def test_extreme_inputs_raise_nothing():
    big = np.array([-1e4, -710.0, -50.0, 0.0, 50.0, 710.0, 1e4])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        s = act.sigmoid(big)
        t = act.tanh(big)
        sm = act.softmax(np.stack([big, -big]))
        ls = act.log_softmax(np.stack([big, -big]))
        sp = act.sigmoid_prime(big)
    for out in (s, t, sm, ls, sp):
        assert np.isfinite(out).all()
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    np.testing.assert_allclose(sm.sum(axis=1), 1.0)
    assert ls.max() <= 0.0


def test_complex_input_is_analytic():
    # the complex step through sigmoid at a large negative real part must not produce nan
    z = np.array([-800.0, -3.0, 0.0, 3.0, 800.0]) + 1e-20j
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = act.sigmoid(z)
        sm = act.softmax(np.array([1000.0, 0.0, -1000.0]) + 1e-20j)
    assert np.isfinite(s).all() and np.isfinite(sm).all()
    np.testing.assert_allclose(s.imag / 1e-20, act.sigmoid_prime(z.real), rtol=1e-14, atol=1e-300)


# the pairs a backward pass takes from one exponential (sigmoid_and_prime, tanh_and_prime)
WIDE = np.concatenate([RNG.normal(scale=s, size=500) for s in (1e-9, 1e-3, 0.1, 0.3, 1.0, 3.0, 30.0)]
                      + [np.array([0.0, -0.0, 0.25, -0.25, np.nextafter(0.25, 0), 1e-300, 19.0, 400.0, -400.0, 1e4])])


def test_sigmoid_and_prime_match_the_separate_functions():
    s, ds = act.sigmoid_and_prime(WIDE.reshape(10, -1))
    assert s.shape == ds.shape == (10, WIDE.size // 10)
    np.testing.assert_array_equal(s.ravel(), act.sigmoid(WIDE))
    np.testing.assert_allclose(ds.ravel(), act.sigmoid_prime(WIDE), rtol=4.5e-16, atol=0)  # e r r against e / (1+e)^2
    assert np.all(ds.ravel()[np.abs(WIDE) < 700] > 0)  # no 1 - s rounding to 0 before e^{-|z|} underflows


def test_tanh_and_prime_match_np_tanh_and_tanh_prime():
    t, dt = act.tanh_and_prime(WIDE)
    np.testing.assert_array_equal(dt, act.tanh_prime(WIDE))
    # (1 - e) / (1 + e) away from 0, np.tanh near it: within two units in the last place of np.tanh
    np.testing.assert_allclose(t, np.tanh(WIDE), rtol=4.5e-16, atol=0)
    assert np.array_equal(np.signbit(t), np.signbit(WIDE))  # -0.0 stays -0.0
    near = np.abs(WIDE) < act.TANH_DIRECT
    np.testing.assert_array_equal(t[near], np.tanh(WIDE[near]))
    # saturated: tanh' keeps its digits where 1 - tanh^2 is 0
    assert dt[WIDE == 19.0][0] == pytest.approx(4 * np.exp(-38.0), rel=1e-14) and 1 - np.tanh(19.0) ** 2 == 0


def test_the_pairs_take_complex_input_and_scalars():
    z = RNG.normal(size=(3, 2)) + 1e-20j
    for pair, f, fprime in ((act.sigmoid_and_prime, act.sigmoid, act.sigmoid_prime),
                            (act.tanh_and_prime, act.tanh, act.tanh_prime)):
        v, dv = pair(z)
        np.testing.assert_allclose(v, f(z), rtol=1e-15)
        np.testing.assert_allclose(dv, fprime(z), rtol=1e-15)
        np.testing.assert_allclose(v.imag / 1e-20, fprime(z.real), rtol=1e-14)  # the complex step through the pair
        v0, dv0 = pair(0.5)
        assert np.ndim(v0) == np.ndim(dv0) == 0 and float(dv0) == pytest.approx(float(fprime(0.5)), rel=1e-15)


def test_the_jacobian_helpers_layout_shows_in_a_product_with_a_non_square_matrix():
    """softmax_jacobian and tanh_jacobian are symmetric, each its own transpose, so no check of one
    alone can see its layout (rows the outputs, columns the inputs). Their products with a
    non-square W can: against the numerical Jacobian of the composition, the other layout has the
    transposed shape and is refused."""
    W = RNG.normal(size=(5, 3))
    v = RNG.normal(size=5)
    s = act.softmax(v @ W)
    J = act.softmax_jacobian(s)
    np.testing.assert_allclose(J, J.T, rtol=0, atol=0)
    assert_derivative(lambda u: act.softmax(u @ W), v, J @ W.T, "v")  # (3, 5): a row per output
    with pytest.raises(ValueError, match=r"analytic derivative has shape \(5, 3\), expected \(3, 5\)"):
        assert_derivative(lambda u: act.softmax(u @ W), v, W @ J, "v")
    f = act.tanh(v)
    assert_derivative(lambda u: act.tanh(u) @ W, v, W.T @ act.tanh_jacobian(f), "v")

import numpy as np
import pytest

from backprop_lib import losses
from helpers import assert_derivative

RNG = np.random.default_rng(1)


@pytest.mark.parametrize(
    "loss, grad",
    [
        (losses.sum_of_squares, losses.sum_of_squares_grad),
        (losses.mse, losses.mse_grad),
        (losses.frobenius_sq, losses.frobenius_sq_grad),
        (losses.cross_entropy, losses.cross_entropy_grad),
    ],
    ids=["sum_of_squares", "mse", "frobenius_sq", "cross_entropy"],
)
def test_gradient(loss, grad):
    p = RNG.normal(size=(5, 3))
    t = np.eye(3)[RNG.integers(3, size=5)]
    assert_derivative(lambda q: loss(q, t), p, grad(p, t), "pred")


def test_nll_gradient():
    s = RNG.uniform(0.1, 1.0, size=(4, 3))
    t = RNG.uniform(size=(4, 3))
    assert_derivative(lambda q: losses.nll(q, t), s, losses.nll_grad(s, t), "s")


def test_values():
    p = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = np.zeros((2, 2))
    assert losses.sum_of_squares(p, t) == 30.0
    assert losses.mse(p, t) == 7.5
    assert losses.frobenius_sq(p, t) == pytest.approx(np.linalg.norm(p, "fro") ** 2, rel=1e-15)
    a = np.log(np.array([[0.2, 0.3, 0.5]]))
    assert losses.cross_entropy(a, np.array([[0.0, 1.0, 0.0]])) == pytest.approx(-np.log(0.3), rel=1e-14)


def test_cross_entropy_gradient_with_unnormalised_targets():
    # targets that do not sum to 1: the general (s * sum t - t) / B is right, (s - t) / B is not
    a = RNG.normal(size=(3, 4))
    t = RNG.uniform(0, 2, size=(3, 4))
    g = losses.cross_entropy_grad(a, t)
    assert_derivative(lambda q: losses.cross_entropy(q, t), a, g, "logits")
    naive = (losses.softmax(a) - t) / 3
    assert np.abs(naive - g).max() > 1e-3


def test_cross_entropy_is_stable_for_large_logits():
    a = np.array([[1000.0, 0.0, -1000.0]])
    t = np.array([[0.0, 0.0, 1.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value = losses.cross_entropy(a, t)
        grad = losses.cross_entropy_grad(a, t)
    assert value == pytest.approx(2000.0, rel=1e-15)
    assert np.isfinite(grad).all()


def test_target_that_would_broadcast_is_rejected():
    with pytest.raises(ValueError, match=r"target.*\(4,\).*\(4, 1\)"):
        losses.mse(np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"t.*\(2, 3\).*\(3, 2\)"):
        losses.cross_entropy(np.zeros((2, 3)), np.zeros((3, 2)))


@pytest.mark.parametrize("name", ["sum_of_squares", "sum_of_squares_grad", "mse", "mse_grad"])
def test_unchecked_forms_compute_the_same_for_real_and_complex(name):
    """The models call the ``*_unchecked`` forms on arrays they checked once: the same numbers,
    bit for bit, and complex in, complex out (the complex step)."""
    checked, unchecked = getattr(losses, name), getattr(losses, f"{name}_unchecked")
    p, t = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    assert np.array_equal(unchecked(p, t), checked(p, t))
    stepped = p + 1e-20j
    assert np.iscomplexobj(unchecked(stepped, t)) and np.array_equal(unchecked(stepped, t), checked(stepped, t))

"""The engine: every backward rule against central differences and the complex step, on fixed
and on random shapes and broadcasts, and the five models' losses written on the engine
(models.on_engine) against their hand-derived grads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_lib import autodiff as ad
from backprop_lib.autodiff import check_rule
from backprop_lib.gradcheck import check_gradients, relative_error
from backprop_lib.models import ALL, on_engine

RNG = np.random.default_rng(11)


def hand_vs_engine(hand: np.ndarray, engine: np.ndarray) -> float:
    """Largest entry-wise relative error, the denominator floored at 1e-8 of the largest entry
    (an entry that cancels to ~1e-17 in one route and ~1e-18 in the other is no disagreement)."""
    scale = max(float(np.max(np.abs(hand), initial=0.0)), 1e-300)
    return float(relative_error(hand, engine, tiny=1e-8 * scale).max(initial=0.0))


UNARY = {
    "sigmoid": ad.sigmoid, "tanh": ad.tanh, "exp": ad.exp, "square": ad.square,
    "softmax": ad.softmax, "log_softmax": ad.log_softmax,
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_rule(name):
    check_rule(UNARY[name], RNG.normal(size=(4, 3)))


def test_log_rule():
    check_rule(ad.log, RNG.uniform(0.2, 3.0, size=(3, 4)))


@pytest.mark.parametrize("op", [ad.add, ad.sub, ad.mul])
@pytest.mark.parametrize("shapes", [((4, 3), (4, 3)), ((4, 3), (3,)), ((4, 3), ()), ((3,), (4, 3)),
                                    ((4, 1), (1, 3)), ((2, 4, 3), (4, 1))])
def test_binary_rules_with_broadcasting(op, shapes):
    check_rule(op, RNG.normal(size=shapes[0]), RNG.normal(size=shapes[1]))


def test_matmul_rule():
    check_rule(ad.matmul, RNG.normal(size=(5, 3)), RNG.normal(size=(3, 2)))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("reduce", [ad.sum_, ad.mean])
def test_sum_and_mean_rules(reduce, axis, keepdims):
    check_rule(lambda a: reduce(a, axis, keepdims), RNG.normal(size=(2, 3, 4)))


@pytest.mark.parametrize("a_shape, w_shape", [((1, 3, 3), (2, 2)), ((3, 5, 4), (2, 3)), ((2, 4, 4), (1, 1)),
                                              ((2, 3, 3), (3, 3))])
def test_conv2d_rule(a_shape, w_shape):
    check_rule(ad.conv2d, RNG.normal(size=a_shape), RNG.normal(size=w_shape))


def test_conv2d_value_is_the_valid_cross_correlation():
    a, w = RNG.normal(size=(2, 4, 5)), RNG.normal(size=(2, 3))
    z = ad.conv2d(ad.constant(a), ad.tensor(w)).value
    assert z.shape == (2, 3, 3)
    assert np.isclose(z[1, 2, 1], (a[1, 2:4, 1:4] * w).sum(), rtol=1e-14)  # not flipped


def test_methods_and_operators_are_the_functions():
    x, y = RNG.normal(size=(3, 2)), RNG.normal(size=(2,))
    check_rule(lambda a, b: -(2.0 - a) * b + 1.0 - a.mean(axis=0) + (a @ ad.constant(np.ones((2, 2)))), x, y)


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_broadcasting_on_random_shapes(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3), label="shape"))
    keep = data.draw(st.integers(0, len(shape)), label="trailing dims kept")
    other = tuple(1 if data.draw(st.booleans()) else n for n in shape[len(shape) - keep:])
    op = data.draw(st.sampled_from([ad.add, ad.sub, ad.mul]), label="op")
    first = data.draw(st.booleans(), label="broadcast operand first")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    x, y = rng.normal(size=shape), rng.normal(size=other)
    check_rule(op, *((y, x) if first else (x, y)))


@given(b=st.integers(1, 5), n=st.integers(1, 5), m=st.integers(1, 5), seed=st.integers(0, 2**16))
@settings(max_examples=30, deadline=None)
def test_matmul_on_random_shapes(b, n, m, seed):
    rng = np.random.default_rng(seed)
    check_rule(ad.matmul, rng.normal(size=(b, n)), rng.normal(size=(n, m)))


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 2**16), data=st.data())
@settings(max_examples=40, deadline=None)
def test_reductions_and_softmax_on_random_shapes(shape, seed, data):
    x = np.random.default_rng(seed).normal(size=shape)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    check_rule(lambda a: ad.sum_(a, axis, keepdims), x)
    check_rule(lambda a: ad.mean(a, axis, keepdims), x)
    check_rule(ad.softmax, x)
    check_rule(ad.log_softmax, x)


@given(bsz=st.integers(1, 3), h=st.integers(1, 5), w=st.integers(1, 5), data=st.data())
@settings(max_examples=30, deadline=None)
def test_conv2d_on_random_shapes(bsz, h, w, data):
    kh, kw = data.draw(st.integers(1, h)), data.draw(st.integers(1, w))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    check_rule(ad.conv2d, rng.normal(size=(bsz, h, w)), rng.normal(size=(kh, kw)))


# The graph and the backward pass


def test_a_node_used_twice_gets_both_contributions():
    x = RNG.normal(size=4)
    t = ad.tensor(x)
    (t * t + t).sum().backward()
    np.testing.assert_allclose(t.grad, 2 * x + 1, rtol=1e-15)


def test_backward_twice_gives_the_same_gradient_not_the_sum():
    t = ad.tensor(RNG.normal(size=3))
    loss = ad.tanh(t).sum()
    loss.backward()
    first = t.grad.copy()
    loss.backward()
    np.testing.assert_array_equal(t.grad, first)


def test_data_get_no_gradient_and_parameters_do():
    x, w = ad.constant(RNG.normal(size=(3, 2))), ad.tensor(RNG.normal(size=(2, 1)))
    (x @ w).sum().backward()
    assert x.grad is None and w.grad is not None


def test_a_deep_graph_does_not_exhaust_the_recursion_limit():
    t = ad.tensor(np.array([0.3]))
    out = t
    for _ in range(5000):
        out = out * 1.0
    out.sum().backward()
    assert t.grad[0] == 1.0


def test_topological_order_puts_parents_first():
    a = ad.tensor(1.0)
    b = ad.tanh(a)
    c = b * a
    d = c + b
    order = ad.topological_order(d)
    pos = {id(n): i for i, n in enumerate(order)}
    assert len(order) == len({id(n) for n in order}) and order[-1] is d
    assert all(pos[id(p)] < pos[id(n)] for n in order for p in n.parents)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="scalar"):
        ad.tensor(np.ones(3)).backward()
    with pytest.raises(ValueError, match="matmul"):
        ad.matmul(ad.tensor(np.ones((2, 3))), ad.tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match="conv2d"):
        ad.conv2d(ad.constant(np.ones((1, 2, 2))), ad.tensor(np.ones((3, 3))))


def test_unbroadcast_sums_over_the_batch():
    g = RNG.normal(size=(5, 3))
    np.testing.assert_allclose(ad.unbroadcast(g, (3,)), g.sum(axis=0))
    np.testing.assert_allclose(ad.unbroadcast(g, (1, 3)), g.sum(axis=0, keepdims=True))
    np.testing.assert_allclose(ad.unbroadcast(g, ()), g.sum())
    assert ad.unbroadcast(g, (5, 3)) is g


# The five losses on the engine against the hand-derived gradients (the independent check)


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("batch", [1, 2, 5, 16])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_engine_agrees_with_the_hand_derived_grads(name, batch, seed):
    model = ALL[name]
    params, data = model.example(np.random.default_rng(seed), batch)
    leaves = {k: ad.tensor(v, name=k) for k, v in params.items()}
    loss = on_engine.LOSSES[name](leaves, data)
    loss.backward()
    assert abs(loss.value - model.loss(params, data)) <= 1e-12 * max(1.0, abs(model.loss(params, data)))
    hand = model.grads(params, data)
    assert set(leaves) == set(hand)
    for k, g in hand.items():
        assert leaves[k].grad.shape == np.shape(params[k])
        assert hand_vs_engine(g, leaves[k].grad) <= 1e-10, (name, k)


@pytest.mark.parametrize("name", list(ALL))
def test_engine_gradients_pass_the_numerical_check(name):
    params, data = ALL[name].example(np.random.default_rng(5), 3)
    check_gradients(ALL[name].loss, on_engine.grads(name), params, data).assert_ok()


def test_engine_catches_a_one_entry_error_in_a_hand_derived_gradient():
    model = ALL["frobenius"]
    params, data = model.example(np.random.default_rng(0), 4)
    hand = model.grads(params, data)
    hand["W1"][1, 2] *= 1.0001
    engine = on_engine.grads("frobenius")(params, data)
    assert hand_vs_engine(hand["W1"], engine["W1"]) > 1e-5


def test_hand_vs_engine_is_relative_with_a_floor():
    assert hand_vs_engine(np.array([1.0, 1e-20]), np.array([1.0, -1e-20])) < 1e-11
    assert hand_vs_engine(np.array([1.0, 2.0]), np.array([1.0, 2.002])) == pytest.approx(1e-3, rel=1e-3)


def test_every_model_has_its_loss_on_the_engine():
    """Chapter 6 reads the losses from on_engine: every registered model's, written in its own module."""
    assert list(on_engine.LOSSES) == list(ALL)
    assert all(loss.__module__ == ALL[name].__name__ for name, loss in on_engine.LOSSES.items())


def test_check_rule_catches_a_wrong_rule():
    def bad_tanh(a):  # the rule of 1 + tanh^2: a sign slip
        f = np.tanh(a.value)
        return ad.Tensor(f, (a,), lambda g: (g * (1.0 + f * f),), "tanh")

    with pytest.raises(AssertionError):
        check_rule(bad_tanh, RNG.normal(size=(3, 2)))


def test_check_rule_names_the_inputs_and_returns_its_report():
    x, w = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 2))
    report = check_rule(ad.matmul, x, w)
    assert [r.name for r in report.rows] == ["input 0", "input 1"] and report.ok
    named = check_rule(ad.matmul, A=x, B=w)
    assert [r.name for r in named.rows] == ["A", "B"]
    assert named["A"].analytic.shape == x.shape and named["B"].analytic.shape == w.shape


def test_an_ndarray_on_the_left_gives_a_tensor_and_the_right_gradients():
    """ndarray * t, ndarray @ t (and +, -) build Tensors through t's reflected operators, not an
    object array of Tensors (NumPy defers: Tensor.__array_ufunc__ is None)."""
    A, x = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 2))
    M = RNG.normal(size=x.shape)
    t = ad.tensor(x)
    for out, value in [(A @ t, A @ x), (M * t, M * x), (np.float64(2.5) * t, 2.5 * x),
                       (M + t, M + x), (M - t, M - x)]:
        assert isinstance(out, ad.Tensor) and out.shape == value.shape
        np.testing.assert_array_equal(out.value, value)
    # the gradients, against both numerical derivatives (check_rule raises if a rule is wrong)
    check_rule(lambda u: A @ u, x=x)
    check_rule(lambda u: M * u, x=x)
    check_rule(lambda u: M - u, x=x)
    with pytest.raises(ValueError, match=r"matmul: need \(B, n\) @ \(n, m\), got \(3, 4\) @ \(3, 2\)"):
        A.T @ t

r"""A small reverse-mode automatic differentiation engine over NumPy arrays.

micrograd for arrays. A :class:`Tensor` holds a value, the tensors it was
computed from (its parents) and a rule that sends a gradient back to them.
Every operation below computes its value and records that rule;
:meth:`Tensor.backward` then visits the recorded graph from the loss back to
the leaves in reverse topological order, so that each node has its whole
gradient before it passes it on:

.. math::
    \frac{\partial L}{\partial u} = \sum_{v \text{ uses } u}
    \frac{\partial L}{\partial v}\,\frac{\partial v}{\partial u}.

Each rule is a vector-Jacobian product: given ``g``, the gradient of the loss
with respect to the operation's output (the output's shape), it returns the
gradient with respect to each input (each input's shape). Each is a local
derivative that one of the book's chapters derives by hand; the docstrings
name the chapter. The rules call nothing of :mod:`backprop_lib.models` or
:mod:`backprop_lib.layers`; the forward values of sigmoid, softmax and
log-softmax come from :mod:`backprop_lib.activations`.

Shapes follow the package: rows are examples, a gradient has its variable's
shape. Values may be complex (the complex step passes through every
operation). Data are leaves with ``requires_grad=False``: they get no
gradient, and the rules skip the work for them. The five losses of the book
written on this engine are in :mod:`backprop_lib.models.on_engine`;
:func:`check_rule` checks any operation's rules against both numerical
derivatives.

References: Baydin et al. (2018), Griewank & Walther (2008); A. Karpathy's
micrograd.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .activations import log_softmax as _log_softmax
from .activations import sigmoid as _sigmoid
from .activations import softmax as _softmax
from .gradcheck import GradCheckReport, check_gradients

Grads = tuple[np.ndarray | None, ...]  # one gradient per parent
Rule = Callable[[np.ndarray], Grads]
Axis = int | tuple[int, ...] | None


def _array(value: Any) -> np.ndarray:
    arr = np.asarray(value)
    dtype = np.complex128 if np.iscomplexobj(arr) else np.float64
    return arr.astype(dtype, copy=False)


class Tensor:
    """A node of the recorded graph.

    ``value``: the array of the forward pass. ``parents``: the tensors it was
    computed from. ``rule``: ``g -> (gradient for each parent)``, g of
    ``value``'s shape, each result of its parent's shape (None where the
    parent needs none). ``grad``: dL/d(this node), ``value``'s shape, set by
    :meth:`backward` of the loss L. ``op`` and ``name`` label the node.
    """

    __slots__ = ("value", "parents", "rule", "op", "name", "requires_grad",
                 "grad")
    # NumPy defers to the operators below: ndarray * t and ndarray @ t call
    # t.__rmul__ and t.__rmatmul__, and give a Tensor (not an object array).
    __array_ufunc__ = None

    def __init__(self, value: Any, parents: tuple[Tensor, ...] = (),
                 rule: Rule | None = None, op: str = "leaf", name: str = "",
                 requires_grad: bool = True) -> None:
        self.value = _array(value)
        self.parents = parents
        self.rule = rule
        self.op = op
        self.name = name
        self.requires_grad = requires_grad
        self.grad: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __repr__(self) -> str:
        return f"Tensor({self.name or self.op}, shape={self.shape})"

    def named(self, name: str) -> Tensor:
        """Give the node a name (shown in drawings of the graph); return it."""
        self.name = name
        return self

    def backward(self) -> None:
        """Set ``.grad`` of every node to dL/d(node), for L = self, a scalar."""
        if self.value.size != 1:
            raise ValueError(
                f"backward: the loss must be a scalar, got shape {self.shape}")
        order = topological_order(self)
        for node in order:
            node.grad = None
        self.grad = np.ones_like(self.value)  # dL/dL = 1
        for node in reversed(order):  # each node after all of its consumers
            if node.rule is None or node.grad is None:  # leaf, or no param
                continue
            for parent, g in zip(node.parents, node.rule(node.grad)):
                if g is not None and parent.requires_grad:
                    # the sum over the consumers of parent
                    parent.grad = g if parent.grad is None else parent.grad + g

    # Operators, so that the losses read like the chapters' formulas.
    def __add__(self, other: Any) -> Tensor: return add(self, other)
    def __radd__(self, other: Any) -> Tensor: return add(other, self)
    def __sub__(self, other: Any) -> Tensor: return sub(self, other)
    def __rsub__(self, other: Any) -> Tensor: return sub(other, self)
    def __neg__(self) -> Tensor: return mul(self, -1.0)
    def __mul__(self, other: Any) -> Tensor: return mul(self, other)
    def __rmul__(self, other: Any) -> Tensor: return mul(other, self)
    def __matmul__(self, other: Any) -> Tensor: return matmul(self, other)
    def __rmatmul__(self, other: Any) -> Tensor: return matmul(other, self)

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return sum_(self, axis, keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return mean(self, axis, keepdims)


def tensor(value: Any, name: str = "", requires_grad: bool = True) -> Tensor:
    """A leaf: a parameter (``requires_grad=True``) or data (``False``)."""
    return Tensor(value, name=name, requires_grad=requires_grad)


def constant(value: Any, name: str = "") -> Tensor:
    """A leaf that needs no gradient (data, targets, numbers)."""
    return Tensor(value, name=name, requires_grad=False)


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else constant(x)


def _node(value: np.ndarray, parents: tuple[Tensor, ...], rule: Rule,
          op: str) -> Tensor:
    needs = any(p.requires_grad for p in parents)
    return Tensor(value, parents, rule, op, requires_grad=needs)


def topological_order(root: Tensor) -> list[Tensor]:
    """Every node root depends on, each after its parents (root last)."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:  # depth-first without recursion: a deep graph is fine
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))  # comes back after its parents
            stack.extend((p, False) for p in node.parents
                         if id(p) not in seen)
    return order


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    r"""Sum ``g`` back to ``shape``: the transpose of broadcasting.

    Sums over the leading axes that broadcasting added and over the axes
    where ``shape`` has 1. A bias b of shape (m,) added to every row of a
    (B, m) array gets :math:`\sum_b g_b`: chapter 2's
    :math:`[1, \dots, 1]\cdot\partial L/\partial a`, chapter 4's
    :math:`\mathbf 1^T G`.
    """
    if g.shape == shape:
        return g  # rules never write into a gradient: sharing it is safe
    if g.ndim > len(shape):  # leading axes added by broadcasting
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=ones, keepdims=True)


def add(a: Any, b: Any) -> Tensor:
    r""":math:`a + b`, broadcast. Rule: ``g`` to each, summed to its shape.

    Every bias of chapters 1-5: :math:`\partial(xW + b)/\partial b = 1`, and
    the batch sum of :func:`unbroadcast`.
    """
    a, b = _t(a), _t(b)

    def rule(g: np.ndarray) -> Grads:
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(g, b.shape) if b.requires_grad else None)

    return _node(a.value + b.value, (a, b), rule, "+")


def sub(a: Any, b: Any) -> Tensor:
    r""":math:`a - b`, broadcast. Rule: ``(g, -g)``, summed to the shapes.

    Chapter 1's :math:`\partial(y - \hat y)/\partial \hat y = -1`.
    """
    a, b = _t(a), _t(b)

    def rule(g: np.ndarray) -> Grads:
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(-g, b.shape) if b.requires_grad else None)

    return _node(a.value - b.value, (a, b), rule, "-")


def mul(a: Any, b: Any) -> Tensor:
    r""":math:`a \odot b`, broadcast. Rule: ``(g * b, g * a)``, summed back.

    Chapter 1's :math:`\partial \hat y/\partial o_{ij} = v_{ij}` (the seed's
    wa, ..., wd) and :math:`\partial \hat y/\partial v_{ij} = o_{ij}`.
    """
    a, b = _t(a), _t(b)

    def rule(g: np.ndarray) -> Grads:
        return (unbroadcast(g * b.value, a.shape) if a.requires_grad else None,
                unbroadcast(g * a.value, b.shape) if b.requires_grad else None)

    return _node(a.value * b.value, (a, b), rule, "*")


def matmul(a: Any, b: Any) -> Tensor:
    r""":math:`a b`, (B, n) @ (n, m) -> (B, m). Rule: ``(g b^T, a^T g)``.

    Chapter 4 reads both off :math:`df = \operatorname{tr}(G^T d(ab))`;
    chapter 2's steps 4, 5, 8; chapter 3's :math:`a^{(l-1)T}\delta^{(l)}` and
    :math:`\delta^{(l+1)} W^{(l+1)T}`; chapter 5's result (2). The product
    :math:`a^T g` sums over the batch.
    """
    a, b = _t(a), _t(b)
    if a.value.ndim != 2 or b.value.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(
            f"matmul: need (B, n) @ (n, m), got {a.shape} @ {b.shape}")

    def rule(g: np.ndarray) -> Grads:
        return (g @ b.value.T if a.requires_grad else None,
                a.value.T @ g if b.requires_grad else None)

    return _node(a.value @ b.value, (a, b), rule, "@")


def sigmoid(a: Tensor) -> Tensor:
    r""":math:`\sigma(a)`. Rule: :math:`g \odot \sigma(1 - \sigma)`.

    Chapter 1's :math:`\partial o_{ij}/\partial z_{ij}`; chapter 2, step 6;
    chapter 3's :math:`f_3'`; chapter 4's :math:`\operatorname{sigmoid}'(h)`.
    """
    s = _sigmoid(a.value)
    return _node(s, (a,), lambda g: (g * s * (1.0 - s),), "sigmoid")


def tanh(a: Tensor) -> Tensor:
    r""":math:`\tanh a`. Rule: :math:`g \odot (1 - \tanh^2 a)`.

    Chapter 3's :math:`f_1' = f_2' = 1 - f^2`; chapter 5's
    :math:`\partial f/\partial h = \operatorname{diag}(1 - f^2)`.
    """
    f = np.tanh(a.value)
    return _node(f, (a,), lambda g: (g * (1.0 - f * f),), "tanh")


def exp(a: Tensor) -> Tensor:
    r""":math:`e^a`. Rule: :math:`g \odot e^a` (chapter 5's quotient rule)."""
    e = np.exp(a.value)
    return _node(e, (a,), lambda g: (g * e,), "exp")


def log(a: Tensor) -> Tensor:
    r"""Natural log. Rule: ``g / a`` (chapter 2, step 1: :math:`-t/(Bs)`)."""
    return _node(np.log(a.value), (a,), lambda g: (g / a.value,), "log")


def square(a: Tensor) -> Tensor:
    r""":math:`a \odot a`. Rule: :math:`2 a \odot g`.

    The :math:`-2(y - \hat y)` of chapters 1 and 3 (with the -1 of
    :func:`sub`), the :math:`2(Y_{pred} - Y)` of chapters 4 and 5.
    """
    return _node(a.value * a.value, (a,), lambda g: (2.0 * a.value * g,),
                 "square")


def _expand(g: np.ndarray, shape: tuple[int, ...], axis: Axis,
            keepdims: bool) -> np.ndarray:
    """Copy a reduced gradient back to ``shape``."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape).copy()


def sum_(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    r"""Sum over ``axis`` (all by default). Rule: ``g`` to every entry.

    Chapter 1's :math:`\hat y = \sum_{ij} v_{ij} o_{ij}`: every term receives
    :math:`\partial L/\partial \hat y`; chapter 4's squared Frobenius norm.
    """
    shape = a.shape
    out = a.value.sum(axis=axis, keepdims=keepdims)
    return _node(out, (a,), lambda g: (_expand(g, shape, axis, keepdims),),
                 "sum")


def mean(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    r"""Mean over ``axis`` (all by default). Rule: ``g / N`` to every entry.

    Chapter 1's :math:`\frac1n`; chapter 2's :math:`\frac1B`.
    """
    out = a.value.mean(axis=axis, keepdims=keepdims)
    n, shape = a.value.size // max(np.size(out), 1), a.shape
    return _node(out, (a,),
                 lambda g: (_expand(g, shape, axis, keepdims) / n,), "mean")


def softmax(a: Tensor) -> Tensor:
    r"""Softmax over the last axis. Rule, per row: :math:`s \odot (g - g s^T)`.

    That is :math:`g\,(\operatorname{diag}(s) - s^T s)` without the matrix:
    chapter 2, step 2; chapter 5's :math:`\partial g/\partial t`.
    """
    s = _softmax(a.value)

    def rule(g: np.ndarray) -> Grads:
        return (s * (g - (g * s).sum(axis=-1, keepdims=True)),)

    return _node(s, (a,), rule, "softmax")


def log_softmax(a: Tensor) -> Tensor:
    r"""Log-softmax over the last axis. Rule, per row: :math:`g - s\sum_k g_k`.

    Chapter 2's simplification: with :math:`g = -t/B` it is
    :math:`\frac1B(s \sum_k t_k - t) = \frac1B(s - t)`.
    """
    out = _log_softmax(a.value)
    s = np.exp(out)

    def rule(g: np.ndarray) -> Grads:
        return (g - s * g.sum(axis=-1, keepdims=True),)

    return _node(out, (a,), rule, "log_softmax")


def conv2d(a: Any, w: Tensor) -> Tensor:
    r"""Valid 2-D cross-correlation :math:`z_{bij} = \sum_{pq} a_{b,i+p,j+q} w_{pq}`, a (B, H, W), w (kh, kw).

    Output (B, H-kh+1, W-kw+1). Written as a sum of shifted copies of the input, one per
    kernel entry, so the rule reads off the same sum: with :math:`a^{(p,q)}` the window
    shifted by (p, q),

    - :math:`\partial L/\partial w_{pq} = \sum_{bij} g_{bij}\, a_{b,i+p,j+q}` (chapter 1:
      :math:`\partial z_{ij}/\partial w_{11} = a_{i+1,j+1}`, summed over the four outputs);
    - :math:`\partial L/\partial a` adds :math:`w_{pq} g` into the window at offset (p, q).
    """
    a, w = _t(a), _t(w)
    if a.value.ndim != 3 or w.value.ndim != 2 or w.shape[0] > a.shape[1] or w.shape[1] > a.shape[2]:
        raise ValueError(f"conv2d: need a (B, H, W) and a kernel (kh, kw) no larger, got {a.shape} and {w.shape}")
    (B, H, W), (kh, kw) = a.shape, w.shape
    oh, ow = H - kh + 1, W - kw + 1
    offsets = [(p, q) for p in range(kh) for q in range(kw)]  # a loop over the kernel, never over the batch
    z = sum(w.value[p, q] * a.value[:, p:p + oh, q:q + ow] for p, q in offsets)

    def rule(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        ga = None
        if a.requires_grad:
            ga = np.zeros(a.shape, dtype=np.result_type(g, w.value))
            for p, q in offsets:
                ga[:, p:p + oh, q:q + ow] += w.value[p, q] * g
        gw = None
        if w.requires_grad:
            gw = np.array([[(g * a.value[:, p:p + oh, q:q + ow]).sum() for q in range(kw)] for p in range(kh)])
        return ga, gw

    return _node(np.asarray(z), (a, w), rule, "conv2d")


# Checking a rule ---------------------------------------------------------------


def check_rule(op: Callable[..., Tensor], *inputs: np.ndarray,
               **named: np.ndarray) -> GradCheckReport:
    """Check ``op``'s backward rules against both numerical derivatives.

    ``op`` builds a tensor from tensors; ``inputs`` (named "input 0", ...)
    or ``named`` are its arguments' values, in order. With a random ``G`` of
    the output's shape (seed 0), the engine's gradient of ``sum(G * op(x))``
    with respect to every input is compared by ``check_gradients`` with
    central differences and the complex step of the same sum, computed by
    the forward pass alone. Raises AssertionError if a rule is wrong;
    returns the report.
    """
    values = {**{f"input {i}": v for i, v in enumerate(inputs)}, **named}
    out = op(*map(constant, values.values()))
    G = np.random.default_rng(0).normal(size=out.shape)

    def total(p: dict, _: None) -> Any:  # sum(G * op(x)), forward only
        return (op(*map(constant, p.values())).value * G).sum()

    def rules(p: dict, _: None) -> dict:  # its gradient by the rules
        x = [tensor(v) for v in p.values()]
        (op(*x) * G).sum().backward()
        return {k: t.grad for k, t in zip(p, x)}

    return check_gradients(total, rules, values, None).assert_ok()

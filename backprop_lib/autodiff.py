r"""A small reverse-mode automatic differentiation engine over NumPy arrays (micrograd for arrays).

A :class:`Tensor` holds a value, the tensors it was computed from (its parents) and a rule
that sends a gradient back to them. Every operation below computes its value and records
that rule; :meth:`Tensor.backward` then visits the recorded graph from the loss back to the
leaves in reverse topological order, so each node has its whole gradient before it passes it on:

.. math::
    \frac{\partial L}{\partial u} = \sum_{v \text{ uses } u} \frac{\partial L}{\partial v}\,
    \frac{\partial v}{\partial u} \qquad\text{(the chain rule, summed over the paths)}.

Each rule is a vector-Jacobian product: given :math:`g = \partial L/\partial\,\text{out}`
(the shape of the output) it returns :math:`\partial L/\partial\,\text{input}` (the shape of
each input). Each is a local derivative that one of the book's chapters derives by hand; the
rule's docstring names the chapter and the equation. None of them calls the hand-derived
gradients of :mod:`backprop_lib.models` or :mod:`backprop_lib.layers`; the forward values of
sigmoid, softmax and log-softmax come from :mod:`backprop_lib.activations`.

Shapes follow the package: rows are examples, a gradient has its variable's shape. Values
may be complex (the complex step passes through every operation). Data are wrapped with
``requires_grad=False``: they get no gradient, and rules skip the work for them.

References: Baydin et al. (2018), Griewank & Walther (2008); A. Karpathy's micrograd.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .activations import log_softmax as _log_softmax
from .activations import sigmoid as _sigmoid
from .activations import softmax as _softmax

Rule = Callable[[np.ndarray], tuple[np.ndarray | None, ...]]
Axis = int | tuple[int, ...] | None


def _array(value: Any) -> np.ndarray:
    arr = np.asarray(value)
    return arr.astype(np.complex128 if np.iscomplexobj(arr) else np.float64, copy=False)


class Tensor:
    """A node of the recorded graph.

    ``value``: the array of the forward pass. ``parents``: the tensors it was computed from.
    ``rule``: ``g -> (gradient for each parent)``, with g of ``value``'s shape and each result
    of its parent's shape (None where the parent needs none). ``grad``: ∂L/∂(this node),
    ``value``'s shape, set by :meth:`backward` of the loss L. ``op`` and ``name`` label the node.
    """

    __slots__ = ("value", "parents", "rule", "op", "name", "requires_grad", "grad")

    def __init__(self, value: Any, parents: tuple[Tensor, ...] = (), rule: Rule | None = None,
                 op: str = "leaf", name: str = "", requires_grad: bool = True) -> None:
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
        """Give the node a name (shown in drawings of the graph); returns self."""
        self.name = name
        return self

    def backward(self) -> None:
        """Fill ``.grad`` of every node that needs one with ∂(self)/∂(node); self must be a scalar."""
        if self.value.size != 1:
            raise ValueError(f"backward: the loss must be a scalar, got shape {self.shape}")
        order = topological_order(self)
        for node in order:
            node.grad = None
        self.grad = np.ones_like(self.value)
        for node in reversed(order):  # every consumer of a node comes before it here
            if node.rule is None or node.grad is None:  # a leaf, or a node no parameter feeds
                continue
            for parent, g in zip(node.parents, node.rule(node.grad)):
                if g is not None and parent.requires_grad:
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
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor: return sum_(self, axis, keepdims)
    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor: return mean(self, axis, keepdims)


def tensor(value: Any, name: str = "", requires_grad: bool = True) -> Tensor:
    """A leaf: a parameter (``requires_grad=True``) or data (``False``). Shape: that of ``value``."""
    return Tensor(value, name=name, requires_grad=requires_grad)


def constant(value: Any, name: str = "") -> Tensor:
    """A leaf that needs no gradient (data, targets, numbers)."""
    return Tensor(value, name=name, requires_grad=False)


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else constant(x)


def _node(value: np.ndarray, parents: tuple[Tensor, ...], rule: Rule, op: str) -> Tensor:
    return Tensor(value, parents, rule, op, requires_grad=any(p.requires_grad for p in parents))


def topological_order(root: Tensor) -> list[Tensor]:
    """Every node the root depends on, each after all of its parents (the root last)."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:  # depth-first, iterative: a deep graph cannot exhaust Python's recursion limit
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if id(p) not in seen)
    return order


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    r"""Sum ``g`` back to ``shape``: over the leading axes broadcasting added and the axes where shape has 1.

    The transpose of broadcasting. A bias b of shape (m,) added to every row of a (B, m)
    array gets :math:`\sum_b g_b`, the sum over the batch of chapter 2 (steps 3 and 7,
    :math:`[1, \dots, 1]\cdot\partial L/\partial a`) and chapter 4 (:math:`\mathbf 1^T G`).
    """
    if g.shape == shape:
        return g  # nothing was broadcast (rules never write into a gradient, so sharing it is safe)
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1), keepdims=True)


def add(a: Any, b: Any) -> Tensor:
    r""":math:`a + b`, NumPy broadcasting. Rule: :math:`g` to each operand, summed back to its shape.

    Chapters 1-5 at every bias: :math:`\partial(xW + b)/\partial b = 1`, and the batch sum of
    :func:`unbroadcast` (chapter 1's :math:`\partial L/\partial\beta = \sum \delta`, chapter 5's
    result (3) summed over examples).
    """
    a, b = _t(a), _t(b)

    def rule(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(g, b.shape) if b.requires_grad else None)

    return _node(a.value + b.value, (a, b), rule, "+")


def sub(a: Any, b: Any) -> Tensor:
    r""":math:`a - b`, broadcasting. Rule: :math:`(g, -g)`, each summed back to its operand's shape.

    Chapter 1's :math:`\partial(y - \hat y)/\partial \hat y = -1`; chapter 4's
    :math:`\partial f/\partial Y = -\partial f/\partial Y_{pred}`.
    """
    a, b = _t(a), _t(b)

    def rule(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(-g, b.shape) if b.requires_grad else None)

    return _node(a.value - b.value, (a, b), rule, "-")


def mul(a: Any, b: Any) -> Tensor:
    r"""Element-wise :math:`a \odot b`, broadcasting. Rule: :math:`(g \odot b,\ g \odot a)`, summed back.

    Chapter 1's :math:`\partial \hat y/\partial o_{ij} = v_{ij}` (the seed's wa, wb, wc, wd) and
    :math:`\partial \hat y/\partial v_{ij} = o_{ij}`, summed over the batch for v.
    """
    a, b = _t(a), _t(b)

    def rule(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        return (unbroadcast(g * b.value, a.shape) if a.requires_grad else None,
                unbroadcast(g * a.value, b.shape) if b.requires_grad else None)

    return _node(a.value * b.value, (a, b), rule, "*")


def matmul(a: Any, b: Any) -> Tensor:
    r"""Matrix product :math:`a b`, a (B, n), b (n, m) -> (B, m). Rule: :math:`(g\, b^T,\ a^T g)`.

    Chapter 4 reads both off :math:`df = \operatorname{tr}(G^T\, d(aB))`: :math:`\partial f/\partial W_2 =
    h_\sigma^T\, 2(Y_{pred} - Y)` and :math:`\partial f/\partial h_\sigma = 2(Y_{pred} - Y) W_2^T`; chapter 2,
    steps 4, 5 and 8; chapter 3's :math:`a^{(l-1)T}\delta^{(l)}` and :math:`\delta^{(l+1)} W^{(l+1)T}`;
    chapter 5's result (2), :math:`y_0^T\,\partial J/\partial t`. The product :math:`a^T g` sums over the batch.
    """
    a, b = _t(a), _t(b)
    if a.value.ndim != 2 or b.value.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: need (B, n) @ (n, m), got {a.shape} @ {b.shape}")

    def rule(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        return (g @ b.value.T if a.requires_grad else None, a.value.T @ g if b.requires_grad else None)

    return _node(a.value @ b.value, (a, b), rule, "@")


def sigmoid(a: Tensor) -> Tensor:
    r""":math:`\sigma(a)` element-wise. Rule: :math:`g \odot \sigma(a)(1 - \sigma(a))`.

    Chapter 1, :math:`\partial o_{ij}/\partial z_{ij}`; chapter 2, step 6 (the diagonal
    :math:`\bar z(1 - \bar z)`); chapter 3's :math:`f_3'`; chapter 4's :math:`\operatorname{sigmoid}'(h)`.
    """
    s = _sigmoid(a.value)
    return _node(s, (a,), lambda g: (g * s * (1.0 - s),), "sigmoid")


def tanh(a: Tensor) -> Tensor:
    r""":math:`\tanh a` element-wise. Rule: :math:`g \odot (1 - \tanh^2 a)`.

    Chapter 3, :math:`f_1' = f_2' = 1 - f^2`; chapter 5, :math:`\partial f/\partial h = \operatorname{diag}(1 - f^2)`.
    """
    f = np.tanh(a.value)
    return _node(f, (a,), lambda g: (g * (1.0 - f * f),), "tanh")


def exp(a: Tensor) -> Tensor:
    r""":math:`e^{a}` element-wise. Rule: :math:`g \odot e^{a}`.

    Chapter 5 differentiates :math:`e^{t_p} / \sum_i e^{t_i}` by the quotient rule, from :math:`(e^t)' = e^t`.
    """
    e = np.exp(a.value)
    return _node(e, (a,), lambda g: (g * e,), "exp")


def log(a: Tensor) -> Tensor:
    r"""Natural log element-wise. Rule: :math:`g / a`.

    Chapter 2, step 1: :math:`\partial L/\partial s_{bk} = -\frac{1}{B}\, t_{bk}/s_{bk}`.
    """
    return _node(np.log(a.value), (a,), lambda g: (g / a.value,), "log")


def square(a: Tensor) -> Tensor:
    r""":math:`a \odot a`. Rule: :math:`2 a \odot g`.

    Chapter 1's :math:`\partial MSE/\partial\hat y = -2(y - \hat y)` (with the -1 of :func:`sub`);
    chapter 3's :math:`\delta^{(3)}`; chapter 4's :math:`2(Y_{pred} - Y)`; chapter 5's :math:`2(y_{pre} - y)`.
    """
    return _node(a.value * a.value, (a,), lambda g: (2.0 * a.value * g,), "square")


def _expand(g: np.ndarray, shape: tuple[int, ...], axis: Axis, keepdims: bool) -> np.ndarray:
    """Copy a reduced gradient back to ``shape`` (re-inserting the reduced axes unless keepdims)."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape).copy()


def sum_(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    r""":math:`\sum` over ``axis`` (all axes by default). Rule: :math:`g` copied to every summed entry.

    Chapter 1: :math:`\hat y = \sum_{ij} v_{ij} o_{ij}`, so every term receives :math:`\partial L/\partial \hat y`
    (the four paths of the seed's step 2); chapter 4's :math:`\|\cdot\|_F^2` as a sum of squares.
    """
    shape = a.shape
    return _node(a.value.sum(axis=axis, keepdims=keepdims), (a,), lambda g: (_expand(g, shape, axis, keepdims),), "sum")


def mean(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    r"""Mean over ``axis`` (all by default). Rule: :math:`g / N` copied to every entry, N entries averaged.

    Chapter 1's :math:`\frac1n` of the MSE; chapter 2's :math:`\frac1B` of the mean cross-entropy.
    """
    out = a.value.mean(axis=axis, keepdims=keepdims)
    n, shape = a.value.size // max(np.size(out), 1), a.shape
    return _node(out, (a,), lambda g: (_expand(g, shape, axis, keepdims) / n,), "mean")


def softmax(a: Tensor) -> Tensor:
    r"""Softmax over the last axis. Rule: :math:`g\,(\operatorname{diag}(s) - s s^T) = s \odot (g - g\cdot s)`, per row.

    Chapter 2, step 2 (:math:`\partial s_i/\partial a_j = s_i(\delta_{ij} - s_j)`); chapter 5,
    :math:`\partial g/\partial t = \operatorname{diag}(g) - g g^T`.
    """
    s = _softmax(a.value)
    return _node(s, (a,), lambda g: (s * (g - (g * s).sum(axis=-1, keepdims=True)),), "softmax")


def log_softmax(a: Tensor) -> Tensor:
    r"""Log-softmax over the last axis. Rule: :math:`g - s \sum_k g_k`, per row (s the softmax).

    Chapter 2's simplification: with :math:`g = -t/B`, this is :math:`\frac1B(s \sum_k t_k - t) = \frac1B(s - t)`.
    """
    out = _log_softmax(a.value)
    s = np.exp(out)
    return _node(out, (a,), lambda g: (g - s * g.sum(axis=-1, keepdims=True),), "log_softmax")


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


# The five homework losses, each written once on the engine, in the chapters' own names.
# Each takes the parameters as Tensors and the data as NumPy arrays, and returns the scalar loss.

def _conv_mse(p: Mapping[str, Tensor], d: Mapping[str, np.ndarray]) -> Tensor:
    o = sigmoid(conv2d(constant(d["a"], "a"), p["w"]) + p["b"]).named("o")
    y_hat = (o * p["v"]).sum(axis=(1, 2)).named("y_hat")
    return square(constant(d["y"], "y") - y_hat).mean().named("L")


def _softmax_ce(p: Mapping[str, Tensor], d: Mapping[str, np.ndarray]) -> Tensor:
    z = sigmoid(constant(d["x"], "x") @ p["W1"] + p["b1"]).named("z")
    a2 = (z @ p["W2"] + p["b2"]).named("a2")
    return -(constant(d["t"], "t") * log_softmax(a2)).sum(axis=-1).mean().named("L")


def _three_layer(p: Mapping[str, Tensor], d: Mapping[str, np.ndarray]) -> Tensor:
    a1 = tanh(constant(d["x"], "x") @ p["W1"] + p["b1"]).named("a1")
    a2 = tanh(a1 @ p["W2"] + p["b2"]).named("a2")
    y_hat = sigmoid(a2 @ p["W3"] + p["b3"]).named("y_hat")
    return square(constant(np.asarray(d["y"])[:, None], "y") - y_hat).sum().named("L")


def _frobenius(p: Mapping[str, Tensor], d: Mapping[str, np.ndarray]) -> Tensor:
    h_sigmoid = sigmoid(constant(d["X"], "X") @ p["W1"] + p["b1"]).named("h_sigmoid")
    Y_pred = (h_sigmoid @ p["W2"] + p["b2"]).named("Y_pred")
    return square(constant(d["Y"], "Y") - Y_pred).sum().named("f")


def _jacobian_form(p: Mapping[str, Tensor], d: Mapping[str, np.ndarray]) -> Tensor:
    y0 = tanh(constant(d["x"], "x") + p["b0"]).named("y0")
    y_pre = softmax(y0 @ p["w1"] + p["b1"]).named("y_pre")
    return square(y_pre - constant(d["y"], "y")).sum().named("J")


ENGINE_LOSSES: dict[str, Callable[[Mapping[str, Tensor], Mapping[str, np.ndarray]], Tensor]] = {
    "conv_mse": _conv_mse,
    "softmax_ce": _softmax_ce,
    "three_layer": _three_layer,
    "frobenius": _frobenius,
    "jacobian_form": _jacobian_form,
}


def record(model: str, params: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[Tensor, dict[str, Tensor]]:
    """Run the engine's loss of ``model`` (a key of ENGINE_LOSSES) and its backward pass.

    Returns the loss node (the recorded graph hangs from it) and the parameter leaves, whose
    ``.grad`` hold the gradients, each of its parameter's shape.
    """
    leaves = {k: tensor(v, name=k) for k, v in params.items()}
    loss = ENGINE_LOSSES[model](leaves, data)
    loss.backward()
    return loss, leaves


def engine_grads(model: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, np.ndarray]]:
    """``grads(params, data)`` for ``model`` computed by the engine: the contract of ``models.<name>.grads``."""

    def grads(params: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, np.ndarray]:
        _, leaves = record(model, params, data)
        return {k: np.zeros(t.shape) if t.grad is None else t.grad for k, t in leaves.items()}

    return grads

"""The five losses of :mod:`backprop_lib.models`, written once on chapter 6's engine.

Each function takes the parameters as engine leaves (:func:`backprop_lib.autodiff.tensor`)
and the data as arrays, builds the loss of the model of the same name in its chapter's
names, and returns it as a scalar :class:`~backprop_lib.autodiff.Tensor`. None of them says
how to differentiate: ``loss.backward()`` does, with the engine's rules alone.

They live here, beside the hand-derived models, because two places use them: chapter 6
(which prints their source) and ``tests/test_autodiff.py``, which compares every model's
hand-derived gradient with the engine's on many instances. :func:`grads` gives the
engine's gradient with the contract of ``models.<name>.grads``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import autodiff as ad
from ..autodiff import Tensor

Leaves = Mapping[str, Tensor]
Data = Mapping[str, np.ndarray]


def conv_mse(p: Leaves, d: Data) -> Tensor:
    a = ad.constant(d["a"], "a")
    o = ad.sigmoid(ad.conv2d(a, p["w"]) + p["b"]).named("o")
    y_hat = (o * p["v"]).sum(axis=(1, 2)).named("y_hat")
    return ad.square(ad.constant(d["y"], "y") - y_hat).mean().named("L")


def softmax_ce(p: Leaves, d: Data) -> Tensor:
    x, t = ad.constant(d["x"], "x"), ad.constant(d["t"], "t")
    z = ad.sigmoid(x @ p["W1"] + p["b1"]).named("z")
    a2 = (z @ p["W2"] + p["b2"]).named("a2")
    return -(t * ad.log_softmax(a2)).sum(axis=-1).mean().named("L")


def three_layer(p: Leaves, d: Data) -> Tensor:
    x = ad.constant(d["x"], "x")
    y = ad.constant(np.asarray(d["y"])[:, None], "y")  # (B, 1), as y_hat
    a1 = ad.tanh(x @ p["W1"] + p["b1"]).named("a1")
    a2 = ad.tanh(a1 @ p["W2"] + p["b2"]).named("a2")
    y_hat = ad.sigmoid(a2 @ p["W3"] + p["b3"]).named("y_hat")
    return ad.square(y - y_hat).sum().named("L")


def frobenius(p: Leaves, d: Data) -> Tensor:
    X, Y = ad.constant(d["X"], "X"), ad.constant(d["Y"], "Y")
    h_sigma = ad.sigmoid(X @ p["W1"] + p["b1"]).named("h_sigma")
    Y_pred = (h_sigma @ p["W2"] + p["b2"]).named("Y_pred")
    return ad.square(Y - Y_pred).sum().named("f")


def jacobian_form(p: Leaves, d: Data) -> Tensor:
    x, y = ad.constant(d["x"], "x"), ad.constant(d["y"], "y")
    y0 = ad.tanh(x + p["b0"]).named("y0")
    y_pre = ad.softmax(y0 @ p["w1"] + p["b1"]).named("y_pre")
    return ad.square(y_pre - y).sum().named("J")


LOSSES: dict[str, Callable[[Leaves, Data], Tensor]] = {
    "conv_mse": conv_mse,
    "softmax_ce": softmax_ce,
    "three_layer": three_layer,
    "frobenius": frobenius,
    "jacobian_form": jacobian_form,
}


def grads(model: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, np.ndarray]]:
    """``grads(params, data)`` of ``model`` (a key of :data:`LOSSES`) by the engine.

    The contract of ``models.<model>.grads``: a dict with the keys and shapes of ``params``
    (zeros for a parameter the loss does not use).
    """
    loss_fn = LOSSES[model]

    def engine_grads(params: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, np.ndarray]:
        leaves = {k: ad.tensor(v, name=k) for k, v in params.items()}
        loss_fn(leaves, data).backward()
        return {k: np.zeros(t.shape) if t.grad is None else t.grad for k, t in leaves.items()}

    return engine_grads

"""The models' losses on chapter 6's engine, read from the registry.

Each model declares its loss written on :mod:`backprop_lib.autodiff` (its ``_engine``): a function
of the parameters as engine leaves (:func:`backprop_lib.autodiff.tensor`) and the data as arrays,
in its chapter's names, returning a scalar :class:`~backprop_lib.autodiff.Tensor`. None of them
says how to differentiate: ``loss.backward()`` does, with the engine's rules alone.

Two places use them: chapter 6 (which prints their source) and ``tests/test_autodiff.py``,
which compares every model's hand-derived gradient with the engine's on many instances.
:func:`grads` gives the engine's gradient with the contract of ``models.<name>.grads``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import autodiff as ad
from ..autodiff import Tensor
from . import MODELS

Leaves = Mapping[str, Tensor]
Data = Mapping[str, np.ndarray]

#: name -> the model's loss on the engine, in the registry's order
LOSSES: dict[str, Callable[[Leaves, Data], Tensor]] = {name: model.engine for name, model in MODELS.items()}


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

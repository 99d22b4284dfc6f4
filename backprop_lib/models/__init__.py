"""The homework networks, one module each, one declaration each, and their registry.

Each module declares its model once (:func:`backprop_lib.models._declare.declare`): its inputs and
their symbols (shapes, meanings, the chapter's LaTeX), its reduction over the batch, ``example``,
its forward pass and its hand-derived backward pass, and its loss on chapter 6's engine. From that
every module has, checked and with one contract,

- ``example(rng, batch=1) -> (params, data)``: the seed's sizes, ``batch`` examples;
- ``forward(params, data) -> dict``: every intermediate value the derivation names;
- ``loss(params, data) -> float`` (complex for a complex parameter: the complex step);
- ``backward(params, data) -> dict``: the hand-derived gradient of the loss with respect
  to every intermediate and every parameter, vectorised over the batch;
- ``grads(params, data) -> dict``: the parameters' entries of ``backward``, exactly the
  keys and shapes of ``params``;
- ``INPUTS`` (what it takes) and ``MODEL`` (the :class:`~backprop_lib.models._declare.Model`).

Bad input (a missing or extra key, a wrong rank, a mismatched size, a (B, 1) target where
(B,) is meant) raises ValueError naming the array and both shapes.

========================  ======  ==========================================================
module                    seed    network and loss
========================  ======  ==========================================================
``conv_mse``              000     2x2 cross-correlation, sigmoid, weighted sum, MSE
``softmax_ce``            001     5-4-3, sigmoid hidden, softmax + mean cross-entropy
``three_layer``           002     2-2-2-1, tanh, tanh, sigmoid, summed squared error
``frobenius``             003     sigmoid hidden layer, squared Frobenius norm
``jacobian_form``         004     tanh of a shifted input, softmax, squared error
========================  ======  ==========================================================

The registry: every module of this package that is not private (``_declare``) and not
``on_engine`` is a model and is imported here; :data:`MODELS` holds their declarations and
:data:`ALL` the modules, both in the order of their seeds (the chapters' order). Tests, the
benchmarks, chapter 6 and the derivation checker read them; no other file lists the models.
``on_engine`` gives the losses on chapter 6's autodiff engine (:mod:`backprop_lib.autodiff`),
which differentiates them with no hand-derived rule: the independent route
``tests/test_autodiff.py`` compares the models with.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from types import ModuleType

from ._declare import REGISTRY, Model, Symbol

#: the modules of this package that are not models (besides the private ones)
NOT_MODELS = frozenset({"on_engine"})

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_") and _module.name not in NOT_MODELS:
        importlib.import_module(f"{__name__}.{_module.name}")

#: name -> declaration, in the order of the seeds
MODELS: dict[str, Model] = dict(sorted(REGISTRY.items(), key=lambda item: item[1].seed))
#: name -> module (``example``, ``forward``, ``loss``, ``backward``, ``grads``, ``INPUTS``, ``MODEL``)
ALL: dict[str, ModuleType] = {name: sys.modules[f"{__name__}.{name}"] for name in MODELS}

__all__ = ["ALL", "MODELS", "NOT_MODELS", "Model", "Symbol", *MODELS]

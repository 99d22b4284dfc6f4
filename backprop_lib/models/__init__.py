"""The five homework networks, one module each, with one contract.

Every module has

- ``example(rng, batch=1) -> (params, data)``: the seed's sizes, ``batch`` examples;
- ``forward(params, data) -> dict``: every intermediate value the derivation names;
- ``loss(params, data) -> float`` (complex for a complex parameter: the complex step);
- ``backward(params, data) -> dict``: the hand-derived gradient of the loss with respect
  to every intermediate and every parameter, vectorised over the batch;
- ``grads(params, data) -> dict``: the parameters' entries of ``backward``, exactly the
  keys and shapes of ``params``.

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

``on_engine`` holds the same five losses written on chapter 6's autodiff engine
(:mod:`backprop_lib.autodiff`), which differentiates them with no hand-derived rule of
these modules: the independent route ``tests/test_autodiff.py`` compares them with.
"""

from . import conv_mse, frobenius, jacobian_form, softmax_ce, three_layer

ALL = {
    "conv_mse": conv_mse,
    "softmax_ce": softmax_ce,
    "three_layer": three_layer,
    "frobenius": frobenius,
    "jacobian_form": jacobian_form,
}

__all__ = ["ALL", "conv_mse", "frobenius", "jacobian_form", "softmax_ce", "three_layer"]

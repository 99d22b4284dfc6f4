"""backprop_lib: the gradients of five homework derivations, written once and checked.

Shape convention (used everywhere in this package and in the book)
------------------------------------------------------------------
Rows are examples. A batch of ``B`` inputs of width ``n`` is an array ``x`` of
shape ``(B, n)``; a layer computes ``x @ W + b`` with ``W`` of shape
``(n_in, n_out)`` and ``b`` of shape ``(n_out,)``, broadcast over the rows. The
gradient of a scalar loss with respect to an array has that array's shape.

Everything is float64 (complex128 on the complex-step path) and vectorised over
the batch: no function here loops over examples in Python.

Modules
-------
activations  sigmoid, tanh, softmax and their derivatives and Jacobians
losses       sum of squares, MSE, squared Frobenius norm, cross-entropy
layers       affine and valid 2-D cross-correlation, forward and backward
gradcheck    central differences, complex step, relative error, check_gradients
models       one module per homework: ``example``, ``loss``, ``grads``

Also, imported only on request: ``plotting`` (matplotlib figures shared by the
chapters), ``explore`` (the widgets' update logic, one module per chapter),
``autodiff`` (the reverse-mode engine of chapter 6), ``train`` (gradient descent)
and ``timing`` (medians of wall-clock times). Importing this package pulls in
NumPy and nothing else.
"""

from . import activations, gradcheck, layers, losses, models

__all__ = ["activations", "gradcheck", "layers", "losses", "models"]
__version__ = "0.1.0"

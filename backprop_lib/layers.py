r"""Layers as forward/backward pairs, in the style of cs231n's ``layers.py``.

``*_forward(inputs...) -> (out, cache)`` and ``*_backward(dout, cache) ->
gradients of every input``. ``dout`` is :math:`\partial L / \partial \text{out}`
and has the shape of ``out``; each returned gradient has the shape of its input.

These check their arguments (ValueError, never a broadcast). ``affine``, ``conv2d``,
``affine_params_backward`` and ``conv2d_params_backward_unchecked`` are the same computations without
the checks, for the models, which check their inputs once (``_validate.check_inputs``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_array, require_shape

Cache = tuple[Any, ...]


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    r"""Affine layer :math:`\text{out} = x W + b`, b broadcast over the rows.

    Shapes: x (B, n), W (n, m), b (m,) -> out (B, m).
    """
    x, W, b = as_array("x", x), as_array("W", W), as_array("b", b)
    require_shape("x", x, (None, None))
    require_shape("W", W, (x.shape[1], None))
    require_shape("b", b, (W.shape[1],))
    return affine(x, W, b), (x, W)


def affine(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`affine_forward`'s output without its checks, for callers that checked the shapes already."""
    out = x @ W
    if out.dtype != np.result_type(out, b):  # a complex b (the complex step) on a real product
        return out + b
    out += b  # in place: one temporary array fewer (on a batch, each costs time: see the README)
    return out


def affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of the affine layer.

    :math:`\partial L/\partial x = \delta W^T` (B, n), :math:`\partial L/\partial W = x^T \delta` (n, m),
    :math:`\partial L/\partial b = \sum_b \delta_b` (m,), with :math:`\delta = \partial L/\partial\text{out}` (B, m).
    The sum over the batch for b is the transpose of its broadcast over the rows.
    """
    x, W = cache
    dout = as_array("dout", dout)
    require_shape("dout", dout, (x.shape[0], W.shape[1]))
    return (dout @ W.T, *affine_params_backward(dout, x))


def affine_params_backward(dout: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The parameter part of :func:`affine_backward`, ``(dW, db)`` = :math:`(x^T \delta, \mathbf 1^T \delta)`, unchecked."""
    # 1^T δ: the sum over the batch, written as the product it is (for a narrow layer NumPy's
    # .sum(axis=0) is several times slower than this matrix-vector product)
    return x.T @ dout, np.ones(dout.shape[0]) @ dout


def _shifts(kernel_shape: tuple[int, int], out_shape: tuple[int, int]):
    """(p, q, window) for every kernel entry: the (oh, ow) slice of the input that w[p, q] multiplies."""
    (kh, kw), (oh, ow) = kernel_shape, out_shape
    for p in range(kh):
        for q in range(kw):
            yield p, q, (slice(None), slice(p, p + oh), slice(q, q + ow))


def conv2d_forward(a: np.ndarray, w: np.ndarray, b: np.ndarray | float) -> tuple[np.ndarray, Cache]:
    r"""Valid 2-D cross-correlation (deep learning's "convolution"), stride 1, plus a scalar bias.

    :math:`z_{b,i,j} = \sum_{p,q} a_{b,\,i+p,\,j+q}\, w_{p,q} + \beta`.

    Shapes: a (B, H, W), w (kh, kw), b () -> z (B, H - kh + 1, W - kw + 1).
    The kernel is not flipped: a true convolution would use ``w[::-1, ::-1]``. Computed as a
    sum of kh * kw shifted slices of the whole batch (a loop over kernel entries, not examples).
    """
    a, w, b = as_array("a", a), as_array("w", w), as_array("b", b)
    require_shape("a", a, (None, None, None))
    require_shape("w", w, (None, None))
    require_shape("b", b, ())
    if w.shape[0] > a.shape[1] or w.shape[1] > a.shape[2]:
        raise ValueError(f"w: kernel shape {w.shape} is larger than the input a of shape {a.shape[1:]}")
    return conv2d(a, w, b), (a, w)


def conv2d(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`conv2d_forward`'s output without its checks, for callers that checked the shapes already."""
    out_shape = (a.shape[1] - w.shape[0] + 1, a.shape[2] - w.shape[1] + 1)
    z = np.full((a.shape[0], *out_shape), b, dtype=np.result_type(a, w, b))
    for p, q, window in _shifts(w.shape, out_shape):
        z += w[p, q] * a[window]
    return z


def conv2d_backward(dz: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of :func:`conv2d_forward`: ``(da, dw, db)``.

    - :math:`\partial L/\partial w_{p,q} = \sum_{b,i,j} \delta_{b,i,j}\, a_{b,i+p,j+q}`: the valid
      cross-correlation of the input with the delta map :math:`\delta = \partial L/\partial z`, shape (kh, kw);
    - :math:`\partial L/\partial \beta = \sum_{b,i,j} \delta_{b,i,j}`, shape ();
    - :math:`\partial L/\partial a_{b,r,c} = \sum_{p,q} \delta_{b,\,r-p,\,c-q}\, w_{p,q}`: the *full* convolution
      of the delta map with the kernel (zero-pad δ by kh-1, kw-1 and cross-correlate with the flipped
      kernel), shape (B, H, W).
    """
    a, w = cache
    dw, db = conv2d_backward_params(dz, cache)  # checks dz's shape
    dz = np.asarray(dz)
    da = np.zeros(a.shape, dtype=np.result_type(a, dz, w))
    for p, q, window in _shifts(w.shape, dz.shape[1:]):
        da[window] += w[p, q] * dz
    return da, dw, db


def conv2d_backward_params(dz: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray]:
    """The parameter part of :func:`conv2d_backward`, ``(dw, db)``, without the input gradient."""
    a, w = cache
    dz = as_array("dz", dz)
    require_shape("dz", dz, (a.shape[0], a.shape[1] - w.shape[0] + 1, a.shape[2] - w.shape[1] + 1))
    return conv2d_params_backward_unchecked(dz, a, w.shape)


def conv2d_params_backward_unchecked(dz: np.ndarray, a: np.ndarray, kernel_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`conv2d_backward_params` without its checks: ``(dw, db)`` from the delta map and the input."""
    dw = np.empty(kernel_shape, dtype=np.result_type(a, dz))
    for p, q, window in _shifts(kernel_shape, dz.shape[1:]):
        # einsum, not a BLAS dot of the flattened window: as fast on one thread, no copy, and OpenBLAS
        # splits a dot this long over its threads, which on a busy machine costs up to 100 times more
        dw[p, q] = np.einsum("bij,bij->", a[window], dz)
    return dw, dz.sum()

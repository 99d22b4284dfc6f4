r"""Layers as forward/backward pairs, in the style of cs231n's ``layers.py``.

``*_forward(inputs...) -> (out, cache)`` and ``*_backward(dout, cache) ->
gradients of every input``. ``dout`` is :math:`\partial L / \partial \text{out}`
and has the shape of ``out``; each returned gradient has the shape of its input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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
    return x @ W + b, (x, W)


def affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of the affine layer.

    :math:`\partial L/\partial x = \delta W^T` (B, n), :math:`\partial L/\partial W = x^T \delta` (n, m),
    :math:`\partial L/\partial b = \sum_b \delta_b` (m,), with :math:`\delta = \partial L/\partial\text{out}` (B, m).
    The sum over the batch for b is the transpose of its broadcast over the rows.
    """
    x, W = cache
    dout = as_array("dout", dout)
    require_shape("dout", dout, (x.shape[0], W.shape[1]))
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def conv2d_forward(a: np.ndarray, w: np.ndarray, b: np.ndarray | float) -> tuple[np.ndarray, Cache]:
    r"""Valid 2-D cross-correlation (deep learning's "convolution"), stride 1, plus a scalar bias.

    :math:`z_{b,i,j} = \sum_{p,q} a_{b,\,i+p,\,j+q}\, w_{p,q} + \beta`.

    Shapes: a (B, H, W), w (kh, kw), b () -> z (B, H - kh + 1, W - kw + 1).
    The kernel is not flipped: a true convolution would use ``w[::-1, ::-1]``.
    """
    a, w, b = as_array("a", a), as_array("w", w), as_array("b", b)
    require_shape("a", a, (None, None, None))
    require_shape("w", w, (None, None))
    require_shape("b", b, ())
    if w.shape[0] > a.shape[1] or w.shape[1] > a.shape[2]:
        raise ValueError(f"w: kernel shape {w.shape} is larger than the input a of shape {a.shape[1:]}")
    windows = sliding_window_view(a, w.shape, axis=(1, 2))  # (B, oh, ow, kh, kw), a view
    return np.einsum("bijpq,pq->bij", windows, w) + b, (windows, w, a.shape)


def conv2d_backward(dz: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of :func:`conv2d_forward`: ``(da, dw, db)``.

    - :math:`\partial L/\partial w_{p,q} = \sum_{b,i,j} \delta_{b,i,j}\, a_{b,i+p,j+q}`: the valid
      cross-correlation of the input with the delta map :math:`\delta = \partial L/\partial z`, shape (kh, kw);
    - :math:`\partial L/\partial \beta = \sum_{b,i,j} \delta_{b,i,j}`, shape ();
    - :math:`\partial L/\partial a_{b,r,c} = \sum_{p,q} \delta_{b,\,r-p,\,c-q}\, w_{p,q}`: the *full* convolution
      of the delta map with the kernel (zero-pad δ by kh-1, kw-1 and cross-correlate with the flipped
      kernel), shape (B, H, W).
    """
    windows, w, a_shape = cache
    kh, kw = w.shape
    dz = as_array("dz", dz)
    require_shape("dz", dz, windows.shape[:3])
    dw = np.einsum("bijpq,bij->pq", windows, dz)
    db = dz.sum()
    padded = np.pad(dz, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    da = np.einsum("brcpq,pq->brc", sliding_window_view(padded, (kh, kw), axis=(1, 2)), w[::-1, ::-1])
    assert da.shape == a_shape
    return da, dw, db

r"""Chapter 1's widget (seed 000): the loss along :math:`w_{11}` and its tangent.

The widget moves the seed's :math:`w_{11}` (``w[0, 0]``) and the target :math:`y` and redraws
the loss as a function of :math:`w_{11}` with the tangent whose slope is the derived gradient
``conv_mse.grads(...)["w"][0, 0]``. Plain functions of ``(params, data)`` in the contract of
:mod:`backprop_lib.models.conv_mse`: ``w`` (kh, kw), ``b`` (), ``v`` (m, m), ``a`` (B, H, W),
``y`` (B,), with m = H - kh + 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..gradcheck import loss_of_entry, with_entry
from ..models import conv_mse

W11 = (0, 0)  # the seed's w_11 is the library's w[0, 0]


def with_target(data: Mapping[str, np.ndarray], y: float) -> dict[str, np.ndarray]:
    """``data`` with every target ``y_b`` set to the number ``y``: ``y`` becomes (B,) filled with it."""
    return {**data, "y": np.full(np.shape(data["y"]), float(y))}


def loss_along_w11(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray],
                   values: np.ndarray) -> np.ndarray:
    r"""The loss :math:`L(w_{11})` with every other parameter held fixed, at each of ``values``.

    Shapes: values (N,) -> (N,). Accepts complex ``values`` (the complex step).
    """
    f = loss_of_entry(conv_mse.loss, params, data, "w", W11)
    return np.array([f(x) for x in np.asarray(values)])


def w11_tangent(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], w11: float, y: float, *,
                lo: float = -4.0, hi: float = 4.0, num: int = 201) -> dict[str, Any]:
    r"""The widget's update: the curve :math:`L(w_{11})` on [lo, hi] and its tangent at ``w11`` for target ``y``.

    Returns a dict: ``xs`` (num,), ``ys`` (num,) the loss along :math:`w_{11}`; ``x0 = w11``;
    ``y0`` the loss there; ``slope`` the library's derived gradient
    :math:`\partial L/\partial w_{11}` = ``conv_mse.grads(...)["w"][0, 0]`` at that point;
    ``params`` and ``data`` as evaluated (``w[0, 0] = w11``, every ``y_b = y``).
    """
    if not lo < hi or num < 2:
        raise ValueError(f"w11_tangent: need lo < hi and num >= 2, got lo={lo}, hi={hi}, num={num}")
    p = {**params, "w": with_entry(params["w"], W11, float(w11))}
    d = with_target(data, y)
    xs = np.linspace(lo, hi, num)
    return {
        "xs": xs,
        "ys": loss_along_w11(p, d, xs),
        "x0": float(w11),
        "y0": float(conv_mse.loss(p, d)),
        "slope": float(conv_mse.grads(p, d)["w"][W11]),
        "params": p,
        "data": d,
    }


def draw_w11_tangent(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], w11: float, y: float, *,
                     lo: float = -4.0, hi: float = 4.0, ax: Any = None) -> Any:
    """Draw :func:`w11_tangent` with :func:`backprop_lib.plotting.tangent_plot`; returns the figure."""
    from ..plotting import tangent_plot

    t = w11_tangent(params, data, w11, y, lo=lo, hi=hi)
    fig = tangent_plot(t["xs"], t["ys"], t["x0"], t["y0"], t["slope"], xlabel=r"$w_{11}$ (w[0, 0])",
                       ylabel="MSE", title=rf"$L(w_{{11}})$ for $y = {y:.2f}$; tangent at $w_{{11}} = {w11:.2f}$",
                       ax=ax)
    ax = fig.axes[0] if ax is None else ax
    ax.set_ylim(bottom=min(0.0, float(t["ys"].min())), top=1.15 * float(t["ys"].max()) + 1e-3)
    return fig

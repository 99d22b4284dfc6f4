"""Plain gradient descent on any model that has the ``loss``/``grads`` contract."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


def gradient_descent(
    loss: Callable[[Mapping[str, np.ndarray], Any], float],
    grads: Callable[[Mapping[str, np.ndarray], Any], Mapping[str, np.ndarray]],
    params: Mapping[str, np.ndarray],
    data: Any,
    *,
    lr: float,
    steps: int,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    r"""Run ``steps`` updates :math:`\theta \leftarrow \theta - \eta\, \partial L/\partial\theta`.

    Returns the final parameters (new arrays; ``params`` is not modified) and the losses,
    shape (steps + 1,): before the first update and after each one. A step too large can
    overflow the parameters to inf or NaN; the models refuse such parameters (ValueError), so
    descent stops there, returns them, and the losses from that step on are NaN.
    """
    if steps < 0 or not lr > 0:
        raise ValueError(f"gradient_descent: need steps >= 0 and lr > 0, got steps={steps}, lr={lr}")
    theta = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    losses = [float(loss(theta, data))]
    for _ in range(steps):
        g = grads(theta, data)
        theta = {k: v - lr * g[k] for k, v in theta.items()}
        if not all(np.isfinite(v).all() for v in theta.values()):  # diverged: the loss is not a number
            losses += [np.nan] * (steps + 1 - len(losses))
            break
        losses.append(float(loss(theta, data)))
    return theta, np.array(losses)

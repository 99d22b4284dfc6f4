r"""Chapter 4's widget (seed 003): a gradient formula against the numerical gradient, batch by batch.

The seed writes :math:`\partial f/\partial b_2 = 2(\hat Y - Y)` and
:math:`\partial f/\partial b_1 = [2(\hat Y - Y) W_2^T] \odot \sigma'(h)`, one row per example
(the sum :math:`\mathbf 1^T` over the batch is missing), and
:math:`\partial f/\partial W_1 = 2 X^T (\hat Y - Y) W_2^T \odot \sigma'(h)` without brackets.
:func:`seed_check` evaluates such formulas on one fixed instance of
``backprop_lib.models.frobenius`` with N rows and compares each with the central-difference
gradient of its parameter; :func:`draw_seed_check` draws the comparison, one panel a formula.
The widget calls both for the batch size N of its slider. matplotlib is imported in the drawing only.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..gradcheck import CD_TOL, numerical_gradient, relative_error
from ..models import frobenius

INSTANCE_SEED = 3
Formula = Callable[[dict, dict, dict], np.ndarray]  # (params, data, frobenius.forward(...)) -> array


class SeedCheck(NamedTuple):
    """One formula at one batch size.

    ``value``: the formula's array (``None`` where NumPy refuses to evaluate it); ``numeric``:
    central differences of f with respect to ``param``, the parameter's shape; ``error``: the
    largest relative error of ``value`` against ``numeric`` (rows compared one by one when
    ``value`` has a row per example; ``nan`` if not defined); ``verdict``: "right", "wrong shape",
    "wrong values" or "not defined"; ``message``: NumPy's error where not defined, else "".
    """

    name: str
    param: str
    value: np.ndarray | None
    numeric: np.ndarray
    error: float
    verdict: str
    message: str


def seed_check(formulas: Mapping[str, tuple[str, Formula]], batch: int,
               seed: int = INSTANCE_SEED) -> list[SeedCheck]:
    """Each ``name: (param, formula)`` evaluated on ``frobenius.example(rng(seed), batch)``.

    A value with the parameter's number of entries is compared entry by entry (an N = 1
    row ``(1, k)`` against a ``(k,)`` bias); one with a row per example, row by row, and its
    verdict is "wrong shape"; otherwise "right" when the error is below ``CD_TOL``.
    """
    if batch < 1:
        raise ValueError(f"seed_check: batch must be at least 1, got {batch}")
    params, data = frobenius.example(np.random.default_rng(seed), batch=batch)
    fw = frobenius.forward(params, data)
    out = []
    for name, (param, formula) in formulas.items():
        numeric = numerical_gradient(lambda v, p=param: frobenius.loss({**params, p: v}, data), params[param])
        try:
            value = np.asarray(formula(params, data, fw), dtype=np.float64)
        except ValueError as err:  # NumPy: the factors do not fit
            out.append(SeedCheck(name, param, None, numeric, float("nan"), "not defined", str(err).strip()))
            continue
        same = value.size == numeric.size
        ref = numeric.reshape(value.shape) if same else np.broadcast_to(numeric, value.shape)
        error = float(relative_error(value, ref).max())
        verdict = "wrong shape" if not same else "right" if error < CD_TOL else "wrong values"
        out.append(SeedCheck(name, param, value, numeric, error, verdict, ""))
    return out


def draw_seed_check(checks: Sequence[SeedCheck], axes: Sequence[Any] | None = None) -> Any:
    """One panel a check: the formula's entries (y) against the numerical gradient's (x).

    Right formulas lie on the diagonal. A value with a row per example is drawn row by row
    (dots) with the sum of its rows (crosses); one NumPy refuses is named with the reason.
    Returns the figure.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, len(checks), figsize=(8.6, 2.6), layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, c in zip(axes, checks):
        ax.set_title(f"{c.name}: {c.verdict}", fontsize=9)
        ax.set_xlabel(f"numerical d f / d {c.param}", fontsize=8)
        ax.tick_params(labelsize=8)
        if c.value is None:
            ax.text(0.5, 0.5, textwrap.fill(c.message, 22), ha="center", va="center", fontsize=8,
                    transform=ax.transAxes)
            ax.set_xticks([]), ax.set_yticks([])
            continue
        lim = 1.15 * np.abs(c.numeric).max()
        ax.plot([-lim, lim], [-lim, lim], color="0.6", lw=0.8)
        rows = c.value.reshape(c.numeric.shape) if c.verdict != "wrong shape" else c.value
        ax.scatter(np.broadcast_to(c.numeric, rows.shape), rows, s=10, color="C3" if c.verdict != "right" else "C0")
        if c.verdict == "wrong shape":
            ax.scatter(c.numeric, rows.sum(axis=0), marker="x", s=24, color="k", label="sum of rows")
            ax.legend(fontsize=8, loc="upper left", handletextpad=0.1)
    axes[0].set_ylabel("seed's formula", fontsize=8)
    return axes[0].figure

r"""Chapter 5 (seed 004, the Jacobian form): the softmax widget and the Jacobian-versus-VJP timing.

Row vectors throughout, as in the seed: a gradient is a row, and the softmax Jacobian
:math:`\partial g/\partial t` has rows indexed by the outputs :math:`g_i` and columns by
the logits :math:`t_k`.

- :func:`softmax_view` is the widget's update logic: for logits t and a target y it returns
  g = softmax(t), the Jacobian diag(g) - g g^T and the gradient
  :math:`\partial J/\partial b_1 = 2 (g - y)\, \partial g/\partial t` of the seed's result (1)
  for one example (there :math:`t = y_0 w_1 + b_1`, so :math:`\partial t/\partial b_1 = I`).
- :func:`draw_softmax_view` draws it (the widget and the static figure of the book).
- :func:`jacobian_route` and :func:`vjp_route` backpropagate through the two nonlinearities
  of the network, once by forming the Jacobians and once by vector-Jacobian products;
  :func:`time_routes` times them against the width n and :func:`draw_timing` plots the result.

Matplotlib is imported inside the drawing functions only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..activations import softmax, softmax_jacobian, softmax_vjp, tanh_jacobian
from ..losses import sum_of_squares
from ..timing import median_time

Route = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def softmax_view(t: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> dict[str, Any]:
    r"""Everything the softmax widget shows, for one example.

    Parameters: logits ``t`` (n,) and target ``y`` (n,).

    Returns a dict with ``g`` (n,) = softmax(t); ``jacobian`` (n, n) = diag(g) - g g^T,
    entry (i, k) = :math:`\partial g_i/\partial t_k`; ``dJ_db1`` (n,) =
    :math:`2 (g - y)\,\partial g/\partial t`, the seed's result (1); ``loss`` = :math:`\sum_i (g_i - y_i)^2`.
    Raises ValueError unless t and y are 1-D of the same length.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.ndim != 1 or y.shape != t.shape:
        raise ValueError(f"softmax_view: t and y must be 1-D of the same length, got shapes {t.shape} and {y.shape}")
    g = softmax(t)
    jac = softmax_jacobian(g)
    return {"g": g, "jacobian": jac, "dJ_db1": 2.0 * (g - y) @ jac, "loss": float(sum_of_squares(g, y))}


def draw_softmax_view(t: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> Any:
    r"""Two panels for logits t (n,) and target y (n,): the heatmap of :math:`\partial g/\partial t`
    (annotated, colour scale symmetric about 0) and bars of g, y and :math:`\partial J/\partial b_1`.

    Returns the figure; ``fig.axes[0]`` holds the heatmap (its image array is the Jacobian),
    ``fig.axes[1]`` the bars.
    """
    import matplotlib.pyplot as plt

    view = softmax_view(t, y)
    jac, n = view["jacobian"], len(view["g"])
    fig, (ax_j, ax_b) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained",
                                     gridspec_kw={"width_ratios": [1, 1.25]})
    lim = float(np.abs(jac).max()) or 1.0
    im = ax_j.imshow(jac, cmap="RdBu_r", vmin=-lim, vmax=lim)
    for (i, k), val in np.ndenumerate(jac):
        ax_j.text(k, i, f"{val:.3f}", ha="center", va="center", fontsize=9,
                  color="white" if abs(val) > 0.6 * lim else "black")
    ticks = range(n)
    ax_j.set_xticks(ticks, [f"$t_{k + 1}$" for k in ticks])
    ax_j.set_yticks(ticks, [f"$g_{i + 1}$" for i in ticks])
    ax_j.set_title(r"$\partial g/\partial t = \mathrm{diag}(g) - g g^T$")
    fig.colorbar(im, ax=ax_j, shrink=0.85)

    x = np.arange(n)
    width = 0.27
    ax_b.bar(x - width, view["g"], width, label=r"$y_{pre} = g(t)$", color="C0")
    ax_b.bar(x, np.asarray(y, dtype=float), width, label=r"target $y$", color="0.6")
    ax_b.bar(x + width, view["dJ_db1"], width, label=r"$\partial J/\partial b_1$", color="crimson")
    ax_b.axhline(0.0, color="0.3", lw=0.8)
    ax_b.set_xticks(x, [f"{k + 1}" for k in x])
    ax_b.set_xlabel("entry")
    ax_b.set_title(f"J = {view['loss']:.4f}; t = (" + ", ".join(f"{v:.2f}" for v in np.asarray(t, float)) + ")")
    ax_b.legend(fontsize=8, loc="best")
    return fig


def one_based_ticks(fig: Any) -> Any:
    """Label the rows and columns of every heatmap in ``fig`` 1, 2, ... as the seed counts, instead of 0, 1, ...

    A heatmap is an axis holding an image of shape (rows, cols); colour bars are left alone. Returns the figure.
    """
    for ax in fig.axes:
        if ax.images:
            rows, cols = np.shape(ax.images[0].get_array())[:2]
            ax.set_xticks(range(cols), [str(k + 1) for k in range(cols)])
            ax.set_yticks(range(rows), [str(i + 1) for i in range(rows)])
    return fig


def jacobian_route(s: np.ndarray, r: np.ndarray, f: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Backpropagate through softmax and tanh by forming their Jacobians, one per example.

    Shapes: s = softmax(t) (B, n), r = :math:`\partial J/\partial y_{pre}` (B, n), f = tanh(h) (B, m),
    u = :math:`\partial J/\partial y_0` (B, m). Returns
    (:math:`\partial J/\partial t` (B, n), :math:`\partial J/\partial h` (B, m)), each row times a
    (B, n, n) or (B, m, m) stack of Jacobians: :math:`O(B n^2)` time and memory.
    """
    return np.einsum("bi,bij->bj", r, softmax_jacobian(s)), np.einsum("bi,bij->bj", u, tanh_jacobian(f))


def vjp_route(s: np.ndarray, r: np.ndarray, f: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The same two gradients as :func:`jacobian_route` by vector-Jacobian products, no matrix formed.

    :math:`r (\mathrm{diag}(s) - s s^T) = s \odot (r - r \cdot s)` and
    :math:`u\, \mathrm{diag}(1 - f^2) = u \odot (1 - f^2)`: :math:`O(B n)`. Shapes as :func:`jacobian_route`.
    """
    return softmax_vjp(s, r), u * (1.0 - f * f)


ROUTES: dict[str, Route] = {"Jacobians": jacobian_route, "VJPs": vjp_route}


def _inputs(rng: np.random.Generator, batch: int, n: int) -> tuple[np.ndarray, ...]:
    """Random (s, r, f, u), each (batch, n): a softmax output, two upstream gradients and a tanh output."""
    return (softmax(rng.normal(size=(batch, n))), rng.normal(size=(batch, n)),
            np.tanh(rng.normal(size=(batch, n))), rng.normal(size=(batch, n)))


def time_routes(
    widths: Mapping[str, Sequence[int]],
    *,
    batch: int = 8,
    repeats: int = 5,
    target: float = 2e-3,
    seed: int = 0,
    routes: Mapping[str, Route] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Time each route (name -> function, default :data:`ROUTES`) at its own widths (name -> list of n).

    At every width the inputs are random (s, r, f, u) of shape (batch, n), m = n; before timing,
    every route that is timed at that width is checked to give the same two gradients as the
    VJP route (ValueError if not). Returns name -> ``{"n": (k,) ints, "seconds": (k,) median
    seconds per call}``. Uses ``time.perf_counter``; the result depends on the machine.
    """
    routes = dict(ROUTES if routes is None else routes)
    if set(widths) - set(routes):
        raise ValueError(f"time_routes: no route named {sorted(set(widths) - set(routes))}")
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, ns in widths.items():
        seconds = []
        for n in ns:
            args = _inputs(rng, batch, int(n))
            reference = vjp_route(*args)
            got = routes[name](*args)
            if not all(np.allclose(a, b, rtol=1e-12, atol=1e-14) for a, b in zip(got, reference)):
                raise ValueError(f"time_routes: route {name!r} disagrees with the VJP route at n = {n}")
            seconds.append(median_time(lambda: routes[name](*args), repeats, target=target))
        out[name] = {"n": np.asarray(ns, dtype=int), "seconds": np.asarray(seconds)}
    return out


def loglog_slope(n: Sequence[float] | np.ndarray, seconds: Sequence[float] | np.ndarray) -> float:
    """Least-squares slope of log(seconds) against log(n): about 2 for a cost growing as n^2, 1 as n."""
    n, seconds = np.asarray(n, dtype=float), np.asarray(seconds, dtype=float)
    if n.shape != seconds.shape or n.size < 2 or (n <= 0).any() or (seconds <= 0).any():
        raise ValueError("loglog_slope: need two or more positive (n, seconds) pairs of equal length")
    return float(np.polyfit(np.log(n), np.log(seconds), 1)[0])


def draw_timing(result: Mapping[str, Mapping[str, np.ndarray]], *, batch: int = 8) -> Any:
    """Log-log plot of seconds per call against n for every route in ``result`` (from :func:`time_routes`),
    with dotted guides proportional to n and n^2 through each route's last point. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    for i, (name, res) in enumerate(result.items()):
        n, sec = np.asarray(res["n"], dtype=float), np.asarray(res["seconds"], dtype=float)
        ax.loglog(n, sec, "os"[i % 2] + "-", color=f"C{i}", label=f"{name} route")
    for i, (name, power) in enumerate((("Jacobians", 2), ("VJPs", 1))):
        if name in result:
            n = np.asarray(result[name]["n"], dtype=float)
            sec = np.asarray(result[name]["seconds"], dtype=float)
            ax.loglog(n, sec[-1] * (n / n[-1]) ** power, ":", color=f"C{i}",
                      label=rf"$\propto n^{power}$" if power > 1 else r"$\propto n$")
    ax.set_xlabel("width n (m = n)")
    ax.set_ylabel("seconds per call (median)")
    ax.set_title(f"Backward through softmax and tanh, batch of {batch}")
    ax.legend(fontsize=8)
    return fig

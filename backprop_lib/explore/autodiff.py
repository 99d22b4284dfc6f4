r"""Chapter 6: the engine against the hand derivations, the seeds' slips as heatmaps, the recorded graph.

- :func:`compare_all`: for every model and parameter, the hand-derived gradient against the
  engine, central differences and the complex step;
- :data:`SLIPS` and :func:`slip_report`: each slip that chapters 1-5 find in the seeds, written
  as a reader's derivation (the correct route with the slip in one place), checked entry by
  entry by :func:`backprop_lib.gradcheck.check_derivation`; :func:`slip_figure` is the widget's update;
- :func:`derivation_heatmap`: the relative error of every entry, one panel per parameter;
- :func:`graph_layout` / :func:`draw_recorded_graph`: the graph the engine recorded, with values and gradients;
- :func:`paired_times` and :func:`graph_size`: the cost of the engine, in time and memory.

matplotlib is imported inside the plotting functions only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import autodiff as ad
from ..gradcheck import (
    CS_TOL, DerivationReport, GradCheckReport, check_derivation, check_function, check_gradients, relative_error,
)
from ..models import ALL, conv_mse, frobenius, jacobian_form, softmax_ce, three_layer
from ..timing import paired_times

Grads = dict[str, np.ndarray]


# The engine against the hand derivations ----------------------------------------------------


def check_rule(build: Callable[..., ad.Tensor], *inputs: np.ndarray, names: tuple[str, ...] = (),
               seed: int = 0) -> GradCheckReport:
    """Check the engine's backward rules for ``build`` against both numerical derivatives.

    ``build(*tensors) -> Tensor`` is any expression on the engine (one operation, or several).
    With a random G of the output's shape, the engine's gradient of sum(G * build(inputs))
    with respect to each input is compared with central differences and the complex step of
    the same sum, computed by the engine's forward pass alone (on complex values for the
    complex step). Returns one row per input, named by ``names`` (default "input 0", ...).
    """
    G = np.random.default_rng(seed).normal(size=build(*map(ad.constant, inputs)).shape)
    leaves = [ad.tensor(x) for x in inputs]
    (build(*leaves) * G).sum().backward()
    rows = []
    for i, (x, leaf) in enumerate(zip(inputs, leaves)):

        def f(v: np.ndarray, i: int = i) -> Any:
            return (build(*[ad.constant(v if j == i else x_j) for j, x_j in enumerate(inputs)]).value * G).sum()

        rows += check_function(f, x, leaf.grad, names[i] if names else f"input {i}").rows
    return GradCheckReport(rows)



@dataclass
class Comparison:
    """One parameter of one model: the largest relative error of each pair of routes."""

    model: str
    param: str
    shape: tuple[int, ...]
    hand_engine: float
    hand_cd: float
    hand_cs: float
    engine_cs: float


def hand_vs_engine(hand: np.ndarray, engine: np.ndarray) -> float:
    """Largest entry-wise relative error, the denominator floored at 1e-8 of the largest entry.

    The floor keeps an entry that cancels to ~1e-17 in one route and ~1e-18 in the other from
    counting as a disagreement; every entry larger than 1e-8 of the largest is judged relatively.
    """
    scale = max(float(np.max(np.abs(hand), initial=0.0)), 1e-300)
    return float(relative_error(hand, engine, tiny=1e-8 * scale).max(initial=0.0))


def compare_all(seed: int, batch: int) -> tuple[list[Comparison], list[GradCheckReport]]:
    """Every model at ``batch``, one random instance from ``default_rng(seed)``.

    Returns a row per (model, parameter) and the two reports per model (hand, engine) whose
    ``assert_ok`` a caller must call: both are checked against both numerical routes.
    """
    rng = np.random.default_rng(seed)
    rows: list[Comparison] = []
    reports: list[GradCheckReport] = []
    for name, model in ALL.items():
        params, data = model.example(rng, batch)
        hand = check_gradients(model.loss, model.grads, params, data)
        engine = check_gradients(model.loss, ad.engine_grads(name), params, data)
        reports += [hand, engine]
        for h, e in zip(hand.rows, engine.rows):
            rows.append(Comparison(name, h.name, h.shape, hand_vs_engine(h.analytic, e.analytic),
                                   h.cd_max, h.cs_max, e.cs_max))
    return rows, reports


def markdown_table(rows: list[Comparison]) -> str:
    """The rows of :func:`compare_all` as a Markdown table (a notebook shows it with ``Markdown``)."""
    lines = ["| model | parameter | shape | hand vs engine | hand vs central diff. | hand vs complex step "
             "| engine vs complex step |", "|---|---|---|---|---|---|---|"]
    lines += [f"| `{r.model}` | `{r.param}` | {r.shape} | {r.hand_engine:.1e} | {r.hand_cd:.1e} | {r.hand_cs:.1e} "
              f"| {r.engine_cs:.1e} |" for r in rows]
    return "\n".join(lines)


# The seeds' slips, as readers' derivations --------------------------------------------------
# Each function is the whole hand derivation of one model in NumPy, from the forward values;
# ``slip`` switches one step to the seed's version. With slip=None it is correct.


def derive_conv_mse(p: Mapping, d: Mapping, slip: str | None = None) -> Grads:
    """Chapter 1's chain, summed over the four paths; slips "sign" and "no 1/n"."""
    fw = conv_mse.forward(p, d)
    r, B = d["y"] - fw["y_hat"], len(d["y"])
    d_yhat = {"sign": 2.0 * r / B, "no 1/n": -2.0 * r}.get(slip, -2.0 * r / B)  # (B,)
    delta = d_yhat[:, None, None] * p["v"] * fw["o"] * (1.0 - fw["o"])  # (B, m, m)
    windows = sliding_window_view(d["a"], np.shape(p["w"]), axis=(1, 2))  # (B, m, m, kh, kw)
    return {"w": np.einsum("bij,bijpq->pq", delta, windows), "b": delta.sum(),
            "v": np.einsum("b,bij->ij", d_yhat, fw["o"])}


def derive_softmax_ce(p: Mapping, d: Mapping, slip: str | None = None) -> Grads:
    """Chapter 2's steps 1-8 with the Jacobian of step 6 written out; slip "misplaced entry"."""
    fw = softmax_ce.forward(p, d)
    z = fw["z"]
    d_a2 = (fw["s"] - d["t"]) / len(z)  # steps 1-2 (one-hot t)
    d_z = d_a2 @ p["W2"].T  # step 5
    J = np.einsum("bi,ij->bij", z * (1.0 - z), np.eye(z.shape[1]))  # step 6: diag(z(1 - z)) per example
    if slip == "misplaced entry":  # the seed's left-hand matrix: dz_14/da_14 in row 4, column 3
        J[:, 3, 2] = J[:, 3, 3]
        J[:, 3, 3] = 0.0
    d_a1 = np.einsum("bi,bij->bj", d_z, J)
    return {"W1": d["x"].T @ d_a1, "b1": d_a1.sum(axis=0), "W2": z.T @ d_a2, "b2": d_a2.sum(axis=0)}


def derive_three_layer(p: Mapping, d: Mapping, slip: str | None = None) -> Grads:
    """Chapter 3's delta recursion; slips "a = z", "first path" and "transpose"."""
    fw = three_layer.forward(p, d)
    y_hat = fw["y_hat"]
    d3 = (-2.0 * (d["y"] - y_hat) * y_hat * (1.0 - y_hat))[:, None]  # (B, 1)
    a2 = fw["z2"] if slip == "a = z" else fw["a2"]  # the seed: a^(2) = z^(2)
    d2 = (d3 @ p["W3"].T) * (1.0 - fw["a2"] ** 2)  # (B, 2)
    back = {"first path": d2 * np.diag(p["W2"]), "transpose": d2 @ p["W2"]}.get(slip, d2 @ p["W2"].T)
    d1 = back * (1.0 - fw["a1"] ** 2)
    return {"W1": d["x"].T @ d1, "b1": d1.sum(axis=0), "W2": fw["a1"].T @ d2, "b2": d2.sum(axis=0),
            "W3": a2.T @ d3, "b3": d3.sum(axis=0)}


def derive_frobenius(p: Mapping, d: Mapping, slip: str | None = None) -> Grads:
    """Chapter 4's differentials; slips "ReLU", "brackets", "no batch sum" and "one example"."""
    fw = frobenius.forward(p, d)
    X, hs = d["X"], fw["h_sigmoid"]
    G = 2.0 * (fw["Y_pred"] - d["Y"])  # (N, o)
    act = (fw["h"] > 0).astype(float) if slip == "ReLU" else hs * (1.0 - hs)  # the seed's h = max(Z, 0)
    dh = (G @ p["W2"].T) * act  # (N, h)
    # the seed's brackets, read left to right: (2 X^T (Y_pred - Y) W2^T) * sigmoid'(h); NumPy broadcasts or raises
    dW1 = (X.T @ G @ p["W2"].T) * act if slip == "brackets" else X.T @ dh
    b1, b2 = {"no batch sum": (dh, G), "one example": (dh[-1], G[-1])}.get(slip, (dh.sum(axis=0), G.sum(axis=0)))
    return {"W1": dW1, "b1": b1, "W2": hs.T @ G, "b2": b2}


def derive_jacobian_form(p: Mapping, d: Mapping, slip: str | None = None) -> Grads:
    """Chapter 5's Jacobians, diag(g) - g g^T written out; slip "corner entries"."""
    fw = jacobian_form.forward(p, d)
    g, y0 = fw["y_pre"], fw["y0"]
    J = np.einsum("bi,ij->bij", g, np.eye(g.shape[1])) - g[:, :, None] * g[:, None, :]  # (B, n, n)
    if slip == "corner entries":  # the seed's expanded matrix, rows 1 and n
        J[:, 0, -1] = g[:, 0] * (1.0 - g[:, -1])
        J[:, -1, 0] = g[:, -1] * (1.0 - g[:, -1])
    d_t = np.einsum("bi,bik->bk", 2.0 * (g - d["y"]), J)  # result (1), one row per example
    d_h = (d_t @ p["w1"].T) * (1.0 - y0 ** 2)  # result (3) before the sum over the batch
    return {"b0": d_h.sum(axis=0), "w1": y0.T @ d_t, "b1": d_t.sum(axis=0)}


DERIVATIONS: dict[str, Callable[..., Grads]] = {
    "conv_mse": derive_conv_mse, "softmax_ce": derive_softmax_ce, "three_layer": derive_three_layer,
    "frobenius": derive_frobenius, "jacobian_form": derive_jacobian_form,
}


@dataclass(frozen=True)
class Slip:
    """A slip of a seed: where it is, what kind, the seed's words, and which parameters it spoils."""

    model: str
    slip: str
    seed: str
    chapter: int
    kind: str
    quote: str
    hits: tuple[str, ...]  # the parameters whose gradient it makes wrong
    hidden_at_batch_1: bool = False

    @property
    def grad(self) -> Callable[[Mapping, Mapping], Grads]:
        return partial(DERIVATIONS[self.model], slip=self.slip)


SLIPS: dict[str, Slip] = {s.model + ": " + s.slip: s for s in [
    Slip("conv_mse", "sign", "000_6c04f4480d2f9198.txt", 1, "sign",
         r"\frac{2}{n} (\hat{y} - y) \times -1 = -2(yy - \hat{y})", ("w", "b", "v")),
    Slip("conv_mse", "no 1/n", "000_6c04f4480d2f9198.txt", 1, "missing factor 1/B",
         r"MSE = \frac{1}{n} (yy - \hat{y})^2, n = 1", ("w", "b", "v"), True),
    Slip("softmax_ce", "misplaced entry", "001_ab883ac4a91cf3d4.txt", 2, "wrong entry",
         r"0 & 0 & \frac{\partial \bar{z}_{14}}{\partial a_{14}} & 0", ("W1", "b1")),
    Slip("three_layer", "a = z", "002_3b946e9235cf8671.txt", 3, "wrong activation", r"a_1^{(2)} = z_1^{(2)}", ("W3",)),
    Slip("three_layer", "first path", "002_3b946e9235cf8671.txt", 3, "missing sum over paths",
         r"\delta_1^{[1]} = \delta_1^{[2]} f_2'(z_1^{[2]}) w_{11}^{[2]}", ("W1", "b1")),
    Slip("three_layer", "transpose", "002_3b946e9235cf8671.txt", 3, "wrong transpose (not the seed's)",
         r"\delta_1^{[1]} = \sum_{j=1}^2 \delta_j^{[2]} f_j'(z_j^{[2]}) w_{1j}^{[2]}", ("W1", "b1")),
    Slip("frobenius", "ReLU", "003_4129d02100056eea.txt", 4, "wrong activation", r"令 $Z = XW$, $h = max(Z, 0)$",
         ("W1", "b1")),
    Slip("frobenius", "brackets", "003_4129d02100056eea.txt", 4, "ambiguous brackets",
         r"\frac{\partial f}{\partial W_1} = 2X^T(Y_{pred} - Y)W_2^T \odot \text{sigmoid}'(h)", ("W1",), True),
    Slip("frobenius", "no batch sum", "003_4129d02100056eea.txt", 4, "missing batch sum (shape)",
         r"\frac{\partial f}{\partial b_2} = 2(Y_{pred} - Y)", ("b1", "b2")),
    Slip("frobenius", "one example", "003_4129d02100056eea.txt", 4, "missing batch sum",
         r"\frac{\partial f}{\partial b_2} = 2(Y_{pred} - Y)", ("b1", "b2"), True),
    Slip("jacobian_form", "corner entries", "004_75252787fe7494d3.txt", 5, "wrong entries",
         r"\frac{e^{t_1}(\sum_{i=1}^n e^{t_i} - e^{t_n})}{(\sum_{i=1}^n e^{t_i})^2}", ("b0", "w1", "b1")),
]}


def slip_report(key: str, batch: int, seed: int = 6) -> DerivationReport:
    """Check the slip ``key`` of :data:`SLIPS` entry by entry on a random instance of its model.

    Raises ValueError where the slip gives a gradient of the wrong shape (as ``check_derivation``
    does) or NumPy cannot broadcast it: those slips are caught before any number is compared.
    """
    slip = SLIPS[key]
    model = ALL[slip.model]
    params, data = model.example(np.random.default_rng(seed), batch)
    return check_derivation(model.loss, slip.grad, params, data)


# Heatmaps -------------------------------------------------------------------------------------

FLOOR = 1e-17  # a relative error of exactly 0 is drawn here on the log scale


def derivation_heatmap(report: DerivationReport, title: str = "", figsize: tuple[float, float] | None = None) -> Any:
    """One panel per parameter: log10 of each entry's relative error against the complex step.

    A vector is drawn as a row, a scalar as one cell. Wrong entries (by both tolerances of
    ``report``) are framed in black and annotated with their error. Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    errs = [np.atleast_2d(np.maximum(r.cs_error, FLOOR)) for r in report.rows]  # a vector as a row
    widths = [max(e.shape[1], 1.3) for e in errs]
    fig, axes = plt.subplots(1, len(errs), figsize=figsize or (1.6 + 0.75 * sum(widths), 3.0), layout="constrained",
                             gridspec_kw={"width_ratios": widths}, squeeze=False)
    norm = LogNorm(vmin=FLOOR, vmax=2.0)
    image = None
    for ax, row, err in zip(axes[0], report.rows, errs):
        ok = np.atleast_2d(report.entry_ok(row.name))
        image = ax.imshow(err, cmap="YlOrRd", norm=norm)
        for (i, j), e in np.ndenumerate(err):
            if not ok[i, j]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="black", lw=1.8))
            shown = "0" if e <= FLOOR else f"{e:.2f}" if e >= 0.01 else f"{e:.0e}"  # 0: exactly right
            ax.text(j, i, shown, ha="center", va="center", fontsize=7, color="white" if e > 1e-3 else "0.3")
        ax.set_xticks(range(err.shape[1]))
        ax.set_yticks(range(err.shape[0]))
        bad = int((~ok).sum())
        ax.set_title(f"{row.name} {row.shape}\n" + (f"{bad} of {ok.size} wrong" if bad else "all right"), fontsize=9)
    bar = fig.colorbar(image, ax=list(axes[0]), shrink=0.9, label="relative error (complex step)")
    bar.ax.axhline(CS_TOL, color="black", lw=1.5)
    if title:
        fig.suptitle(title)
    return fig


def message_figure(text: str, title: str = "") -> Any:
    """A figure holding only a message (what the widget shows when a slip is refused before any number)."""
    import textwrap

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 1.8), layout="constrained")
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(text, 90)), ha="center", va="center", fontsize=9, wrap=True)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def slip_figure(key: str, batch: int, seed: int = 6) -> Any:
    """The widget's update: the heatmap of :func:`slip_report`, or the message when the slip is refused."""
    slip = SLIPS[key]
    title = f"chapter {slip.chapter}, {key} ({slip.kind}), batch {batch}"
    try:
        report = slip_report(key, batch, seed)
    except ValueError as err:
        return message_figure(f"refused before any number was compared: {err}", title)
    return derivation_heatmap(report, title)


# The recorded graph -------------------------------------------------------------------------


def _short(value: np.ndarray) -> str:
    """Up to four entries, rounded to 2 decimals, two to a line; a larger array by its shape."""
    v = np.real(value).ravel()
    if v.size > 4:
        return f"shape {np.shape(value)}"
    cells = [f"{x:.2f}" for x in v]
    return "\n".join("  ".join(cells[i:i + 2]) for i in range(0, len(cells), 2))


def graph_layout(root: ad.Tensor) -> tuple[dict[str, tuple[float, float, str]], list[tuple[str, str]], dict]:
    """Nodes, edges and node kinds of the graph under ``root``, for :func:`backprop_lib.plotting.draw_graph`.

    Operations sit on one line, left to right in the order of the forward pass; each leaf sits one
    column before the operation that uses it, above or below the line. A label shows the node
    (operation and name), its value and, under "grad", the gradient the backward pass left in it.
    Returns ``(nodes, edges, kinds)`` with kinds ``"op"``, ``"param"`` or ``"data"`` per key.
    """
    order = ad.topological_order(root)
    key = {id(n): f"n{i}" for i, n in enumerate(order)}
    ops = [n for n in order if n.parents]
    column = {id(n): i + 1 for i, n in enumerate(ops)}
    nodes: dict[str, tuple[float, float, str]] = {}
    kinds: dict[str, str] = {}
    side: dict[int, int] = {}
    for n in ops:
        for p in n.parents:
            if not p.parents and key[id(p)] not in nodes:
                above = side.get(id(n), 0)
                side[id(n)] = above + 1
                nodes[key[id(p)]] = (1.5 * (column[id(n)] - 0.5), 1.7 * (1 if above % 2 == 0 else -1), _label(p))
                kinds[key[id(p)]] = "param" if p.requires_grad else "data"
        nodes[key[id(n)]] = (1.5 * column[id(n)], 0.0, _label(n))
        kinds[key[id(n)]] = "op"
    edges = [(key[id(p)], key[id(n)]) for n in ops for p in n.parents]
    return nodes, edges, kinds


def _label(n: ad.Tensor) -> str:
    head = n.name if not n.parents else (f"{n.op} = {n.name}" if n.name else n.op)
    lines = [head, _short(n.value)]
    if n.grad is not None:
        lines += ["grad:", _short(n.grad)]
    return "\n".join(lines)


def draw_recorded_graph(root: ad.Tensor, highlight_to: ad.Tensor | None = None, title: str = "") -> Any:
    """Draw the graph under ``root`` with :func:`backprop_lib.plotting.draw_graph`.

    Parameters are green, data grey, operations blue; the edges from ``highlight_to`` to the
    root (the paths its gradient comes back along) are red.
    """
    from ..plotting import draw_graph

    nodes, edges, kinds = graph_layout(root)
    colors = {"param": "#d8f0d2", "data": "#e6e6e6", "op": "#eef3fb"}
    hot: list[tuple[str, str]] = []
    if highlight_to is not None:
        order = ad.topological_order(root)
        key = {id(n): f"n{i}" for i, n in enumerate(order)}
        reaches = {id(highlight_to)}
        for n in order:
            if any(id(p) in reaches for p in n.parents):
                reaches.add(id(n))
                hot += [(key[id(p)], key[id(n)]) for p in n.parents if id(p) in reaches]
    xs = [x for x, _, _ in nodes.values()]
    return draw_graph(nodes, edges, highlight=hot, node_color={k: colors[v] for k, v in kinds.items()},
                      title=title, figsize=(1.2 * (max(xs) - min(xs) + 2), 6.0))


# Timing: paired_times (the engine against the hand-derived grads) is backprop_lib.timing's.


def graph_size(root: ad.Tensor) -> tuple[int, int]:
    """Number of nodes under ``root`` and the bytes their values and gradients hold."""
    order = ad.topological_order(root)
    return len(order), sum(n.value.nbytes + (0 if n.grad is None else n.grad.nbytes) for n in order)

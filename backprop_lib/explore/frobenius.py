r"""Chapter 4 (seed 003): training curves, shape bookkeeping and a bracket check.

- :func:`regression_data`, :func:`training_curve`, :func:`plot_training_curves`: the widget's
  update logic. A small regression (N = 32 rows, d = 3 inputs, o = 2 outputs) is fitted by
  ``backprop_lib.models.frobenius`` with plain gradient descent, for a hidden width and a
  learning rate chosen by the reader.
- :func:`shape_of`, :func:`tex_of`, :func:`draw_shapes`: a matrix expression as a small tree
  of ``@`` (matrix product) and ``*`` (element-wise product) nodes, its shape worked out
  factor by factor (a ValueError where two factors do not fit), and a drawing of the factors
  as rectangles of their shapes.
- :func:`bracket_problems`: the unbalanced ``( ) [ ] \{ \}`` of a line of TeX.

matplotlib is imported inside the plotting functions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

import numpy as np

from ..models import frobenius
from ..train import gradient_descent

# --------------------------------------------------------------------------- training

REGRESSION_SEED = 4
INIT_SEED = 0


def regression_data(n: int = 32, seed: int = REGRESSION_SEED) -> dict[str, np.ndarray]:
    r"""A fixed smooth regression task: ``X`` (n, 3) uniform in [-2, 2], ``Y`` (n, 2) with

    .. math::
        Y_{:,0} = \sin X_{:,0} + \tfrac12 X_{:,1}, \qquad Y_{:,1} = \tanh X_{:,2} - 0.3\, X_{:,0} X_{:,1}.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n, 3))
    Y = np.column_stack([np.sin(X[:, 0]) + 0.5 * X[:, 1], np.tanh(X[:, 2]) - 0.3 * X[:, 0] * X[:, 1]])
    return {"X": X, "Y": Y}


def initial_params(width: int, seed: int = INIT_SEED) -> dict[str, np.ndarray]:
    """Starting parameters from ``frobenius.example`` with hidden width ``width``:
    ``W1`` (3, width), ``b1`` (width,), ``W2`` (width, 2), ``b2`` (2,)."""
    if width < 1:
        raise ValueError(f"width: need at least one hidden unit, got {width}")
    params, _ = frobenius.example(np.random.default_rng(seed), batch=1, h=int(width))
    return params


def training_curve(width: int, lr: float, steps: int = 200, *, n: int = 32) -> np.ndarray:
    r"""Losses :math:`f = \|Y - Y_{pred}\|_F^2` of gradient descent on :func:`regression_data`.

    Uses ``frobenius.loss`` and ``frobenius.grads`` (the derived gradients) through
    ``backprop_lib.train.gradient_descent``. Returns shape (steps + 1,): the loss before the
    first update and after each one. A learning rate too large for the width makes the
    loss grow without bound; entries that overflow are returned as ``inf`` or ``nan``
    without a warning.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        _, losses = gradient_descent(frobenius.loss, frobenius.grads, initial_params(width),
                                     regression_data(n), lr=lr, steps=steps)
    return losses


def plot_training_curves(settings: Sequence[tuple[int, float]], steps: int = 200, *, ax: Any = None,
                         title: str = "") -> Any:
    """One loss curve (log scale) per ``(width, lr)`` in ``settings``; returns the figure.

    A curve that diverges is drawn up to its last finite value and marked "diverged" in
    the legend. The widget calls this with one setting; the static figure with several.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    else:
        fig = ax.figure
    for width, lr in settings:
        losses = training_curve(width, lr, steps)
        good = np.isfinite(losses) & (losses < 1e6)
        last = int(np.argmin(good)) if not good.all() else len(losses)
        label = f"width {width}, lr {lr:g}" + (": diverged" if last < len(losses) else f": {losses[-1]:.3g}")
        ax.plot(np.arange(last), losses[:last], label=label, ls="--" if last < len(losses) else "-")
    ax.set_yscale("log")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel(r"$f = \|Y - Y_{pred}\|_F^2$")
    ax.set_xlim(0, steps)
    ax.set_title(title or f"Training on {len(regression_data()['X'])} rows with the derived gradients")
    ax.legend(fontsize=8, loc="upper right")
    return fig


# --------------------------------------------------------------------------- shapes

Leaf = tuple[str, tuple[int, int]]  # (TeX label, shape)
Expr = Union[Leaf, tuple[str, "Expr", "Expr"]]  # ("@" | "*", left, right)


def _is_leaf(e: Expr) -> bool:
    return len(e) == 2


def shape_of(e: Expr) -> tuple[int, int]:
    """Shape of an expression tree; ValueError naming the two factors that do not fit.

    ``("@", A, B)``: (a, b) @ (b, c) -> (a, c); ``("*", A, B)``: equal shapes -> that shape.
    """
    if _is_leaf(e):
        return tuple(e[1])  # type: ignore[return-value]
    op, left, right = e  # type: ignore[misc]
    ls, rs = shape_of(left), shape_of(right)
    if op == "@":
        if ls[1] != rs[0]:
            raise ValueError(f"matrix product of {tex_of(left)} {ls} and {tex_of(right)} {rs}: {ls[1]} != {rs[0]}")
        return (ls[0], rs[1])
    if op == "*":
        if ls != rs:
            raise ValueError(f"element-wise product of {tex_of(left)} {ls} and {tex_of(right)} {rs}: shapes differ")
        return ls
    raise ValueError(f"unknown operator {op!r}; use '@' or '*'")


def _needs_brackets(parent: str, child: Expr) -> bool:
    """A non-leaf operand is bracketed unless it and its parent are both matrix products
    (which associate); so an element-wise product is always bracketed as an operand."""
    return bool(parent) and not _is_leaf(child) and not (parent == "@" and child[0] == "@")


def tex_of(e: Expr, parent: str = "") -> str:
    r"""TeX of an expression, with brackets exactly where :func:`_needs_brackets` puts them:
    ``("@", X^T, ("*", ("@", G, W^T), S))`` reads ``X^T \left[\left(G W^T\right) \odot S\right]``."""
    if _is_leaf(e):
        return e[0]  # type: ignore[return-value]
    op, left, right = e  # type: ignore[misc]
    sym = r"\odot " if op == "*" else ""
    inner = f"{tex_of(left, op)} {sym}{tex_of(right, op)}"
    if not _needs_brackets(parent, e):
        return inner
    return rf"\left[{inner}\right]" if op == "*" else rf"\left({inner}\right)"


def _leaves(e: Expr, out: list, parent: str = "") -> list:
    """Flatten to drawing tokens: ('(' | ')' | operator, None) and (label, shape)."""
    if _is_leaf(e):
        out.append(e)
        return out
    op, left, right = e  # type: ignore[misc]
    bracket = _needs_brackets(parent, e)
    if bracket:
        out.append(("(", None))
    _leaves(left, out, op)
    out.append(("⊙" if op == "*" else "·", None))
    _leaves(right, out, op)
    if bracket:
        out.append((")", None))
    return out


def draw_shapes(rows: Sequence[tuple[str, Expr]], *, unit: float = 0.16, ax: Any = None) -> Any:
    """Draw each ``(name, expression)`` as rectangles of the factors' shapes (rows x columns,
    ``unit`` per entry), the operators between them, ``=`` and the result's rectangle.

    Returns the figure. An expression whose factors do not fit raises ValueError (see
    :func:`shape_of`) before anything is drawn.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    shapes = [shape_of(e) for _, e in rows]
    heights = [max(max(s[0] for _, s in _leaves(e, []) if s), r[0]) * unit for (_, e), r in zip(rows, shapes)]
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 0.25 + 1.1 * sum(heights) + 0.35 * len(rows)), layout="constrained")
    else:
        fig = ax.figure
    y = 0.0
    xmax = 0.0
    for (name, e), res, hgt in zip(rows, shapes, heights):
        mid = y - hgt / 2
        ax.text(0.0, mid, name, ha="left", va="center", fontsize=11)
        x = 1.5
        tokens = _leaves(e, []) + [("=", None), ("", res)]
        for k, (label, shape) in enumerate(tokens):
            if shape is None:
                ax.text(x + 0.1, mid, label, ha="center", va="center", fontsize=15 if label in "()" else 14,
                        fontweight="bold" if label == "·" else "normal")
                x += 0.25 if label in "()" else 0.35
                continue
            w, hh = shape[1] * unit, shape[0] * unit
            is_result = k == len(tokens) - 1
            ax.add_patch(Rectangle((x, mid - hh / 2), w, hh, fc="0.85" if is_result else "#dce8f6", ec="0.25", lw=1))
            if label:
                ax.text(x + w / 2, mid + hh / 2 + 0.05, f"${label}$", ha="center", va="bottom", fontsize=10)
            ax.text(x + w / 2, mid - hh / 2 - 0.05, f"{shape[0]}×{shape[1]}", ha="center", va="top", fontsize=8,
                    color="0.3")
            x += w + 0.1
        xmax = max(xmax, x)
        y -= hgt + 0.55
    ax.set_xlim(-0.1, xmax + 0.2)
    ax.set_ylim(y + 0.3, 0.45)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig


# --------------------------------------------------------------------------- brackets

_PAIRS = {")": "(", "]": "[", r"\}": r"\{"}


def _bracket_tokens(tex: str) -> list[str]:
    r"""The brackets of a TeX line in order: ( ) [ ] and the literal braces \{ \}.

    Bare { } are TeX grouping, not brackets, and are skipped; so are \left and \right.
    """
    out, i = [], 0
    while i < len(tex):
        if tex.startswith(r"\{", i) or tex.startswith(r"\}", i):
            out.append(tex[i:i + 2])
            i += 2
        elif tex[i] == "\\":  # a command name: skip the backslash and its letters
            i += 1
            while i < len(tex) and tex[i].isalpha():
                i += 1
        else:
            if tex[i] in "()[]":
                out.append(tex[i])
            i += 1
    return out


def bracket_problems(tex: str) -> list[str]:
    r"""Every bracket of ``tex`` that is closed without being opened, closed by the wrong
    kind, or never closed, as messages such as ``"'\}' closes nothing (bracket 7)"``.

    An empty list means the brackets balance.
    """
    stack: list[tuple[str, int]] = []
    problems = []
    for k, tok in enumerate(_bracket_tokens(tex), start=1):
        if tok in _PAIRS:
            if not stack:
                problems.append(f"'{tok}' closes nothing (bracket {k})")
            elif stack[-1][0] != _PAIRS[tok]:
                problems.append(f"'{tok}' closes '{stack[-1][0]}' (bracket {k})")
                stack.pop()
            else:
                stack.pop()
        else:
            stack.append((tok, k))
    problems += [f"'{tok}' is never closed (bracket {k})" for tok, k in stack]
    return problems

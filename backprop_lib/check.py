r"""Check a gradient you derived by hand: type it as you wrote it, get the slip named.

>>> from backprop_lib.check import check_formula, symbols
>>> check_formula("softmax_ce", "W2", r"\frac{1}{B}\bar z^T (s - t)").ok
True
>>> check_formula("softmax_ce", "W2", r"\bar z^T (s - t)").slip   # the mean's 1/B is missing
'factor'

A formula is LaTeX (:mod:`backprop_lib._latex`: detected by a backslash, ``^``, ``{`` or a ``_``
that is not part of a code name, or ``notation="latex"``) or a NumPy expression
(:mod:`backprop_lib._safe_numpy`), over the names of the model's symbol table (:func:`symbols`):
its parameters, its data, the outputs of its ``forward``, ``B`` (the batch size) and ``np``. It
may carry a left-hand side (``\frac{\partial L}{\partial W_2} = ...``, ``dL/dW2 = ...``,
``dW2 = ...``): the parameter is then read from it, and when it differs from the one selected the
formula is checked against the left-hand side's parameter, and the message says so.

How a verdict is reached
------------------------
The formula is evaluated on several random instances drawn with the model's ``example``: for
each of the model's ``sizes`` (the seed's, then sizes that make every matrix non-square), a batch
of 1 and a batch B chosen unlike every other size of the instance, so that a missing transpose or
a missing sum over the batch cannot hide behind equal sizes. Each result is compared with the
complex-step gradient of the model's loss (central differences as a second opinion), entry by entry
(relative error with a floor of 1e-3 times the largest entry; a match is within 1e-6). Then:

==============  =========================================================================
``ok``          equal on every instance (a result that differs only by axes of length 1 is
                reshaped, and the message says so)
``sign``        minus the gradient
``factor``      a constant multiple: 2, 1/2, ..., or B or 1/B (a missing or extra mean's 1/B:
                right for a batch of 1, so a check at B = 1 cannot see it), named
``transpose``   the gradient's transpose (with reversed sizes, or square and transposed)
``batch``       right for a batch of 1, wrong for more: a sum over the batch missing (one row
                per example), misplaced, or a formula that only works for one example
``shape``       cannot be evaluated (which product, which shapes), or the wrong shape
``other``       wrong: the largest relative error and where the wrong entries are (a row, a
                column, the diagonal)
``unreadable``  the parser's message and position, an unknown name and the names there are,
                or something a formula may not do (a call, a size, the time)
==============  =========================================================================

Every verdict takes at most 2 s, whatever the input: formulas are at most 2000 characters, trees
at most 100 deep, arrays at most 4e6 entries (refused before they are made) and the evaluation
stops at a deadline checked between steps (no thread or signal, so it runs in Pyodide too).
"""

from __future__ import annotations

import ast
import html
import math
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _latex, _safe_numpy
from ._safe_numpy import Budget, FormulaError, Refused, ShapeError
from .gradcheck import complex_step_gradient, numerical_gradient
from .models import MODELS, Model

SLIPS = ("sign", "factor", "transpose", "batch", "shape", "other", "unreadable")
TOL = 1e-6  # relative error of a match (the complex step is exact to about 1e-15)
FLOOR = 1e-3  # entries below FLOOR * the largest entry are judged against that scale
CD_AGREE = 1e-5  # central differences must agree with the complex step this well
BUDGET_S = 1.5  # evaluation deadline after the call starts; the verdict itself follows within 2 s
SEED = 20260528


# --- the verdict ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """The checker's answer: ``ok``, the ``slip`` (None when ok, else one of :data:`SLIPS`), a ``message``
    a student can act on, the parameter checked, the largest relative error (None when nothing
    could be compared), the notation read, and the character position of a problem in the formula."""

    model: str
    param: str | None
    formula: str
    notation: str
    ok: bool
    slip: str | None
    message: str
    max_error: float | None = None
    position: int | None = None
    instances: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The verdict as JSON-safe values (for the browser's worker)."""
        err = self.max_error
        return {"model": self.model, "param": self.param, "formula": self.formula, "notation": self.notation,
                "ok": self.ok, "slip": self.slip, "message": self.message,
                "max_error": None if err is None or not math.isfinite(err) else float(err),
                "position": self.position, "instances": self.instances, "seconds": round(self.seconds, 4)}

    @property
    def label(self) -> str:
        return "right" if self.ok else f"wrong: {self.slip}" if self.slip != "unreadable" else "unreadable"

    def _error_text(self) -> str:
        return "" if self.max_error is None else f"largest relative error {_e(self.max_error)}"

    def __str__(self) -> str:
        head = f"{self.param or '?'}: {self.label}"
        if self.max_error is not None:
            head += f" ({self._error_text()})"
        lines = [head, *textwrap.wrap(self.message, 78)]
        if self.position is not None:
            lines += _caret(self.formula, self.position)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        mark = "&#10003;" if self.ok else "&#10007;"
        where = ""
        if self.position is not None:
            before, at, after = (self.formula[:self.position], self.formula[self.position:self.position + 1],
                                 self.formula[self.position + 1:])
            where = (f"<p style='margin:0.25em 0'><code style='white-space:pre-wrap;overflow-wrap:anywhere'>"
                     f"{html.escape(before)}<mark>{html.escape(at) or '&nbsp;'}</mark>{html.escape(after)}"
                     f"</code></p>")
        error = f"<p style='margin:0.25em 0'>{self._error_text()}</p>" if self.max_error is not None else ""
        return (f"<div class='bp-verdict' data-slip='{'ok' if self.ok else self.slip}' "
                f"style='max-width:100%;overflow-wrap:anywhere;white-space:normal'>"
                f"<p style='margin:0.25em 0'><strong>{mark} {html.escape(self.param or '?')}: "
                f"{html.escape(self.label)}</strong></p>"
                f"<p style='margin:0.25em 0'>{html.escape(self.message)}</p>{where}{error}</div>")


def _e(x: float) -> str:
    return f"{x:.1e}" if math.isfinite(x) else str(x)


def _caret(text: str, pos: int) -> list[str]:
    """The formula around ``pos`` with a caret under it, within 80 columns."""
    start = max(0, min(pos - 30, len(text) - 70))
    shown = text[start:start + 70].replace("\n", " ")
    return ["  " + shown, "  " + " " * (pos - start) + "^"]


# --- the symbol table -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SymbolTable:
    """The names a formula for ``model`` may use: ``rows`` of (code name, LaTeX spellings, shape, meaning)."""

    model: str
    rows: tuple[tuple[str, str, str, str], ...]

    def __str__(self) -> str:
        head = ("name", "LaTeX", "shape", "meaning")
        rows = [head, *self.rows]
        w = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"names in formulas for {self.model} (rows are examples):"]
        for r in rows:
            left = f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  "
            wrapped = textwrap.wrap(r[3], max(20, 79 - len(left))) or [""]
            lines.append(left + wrapped[0])
            lines += [" " * len(left) + more for more in wrapped[1:]]
        return "\n".join(lines + textwrap.wrap(_SYMBOLS_NOTE, 79))

    __repr__ = __str__

    def _repr_html_(self) -> str:
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in self.rows)
        return (f"<table class='table bp-symbols' style='max-width:100%;overflow-wrap:anywhere'>"
                f"<caption>names in formulas for {html.escape(self.model)} (rows are examples)</caption>"
                f"<thead><tr><th>name</th><th>LaTeX</th><th>shape</th><th>meaning</th></tr></thead>"
                f"<tbody>{body}</tbody></table><p>{html.escape(_SYMBOLS_NOTE)}</p>")


_SYMBOLS_NOTE = ("In LaTeX a vector parameter is a row (1 x n), a quantity with one value per example a "
                 "column (B x 1); the code's names work in LaTeX too (W1; y_hat as y_{hat}), and x_b inside "
                 "\\sum_b is example b.")


def symbols(model: str | Model) -> SymbolTable:
    """The table of names a formula for ``model`` may use, with their shapes (the seed's sizes) and meanings."""
    m = _model(model)
    table = _table(m)
    seed = _instances(m)[0]
    rows = []
    for name, sym in m.symbols.items():
        shape = list(np.shape(seed.values[name]))
        batched = bool(sym.shape) and sym.shape[0] == m.inputs.batch
        if batched:
            shape[0] = m.inputs.batch
        text = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
        if batched and len(shape) == 1:
            text += " column"
        elif not batched and len(shape) == 1:
            text += " row"
        rows.append((name, ", ".join(table.spellings[name]), text, sym.meaning))
    batch = m.inputs.batch
    rows.append(("B" if batch == "B" else f"B, {batch}", "B" if batch == "B" else f"B, {batch}", "()",
                 "the batch size (number of examples)"))
    rows.append(("np", "", "", "NumPy (functions: np.exp, np.sum, np.einsum, ...)"))
    for letter, fn in m.functions.items():  # the chapter's letters for its activations (LaTeX only)
        rows.append((letter, f"{letter}(..), {letter}'(..)" if fn != "softmax" else f"{letter}(..)", "",
                     f"{fn}, row by row" if fn == "softmax" else f"{fn}, entry by entry; {letter}' its slope"))
    return SymbolTable(m.name, tuple(rows))


# --- names, instances, gradients (cached per model) -----------------------------------------------

@dataclass
class _Table:
    """A model's names: LaTeX normal form -> code name, and each code name's spellings to show."""

    latex: dict[str, str]
    spellings: dict[str, list[str]]


@dataclass
class _Instance:
    label: str  # "the seed's sizes, B = 2"
    batch: int
    params: dict[str, np.ndarray]
    data: dict[str, np.ndarray]
    values: dict[str, np.ndarray]  # every symbol's array, as the code has it
    numpy_env: dict[str, Any]
    latex_env: _latex.Env
    grads: dict[str, np.ndarray] = field(default_factory=dict)


_TABLES: dict[str, _Table] = {}
_INSTANCES: dict[str, list[_Instance]] = {}


def _model(model: str | Model) -> Model:
    if isinstance(model, Model):
        return model
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; the models are {', '.join(MODELS)}")
    return MODELS[model]


def _auto_spellings(name: str) -> list[str]:
    """LaTeX spellings of a code name: W1 -> W_1, Y_pred -> Y_{pred}, y0 -> y_0."""
    head = name.rstrip("0123456789")
    out = []
    if head and head != name and head.isalpha() and len(head) == 1:
        out.append(f"{head}_{name[len(head):]}")
    if "_" in name:
        base, _, rest = name.partition("_")
        if len(base) == 1 and rest.isalnum():
            out.append(f"{base}_{{{rest}}}")
    return out


def _table(m: Model) -> _Table:
    if m.name in _TABLES:
        return _TABLES[m.name]
    latex: dict[str, str] = {}
    spellings: dict[str, list[str]] = {}
    for declared in (True, False):  # the declared spellings first: they win a clash with automatic ones
        for name, sym in m.symbols.items():
            candidates = list(sym.latex) if declared else [name, *_auto_spellings(name)]
            for alias in candidates:
                try:
                    key = _latex.normal_form(alias)
                except (FormulaError, ValueError):
                    continue
                if key not in latex:
                    latex[key] = name
                    if declared:
                        spellings.setdefault(name, []).append(alias)
    for name in m.symbols:
        spellings.setdefault(name, [])
    _TABLES[m.name] = table = _Table(latex, spellings)
    return table


def _batch_size(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray]) -> int:
    """The smallest batch of 2 or more unlike every size of the parameters and of the data's other axes (so
    that no product fits by accident)."""
    sizes = {n for v in params.values() for n in np.shape(v)} | {n for v in data.values() for n in np.shape(v)[1:]}
    b = 2
    while b in sizes:
        b += 1
    return b


def _sizes_label(sizes: Mapping[str, Any]) -> str:
    if not sizes:
        return "the seed's sizes"
    parts = []
    for k, v in sizes.items():
        parts.append("-".join(map(str, v)) if isinstance(v, (tuple, list)) else f"{k} = {v}")
    return "sizes " + ", ".join(parts)


def _instances(m: Model) -> list[_Instance]:
    """Random instances for the checker: each of the model's sizes at batch 1 and at a batch unlike its sizes."""
    if m.name in _INSTANCES:
        return _INSTANCES[m.name]
    rng = np.random.default_rng(SEED)
    table = _table(m)
    known = tuple(f"{table.spellings[n][0]} ({n})" if table.spellings[n] and table.spellings[n][0] != n else n
                  for n in m.symbols) + ("B",) + ((m.inputs.batch,) if m.inputs.batch != "B" else ())
    out = []
    for sizes in m.sizes:
        probe = m.example(np.random.default_rng(0), 1, **sizes)
        for batch in (1, _batch_size(*probe)):
            params, data = m.example(rng, batch, **sizes)
            fwd = m.forward(params, data)
            values = {k: np.array(v, dtype=np.float64) for k, v in {**params, **data, **fwd}.items()
                      if k in m.symbols}
            for v in values.values():  # no formula writes into them (out=, in place)
                v.flags.writeable = False
            numpy_env: dict[str, Any] = {"B": batch, m.inputs.batch: batch}
            numpy_env.update(values)
            names: dict[str, Any] = {"B": np.float64(batch), m.inputs.batch: np.float64(batch)}
            batched = set()
            for key, name in table.latex.items():
                if name not in values:  # a symbol the instance has no array for
                    continue
                arr, sym = values[name], m.symbols[name]
                is_batched = bool(sym.shape) and sym.shape[0] == m.inputs.batch
                if is_batched:
                    batched.add(key)
                names[key] = arr[:, None] if arr.ndim == 1 and is_batched else arr[None, :] if arr.ndim == 1 else arr
            env = _latex.Env(names, frozenset(batched), batch, known)
            label = f"{_sizes_label(sizes)}, B = {batch}"
            out.append(_Instance(label, batch, params, data, values, numpy_env, env))
    _INSTANCES[m.name] = out
    return out


def _gradient(m: Model, inst: _Instance, param: str) -> np.ndarray:
    """The loss's gradient w.r.t. ``param`` at the instance: the complex step, confirmed by central differences."""
    if param in inst.grads:
        return inst.grads[param]
    loss = m.loss
    p, d = inst.params, inst.data

    def f(v: np.ndarray) -> Any:
        return loss({**p, param: v}, d)

    g = complex_step_gradient(f, p[param])
    cd = numerical_gradient(f, p[param])
    scale = max(float(np.max(np.abs(g), initial=0.0)), 1e-300)
    if float(np.max(np.abs(g - cd), initial=0.0)) > CD_AGREE * max(scale, 1.0):
        raise RuntimeError(f"{m.name}: the complex step and central differences disagree for {param} "
                           f"({inst.label}); the model's loss is not complex-step safe")
    inst.grads[param] = g
    return g


# --- reading the formula --------------------------------------------------------------------------

def _split_lhs(text: str) -> tuple[str | None, str, int]:
    """(left-hand side or None, right-hand side, offset of the right-hand side): split at the first and the
    last top-level '=' (outside brackets; a chain a = b = c keeps a and c)."""
    depth, cuts = 0, []
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "=" and depth == 0 and text[i + 1:i + 2] != "=" and text[i - 1:i] not in ("=", "<", ">", "!"):
            cuts.append(i)
    if not cuts:
        return None, text, 0
    return text[:cuts[0]], text[cuts[-1] + 1:], cuts[-1] + 1


def _detect(text: str, names: set[str], functions: Mapping[str, str] = {}) -> str:
    """'latex' or 'numpy' (see the module docstring): LaTeX with a backslash or a ^; else NumPy when Python
    reads it, unless it reads only as math (a number before a bracket, ``2(s - t)``) or its underscores
    are LaTeX subscripts (names that are not the table's: ``Y_p``); LaTeX when Python cannot read it and
    it has braces or underscores or nothing of NumPy's (``@``, ``.``, ``**``, ``[``, quotes); LaTeX when it
    calls one of the model's letters for its activations (``g(t)``, ``f'(h)``)."""
    if "\\" in text or "^" in text or any(f"{f}'(" in text.replace(" ", "") for f in functions):
        return "latex"
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        numpy_like = any(tok in text for tok in ("@", ".", "np", "**", "[", "'")) and not any(c in text for c in "{_")
        return "numpy" if numpy_like else "latex"
    nodes = list(ast.walk(tree))
    if any(isinstance(n, ast.Call) and (isinstance(n.func, ast.Constant) or isinstance(n.func, ast.Name) and
                                        n.func.id in functions) for n in nodes):
        return "latex"
    if "_" in text:
        used = {n.id for n in nodes if isinstance(n, ast.Name)}
        python = any(isinstance(n, (ast.Attribute, ast.Lambda, ast.comprehension, ast.Subscript, ast.Call, ast.Dict,
                                    ast.Set)) or isinstance(n, ast.Constant) and isinstance(n.value, str)
                     for n in nodes)
        return "numpy" if used <= names | {"np"} or python or any("__" in u for u in used) else "latex"
    return "numpy"


def _resolve_param(m: Model, name: str) -> str | None:
    """A parameter's code name from its code name or a LaTeX spelling; None if it is not a parameter."""
    if name in m.params:
        return name
    try:
        code = _table(m).latex.get(_latex.normal_form(name))
    except (FormulaError, ValueError):
        return None
    return code if code in m.params else None


def _read_lhs(m: Model, lhs: str, selected: str | None) -> tuple[str | None, str]:
    """(the parameter to check, a note for the message) from a left-hand side; raises FormulaError."""
    node = _latex.parse_lhs(lhs.strip().rstrip("&").strip())
    var = node.args[0]
    if var.op != "name":
        raise FormulaError("the left-hand side's variable is not a name", var.span[0])
    key = _latex.name_key(var)
    code = _table(m).latex.get(key)
    if code is None and key in m.symbols:
        code = key
    if code is None:
        raise _safe_numpy.UnknownName(key, var.span[0], list(m.params))
    if code not in m.params:
        if selected is None:
            raise FormulaError(f"the left-hand side is the gradient of {code}, which is not a parameter; "
                               f"the parameters are {', '.join(m.params)}", var.span[0])
        return selected, f"The left-hand side names {code}, which is not a parameter; checked against {selected}."
    if selected is not None and selected != code:
        return code, f"Your left-hand side is the gradient of {code}, so it was checked against {code}, not {selected}."
    return code, ""


# --- judging --------------------------------------------------------------------------------------

def _rel(r: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Element-wise relative error with a floor of FLOOR times the largest entry of g."""
    floor = max(FLOOR * float(np.max(np.abs(g), initial=0.0)), 1e-300)
    with np.errstate(all="ignore"):
        err = np.abs(r - g) / np.maximum(np.maximum(np.abs(r), np.abs(g)), floor)
    return np.where(np.isnan(err), np.inf, err)


def _close(r: np.ndarray, g: np.ndarray) -> bool:
    return r.shape == g.shape and bool(np.all(_rel(r, g) <= TOL))


def _factor(r: np.ndarray, g: np.ndarray) -> float | None:
    """c with r = c g (to TOL), or None."""
    gg = float(np.vdot(g, g))
    if r.shape != g.shape or gg == 0.0 or not np.all(np.isfinite(r)):
        return None
    c = float(np.vdot(r, g)) / gg
    if c == 0.0 or not _close(r, c * g):
        return None
    return c


def _fit(r: np.ndarray, g: np.ndarray, notation: str) -> tuple[np.ndarray | None, str]:
    """The result in the gradient's shape, and how: 'same', 'squeezed' (axes of length 1), 'row' (a LaTeX
    row for a vector, not worth a note), or ('', None) when the shapes differ otherwise."""
    if r.shape == g.shape:
        return r, "same"
    if r.size == g.size and tuple(n for n in r.shape if n != 1) == tuple(n for n in g.shape if n != 1):
        quiet = notation == "latex" and g.ndim <= 1 and r.shape in ((1, *g.shape), (1, 1))
        return r.reshape(g.shape), "row" if quiet else "squeezed"
    return None, ""


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for n in shape if n != 1)


#: the multiples a slip usually makes, their names and what they usually mean
_FACTORS = ((1.0, "", ""), (-1.0, "-", ""),
            (2.0, "2", "twice the gradient: the 2 of a square's derivative counted twice, or the loss's 1/2 "
                       "forgotten"),
            (0.5, "1/2", "half the gradient: the 2 from differentiating a square is missing"),
            (-2.0, "-2", "minus twice the gradient: the sign is wrong, and the 2 of a square's derivative "
                         "counted twice"),
            (-0.5, "-1/2", "minus half the gradient: the sign is wrong, and the 2 from differentiating a square "
                           "is missing"),
            (4.0, "4", "four times the gradient"), (0.25, "1/4", "a quarter of the gradient"))


def _name_factor(cs: list[float], batches: list[int], m: Model) -> tuple[str, str] | None:
    """(slip, message) for multiples c_i = k B_i^p of the gradient (p = 0, 1 or -1, k the same on every
    instance), or None when the c_i follow no such pattern."""
    for p in (0, 1, -1):
        ks = [c / b ** p for c, b in zip(cs, batches)]
        k = ks[0]
        if all(abs(x - k) <= 1e-6 * abs(k) for x in ks):
            break
    else:
        return None
    name, meaning = next(((t, mean) for v, t, mean in _FACTORS if abs(k - v) <= 1e-6 * abs(v)), (None, ""))
    if p == 0:
        if name == "-":
            return "sign", ("Wrong sign: your formula is minus the gradient. Check the sign of the first "
                            "step (the loss's derivative, e.g. s - t rather than t - s, or y_hat - y).")
        if name is not None:
            return "factor", f"Off by a factor {name}: your formula is {meaning}."
        return "factor", f"Off by a constant factor: your formula is {k:.4g} times the gradient."
    if name is None:
        return "factor", (f"Off by a factor that changes with the batch: your formula is {k:.4g} "
                          f"{'B' if p == 1 else '/ B'} times the gradient.")
    both = f"{name}B" if p == 1 else (f"{name}/B" if name not in ("", "-") else f"{name}1/B")
    batch1 = " It is right for a batch of 1, which cannot show a factor B." if name == "" else ""
    also = {"": "", "-": ", and the sign is wrong"}.get(name, f", and there is a factor {name} besides")
    if p == 1 and m.reduction == "mean":
        why = f"the mean's 1/B is missing{also}"
    elif p == 1:
        why = f"the loss sums over the batch; nothing multiplies by B{also}"
    elif m.reduction == "sum":
        why = f"this loss sums over the batch, it is not a mean: drop the 1/B{also}"
    else:
        why = f"the mean's 1/B is applied twice{also}"
    return "factor", f"Off by a factor {both}: {why}.{batch1}"


def _pattern(bad: np.ndarray) -> str:
    """Where the wrong entries are, when they form a pattern."""
    if bad.all():
        return "every entry is wrong"
    if bad.ndim == 2:
        rows = np.flatnonzero(bad.all(axis=1))
        cols = np.flatnonzero(bad.all(axis=0))
        if len(rows) and not bad[np.setdiff1d(np.arange(bad.shape[0]), rows)].any():
            return f"the wrong entries are row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))}"
        if len(cols) and not bad[:, np.setdiff1d(np.arange(bad.shape[1]), cols)].any():
            return f"the wrong entries are column{'s' if len(cols) > 1 else ''} {', '.join(map(str, cols))}"
        if bad.shape[0] == bad.shape[1] and (bad == np.eye(len(bad), dtype=bool)).all():
            return "the wrong entries are the diagonal"
        if bad.shape[0] == bad.shape[1] and (bad == ~np.eye(len(bad), dtype=bool)).all():
            return "the wrong entries are those off the diagonal"
    idx = [tuple(int(i) for i in ix) for ix in np.argwhere(bad)[:4]]
    more = " ..." if bad.sum() > 4 else ""
    return f"{int(bad.sum())} of {bad.size} entries are wrong, e.g. {', '.join(map(str, idx))}{more}"


def _judge(m: Model, param: str, notation: str, insts: list[_Instance], grads: list[np.ndarray],
           results: list[Any]) -> tuple[str | None, str, float | None, int | None]:
    """(slip or None, message, largest relative error, position) from every instance's result."""
    grad_name = f"the gradient of {param}"
    ones = [i for i, inst in enumerate(insts) if inst.batch == 1]
    many = [i for i, inst in enumerate(insts) if inst.batch > 1]
    refused = next((r for r in results if isinstance(r, Refused)), None)
    if refused is not None:
        return "unreadable", _sentence(refused.message), None, refused.position
    fitted: list[np.ndarray | None] = []
    notes: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    for r, g in zip(results, grads):
        if isinstance(r, FormulaError):
            fitted.append(None)
            continue
        f, how = _fit(r, g, notation)
        fitted.append(f)
        if how == "squeezed":
            notes.append((r.shape, g.shape))
    right = [f is not None and _close(f, g) for f, g in zip(fitted, grads)]
    errors = [float(np.max(_rel(f, g), initial=0.0)) if f is not None else math.inf for f, g in zip(fitted, grads)]
    max_error = max(errors) if all(f is not None for f in fitted) else None
    note = ""
    if notes:
        got, want = notes[0]
        note = f" Your result has shape {got}; it was read as {want}, the parameter's shape."
    n = len(insts)
    if all(right):
        batches = sorted({inst.batch for inst in insts})
        shown = ", ".join(map(str, batches[:-1])) + f" and {batches[-1]}" if len(batches) > 1 else str(batches[0])
        return None, (f"Right: your formula equals {grad_name} on all {n} instances ({len(m.sizes)} sets of "
                      f"sizes, batches of {shown}).{note}"), max_error, None

    ones_right = bool(ones) and all(right[i] for i in ones)
    # results that cannot be evaluated
    failed = [i for i, r in enumerate(results) if isinstance(r, FormulaError)]
    if failed:
        first = results[failed[0]]
        where = insts[failed[0]].label
        if ones_right and all(i in many for i in failed):
            return "batch", (f"Right for one example, but with a batch ({where}) it cannot be evaluated: "
                             f"{_clause(first.message)}. A formula for one example does not carry over to a "
                             f"batch as written: sum over the examples."), max_error, first.position
        return "shape", f"Cannot be evaluated ({where}): {_clause(first.message)}.", max_error, first.position
    # results of another shape
    wrong_shape = [i for i, f in enumerate(fitted) if f is None]
    if wrong_shape:
        i = next((j for j in wrong_shape if insts[j].batch > 1), wrong_shape[0])
        r, g, inst = results[i], grads[i], insts[i]
        if all(g.ndim == 2 and r.shape == g.shape[::-1] for r, g in
               ((results[j], grads[j]) for j in wrong_shape)) and all(
                _factor(np.asarray(results[j]).T, grads[j]) is not None for j in range(n)):
            c = _factor(np.asarray(results[i]).T, grads[i])
            extra = "" if abs(c - 1) <= 1e-6 else f" (and {c:.4g} times it)"
            return "transpose", (f"Transposed: your formula is the transpose of {grad_name}{extra}, shape "
                                 f"{r.shape} where {param} has shape {g.shape}. A gradient has its parameter's "
                                 f"shape: swap the factors' order, e.g. x^T \\delta rather than \\delta^T x."), \
                max_error, None
        if inst.batch > 1 and r.ndim >= 1 and r.shape[0] == inst.batch and \
                _squeezed(r.shape[1:]) == _squeezed(g.shape):
            summed = r.sum(axis=0).reshape(g.shape)
            if ones_right and _close(summed, g):
                return "batch", (f"Right for one example, but for {inst.batch} examples your formula has shape "
                                 f"{r.shape}, one row per example, where {param} has shape {g.shape}: the sum "
                                 f"over the batch is missing (\\mathbf 1^T G, or .sum(axis=0)).{note}"), \
                    max_error, None
            if ones_right and _close(summed / inst.batch, g):
                return "batch", (f"Right for one example, but for {inst.batch} examples your formula has shape "
                                 f"{r.shape}, one row per example: the mean over the batch (a sum and 1/B) is "
                                 f"missing."), max_error, None
            if ones_right:
                return "batch", (f"Right for one example, but for {inst.batch} examples your formula has shape "
                                 f"{r.shape}, one row per example, where {param} has shape {g.shape}, and "
                                 f"their sum is not the gradient either."), max_error, None
        if ones_right:
            return "batch", (f"Right for one example, but for {inst.label} your formula has shape {r.shape} "
                             f"where {param} has shape {g.shape}."), max_error, None
        return "shape", (f"Wrong shape: your formula has shape {r.shape} where {param} has shape {g.shape} "
                         f"({inst.label})."), max_error, None
    # same shapes: multiples, transposes, batch effects
    cs = [_factor(f, g) for f, g in zip(fitted, grads)]
    if all(c is not None for c in cs):
        named = _name_factor(cs, [inst.batch for inst in insts], m)
        if named is not None:
            return named[0], named[1] + note, max_error, None
    square = [i for i, g in enumerate(grads) if g.ndim == 2 and g.shape[0] == g.shape[1]]
    if square and all(g.ndim == 2 for g in grads):
        ct = [_factor(fitted[i].T, grads[i]) if grads[i].shape[0] == grads[i].shape[1] else
              (1.0 if right[i] else None) for i in range(n)]
        if all(c is not None for c in ct):
            return "transpose", (f"Transposed: your formula is the transpose of {grad_name}; the shapes agree "
                                 f"only because {param} is square at some sizes. Swap the factors' order."), \
                max_error, None
    if ones_right:
        i = max(many, key=lambda j: errors[j])
        return "batch", (f"Right for one example but not for a batch ({insts[i].label}: largest relative error "
                         f"{_e(errors[i])}): a sum or mean over the batch is missing, "
                         f"extra or in the wrong place (e.g. a product of sums where a sum of products is "
                         f"meant).{note}"), max_error, None
    # where the wrong entries are: the largest instance whose wrong entries form a row, a column, a diagonal
    order = sorted((j for j in range(n) if not right[j]), key=lambda j: -grads[j].size)
    patterns = {j: _pattern(_rel(fitted[j], grads[j]) > TOL) for j in order}
    i = next((j for j in order if patterns[j].startswith("the wrong entries are")), order[0])
    finite = all(np.all(np.isfinite(f)) for f in fitted)
    what = "" if finite else " Some entries are not finite (inf or nan)."
    return "other", (f"Wrong: largest relative error {_e(max_error)}; at {insts[i].label}, {patterns[i]}."
                     f"{what}{note}"), max_error, None


def _clause(text: str) -> str:
    return text.rstrip(". ")


def _sentence(text: str) -> str:
    """The text as a sentence: a capital when it starts with a plain word (not code), a full stop."""
    text = text.strip()
    first = text.split(" ", 1)[0]
    if first.isalpha() and first.islower():
        text = text[:1].upper() + text[1:]
    return text if text.endswith(("?", "!", ".")) else text + "."


# --- the checker ----------------------------------------------------------------------------------

def check_formula(model: str | Model, param: str | None, formula: str, *, notation: str | None = None) -> Verdict:
    r"""Is ``formula`` the gradient of ``model``'s loss with respect to ``param``? Name the slip if not.

    ``param`` is a parameter's code name (``"W2"``) or LaTeX spelling (``"W_2"``), or None to read it
    from the formula's left-hand side. ``notation`` is ``"latex"``, ``"numpy"`` or None (detected).
    Returns a :class:`Verdict`; never raises for a bad formula (the verdict is ``unreadable`` or
    ``shape``). See the module docstring for the instances and the classes.
    """
    start = time.perf_counter()
    m = _model(model)
    budget = Budget(start + BUDGET_S)

    def verdict(p: str | None, note: str, kind: str, slip: str | None, message: str, err: float | None = None,
                pos: int | None = None, count: int = 0) -> Verdict:
        message = f"{note} {message}".strip() if note else message
        return Verdict(m.name, p, formula, kind, slip is None, slip, message, err, pos, count,
                       time.perf_counter() - start)

    if not isinstance(formula, str):
        return verdict(param, "", "numpy", "unreadable", f"The formula must be a string, not {type(formula).__name__}.")
    kind = notation or "?"
    selected = None
    if param is not None:
        selected = _resolve_param(m, param)
        if selected is None:
            return verdict(param, "", kind, "unreadable",
                           f"{param!r} is not a parameter of {m.name}; the parameters are {', '.join(m.params)}.")
    try:
        _safe_numpy.check_text(formula)
        lhs, rhs, offset = _split_lhs(formula)
        note = ""
        if lhs is not None and lhs.strip():
            try:
                selected, note = _read_lhs(m, lhs, selected)
            except FormulaError as err:
                return verdict(selected, "", kind, "unreadable",
                               _sentence(f"in the left-hand side: {err.message}"), pos=err.position)
        if selected is None:
            return verdict(None, "", kind, "unreadable",
                           "Which parameter? Select one, or write the left-hand side, e.g. "
                           "\\frac{\\partial L}{\\partial W_2} = ...")
        if not rhs.strip():
            return verdict(selected, note, kind, "unreadable", "The formula is empty.", pos=offset)
        insts = _instances(m)
        names = set(insts[0].numpy_env)
        kind = notation or _detect(rhs, names, m.functions)
        if kind not in ("latex", "numpy"):
            raise ValueError(f"notation is 'latex', 'numpy' or None, not {notation!r}")
        if kind == "latex":
            tree = _latex.parse(rhs, m.functions)
        else:
            tree = _safe_numpy.parse(rhs)
    except FormulaError as err:
        pos = None if err.position is None else err.position + (offset if "offset" in locals() else 0)
        return verdict(selected, "", kind, "unreadable", _sentence(err.message), pos=pos)
    results: list[Any] = []
    for inst in insts:
        try:
            if kind == "latex":
                results.append(_latex.evaluate(rhs, tree, inst.latex_env, budget))
            else:
                results.append(_safe_numpy.evaluate(rhs, inst.numpy_env, budget, tree))
        except (ArithmeticError, ValueError, TypeError, IndexError) as err:  # NumPy's own complaint
            results.append(ShapeError(f"NumPy could not evaluate it: {err}"))
            continue
        except (RecursionError, MemoryError):
            return verdict(selected, note, kind, "unreadable", "The formula is too large to evaluate.")
        except FormulaError as err:
            if err.position is not None:
                err.position += offset
            if err.slip == "unreadable":  # an unknown name or a refusal: the same at every instance
                return verdict(selected, note, kind, "unreadable", _sentence(err.message), pos=err.position)
            results.append(err)
    grads = [_gradient(m, inst, selected) for inst in insts]
    slip, message, err, pos = _judge(m, selected, kind, insts, grads, results)
    return verdict(selected, note, kind, slip, message, err, pos, len(insts))

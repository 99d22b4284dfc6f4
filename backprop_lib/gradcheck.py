r"""Numerical derivatives, relative error and the gradient check every chapter asserts.

Two independent numerical routes
--------------------------------
Central differences, :math:`f'(x) \approx (f(x+h) - f(x-h)) / 2h`, have a truncation error
:math:`h^2 |f'''| / 6` and a rounding error :math:`\varepsilon |f| / h` (ε = 2.2e-16, from the
subtraction of two nearly equal numbers). With the default h = 1e-5 both are about 1e-11 for
|f| ~ 1, so the relative error against a correct formula is typically 1e-10 to 1e-8.

The complex step (Squire & Trapp 1998; Martins, Sturdza & Alonso 2003),
:math:`f'(x) = \operatorname{Im} f(x + i h) / h + O(h^2)`, subtracts nothing, so h can be
1e-20 and the result is exact to rounding, about 1e-15 relative. It needs every function on
the path to accept complex input and to be analytic: no ``abs``, ``max`` or norm of a
complex value (the library shifts softmax by the max of the *real* part and writes squares
as ``r * r``).

Tolerances used by :func:`check_gradients`, and why
---------------------------------------------------
- ``CD_TOL = 1e-6`` for central differences: a hundred times above the 1e-8 worst case
  of a correct formula at h = 1e-5, and far below the O(1) relative error of a real bug
  (a sign, a factor 2, a transpose, a missing sum). Entries smaller than
  ``CD_FLOOR = 1e-4 * max(1, |f|)`` are judged on absolute error instead (the denominator
  never drops below the floor), because central differences carry an absolute error of
  about 3e-11 * max(1, |f|) that no relative tolerance can absorb for an entry near 0.
- ``CS_TOL = 1e-11`` for the complex step: the step itself is exact to about 1e-15; the
  margin covers rounding in the hand-derived formula (sums whose terms cancel lose a few
  digits), still ten thousand times tighter than central differences can be. Entries smaller
  than ``CS_FLOOR = 1e-3`` times the largest entry of the same parameter's gradient are judged
  on absolute error against that scale: an entry that is a small difference of much larger
  terms keeps only the absolute accuracy of those terms. On an ill-conditioned instance
  (saturated units) even that can pass 1e-11: property tests over random weights scaled by 3
  found 1.7e-11. Pass ``tol_cs`` for such instances; a real mistake still shows as 1e-7 or worse.

Relative error everywhere is :math:`|a - n| / \max(|a|, |n|, \text{tiny})`, element-wise.
"""

from __future__ import annotations

import html
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

TINY = float(np.finfo(np.float64).tiny)
CD_STEP = 1e-5
CS_STEP = 1e-20
CD_TOL = 1e-6
CS_TOL = 1e-11
CD_FLOOR = 1e-4
CS_FLOOR = 1e-3

Params = Mapping[str, np.ndarray]
LossFn = Callable[[Params, Any], Any]
GradsFn = Callable[[Params, Any], Mapping[str, np.ndarray]]


def _perturbed(f: Callable[[np.ndarray], Any], x: np.ndarray, steps: list[complex | float]) -> np.ndarray:
    """Evaluate f at x + s e_k for every entry k and every step s; shape (len(steps),) + out + x.shape."""
    dtype = np.complex128 if any(isinstance(s, complex) for s in steps) else np.float64
    xw = np.array(x, dtype=dtype)
    out_shape = np.shape(f(xw))
    values = np.empty((len(steps),) + out_shape + x.shape, dtype=dtype)
    for k in np.ndindex(x.shape):
        keep = xw[k]
        for j, s in enumerate(steps):
            xw[k] = keep + s
            values[(j, Ellipsis) + k] = f(xw)
        xw[k] = keep
    return values


def numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, h: float = CD_STEP) -> np.ndarray:
    r"""Central-difference derivative of f at x, every entry: :math:`(f(x + h e_k) - f(x - h e_k)) / 2h`.

    Shapes: x any; f(x) a scalar -> result of x's shape (the gradient); f(x) an array of
    shape S -> result of shape S + x.shape (the Jacobian, rows indexed by the outputs).
    Costs 2 * x.size evaluations of f.
    """
    x = np.asarray(x, dtype=np.float64)
    plus, minus = _perturbed(f, x, [h, -h])
    return (plus - minus) / (2.0 * h)


def complex_step_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, h: float = CS_STEP) -> np.ndarray:
    r"""Complex-step derivative of f at x, every entry: :math:`\operatorname{Im} f(x + i h e_k) / h`.

    Shapes as :func:`numerical_gradient`. f must accept a complex128 array and be analytic
    on the path (see the module docstring). Accurate to about 1e-15 relative for h = 1e-20.
    """
    x = np.asarray(x, dtype=np.float64)
    (vals,) = _perturbed(f, x, [1j * h])
    return vals.imag / h


def relative_error(a: np.ndarray, b: np.ndarray, tiny: float = TINY) -> np.ndarray:
    r"""Element-wise :math:`|a - b| / \max(|a|, |b|, \text{tiny})`; 0 where both are exactly 0.

    Shapes: a and b equal -> the same shape. Take ``.max()`` for a summary.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, a {a.shape} and b {b.shape}")
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), tiny)


@dataclass
class ParamCheck:
    """One parameter's comparison: the analytic gradient, both numerical ones and their errors."""

    name: str
    analytic: np.ndarray
    central: np.ndarray
    complex_step: np.ndarray
    cd_error: np.ndarray  # element-wise relative error, analytic vs central differences
    cs_error: np.ndarray  # element-wise relative error, analytic vs complex step

    @property
    def shape(self) -> tuple[int, ...]:
        return self.analytic.shape

    @property
    def cd_max(self) -> float:
        return float(self.cd_error.max(initial=0.0))

    @property
    def cs_max(self) -> float:
        return float(self.cs_error.max(initial=0.0))


@dataclass
class GradCheckReport:
    """The result of :func:`check_gradients`: a row per parameter, shown as a table in a notebook."""

    rows: list[ParamCheck]
    tol_cd: float = CD_TOL
    tol_cs: float = CS_TOL
    loss_value: float = field(default=float("nan"))

    def __getitem__(self, name: str) -> ParamCheck:
        return next(r for r in self.rows if r.name == name)

    def passed(self, row: ParamCheck) -> bool:
        return row.cd_max <= self.tol_cd and row.cs_max <= self.tol_cs

    def cs_unsafe(self, row: ParamCheck) -> bool:
        """True when the complex step is the odd one out: the analytic gradient agrees with central
        differences, and the complex step disagrees with both (often it is 0). Then the loss, not the
        gradient, is at fault: somewhere it drops the imaginary part of its input."""
        if row.cd_max > self.tol_cd or row.cs_max <= self.tol_cs:
            return False
        cd_floor = CD_FLOOR * max(1.0, abs(self.loss_value)) if np.isfinite(self.loss_value) else CD_FLOOR
        return float(relative_error(row.complex_step, row.central, cd_floor).max(initial=0.0)) > self.tol_cd

    def _unsafe_note(self) -> str:
        rows = [r for r in self.rows if self.cs_unsafe(r)]
        if not rows:
            return ""
        r = rows[0]
        idx = np.unravel_index(int(np.argmax(r.cs_error)), r.cs_error.shape) if r.cs_error.ndim else ()
        return (
            f"the loss is not complex-step safe: for {[x.name for x in rows]} the complex step disagrees with "
            f"central differences, which agree with the analytic gradient (max relative error {max(x.cd_max for x in rows):.1e} "
            f"<= {self.tol_cd:.0e}); e.g. {r.name!r} at entry {tuple(int(i) for i in idx)}: complex step "
            f"{r.complex_step[idx]:.6g}, central differences {r.central[idx]:.6g}, analytic {r.analytic[idx]:.6g}. "
            f"The gradient is not what failed: the loss drops the imaginary part of a complex input somewhere. "
            f"Usual causes: float(...) or .item() of an intermediate value; np.abs(x) (write a square as x * x, "
            f"or np.where(x.real < 0, -x, x)); np.real(x) or x.real; a comparison, max, min or sort of a complex "
            f"value (compare x.real); np.linalg.norm; storing into a float array made with np.zeros(n). "
            f"Every function on the loss's path must take complex input and stay analytic (see the gradcheck module)"
        )

    @property
    def ok(self) -> bool:
        return all(self.passed(r) for r in self.rows)

    @property
    def max_cd(self) -> float:
        return max((r.cd_max for r in self.rows), default=0.0)

    @property
    def max_cs(self) -> float:
        return max((r.cs_max for r in self.rows), default=0.0)

    def assert_ok(self) -> "GradCheckReport":
        """Raise AssertionError naming the worst parameter and entry if any check fails; else return self."""
        failing = [r for r in self.rows if not self.passed(r)]
        if not failing:
            return self
        if all(self.cs_unsafe(r) for r in failing):
            raise AssertionError(self._unsafe_note())
        failing = [r for r in failing if not self.cs_unsafe(r)]
        worst = max(failing, key=lambda r: max(r.cd_max / self.tol_cd, r.cs_max / self.tol_cs))
        use_cd = worst.cd_max / self.tol_cd >= worst.cs_max / self.tol_cs
        err = worst.cd_error if use_cd else worst.cs_error
        idx = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
        method, ref, tol = (
            ("central differences", worst.central, self.tol_cd)
            if use_cd
            else ("complex step", worst.complex_step, self.tol_cs)
        )
        raise AssertionError(
            f"gradient check failed for {worst.name!r} at entry {tuple(int(i) for i in idx)}:\n"
            f"  analytic {worst.analytic[idx]:.6g}, {method} {ref[idx]:.6g},\n"
            f"  relative error {err[idx]:.1e} > tolerance {tol:.0e}"
            + (f"\n  also failing: {[r.name for r in failing if r is not worst]}" if len(failing) > 1 else "")
        )

    def _result(self, row: ParamCheck) -> str:
        if self.passed(row):
            return "pass"
        return "FAIL: loss not cs-safe" if self.cs_unsafe(row) else "FAIL"

    def table(self) -> list[tuple[str, str, str, str, str]]:
        """The report as rows of strings: parameter, shape, two errors, pass/FAIL (saying when the loss is at fault)."""
        return [(r.name, str(r.shape), f"{r.cd_max:.1e}", f"{r.cs_max:.1e}", self._result(r)) for r in self.rows]

    def _header(self) -> tuple[str, ...]:
        return ("parameter", "shape", "central diff.", "complex step", "result")

    def _caption(self) -> str:
        return (f"max relative error of the analytic gradient (tolerances: central differences "
                f"{self.tol_cd:.0e}, complex step {self.tol_cs:.0e})")

    def __str__(self) -> str:
        lines = [self._header(), *self.table()]
        widths = [max(len(row[i]) for row in lines) for i in range(5)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        caption = textwrap.fill(self._caption(), 78)
        note = self._unsafe_note()
        return (caption + "\n" + "\n".join(fmt.format(*row).rstrip() for row in lines)
                + ("\n\n" + textwrap.fill(f"Note: {note}", 78) if note else ""))

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The report as a table styled like the book's tables (book.css: ``table.gradcheck``)."""
        return _html_table(self._header(), self.table(), self._caption()) + _html_note(self._unsafe_note())


def _html_table(header: tuple[str, ...], rows: list[tuple[str, ...]], caption: str = "") -> str:
    """A ``table.gradcheck``: header cells ``th scope="col"``, each row named by its first cell
    (``th scope="row"``), the errors ``td.num``, a verdict other than pass ``td.fail``. A table with a
    header row is stacked into one card per row on a phone (book/_ext/pagefixes.py, book.css)."""
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in header)
    kinds = ("", "", "num", "num", "verdict")

    def cell(i: int, text: str) -> str:
        if i == 0:
            return f'<th scope="row">{html.escape(text)}</th>'
        kind = "fail" if i == 4 and text != "pass" else kinds[i]
        return f'<td class="{kind}">{html.escape(text)}</td>' if kind else f"<td>{html.escape(text)}</td>"

    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="table gradcheck">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _html_note(note: str) -> str:
    return f'<p class="gradcheck-note">Note: {html.escape(note)}</p>' if note else ""


def _shell() -> Any:
    """The running IPython shell (a notebook's kernel, JupyterLite's, a terminal's), or None.

    Looked up only if IPython is already imported: the library never imports it itself.
    """
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


@dataclass
class StepCheck(GradCheckReport):
    """:func:`check_step`'s and :func:`check_function`'s result: one quantity checked.

    As text (``print``, ``str``, a notebook's text/plain) one line per quantity, as
    :func:`check_step` has always printed it::

        dL/da2           (4, 3)     central diff. 2.1e-10  complex step 1.1e-16

    followed by the verdict for a quantity that fails. As HTML (a notebook's, and the book's
    pages) a one-row ``table.gradcheck`` (quantity, shape, central diff., complex step,
    verdict) that the book stacks into a card on a phone, the verdict and both errors in view
    at 390 px.
    """

    # the execution count of the cell whose check_step showed this result (not a dataclass field)
    _shown_in = None

    def _header(self) -> tuple[str, ...]:
        return ("quantity", "shape", "central diff.", "complex step", "verdict")

    def lines(self) -> list[str]:
        """One line per quantity (at most 80 characters for a name of up to 24 and a shape of up to
        10), the verdict after a failing one's, or below it when it would not fit."""
        out = []
        for row in self.rows:
            text = (f"{row.name:<16} {str(row.shape):<10} central diff. {row.cd_max:.1e}  "
                    f"complex step {row.cs_max:.1e}")
            if not self.passed(row):
                verdict = self._result(row)
                text += f"  {verdict}" if len(text) + 2 + len(verdict) <= 80 else f"\n  {verdict}"
            out.append(text)
        return out

    def __str__(self) -> str:
        note = self._unsafe_note()
        return "\n".join(self.lines()) + ("\n" + textwrap.fill(f"Note: {note}", 78) if note else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The check as a one-row table (a row per quantity): name, shape, both errors, verdict."""
        return _html_table(self._header(), self.table()) + _html_note(self._unsafe_note())

    def _ipython_display_(self) -> None:
        """Both forms, HTML and text; nothing if :func:`check_step` showed this result in this cell already
        (``check_step(...)`` as a cell's last line shows its result once, not twice)."""
        shell = _shell()
        if shell is not None and self._shown_in is not None and self._shown_in == shell.execution_count:
            self._shown_in = None
            return
        self._publish()

    def _publish(self) -> None:
        from IPython.display import publish_display_data

        publish_display_data({"text/plain": str(self), "text/html": self._repr_html_()})


def _compare(name: str, f: Callable[[np.ndarray], Any], x: np.ndarray, g: np.ndarray,
             scale: float, h_cd: float, h_cs: float) -> ParamCheck:
    """One row: g against both numerical derivatives of f at x; scale = |f(x)| sets the CD floor."""
    cd = numerical_gradient(f, x, h_cd)
    try:
        cs = complex_step_gradient(f, x, h_cs)
    except (TypeError, np.exceptions.ComplexWarning) as err:  # refuses complex input, or warns (as an error)
        raise TypeError(
            f"the complex step could not evaluate the function with {name!r} complex ({err}). It must accept "
            f"complex arrays and keep their imaginary part: no float(...) or .item() of a value on the path, "
            f"no np.abs or np.real, no comparison of complex values (compare x.real)"
        ) from err
    cs_floor = max(CS_FLOOR * float(np.max(np.abs(cs), initial=0.0)), TINY)
    return ParamCheck(name, g, cd, cs, relative_error(g, cd, CD_FLOOR * max(1.0, scale)), relative_error(g, cs, cs_floor))


def check_gradients(
    loss: LossFn,
    grads: GradsFn | Mapping[str, np.ndarray],
    params: Params,
    data: Any,
    *,
    h_cd: float = CD_STEP,
    h_cs: float = CS_STEP,
    tol_cd: float = CD_TOL,
    tol_cs: float = CS_TOL,
) -> GradCheckReport:
    """Compare analytic gradients with central differences and the complex step, for every parameter.

    Parameters
    ----------
    loss : ``loss(params, data) -> scalar``; must also evaluate with one parameter complex.
    grads : ``grads(params, data) -> dict`` (or the dict itself) with the keys and shapes of params.
    params : ``dict[str, ndarray]``; data : whatever ``loss`` takes (left unchanged).

    Returns a :class:`GradCheckReport`; call ``.assert_ok()`` to raise on a failure. The
    tolerances and the floor for near-zero entries are explained in the module docstring.
    ``loss`` and ``grads`` swapped (a number where the gradients' dict is meant, or the other way
    round) raise ValueError naming the order.
    """
    params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    analytic = grads(params, data) if callable(grads) else grads
    order = "; are loss and grads swapped? The order is check_gradients(loss, grads, params, data)"
    if not isinstance(analytic, Mapping):
        what = f"returned {type(analytic).__name__}" if callable(grads) else f"is a {type(analytic).__name__}"
        raise ValueError(f"check_gradients: grads {what}, not a dict of gradients with the keys "
                         f"{sorted(params)}{order}")
    if set(analytic) != set(params):
        raise ValueError(f"grads: keys {sorted(analytic)} differ from params keys {sorted(params)}")
    value = loss(params, data)
    if isinstance(value, Mapping) or np.size(value) != 1:
        what = "a dict" if isinstance(value, Mapping) else f"an array of shape {np.shape(value)}"
        raise ValueError(f"check_gradients: loss returned {what}, not a number{order}")
    f0 = float(np.real(value))
    rows = []
    for name, value in params.items():
        g = np.asarray(analytic[name], dtype=np.float64)
        if g.shape != value.shape:
            raise ValueError(f"grads[{name!r}]: shape {g.shape} differs from params[{name!r}] shape {value.shape}")

        def f(x: np.ndarray, name: str = name) -> Any:
            return loss({**params, name: x}, data)

        rows.append(_compare(name, f, value, g, abs(f0), h_cd, h_cs))
    return GradCheckReport(rows, tol_cd, tol_cs, f0)


def check_function(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    analytic: np.ndarray,
    name: str = "x",
    *,
    h_cd: float = CD_STEP,
    h_cs: float = CS_STEP,
    tol_cd: float = CD_TOL,
    tol_cs: float = CS_TOL,
) -> StepCheck:
    """Check the derivative ``analytic`` of ``f`` at ``x`` (scalar f: a gradient; array f: a Jacobian).

    The one-quantity form of :func:`check_gradients`, for the intermediate steps of a
    derivation (a delta map, a Jacobian): ``analytic`` has shape ``f(x).shape + x.shape``.
    Returns a :class:`StepCheck` (a :class:`GradCheckReport` of one row), shown as one line of
    text or a one-row table with its verdict; ``.assert_ok()`` raises if the check fails.
    """
    x = np.asarray(x, dtype=np.float64)
    analytic = np.asarray(analytic, dtype=np.float64)
    fx = np.real(f(x))
    expected = np.shape(fx) + x.shape
    if analytic.shape != expected:
        raise ValueError(f"{name}: analytic derivative has shape {analytic.shape}, expected {expected}")
    scale = float(np.max(np.abs(fx), initial=0.0))
    return StepCheck([_compare(name, f, x, analytic, scale, h_cd, h_cs)], tol_cd, tol_cs, scale)


# Checking your own derivation -----------------------------------------------------------------


@dataclass
class DerivationReport(GradCheckReport):
    """:func:`check_derivation`'s report: :class:`GradCheckReport` judged entry by entry.

    ``report[name].cs_error`` and ``.cd_error`` are the relative errors of every entry against
    the complex step and central differences; :meth:`entry_ok` says which entries pass both.
    """

    def entry_ok(self, name: str) -> np.ndarray:
        """Booleans of the parameter's shape: True where the entry agrees with both numerical derivatives."""
        row = self[name]
        return (row.cd_error <= self.tol_cd) & (row.cs_error <= self.tol_cs)

    def wrong_entries(self, name: str) -> list[tuple[int, ...]]:
        """The indices of the entries of ``name`` that disagree, in row-major order."""
        return [tuple(int(i) for i in idx) for idx in np.argwhere(~self.entry_ok(name))]

    def table(self) -> list[tuple[str, str, str, str, str]]:
        """As :meth:`GradCheckReport.table`, the last column counting the wrong entries."""
        rows = []
        for row, (name, shape, cd, cs, result) in zip(self.rows, super().table()):
            bad = int((~self.entry_ok(row.name)).sum())
            if bad and not self.cs_unsafe(row):
                result = f"FAIL: {bad} of {row.analytic.size} entries"
            rows.append((name, shape, cd, cs, result if bad else "pass"))
        return rows


def _derived_gradients(mine: Any, params: Mapping[str, np.ndarray], name: str | None, called: bool) -> dict[str, Any]:
    """check_derivation's ``my_grad`` result as ``{parameter: gradient}``, or a ValueError saying what it must be."""
    what = "your function returned" if called else "you passed"
    if name is not None:
        if name not in params:
            raise ValueError(f"check_derivation: name={name!r} is not a parameter; the parameters are {sorted(params)}")
        if isinstance(mine, Mapping):
            keys = sorted(map(str, mine))
            take = f"return g[{name!r}] instead, or " if name in mine else ""
            raise ValueError(f"check_derivation(name={name!r}): {what} a dict with the keys {keys}; with name given it "
                             f"must be one array, the gradient of {name!r}, of shape {params[name].shape}: "
                             f"{take}leave out name= to check every key of the dict")
        if mine is None:
            raise ValueError(f"check_derivation(name={name!r}): {what} None (is a return statement missing?); it must "
                             f"be one array, the gradient of {name!r}, of shape {params[name].shape}")
        return {name: mine}
    if not isinstance(mine, Mapping):
        shape = "None (is a return statement missing?)" if mine is None else f"{type(mine).__name__} of shape {np.shape(mine)}"
        raise ValueError(f"check_derivation: {what} {shape}; without name= it must be a dict "
                         f"{{parameter: gradient}} with some of the keys {sorted(params)}, or pass name='...' "
                         f"to check one array")
    return dict(mine)


def _shape_hint(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """What a gradient of the wrong shape usually is: one row per example, or the transpose."""
    if len(got) == len(want) + 1 and got[1:] == want:
        return "; one row per example: is the sum over the batch missing?"
    if len(got) == len(want) >= 2 and got == want[::-1]:
        return ("; it looks transposed (the same sizes in reverse order): a gradient has the shape of its "
                "parameter, so check the order of the factors, e.g. x.T @ delta rather than delta.T @ x")
    return ""


def check_derivation(
    loss: LossFn,
    my_grad: Callable[[Params, Any], Any] | Mapping[str, np.ndarray],
    params: Params,
    data: Any,
    name: str | None = None,
    **tolerances: float,
) -> DerivationReport:
    """Check a gradient you derived by hand, entry by entry, against the complex step and central differences.

    Parameters
    ----------
    loss : ``loss(params, data) -> scalar``, as for :func:`check_gradients`.
    my_grad : your formula, ``my_grad(params, data) -> dict`` with the keys of the parameters you
        derived (any subset of ``params``), or, with ``name`` given, ``-> array``: the gradient of
        ``params[name]`` alone. A dict (or an array) instead of a function is taken as it is.
    tolerances : ``h_cd``, ``h_cs``, ``tol_cd``, ``tol_cs`` as for :func:`check_gradients`.

    Returns a :class:`DerivationReport` with a row for each parameter you derived. A gradient
    of the wrong shape raises ValueError before any number is compared; one with an extra
    leading axis of the batch's length is named as what it usually is, a missing sum over the batch,
    and one with the parameter's sizes in reverse order as a transpose. So is a dict where one array
    is meant (with ``name``), and an array where a dict is meant (without it).
    """
    params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    mine = my_grad(params, data) if callable(my_grad) else my_grad
    mine = _derived_gradients(mine, params, name, callable(my_grad))
    unknown = sorted(set(mine) - set(params))
    if unknown:
        raise ValueError(f"check_derivation: {unknown} are not parameters; the parameters are {sorted(params)}")
    for key, g in mine.items():
        got, want = np.shape(g), params[key].shape
        if got != want:
            raise ValueError(f"check_derivation: your gradient of {key!r} has shape {got}, "
                             f"but {key!r} has shape {want}{_shape_hint(got, want)}")
    fixed = {k: v for k, v in params.items() if k not in mine}
    report = check_gradients(lambda p, d: loss({**fixed, **p}, d), {k: np.asarray(g) for k, g in mine.items()},
                             {k: params[k] for k in mine}, data, **tolerances)
    return DerivationReport(report.rows, report.tol_cd, report.tol_cs, report.loss_value)


# One entry, one step: the helpers every chapter's derivation uses ------------------------------


def with_entry(arr: np.ndarray, index: tuple[int, ...], value: complex | float | np.ndarray) -> np.ndarray:
    """A copy of ``arr`` with ``arr[index] = value``; the dtype is promoted, so a complex value stays complex.

    Shapes: ``arr`` any, ``index`` a full index into it, ``value`` a scalar (or 0-d array) ->
    an array of ``arr``'s shape. ``arr`` itself is not modified.
    """
    arr = np.asarray(arr)
    out = arr.astype(np.result_type(arr.dtype, np.asarray(value).dtype, np.float64), copy=True)
    out[index] = value
    return out


def loss_of_param(loss: LossFn, params: Params, data: Any, name: str) -> Callable[[np.ndarray], Any]:
    r"""The loss as a function of one whole parameter, the others held fixed: :math:`v \mapsto L(\theta_{name} = v)`.

    ``f(v)`` takes an array of ``params[name]``'s shape, real or complex, so that
    ``check_step(name, f, params[name], dL)`` checks a derived gradient of that parameter.
    ``params`` is not modified.
    """
    if name not in params:
        raise ValueError(f"loss_of_param: {name!r} is not a parameter; the parameters are {sorted(params)}")

    def f(v: np.ndarray) -> Any:
        return loss({**params, name: v}, data)

    return f


def loss_of_entry(loss: LossFn, params: Params, data: Any, name: str,
                  index: tuple[int, ...]) -> Callable[[np.ndarray], Any]:
    r"""The loss as a function of one parameter entry: :math:`t \mapsto L(\theta \text{ with } \theta_{name}[index] = t)`.

    ``f(t)`` takes a 0-d array or a scalar, real or complex, so that ``check_function(f,
    params[name][index], dL)`` and ``complex_step_gradient(f, ...)`` give
    :math:`\partial L / \partial \theta_{name}[index]`. ``params`` is not modified.
    Example: ``loss_of_entry(three_layer.loss, p, d, "W3", (0, 0))`` is the loss as a function
    of the seed's :math:`w^{(3)}_{11}`.
    """
    if name not in params:
        raise ValueError(f"loss_of_entry: {name!r} is not a parameter; the parameters are {sorted(params)}")
    base = np.asarray(params[name])
    if len(index) != base.ndim or any(not -n <= i < n for i, n in zip(index, base.shape)):
        raise ValueError(f"loss_of_entry: index {index} is not an entry of {name!r}, whose shape is {base.shape}")

    def f(t: np.ndarray) -> Any:
        return loss({**params, name: with_entry(base, index, t)}, data)

    return f


def check_step(name: str, f: Callable[[np.ndarray], Any], x: np.ndarray, analytic: np.ndarray,
               **tolerances: float) -> StepCheck:
    """Check one step of a derivation and show the result; raise AssertionError if it is wrong.

    ``check_function(f, x, analytic, name, **tolerances).assert_ok()``, then shows the step's
    name, the shape of the derivative and its largest relative errors against central
    differences and the complex step. In a notebook (an IPython kernel, JupyterLite's too) the
    result is displayed with both forms, a one-row HTML table with the verdict (what the book's
    pages show, stacked into a card on a phone) and the text line (the notebook's text/plain);
    elsewhere the text line is printed, aligned for names of up to 16 characters (at most 80
    characters for a name of up to 24), e.g.
    ``dL/da2           (4, 3)     central diff. 2.1e-10  complex step 1.1e-16``.
    A step that fails shows nothing: the AssertionError names the worst entry.
    Returns the :class:`StepCheck`; as a cell's last expression it is not shown a second time.
    """
    report = check_function(f, x, analytic, name, **tolerances).assert_ok()
    shell = _shell()
    if shell is None:
        print(report)
    else:
        report._shown_in = shell.execution_count
        report._publish()
    return report

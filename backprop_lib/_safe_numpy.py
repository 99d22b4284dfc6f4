r"""Evaluate a NumPy expression a reader typed, on a whitelist: arithmetic on the model's arrays, nothing else.

The expression is parsed with :mod:`ast` and walked node by node; nothing is passed to ``eval``.
Allowed: the names of the model's symbol table, ``B`` (the batch size; also the model's own batch
symbol such as ``N``), ``np``; numbers (float64 in arithmetic, so ``9**9**9`` is ``inf`` at once);
``+ - * / ** @``, unary minus, comparisons (for ``np.where`` masks); indexing and slicing with
integers, slices, ``None`` and ``...``; the array attributes and methods of :data:`METHODS`; the
``np.`` functions of :data:`FUNCTIONS`; the keywords of :data:`KEYWORDS`. Everything else
(imports, dunder names, builtins, lambdas, comprehensions, strings outside ``np.einsum``, file
input and output such as ``np.load``) is refused with a :class:`Refused` naming it and its position.

No array larger than :data:`MAX_ENTRIES` entries is made: sizes are computed from the operands'
shapes *before* an operation runs, and so is the work of a matrix product or an einsum
(:data:`MAX_WORK` multiply-adds). :class:`Budget` adds a deadline checked between nodes, so that
hostile input gets its answer in bounded time without threads or signals (which the browser's
Pyodide lacks).

The helpers :func:`matmul`, :func:`elementwise` and :class:`Budget` are shared with the LaTeX
evaluator (:mod:`backprop_lib._latex`).
"""

from __future__ import annotations

import ast
import builtins
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MAX_LENGTH = 2000  # characters in a formula
MAX_BRACKETS = 40  # nesting depth of ( [ { in the text
MAX_DEPTH = 100  # depth of the parsed tree
MAX_NODES = 1000  # nodes of the parsed tree
MAX_ENTRIES = 4_000_000  # entries of any array a formula makes
MAX_WORK = 50_000_000  # multiply-adds of one matrix product or einsum
MAX_TOTAL = 20_000_000  # entries of all the arrays one verdict's evaluations make, together


class FormulaError(Exception):
    """A formula that cannot be judged as arithmetic; ``position`` is a 0-based character offset or None."""

    slip = "unreadable"

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position


class Refused(FormulaError):
    """Something a formula may not do (a name, a call, an attribute, a size, the time)."""


class ShapeError(FormulaError):
    """The formula's arithmetic does not fit the arrays' shapes (or NumPy refused the values)."""

    slip = "shape"


class UnknownName(FormulaError):
    """A name the symbol table does not have; ``known`` lists the names it has."""

    def __init__(self, name: str, position: int | None, known: list[str], shown: str | None = None):
        why = " (Python's builtins are not available in a formula)" if name in dir(builtins) else ""
        at = f" at character {position}" if position is not None else ""
        super().__init__(f"unknown name {shown or repr(name)}{at}{why}; the names are {', '.join(known)}", position)
        self.name = name


class Budget:
    """A deadline (``time.perf_counter`` seconds) checked between the steps of an evaluation, and a count of
    the entries of the arrays made (at most :data:`MAX_TOTAL`: it bounds the memory a formula holds at once,
    a list of large arrays, as well as the time)."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.entries = 0

    def spend(self, entries: int, position: int | None = None) -> None:
        self.entries += entries
        if self.entries > MAX_TOTAL:
            raise Refused(f"the formula makes arrays of more than {MAX_TOTAL:.0e} entries in all", position)

    def tick(self) -> None:
        if time.perf_counter() > self.deadline:
            raise Refused("the formula took too long to evaluate (the limit is 2 s); "
                          "is it much longer than a gradient?")


def check_text(text: str) -> None:
    """Refuse a formula too long or too deeply bracketed, before any parser sees it."""
    if len(text) > MAX_LENGTH:
        raise Refused(f"the formula has {len(text)} characters; the limit is {MAX_LENGTH}", MAX_LENGTH)
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > MAX_BRACKETS:
                raise Refused(f"the brackets are nested more than {MAX_BRACKETS} deep", i)
        elif ch in ")]}":
            depth -= 1


def require_size(shape: tuple[int, ...], what: str, position: int | None = None) -> tuple[int, ...]:
    """Raise :class:`Refused` if an array of ``shape`` would have more than :data:`MAX_ENTRIES` entries."""
    size = math.prod(int(n) for n in shape)
    if size > MAX_ENTRIES:
        raise Refused(f"{what} would make an array of shape {tuple(int(n) for n in shape)} ({size:.1e} entries); "
                      f"the limit is {MAX_ENTRIES:.0e}", position)
    return shape


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(x))


def matmul(a: Any, b: Any, what: str, position: int | None = None) -> np.ndarray:
    """``a @ b`` after checking that the inner sizes agree and the work and result are not too large.

    Shapes as NumPy's matmul: (..., m, k) @ (..., k, n) -> (..., m, n); a 1-D operand is a vector.
    ``what`` names the product in the error message (the reader's text of it).
    """
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        raise ShapeError(f"{what}: @ needs arrays, not a number (use * for a number)", position)
    ka = sa[-1]
    kb = sb[-2] if len(sb) >= 2 else sb[0]
    if ka != kb:
        raise ShapeError(f"{what} multiplies {sa} by {sb}: the inner sizes {ka} and {kb} differ", position)
    m = sa[-2] if len(sa) >= 2 else 1
    n = sb[-1] if len(sb) >= 2 else 1
    try:
        batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ShapeError(f"{what} multiplies {sa} by {sb}: the leading axes do not broadcast", position) from None
    work = math.prod(batch) * m * ka * n
    if work > MAX_WORK:
        raise Refused(f"{what} would take {work:.1e} multiply-adds; the limit is {MAX_WORK:.0e}", position)
    require_size((*batch, m, n), what, position)
    return np.matmul(a, b)


def elementwise(op: Callable[[Any, Any], Any], a: Any, b: Any, what: str, position: int | None = None) -> Any:
    """``op(a, b)`` for an element-wise ``op``, after checking that the shapes broadcast to a size allowed."""
    try:
        shape = np.broadcast_shapes(_shape(a), _shape(b))
    except ValueError:
        raise ShapeError(f"{what} combines shapes {_shape(a)} and {_shape(b)} entry by entry, "
                         f"and they do not match", position) from None
    require_size(shape, what, position)
    return op(a, b)


def as_int(value: Any, what: str, position: int | None = None) -> int:
    """An index, axis or size: an int, or a float64 with an integral value."""
    if isinstance(value, (bool, np.bool_)):
        raise Refused(f"{what}: expected an integer, got {value}", position)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    raise Refused(f"{what}: expected an integer, got {value!r}", position)


def _shape_arg(value: Any, what: str, position: int | None) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(as_int(v, what, position) for v in value)
    return (as_int(value, what, position),)


# --- the np. functions ----------------------------------------------------------------------------

_UNARY = ("exp", "log", "tanh", "sqrt", "abs", "absolute", "sign", "square", "log1p", "expm1", "cosh", "sinh",
          "cos", "sin", "negative", "reciprocal", "ravel", "squeeze", "atleast_2d", "ones_like", "zeros_like",
          "sum", "mean", "max", "min", "prod", "trace", "diagonal", "transpose", "reshape", "swapaxes", "moveaxis",
          "expand_dims")
_BINARY = ("maximum", "minimum", "add", "subtract", "multiply", "divide", "power")
#: the most positional arguments each function and method takes: never an ``out`` (which would write into
#: the model's arrays) or a ``dtype``; the rest take what their signature (with no ``out``) allows
_POSITIONAL = {**{f"np.{n}": 1 for n in _UNARY}, **{f"np.{n}": 2 for n in _BINARY},
               **{f"np.{n}": 2 for n in ("sum", "mean", "max", "min", "prod", "transpose", "reshape", "expand_dims",
                                         "squeeze")},
               "np.swapaxes": 3, "np.moveaxis": 3,
               **{f".{n}": 1 for n in ("sum", "mean", "max", "min", "prod", "squeeze", "dot")},
               ".ravel": 0, ".flatten": 0, ".swapaxes": 2, ".diagonal": 3, ".trace": 3, ".reshape": 8, ".transpose": 8}


def _sized_ones(fn: Callable) -> Callable:
    def make(shape: Any, *, position: int | None = None, name: str = "") -> np.ndarray:
        return fn(require_size(_shape_arg(shape, name, position), name, position))
    return make


def _eye(n: Any, m: Any = None, *, position: int | None = None, name: str = "", k: Any = 0) -> np.ndarray:
    rows = as_int(n, name, position)
    cols = rows if m is None else as_int(m, name, position)
    require_size((rows, cols), name, position)
    return np.eye(rows, cols, as_int(k, name, position))


def _outer(a: Any, b: Any, *, position: int | None = None, name: str = "") -> np.ndarray:
    require_size((np.size(a), np.size(b)), name, position)
    return np.outer(a, b)


def _kron(a: Any, b: Any, *, position: int | None = None, name: str = "") -> np.ndarray:
    require_size((np.size(a), np.size(b)), name, position)
    return np.kron(a, b)


def _diag(v: Any, k: Any = 0, *, position: int | None = None, name: str = "") -> np.ndarray:
    k = as_int(k, name, position)
    if np.ndim(v) == 1:
        n = np.size(v) + abs(k)
        require_size((n, n), name, position)
    return np.diag(v, k)


def _diagflat(v: Any, k: Any = 0, *, position: int | None = None, name: str = "") -> np.ndarray:
    k = as_int(k, name, position)
    n = np.size(v) + abs(k)
    require_size((n, n), name, position)
    return np.diagflat(v, k)


def _tile(a: Any, reps: Any, *, position: int | None = None, name: str = "") -> np.ndarray:
    reps = _shape_arg(reps, name, position)
    if any(r < 0 for r in reps):
        raise ShapeError(f"{name}: negative repetitions {reps}", position)
    require_size((np.size(a), *reps), name, position)
    return np.tile(a, reps)


def _repeat(a: Any, repeats: Any, axis: Any = None, *, position: int | None = None, name: str = "") -> np.ndarray:
    reps = np.asarray(repeats)
    if reps.ndim == 0:
        count = np.size(a) * max(as_int(repeats, name, position), 0)
        reps = as_int(repeats, name, position)
    else:
        count = np.size(a) * max(float(np.max(reps, initial=0)), 0.0)
        reps = reps.astype(np.int64)
    require_size((int(count),), name, position)
    return np.repeat(a, reps, axis=None if axis is None else as_int(axis, name, position))


def _where(c: Any, a: Any, b: Any, *, position: int | None = None, name: str = "") -> np.ndarray:
    try:
        shape = np.broadcast_shapes(_shape(c), _shape(a), _shape(b))
    except ValueError:
        raise ShapeError(f"{name}: shapes {_shape(c)}, {_shape(a)}, {_shape(b)} do not broadcast", position) from None
    require_size(shape, name, position)
    return np.where(c, a, b)


def _join(fn: Callable) -> Callable:
    def join(arrays: Any, axis: Any = 0, *, position: int | None = None, name: str = "") -> np.ndarray:
        if not isinstance(arrays, (tuple, list)):
            raise Refused(f"{name}: expected a list of arrays", position)
        require_size((sum(int(np.size(x)) for x in arrays),), name, position)
        return fn(arrays, axis=as_int(axis, name, position))
    return join


def _einsum(subscripts: Any, *operands: Any, position: int | None = None, name: str = "") -> np.ndarray:
    """np.einsum after checking the subscripts, the sizes they bind, the work and the result's size."""
    if not isinstance(subscripts, str) or len(subscripts) > 100:
        raise Refused(f"{name}: the first argument must be a subscript string such as 'bi,bj->ij'", position)
    if "..." in subscripts or any(not (c.isalpha() or c in ",->") for c in subscripts.replace(" ", "")):
        raise Refused(f"{name}: subscripts may use letters, ',' and '->' only (no '...')", position)
    spec = subscripts.replace(" ", "")
    inputs, _, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ShapeError(f"{name}: {len(terms)} subscript terms for {len(operands)} arrays", position)
    sizes: dict[str, int] = {}
    for term, op in zip(terms, operands):
        if len(term) != np.ndim(op):
            raise ShapeError(f"{name}: '{term}' has {len(term)} indices for an array of shape {_shape(op)}", position)
        for letter, n in zip(term, _shape(op)):
            if sizes.setdefault(letter, n) != n and 1 not in (n, sizes[letter]):
                raise ShapeError(f"{name}: index '{letter}' is {sizes[letter]} in one array and {n} in another",
                                 position)
            sizes[letter] = max(sizes[letter], n)
    if "->" not in spec:
        output = "".join(sorted(c for c in sizes if inputs.count(c) == 1))
    work = math.prod(sizes.values())
    if work > MAX_WORK:
        raise Refused(f"{name} would take {work:.1e} multiply-adds; the limit is {MAX_WORK:.0e}", position)
    require_size(tuple(sizes.get(c, 0) for c in output), name, position)
    return np.einsum(subscripts, *operands)


def _window(x: Any, window_shape: Any, axis: Any = None, *, position: int | None = None,
            name: str = "") -> np.ndarray:
    window = _shape_arg(window_shape, name, position)
    axes = None if axis is None else _shape_arg(axis, name, position)
    try:
        out = sliding_window_view(np.asarray(x), window, axis=axes)
    except ValueError as err:
        raise ShapeError(f"{name}: {err}", position) from None
    require_size(out.shape, name, position)  # a view, but what is done with it costs its full size
    return out


def _matmul_fn(a: Any, b: Any, *, position: int | None = None, name: str = "") -> np.ndarray:
    return matmul(a, b, name, position)


FUNCTIONS: dict[str, Callable] = {
    **{f"np.{n}": getattr(np, n) for n in _UNARY},
    **{f"np.{n}": getattr(np, n) for n in _BINARY},
    "np.ones": _sized_ones(np.ones), "np.zeros": _sized_ones(np.zeros), "np.eye": _eye, "np.identity": _eye,
    "np.outer": _outer, "np.kron": _kron, "np.diag": _diag, "np.diagflat": _diagflat, "np.tile": _tile,
    "np.repeat": _repeat, "np.where": _where, "np.einsum": _einsum, "np.matmul": _matmul_fn, "np.dot": _matmul_fn,
    "np.stack": _join(np.stack), "np.concatenate": _join(np.concatenate),
    "np.lib.stride_tricks.sliding_window_view": _window,
}
#: functions that take the size checks themselves (the others keep their input's size, or broadcast)
_CHECKED = {k for k, f in FUNCTIONS.items() if not k[3:] in _UNARY + _BINARY}
CONSTANTS = {"np.newaxis": None, "np.pi": np.float64(np.pi), "np.e": np.float64(np.e)}
_MODULES = {"np", "np.lib", "np.lib.stride_tricks"}
#: attributes of an array (read as values) and its methods (called)
ATTRIBUTES = ("T", "shape", "ndim", "size")
METHODS = ("sum", "mean", "max", "min", "prod", "reshape", "dot", "transpose", "squeeze", "ravel", "flatten",
           "swapaxes", "diagonal", "trace")
KEYWORDS = ("axis", "keepdims", "axes", "k", "axis1", "axis2")
IO_HINT = {"load", "save", "savez", "savetxt", "loadtxt", "fromfile", "tofile", "memmap", "genfromtxt",
           "fromregex", "frombuffer", "open", "DataSource"}


class _Function:
    """A whitelisted function or bound method, a value only until it is called."""

    def __init__(self, name: str, fn: Callable, checked: bool):
        self.name, self.fn, self.checked = name, fn, checked


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _walk_limits(tree: ast.AST) -> None:
    """Refuse a tree deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_NODES`, iteratively."""
    stack = [(tree, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_NODES:
            what = f"nested more than {MAX_DEPTH} deep" if depth > MAX_DEPTH else f"longer than {MAX_NODES} parts"
            raise Refused(f"the formula is {what}", getattr(node, "col_offset", None))
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


_BINOPS: dict[type, tuple[str, Callable]] = {
    ast.Add: ("+", np.add), ast.Sub: ("-", np.subtract), ast.Mult: ("*", np.multiply),
    ast.Div: ("/", np.divide), ast.Pow: ("**", np.power),
}
_COMPARE: dict[type, Callable] = {ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater,
                                  ast.GtE: np.greater_equal}


def parse(text: str) -> ast.expression:
    """Parse ``text`` as one Python expression; raise :class:`FormulaError` with the position if it is not one."""
    check_text(text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        pos = None if err.offset is None else max(err.offset - 1, 0) + (len(text) - len(text.lstrip()))
        raise FormulaError(f"not a NumPy expression: {err.msg}", pos) from None
    except (ValueError, MemoryError, RecursionError) as err:
        raise Refused(f"the formula cannot be parsed ({type(err).__name__})") from None
    _walk_limits(tree)
    return tree


def names(tree: ast.AST) -> set[str]:
    """The plain names a parsed expression uses."""
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


class Evaluator:
    """Walk a parsed expression over ``env`` (name -> array, int or float) under a :class:`Budget`."""

    def __init__(self, text: str, env: Mapping[str, Any], budget: Budget):
        self.text, self.env, self.budget = text.strip(), env, budget
        self.offset = len(text) - len(text.lstrip())

    def pos(self, node: ast.AST) -> int | None:
        col = getattr(node, "col_offset", None)
        return None if col is None else col + self.offset

    def src(self, node: ast.AST) -> str:
        seg = ast.get_source_segment(self.text, node) or type(node).__name__
        return seg if len(seg) <= 40 else seg[:37] + "..."

    def run(self, tree: ast.expression) -> Any:
        with np.errstate(all="ignore"):
            return self.eval(tree.body)

    # each node kind -------------------------------------------------------------------------------------------------
    def eval(self, node: ast.AST) -> Any:
        self.budget.tick()
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise Refused(f"{_describe(node)} is not allowed in a formula (at character {self.pos(node)}): "
                          f"only arithmetic on the model's arrays", self.pos(node))
        value = method(node)
        if isinstance(value, np.ndarray):
            self.budget.spend(value.size, self.pos(node))
        return value

    def _Constant(self, node: ast.Constant) -> Any:
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            return v
        if isinstance(v, int):
            return v  # stays an int for indices and axes; arithmetic makes it float64
        if isinstance(v, float):
            return np.float64(v)
        if isinstance(v, str):
            raise Refused("a string is allowed only as np.einsum's subscripts", self.pos(node))
        raise Refused(f"{type(v).__name__} constants are not allowed", self.pos(node))

    def _Name(self, node: ast.Name) -> Any:
        name = node.id
        if name.startswith("__") or name.endswith("__"):
            raise Refused(f"the name {name!r} is not allowed (no dunder names)", self.pos(node))
        if name == "np":
            raise Refused("np alone is not a value: call a NumPy function, e.g. np.exp(x)", self.pos(node))
        if name not in self.env:
            raise UnknownName(name, self.pos(node), sorted(self.env))
        return self.env[name]

    def _Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_"):
            raise Refused(f"the attribute {node.attr!r} is not allowed (no private or dunder attributes)",
                          self.pos(node))
        dotted = _dotted(node)
        if dotted is not None and dotted.split(".")[0] == "np":
            if dotted in FUNCTIONS:
                return _Function(dotted, FUNCTIONS[dotted], dotted in _CHECKED)
            if dotted in CONSTANTS:
                return CONSTANTS[dotted]
            if dotted in _MODULES:
                raise Refused(f"{dotted} alone is not a value", self.pos(node))
            hint = (" (no file or other input and output)" if node.attr in IO_HINT else "")
            raise Refused(f"{dotted} is not one of the NumPy functions a formula may call{hint}", self.pos(node))
        obj = self.eval(node.value)
        if not isinstance(obj, np.ndarray | np.floating):
            raise Refused(f".{node.attr} of {type(obj).__name__} is not allowed; attributes are for arrays",
                          self.pos(node))
        if node.attr in ATTRIBUTES:
            return getattr(obj, node.attr)
        if node.attr in METHODS:
            return _Function(f".{node.attr}", getattr(np.asarray(obj), node.attr), False)
        raise Refused(f"the array attribute .{node.attr} is not allowed; allowed: "
                      f"{', '.join('.' + a for a in ATTRIBUTES + METHODS)}", self.pos(node))

    def _Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Constant) and isinstance(node.func.value, (int, float)):
            raise FormulaError(f"{self.src(node)} is not a product in NumPy: write {self.src(node.func)} * (...)",
                               self.pos(node))
        fn = self.eval(node.func)
        if not isinstance(fn, _Function):
            raise Refused(f"{self.src(node.func)} is not a function a formula may call", self.pos(node))
        limit = _POSITIONAL.get(fn.name)
        if limit is not None and len(node.args) > limit:
            raise Refused(f"{fn.name} takes at most {limit} argument{'s' if limit != 1 else ''} in a formula "
                          f"(no out= or dtype)", self.pos(node))
        args = []
        for i, a in enumerate(node.args):
            if isinstance(a, ast.Starred):
                raise Refused("*args is not allowed", self.pos(a))
            if i == 0 and fn.name == "np.einsum" and isinstance(a, ast.Constant) and isinstance(a.value, str):
                args.append(a.value)
                continue
            args.append(self.eval(a))
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None or kw.arg not in KEYWORDS:
                raise Refused(f"the keyword {kw.arg or '**'} is not allowed; allowed: {', '.join(KEYWORDS)}",
                              self.pos(kw.value))
            kwargs[kw.arg] = self.eval(kw.value)
        for k in ("axis", "k", "axis1", "axis2"):
            if k in kwargs and kwargs[k] is not None:
                v = kwargs[k]
                kwargs[k] = tuple(as_int(x, k, self.pos(node)) for x in v) if isinstance(v, tuple) else as_int(
                    v, k, self.pos(node))
        if "axes" in kwargs and isinstance(kwargs["axes"], (tuple, list)):
            kwargs["axes"] = tuple(as_int(x, "axes", self.pos(node)) for x in kwargs["axes"])
        if "keepdims" in kwargs and not isinstance(kwargs["keepdims"], bool):
            raise Refused("keepdims must be True or False", self.pos(node))
        what = self.src(node)
        if fn.name in (".reshape", "np.reshape", ".transpose", "np.transpose"):
            args = [args[0]] + [self._ints(a, node) for a in args[1:]] if fn.name.startswith("np.") else \
                [self._ints(a, node) for a in args]
        if fn.name in (".dot",):
            return matmul(fn.fn.__self__, args[0], what, self.pos(node)) if len(args) == 1 else self._bad(fn, node)
        try:
            if fn.checked:
                return fn.fn(*args, position=self.pos(node), name=what, **kwargs)
            if fn.name[3:] in _BINARY and len(args) == 2:
                return elementwise(lambda a, b: fn.fn(a, b, **kwargs), args[0], args[1], what, self.pos(node))
            return fn.fn(*args, **kwargs)
        except FormulaError:
            raise
        except (ValueError, TypeError, IndexError, np.exceptions.AxisError) as err:
            raise ShapeError(f"{what}: {err}", self.pos(node)) from None

    def _bad(self, fn: _Function, node: ast.AST) -> Any:
        raise ShapeError(f"{fn.name} takes one array", self.pos(node))

    def _ints(self, value: Any, node: ast.AST) -> Any:
        if isinstance(value, (tuple, list)):
            return tuple(as_int(v, "a shape", self.pos(node)) for v in value)
        return as_int(value, "a shape", self.pos(node))

    def _BinOp(self, node: ast.BinOp) -> Any:
        a, b = self.eval(node.left), self.eval(node.right)
        what = self.src(node)
        if isinstance(node.op, ast.MatMult):
            return matmul(self._array(a, node.left), self._array(b, node.right), what, self.pos(node))
        if type(node.op) not in _BINOPS:
            raise Refused(f"the operator in {what} is not allowed; use + - * / ** @", self.pos(node))
        return elementwise(_BINOPS[type(node.op)][1], self._number(a, node.left), self._number(b, node.right), what,
                           self.pos(node))

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        v = self.eval(node.operand)
        if isinstance(node.op, ast.USub):
            return -v if isinstance(v, int) and not isinstance(v, bool) else -self._number(v, node.operand)
        if isinstance(node.op, ast.UAdd):
            return self._number(v, node.operand)
        raise Refused("only unary - and + are allowed", self.pos(node))

    def _Compare(self, node: ast.Compare) -> Any:
        if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
            raise Refused("a comparison may use one of < <= > >=", self.pos(node))
        a, b = self.eval(node.left), self.eval(node.comparators[0])
        return elementwise(_COMPARE[type(node.ops[0])], self._number(a, node.left),
                           self._number(b, node.comparators[0]), self.src(node), self.pos(node))

    def _Subscript(self, node: ast.Subscript) -> Any:
        obj = self.eval(node.value)
        if not isinstance(obj, (np.ndarray, tuple)):
            raise Refused(f"{self.src(node.value)} cannot be indexed", self.pos(node))
        index = self._index(node.slice)
        try:
            return obj[index]
        except (IndexError, TypeError, ValueError) as err:
            raise ShapeError(f"{self.src(node)}: {err}", self.pos(node)) from None

    def _index(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Tuple):
            return tuple(self._index(e) for e in node.elts)
        if isinstance(node, ast.Slice):
            return slice(*(None if p is None else as_int(self.eval(p), "a slice", self.pos(node))
                           for p in (node.lower, node.upper, node.step)))
        v = self.eval(node)
        if v is None or v is Ellipsis:
            return v
        return as_int(v, "an index", self.pos(node))

    def _Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self.eval(e) for e in node.elts)

    def _List(self, node: ast.List) -> Any:
        return [self.eval(e) for e in node.elts]

    # conversions ------------------------------------------------------------------------------------------------------
    def _number(self, v: Any, node: ast.AST) -> Any:
        """An arithmetic operand: ints become float64; lists and tuples become arrays; nothing else passes."""
        if isinstance(v, (bool, np.bool_)):
            return np.float64(v)
        if isinstance(v, int):
            try:
                return np.float64(v)
            except OverflowError:
                return np.float64(math.inf if v > 0 else -math.inf)
        if isinstance(v, (np.ndarray, np.floating, np.integer)):
            return v
        if isinstance(v, (tuple, list)):
            arr = np.asarray(v, dtype=np.float64) if all(
                isinstance(x, (int, float, np.floating, np.ndarray)) for x in v) else None
            if arr is not None:
                return arr
        if isinstance(v, _Function):
            raise Refused(f"{v.name} is a function: call it, e.g. {v.name}(x)", self.pos(node))
        raise Refused(f"{self.src(node)} is not a number or an array", self.pos(node))

    def _array(self, v: Any, node: ast.AST) -> np.ndarray:
        v = self._number(v, node)
        return np.asarray(v)


def _describe(node: ast.AST) -> str:
    kinds = {"Lambda": "a lambda", "ListComp": "a comprehension", "SetComp": "a comprehension",
             "DictComp": "a comprehension", "GeneratorExp": "a generator expression", "Dict": "a dict",
             "Set": "a set", "NamedExpr": "an assignment (:=)", "IfExp": "an if-expression", "BoolOp": "and/or",
             "JoinedStr": "an f-string", "Await": "await", "Yield": "yield", "Starred": "*args"}
    return kinds.get(type(node).__name__, type(node).__name__)


def evaluate(text: str, env: Mapping[str, Any], budget: Budget, tree: ast.expression | None = None) -> np.ndarray:
    """Evaluate the NumPy expression ``text`` over ``env``; return a float64 array (a 0-d one for a number)."""
    tree = parse(text) if tree is None else tree
    value = Evaluator(text, env, budget).run(tree)
    if isinstance(value, _Function):
        raise Refused(f"the formula is the function {value.name}, not a value: call it")
    if isinstance(value, int) and not isinstance(value, bool):
        return np.asarray(float(value) if abs(value) < 2 ** 1023 else math.inf if value > 0 else -math.inf)
    if isinstance(value, (float, np.integer, np.floating, np.bool_)):
        return np.asarray(value, dtype=np.float64)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    raise ShapeError(f"the formula gives {type(value).__name__}, not an array of numbers")

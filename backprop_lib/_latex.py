r"""Read a gradient written in LaTeX the way a student writes it, and evaluate it with NumPy.

The grammar (:data:`GRAMMAR`, for the Lark parser generator: pure Python, so it runs in the
browser's Pyodide as well) reads

- names with subscripts, superscript labels and accents: ``W_1``, ``W_{1}``, ``W^{(1)}``,
  ``\bar z``, ``\bar{z}``, ``\hat{y}``, ``y_{pre}``, ``h_{\text{sigmoid}}``, ``\mathbf{W}_2``, and the
  code's own ``W1``; a name is looked up in the model's table by its normal form (one space after
  a command, braces only around a subscript of more than one character: :func:`name_key`);
- ``^T``, ``^{T}``, ``^\top`` (transpose), ``^2`` (an element-wise power), ``'`` on a function;
- ``+ -``, unary minus; juxtaposition, ``\cdot`` and ``\times`` (the matrix product, or a number
  times an array); ``\odot``, ``\circ`` (element-wise); ``/``, ``\frac{..}{..}``; ``\star``,
  ``\ast``, ``*`` (the valid cross-correlation of chapter 1's convolution layer);
- ``( )``, ``[ ]``, ``\{ \}``, ``{ }``, with or without ``\left \right`` or ``\big``; spacing
  (``\, \; \! \quad \qquad ~``), ``\boxed``, ``\displaystyle`` and ``&`` are ignored;
- ``\mathbf 1``, ``\mathbf{1}``, ``\mathbb{1}``, ``1^T``: a vector of ones whose length fits the
  product it stands in (``\mathbf 1^T G`` sums the rows of G, ``G^T \mathbf 1`` its columns);
- ``\sigma(..)``, ``\sigma'(..)``, ``\tanh``, ``\tanh'``, ``\exp``, ``\ln``, ``\log``, ``\sqrt{..}``,
  ``\operatorname{softmax}`` (over each row), ``\operatorname{diag}`` (a vector into a diagonal
  matrix), and the same words plain or in ``\text``/``\mathrm`` (``sigmoid'(h)``); a model's own
  letters for its activations (its ``functions``: seed 004's ``f(h)``, ``f'(h)``, ``g(t)``), as
  functions where a bracket or a prime follows them, for that model only;
- ``\sum_b``, ``\sum_{b}``, ``\sum_{b=1}^{B}``: with names indexed by the sum's letter in the summand
  (``x_b``, ``\hat y_b``, ``y_{pre,b}``), the summand is evaluated for each example and summed;
  without, the sum adds the rows (the batch axis) of the summand.

Products bind tighter than ``\odot`` and ``/``, which bind as tightly as each other, left to right:
``A B \odot C`` is ``(A B) \odot C`` (so seed 003's unbracketed formula means what it says).

Arrays in a formula follow the book's convention, rows are examples: a (B, n) symbol is a
B x n matrix, a vector parameter of length n a row 1 x n, and a quantity with one value per
example a column B x 1.

A derivative on the left of ``=`` (``\frac{\partial L}{\partial W_2}``, ``\partial f/\partial b_2``,
``dL/dW2``, ``dW2``) is read by the start rule ``lhs`` (:func:`parse_lhs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from ._safe_numpy import (MAX_DEPTH, Budget, FormulaError, Refused, ShapeError, UnknownName, check_text, elementwise,
                          matmul, require_size)

GRAMMAR = r"""
?start: expr

lhs: FRAC "{" dvar "}" "{" dvar "}"     -> lhs_frac
   | dvar "/" dvar                      -> lhs_slash
   | LETTER postfix                     -> lhs_short
dvar: (PARTIAL | LETTER | TEXTNAME) postfix

?expr: sum
?sum: term
    | sum "+" term                      -> add
    | sum "-" term                      -> subtract
?term: unary
     | term MULOP unary                 -> binop
?unary: product
      | "-" unary                       -> neg
      | "+" unary
      | sumop
      | product sumop                   -> juxt
sumop: SUM script* term
script: "_" subarg                      -> sub_script
      | "^" suparg                      -> sup_script
?product: postfix
        | product postfix               -> juxt
?postfix: primary
        | postfix "^" suparg            -> sup
        | postfix "_" subarg            -> sub
        | postfix PRIME                 -> prime
?primary: name
        | NUMBER                        -> number
        | ONES                          -> ones
        | LPAR expr RPAR                -> paren
        | LSQB expr RSQB                -> paren
        | LCURLY expr RCURLY            -> paren
        | LBRACE expr RBRACE            -> paren
        | FRAC fracarg fracarg          -> frac
        | SQRT "{" expr "}"             -> sqrt
        | FUNC fnscript* fnarg          -> call
fnscript: PRIME | "^" suparg
?fnarg: LPAR expr RPAR                 -> paren
      | LSQB expr RSQB                  -> paren
      | LCURLY expr RCURLY              -> paren
      | LBRACE expr RBRACE              -> paren
      | name
name: LETTER                            -> plain
    | LETTERDIGITS                      -> plain
    | GREEK                             -> plain
    | TEXTNAME                          -> plain
    | ACCENT accarg                     -> accent
    | ACCENT LCURLY accinner RCURLY     -> accent
    | FONT accarg                       -> font
    | FONT LCURLY accinner RCURLY       -> font
?accarg: LETTER | GREEK | LETTERDIGITS
?accinner: LETTER | GREEK | LETTERDIGITS | ACCENT accarg -> accent | FONT accarg -> font
         | ACCENT LCURLY accarg RCURLY -> accent | FONT LCURLY accarg RCURLY -> font
?fracarg: "{" expr "}"
        | NUMBER                        -> number
        | LETTER                        -> plain
suparg: LETTER | NUMBER | TOP | PRIMECMD | PRIME | LCURLY supitem* RCURLY
?supitem: "(" (NUMBER | LETTER) ")"     -> label
        | LETTER | NUMBER | TOP | PRIMECMD | PRIME
        | "-" NUMBER                    -> negative
subarg: LETTER | NUMBER | GREEK | FUNC | LCURLY subitem+ RCURLY
?subitem: LETTER | NUMBER | LETTERDIGITS | WORD | TEXTNAME | FUNC | GREEK | COMMA | EQUALS

MULOP: /\\(cdot|times|odot|circ|star|ast|div)(?![A-Za-z])/ | "*" | "/"
SUM.3: /\\sum(?![A-Za-z])/
FRAC.3: /\\[dt]?frac(?![A-Za-z])/
SQRT.3: /\\sqrt(?![A-Za-z])/
PARTIAL.3: /\\partial(?![A-Za-z])/
ONES.4: /\\(mathbf|mathbb|boldsymbol|bm|mathds|mathbbm|vec)\s*(\{\s*1\s*\}|1)/
TOP.4: /\\(top|intercal|mathsf\s*\{\s*T\s*\}|mathrm\s*\{\s*T\s*\}|text\s*\{\s*T\s*\})(?![A-Za-z])/
FUNC.3: /\\(sigma|tanh|exp|ln|log)(?![A-Za-z])/
      | /\\(operatorname|mathrm|text|textrm|mathit|rm)\s*\{\s*(sigmoid|softmax|diag|tanh|exp|ln|log|sigma)\s*\}/
      | /(sigmoid|softmax|diag|tanh|exp|ln|log)(?![A-Za-z])/
WORD.2: /[A-Za-z]{2,}/
TEXTNAME.2: /\\(text|textrm|textit|mathrm|operatorname|mathit)\s*\{\s*[A-Za-z0-9]+\s*\}/
GREEK.2: /\\(alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|lambda|mu|nu)(?![A-Za-z])/
       | /\\(xi|pi|rho|tau|upsilon|phi|varphi|chi|psi|omega|ell|Gamma|Delta|Theta|Lambda|Xi|Pi|Sigma|Phi)(?![A-Za-z])/
       | /\\(Psi|Omega)(?![A-Za-z])/
ACCENT.2: /\\(bar|hat|tilde|vec|dot|check|breve|overline|widehat|widetilde)(?![A-Za-z])/
FONT.2: /\\(mathbf|boldsymbol|bm|mathit|mathrm|mathcal|mathsf|mathbb|pmb)(?![A-Za-z])/
PRIMECMD.2: /\\prime(?![A-Za-z])/
LBRACE: /\\\{|\\lbrace(?![A-Za-z])/
RBRACE: /\\\}|\\rbrace(?![A-Za-z])/
LPAR: "("
RPAR: ")"
LSQB: "["
RSQB: "]"
LCURLY: "{"
RCURLY: "}"
LETTERDIGITS: /[A-Za-z][0-9]+/
LETTER: /[A-Za-z]/
NUMBER: /[0-9]+(\.[0-9]*)?|\.[0-9]+/
PRIME: "'"
COMMA: ","
EQUALS: "="
IGNORED: /\\(,|;|:|!| |quad|qquad|left|right|[Bb]igg?[lrm]?|displaystyle|textstyle|limits|nolimits)(?![A-Za-z])/
       | /\\(boxed|Rightarrow|implies|therefore)(?![A-Za-z])/
       | /[\s~&]+/
%ignore IGNORED
"""


# --- the tree the parser builds -------------------------------------------------------------------

@dataclass
class Node:
    """One node of a parsed formula: ``op`` names it, ``args`` its children or values, ``span`` its characters."""

    op: str
    args: tuple = ()
    span: tuple[int, int] = (0, 0)
    depth: int = 1
    extra: dict = field(default_factory=dict)


def _span(*items: Any) -> tuple[int, int]:
    starts, ends = [], []
    for it in items:
        if isinstance(it, Token):
            starts.append(it.start_pos)
            ends.append(it.end_pos)
        elif isinstance(it, Node):
            starts.append(it.span[0])
            ends.append(it.span[1])
    return (min(starts), max(ends)) if starts else (0, 0)


def _node(op: str, *args: Any, span: tuple[int, int] | None = None, **extra: Any) -> Node:
    depth = 1 + max((a.depth for a in args if isinstance(a, Node)), default=0)
    if depth > MAX_DEPTH:
        raise Refused(f"the formula is nested more than {MAX_DEPTH} deep", _span(*args)[0])
    return Node(op, args, span or _span(*args), depth, extra)


def _text_content(token: str) -> str:
    """The word inside ``\\text{...}``-like tokens, or the token itself."""
    if "{" in token:
        return token[token.index("{") + 1:token.rindex("}")].strip()
    return token


_ACCENTS = {"overline": "bar", "widehat": "hat", "widetilde": "tilde"}
_FUNCS = {"sigma": "sigmoid", "sigmoid": "sigmoid", "softmax": "softmax", "diag": "diag", "tanh": "tanh",
          "exp": "exp", "ln": "log", "log": "log"}


@v_args(inline=True)
class _Build(Transformer):
    """Turn Lark's parse tree into :class:`Node`s, applied while parsing (no recursion over the tree);
    ``functions`` maps a model's letters for its activations to theirs (``{"f": "tanh"}``)."""

    def __init__(self, functions: Mapping[str, str] | None = None):
        super().__init__()
        self.functions = dict(functions or {})

    # names --------------------------------------------------------------------------------------
    def plain(self, tok: Token) -> Node:
        text = _text_content(str(tok)) if str(tok).startswith("\\") and "{" in str(tok) else str(tok)
        return _node("name", span=_span(tok), base=text, sub="", label="")

    def accent(self, acc: Token, *rest: Any) -> Node:
        inner = _inner(self, rest)
        kind = str(acc)[1:]
        base = f"\\{_ACCENTS.get(kind, kind)} {inner.extra['base']}"
        return _node("name", span=_span(acc, inner, *rest), base=base, sub="", label="")

    def font(self, font: Token, *rest: Any) -> Node:
        inner = _inner(self, rest)
        return _node("name", span=_span(font, inner, *rest), base=inner.extra["base"], sub="", label="",
                     font=str(font)[1:])

    def number(self, tok: Token) -> Node:
        return _node("num", span=_span(tok), value=float(str(tok)))

    def ones(self, tok: Token) -> Node:
        return _node("ones", span=_span(tok))

    # scripts ------------------------------------------------------------------------------------
    def suparg(self, *items: Any) -> list:
        """The items, braces left out, and the end of the superscript (read by sup and call; a sum's upper
        limit is not read)."""
        return [i for i in items if not _is_brace(i)] + [("end", "", items[-1].end_pos if isinstance(
            items[-1], Token) else items[-1][2] + 1)]

    def label(self, tok: Token) -> tuple:
        return ("label", str(tok), tok.start_pos)

    def negative(self, tok: Token) -> tuple:
        return ("power", -float(str(tok)), tok.start_pos)

    def subarg(self, *items: Token) -> tuple[str, int, int]:
        """(the subscript's text, braces left out, where it starts and ends)."""
        text = "".join(_text_content(str(t)) if str(t).startswith("\\") and "{" in str(t) else str(t)
                       for t in items if not _is_brace(t))
        return text.replace(" ", ""), items[0].start_pos, items[-1].end_pos

    def sup(self, base: Node, items: list) -> Node:
        node = base
        end = items[-1][2]
        for kind, value, pos in map(_sup_item, items[:-1]):
            if kind == "label":
                if node.op != "name" or node.extra["label"]:
                    raise FormulaError(f"a superscript ({value}) is a label only on a name", pos)
                node = Node("name", (), (node.span[0], end), node.depth, {**node.extra, "label": value})
            elif kind == "T":
                if node.op == "num" and node.extra["value"] == 1:  # 1^T: a row of ones
                    node = _node("ones", span=node.span)
                node = _node("T", node, span=(node.span[0], end))
            elif kind == "power":
                if value == -1:
                    raise FormulaError("an inverse (^{-1}) is not a gradient's operation; write a division", pos)
                node = _node("pow", node, span=(node.span[0], end), power=value)
            elif kind == "prime":
                raise FormulaError("a prime is read on a function only, as in \\sigma'(h)", pos)
        return node

    def sub(self, base: Node, arg: tuple[str, int, int]) -> Node:
        text, pos, end = arg
        if base.op == "ones":
            return base  # \mathbf 1_B: a vector of ones whose length fits anyway
        if base.op != "name" or base.extra["sub"]:
            raise FormulaError(f"a subscript _{text} is read on a name only", pos)
        return Node("name", (), (base.span[0], end), base.depth, {**base.extra, "sub": text})

    def prime(self, base: Node, tok: Token) -> Node:
        raise FormulaError("a prime is read on a function only, as in \\sigma'(h)", tok.start_pos)

    # operators ----------------------------------------------------------------------------------
    def add(self, a: Node, b: Node) -> Node:
        return _node("add", a, b, at=a.span[1])

    def subtract(self, a: Node, b: Node) -> Node:
        return _node("subtract", a, b, at=a.span[1])

    def binop(self, a: Node, op: Token, b: Node) -> Node:
        kind = str(op).lstrip("\\")
        ops = {"cdot": "mul", "times": "mul", "odot": "had", "circ": "had", "/": "div", "div": "div",
               "star": "star", "ast": "star", "*": "star"}
        return _node(ops[kind], a, b, symbol=str(op), at=op.start_pos)

    def juxt(self, a: Node, b: Node) -> Node:
        return _node("mul", a, b, symbol="", at=b.span[0])

    def neg(self, a: Node) -> Node:
        return _node("neg", a)

    def paren(self, left: Token, inner: Node, right: Token) -> Node:
        return Node(inner.op, inner.args, _span(left, right), inner.depth, inner.extra)

    def frac(self, tok: Token, a: Node, b: Node) -> Node:
        return _node("div", a, b, span=_span(tok, a, b), symbol="\\frac")

    def sqrt(self, tok: Token, a: Node) -> Node:
        return _node("call", a, span=_span(tok, a), fn="sqrt", prime=False, power=1.0)

    def call(self, tok: Token, *rest: Any) -> Node:
        *scripts, arg = rest
        word = _text_content(str(tok)).lstrip("\\")
        fn = self.functions[word] if word in self.functions else _FUNCS[word]
        prime, power = False, 1.0
        for script in scripts:
            for kind, value, pos in map(_sup_item, script[:-1]):
                if kind == "prime":
                    if prime:
                        raise FormulaError("a second derivative is not read: a gradient needs first ones", pos)
                    prime = True
                elif kind == "power":
                    power *= value
                else:
                    raise FormulaError(f"^{value} on a function is not read; write (...)^T after its argument", pos)
        return _node("call", arg, span=_span(tok, arg), fn=fn, prime=prime, power=power)

    def fnscript(self, item: Any) -> list:
        if isinstance(item, Token) and item.type == "PRIME":
            return [("prime", "'", item.start_pos), ("end", "", item.end_pos)]
        return item

    def sumop(self, tok: Token, *rest: Any) -> Node:
        *scripts, body = rest
        index = ""
        for kind, value in scripts:
            if kind == "sub":
                index = value[0].split("=")[0]
        return _node("sum", body, span=_span(tok, body), index=index)

    def sub_script(self, arg: tuple[str, int]) -> tuple:
        return ("sub", arg)

    def sup_script(self, items: list) -> tuple:
        return ("sup", items)

    # the left-hand side -------------------------------------------------------------------------
    def dvar(self, mark: Token, var: Node) -> tuple[str, Node]:
        return str(mark), var

    def lhs_frac(self, tok: Token, num: tuple, den: tuple) -> Node:
        return _lhs(num, den)

    def lhs_slash(self, num: tuple, den: tuple) -> Node:
        return _lhs(num, den)

    def lhs_short(self, mark: Token, var: Node) -> Node:
        if str(mark) != "d":
            raise FormulaError("the left-hand side should be a derivative such as \\partial L/\\partial W_2 or dW2",
                               mark.start_pos)
        return _node("lhs", var, span=_span(mark, var))


def _is_brace(item: Any) -> bool:
    return isinstance(item, Token) and item.type in ("LCURLY", "RCURLY")


def _inner(build: _Build, rest: tuple) -> Node:
    """The name inside an accent or a font command, braces left out."""
    arg = next(r for r in rest if not _is_brace(r))
    return arg if isinstance(arg, Node) else build.plain(arg)


def _sup_item(item: Any) -> tuple:
    """A superscript's item as (kind, value, position): T (transpose), power, label or prime."""
    if isinstance(item, tuple):
        return item
    text, pos = str(item), item.start_pos
    if item.type == "TOP" or text == "T":
        return ("T", "T", pos)
    if item.type == "NUMBER":
        return ("power", float(text), pos)
    if item.type in ("PRIME", "PRIMECMD"):
        return ("prime", text, pos)
    raise FormulaError(f"the superscript {text} is not read: write ^T for a transpose, ^2 for a square, "
                       f"^{{(1)}} for a label", pos)


def _lhs(num: tuple, den: tuple) -> Node:
    (m1, _), (m2, var) = num, den
    for mark in (m1, m2):
        if mark not in ("\\partial", "d") and _text_content(mark) != "d":
            raise FormulaError("the left-hand side should be a derivative such as \\frac{\\partial L}{\\partial W_2}",
                               var.span[0])
    return _node("lhs", var)


# --- parsing --------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _parser(functions: tuple[tuple[str, str], ...] = ()) -> Lark:
    """The LALR parser (built once per process and set of ``functions``; about 0.1 s), with :class:`_Build`
    applied while it parses. Each of the ``functions``' letters is a function name where a bracket or a
    prime follows it (``g(t)``, ``f'(h)``), else a letter as any other."""
    grammar = GRAMMAR
    if functions:
        letters = "|".join(letter for letter, _ in functions)
        grammar += f"%extend FUNC: /({letters})(?=\\s*(\\(|\\[|'|\\\\left|\\\\[Bb]ig))/\n"
    return Lark(grammar, parser="lalr", start=["start", "lhs"], transformer=_Build(dict(functions)),
                maybe_placeholders=False)


_EXPECTED = {"LETTER": "a name", "NUMBER": "a number", "LPAR": "'('", "RPAR": "')'", "RBRACE": "'\\}'",
             "RSQB": "']'", "LSQB": "'['", "LBRACE": "'{'", "__ANON_0": "'}'", "FUNC": "a function",
             "MULOP": "an operator", "PLUS": "'+'", "MINUS": "'-'", "TOP": "T", "FRAC": "\\frac"}


def _describe_error(text: str, err: UnexpectedInput) -> FormulaError:
    """The parser's complaint as a sentence with the character position (0-based) and what was expected."""
    pos = getattr(err, "pos_in_stream", None)
    if isinstance(err, UnexpectedToken):
        pos = err.token.start_pos if err.token.type != "$END" else len(text)
    if pos is None:
        pos = len(text)
    if isinstance(err, UnexpectedCharacters) and text[pos:pos + 1] == "\\":
        end = pos + 1
        while end < len(text) and text[end].isalpha():
            end += 1
        return FormulaError(f"unknown command {text[pos:end]} at character {pos}; commands read: \\frac, \\sum, "
                            f"\\sigma, \\tanh, \\exp, \\ln, \\operatorname{{diag}}, \\odot, \\cdot, \\mathbf 1, ...",
                            pos)
    if isinstance(err, (UnexpectedEOF,)) or (isinstance(err, UnexpectedToken) and err.token.type == "$END"):
        return FormulaError(f"the formula ends too early (at character {len(text)}): "
                            f"is a closing bracket or an operand missing?", len(text))
    shown = text[pos:pos + 1] if pos < len(text) else "the end"
    expected = ""
    if isinstance(err, UnexpectedToken):
        wanted = sorted({_EXPECTED.get(e, "") for e in err.expected} - {""})
        if wanted:
            expected = f"; expected {', '.join(wanted[:4])}" + (" or another" if len(wanted) > 4 else "")
    return FormulaError(f"cannot read the formula at character {pos} ('{shown}'){expected}", pos)


def _parse(text: str, start: str, functions: Mapping[str, str] | None = None) -> Node:
    check_text(text)
    try:
        return _parser(tuple(sorted((functions or {}).items()))).parse(text, start=start)
    except UnexpectedInput as err:
        raise _describe_error(text, err) from None
    except VisitError as err:
        if isinstance(err.orig_exc, FormulaError):
            raise err.orig_exc from None
        raise
    except RecursionError:
        raise Refused("the formula is nested too deeply") from None


def parse(text: str, functions: Mapping[str, str] | None = None) -> Node:
    """Parse a LaTeX formula (the right-hand side) into a :class:`Node` tree; raise :class:`FormulaError`.
    ``functions``: a model's letters for its activations (``{"f": "tanh", "g": "softmax"}``)."""
    return _parse(text, "start", functions)


def parse_lhs(text: str) -> Node:
    """Parse a derivative's left-hand side (``\\frac{\\partial L}{\\partial W_2}``, ``dL/dW2``, ``dW2``):
    a node ``lhs`` whose argument is the name of the variable."""
    return _parse(text, "lhs")


def name_key(node: Node) -> str:
    """A name node's normal form: ``W_1``, ``\\bar z``, ``y_{pre}``, ``W^{(1)}``."""
    sub = node.extra["sub"]
    key = node.extra["base"]
    if sub:
        key += f"_{sub}" if len(sub) == 1 else f"_{{{sub}}}"
    if node.extra["label"]:
        key += f"^{{({node.extra['label']})}}"
    return key


def normal_form(alias: str) -> str:
    """The normal form of a LaTeX spelling of a name (``\\bar{z}`` -> ``\\bar z``, ``W_{1}`` -> ``W_1``)."""
    node = parse(alias)
    if node.op != "name":
        raise ValueError(f"{alias!r} is not a name")
    return name_key(node)


# --- evaluation -----------------------------------------------------------------------------------

@dataclass
class Ones:
    """A vector of ones whose length is set by the product it stands in; ``row`` after a transpose; ``scale``."""

    row: bool = False
    scale: float = 1.0


@dataclass
class Env:
    """What a formula's names stand for: ``names`` (normal form -> array, in the book's row convention),
    ``batched`` (the names whose first axis is the batch), ``batch`` (B), ``known`` (the names to list
    when one is unknown)."""

    names: Mapping[str, Any]
    batched: frozenset[str]
    batch: int
    known: tuple[str, ...] = ()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Evaluator:
    """Evaluate a :class:`Node` tree over an :class:`Env` under a :class:`Budget`; ``text`` is the formula,
    for the messages (each names the part of the formula at fault and its shapes)."""

    def __init__(self, text: str, env: Env, budget: Budget):
        self.text, self.env, self.budget = text, env, budget
        self.scope: dict[str, int] = {}  # a sum's index letter -> the example it stands for

    @staticmethod
    def at(node: Node) -> int:
        """Where to point for a problem with ``node``: its operator, or its start."""
        return node.extra.get("at", node.span[0])

    def src(self, node: Node) -> str:
        seg = self.text[node.span[0]:node.span[1]].strip() or node.op
        return seg if len(seg) <= 40 else seg[:37] + "..."

    def run(self, node: Node) -> Any:
        with np.errstate(all="ignore"):
            value = self.eval(node)
        if isinstance(value, Ones):
            raise ShapeError("the formula is a vector of ones alone: its length cannot be told", node.span[0])
        return np.asarray(value, dtype=np.float64)

    def eval(self, node: Node) -> Any:
        self.budget.tick()
        value = getattr(self, "_" + node.op)(node)
        if isinstance(value, np.ndarray):
            self.budget.spend(value.size, node.span[0])
        return value

    def _num(self, node: Node) -> Any:
        return np.float64(node.extra["value"])

    def _ones(self, node: Node) -> Any:
        return Ones()

    def _name(self, node: Node) -> Any:
        key = name_key(node)
        names = self.env.names
        if key in names:
            return names[key]
        sub = node.extra["sub"]
        if sub:
            head, _, index = sub.rpartition(",") if "," in sub else ("", "", sub)
            if index in self.scope:
                base = name_key(Node("name", (), node.span, 1, {**node.extra, "sub": head}))
                if base in names and base in self.env.batched:
                    return _example(names[base], self.scope[index])
                if base in names:
                    raise ShapeError(f"{self.src(node)}: {base} has no example axis to index with {index}",
                                     node.span[0])
            elif len(sub) == 1 and sub.isalpha():
                base = name_key(Node("name", (), node.span, 1, {**node.extra, "sub": ""}))
                if base in names and base in self.env.batched:
                    raise FormulaError(f"{self.src(node)}: the index {sub} is read inside \\sum_{sub} only",
                                       node.span[0])
        raise UnknownName(key, node.span[0], list(self.env.known), shown=f"'{self.src(node)}'")

    def _T(self, node: Node) -> Any:
        v = self.eval(node.args[0])
        if isinstance(v, Ones):
            return Ones(not v.row, v.scale)
        if np.ndim(v) == 0:
            return v
        if np.ndim(v) == 1:
            return np.asarray(v)[:, None]
        if np.ndim(v) > 2:
            raise ShapeError(f"{self.src(node)}: the transpose of an array of shape {np.shape(v)}; "
                             f"index one example first (inside \\sum_b)", node.span[0])
        return np.asarray(v).T

    def _pow(self, node: Node) -> Any:
        v = self.eval(node.args[0])
        if isinstance(v, Ones):
            return v
        return np.power(v, node.extra["power"])

    def _neg(self, node: Node) -> Any:
        v = self.eval(node.args[0])
        return Ones(v.row, -v.scale) if isinstance(v, Ones) else -v

    def _add(self, node: Node) -> Any:
        return self._elementwise(node, np.add, "+")

    def _subtract(self, node: Node) -> Any:
        return self._elementwise(node, np.subtract, "-")

    def _had(self, node: Node) -> Any:
        return self._elementwise(node, np.multiply, node.extra["symbol"])

    def _div(self, node: Node) -> Any:
        a, b = self.eval(node.args[0]), self.eval(node.args[1])
        if isinstance(b, Ones):
            raise ShapeError(f"{self.src(node)}: a division by a vector of ones", self.at(node))
        if isinstance(a, Ones):
            if np.ndim(b) == 0:
                return Ones(a.row, a.scale / float(b))
            a = self._fill(a, b)
        return elementwise(np.divide, a, b, self.src(node), self.at(node))

    def _elementwise(self, node: Node, op: Any, symbol: str) -> Any:
        a, b = self.eval(node.args[0]), self.eval(node.args[1])
        if isinstance(a, Ones) and isinstance(b, Ones):
            raise ShapeError(f"{self.src(node)}: two vectors of ones, of no length the formula sets", self.at(node))
        if isinstance(a, Ones):
            a = self._fill(a, b)
        if isinstance(b, Ones):
            b = self._fill(b, a)
        sa, sb = np.shape(a), np.shape(b)
        if sa and sb and len(sa) != len(sb):
            raise ShapeError(f"{self.src(node)} combines {sa} and {sb} entry by entry ({symbol}): they differ",
                             self.at(node))
        return elementwise(op, a, b, self.src(node), self.at(node))

    def _fill(self, ones: Ones, other: Any) -> np.ndarray:
        return ones.scale * np.ones(np.shape(other))

    def _mul(self, node: Node) -> Any:
        a, b = self.eval(node.args[0]), self.eval(node.args[1])
        what = self.src(node)
        if isinstance(a, Ones) and isinstance(b, Ones):
            raise ShapeError(f"{what}: a product of two vectors of ones, of no length the formula sets",
                             self.at(node))
        if isinstance(a, Ones):
            if np.ndim(b) == 0:
                return Ones(a.row, a.scale * float(b))
            if a.row and np.ndim(b) >= 2:  # 1^T G: the sum of G's rows, a row
                return a.scale * np.sum(b, axis=-2, keepdims=True)
            raise ShapeError(f"{what}: the vector of ones \\mathbf 1{'^T' if a.row else ''} cannot multiply an "
                             f"array of shape {np.shape(b)} (write \\mathbf 1^T G to sum the rows of G)",
                             self.at(node))
        if isinstance(b, Ones):
            if np.ndim(a) == 0:
                return Ones(b.row, b.scale * float(a))
            if not b.row and np.ndim(a) >= 2:  # G 1: the sum of G's columns, a column
                return b.scale * np.sum(a, axis=-1, keepdims=True)
            raise ShapeError(f"{what}: an array of shape {np.shape(a)} cannot multiply the vector of ones "
                             f"\\mathbf 1{'^T' if b.row else ''} (write G^T \\mathbf 1 to sum the rows of G)",
                             self.at(node))
        if np.ndim(a) == 0 or np.ndim(b) == 0:
            return elementwise(np.multiply, a, b, what, self.at(node))
        sa, sb = np.shape(a), np.shape(b)
        if sa[-1] != (sb[-2] if len(sb) >= 2 else sb[0]) and (sa == (1, 1) or sb == (1, 1)):
            return elementwise(np.multiply, a, b, what, self.at(node))  # a 1 x 1 matrix is a number
        left, right = self.src(node.args[0]), self.src(node.args[1])
        return matmul(a, b, f"the product {left} {right}" if node.extra["symbol"] == "" else
                      f"the product {left} {node.extra['symbol']} {right}", self.at(node))

    def _star(self, node: Node) -> Any:
        a, b = self.eval(node.args[0]), self.eval(node.args[1])
        what = self.src(node)
        if np.ndim(a) < 2 or np.ndim(b) < 2:
            raise ShapeError(f"{what}: the cross-correlation \\star takes two arrays of at least 2 axes, "
                             f"got {np.shape(a)} and {np.shape(b)}", self.at(node))
        (h, w), (kh, kw) = np.shape(a)[-2:], np.shape(b)[-2:]
        if kh > h or kw > w:
            raise ShapeError(f"{what}: the kernel {np.shape(b)} is larger than the input {np.shape(a)}",
                             self.at(node))
        windows = np.lib.stride_tricks.sliding_window_view(np.asarray(a), (kh, kw), axis=(-2, -1))
        try:
            lead = np.broadcast_shapes(windows.shape[:-4], np.shape(b)[:-2])
        except ValueError:
            raise ShapeError(f"{what}: the leading axes of {np.shape(a)} and {np.shape(b)} differ",
                             self.at(node)) from None
        require_size((*lead, h - kh + 1, w - kw + 1, kh, kw), what, self.at(node))
        return np.einsum("...ijuv,...uv->...ij", windows, b)

    def _call(self, node: Node) -> Any:
        v = self.eval(node.args[0])
        fn, prime, power = node.extra["fn"], node.extra["prime"], node.extra["power"]
        what = self.src(node)
        if isinstance(v, Ones):
            raise ShapeError(f"{what}: a function of a vector of ones of no length the formula sets", node.span[0])
        if fn == "sigmoid":
            s = _sigmoid(v)
            out = s * (1.0 - s) if prime else s
        elif fn == "tanh":
            t = np.tanh(v)
            out = 1.0 - t * t if prime else t
        elif fn == "exp":
            out = np.exp(v)
        elif fn == "log":
            out = 1.0 / v if prime else np.log(v)
        elif fn == "sqrt":
            out = 0.5 / np.sqrt(v) if prime else np.sqrt(v)
        elif prime:
            raise FormulaError(f"{what}: the derivative of {fn} is a Jacobian, not read here; write it out "
                               f"(e.g. \\operatorname{{diag}}(s) - s^T s)", node.span[0])
        elif fn == "softmax":
            out = _softmax(v)
        else:  # diag
            out = self._diag(v, node)
        return out if power == 1.0 else np.power(out, power)

    def _diag(self, v: Any, node: Node) -> np.ndarray:
        shape = np.shape(v)
        if len(shape) == 2 and 1 in shape or len(shape) == 1:
            n = int(np.size(v))
            require_size((n, n), self.src(node), node.span[0])
            return np.diag(np.ravel(v))
        if len(shape) == 2 and shape[0] == shape[1]:
            return np.diagonal(v)[None, :]
        raise ShapeError(f"{self.src(node)}: diag takes a vector, not an array of shape {shape}"
                         + ("; for one example per row, sum over the examples with \\sum_b and index them (s_b)"
                            if shape and shape[0] == self.env.batch else ""), node.span[0])

    def _sum(self, node: Node) -> Any:
        index, body = node.extra["index"], node.args[0]
        if index and _uses_index(body, index):
            if index in self.scope:
                raise FormulaError(f"two sums over the same index {index}", node.span[0])
            total: Any = 0.0
            for b in range(self.env.batch):
                self.scope[index] = b
                try:
                    term = self.eval(body)
                finally:
                    del self.scope[index]
                if isinstance(term, Ones):
                    raise ShapeError(f"{self.src(node)}: a sum of vectors of ones", node.span[0])
                total = elementwise(np.add, total, term, self.src(node), node.span[0])
            return total
        v = self.eval(body)
        if isinstance(v, Ones):
            raise ShapeError(f"{self.src(node)}: a sum of a vector of ones", node.span[0])
        if np.ndim(v) == 0:
            return self.env.batch * v
        return np.sum(v, axis=0, keepdims=np.ndim(v) == 2)


def _uses_index(node: Node, index: str) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.op == "name":
            sub = n.extra["sub"]
            if sub == index or sub.endswith("," + index):
                return True
        stack.extend(a for a in n.args if isinstance(a, Node))
    return False


def _example(arr: np.ndarray, b: int) -> Any:
    """Example b of a batched array: a (B, n) matrix gives the row 1 x n, a (B, 1) column a number,
    a (B, H, W) stack its H x W map."""
    arr = np.asarray(arr)
    if arr.ndim == 2 and arr.shape[1] == 1:
        return arr[b, 0]
    if arr.ndim == 2:
        return arr[b:b + 1]
    return arr[b]


def evaluate(text: str, tree: Node, env: Env, budget: Budget) -> np.ndarray:
    """Evaluate a parsed LaTeX formula over ``env``: a float64 array in the book's row convention."""
    return Evaluator(text, env, budget).run(tree)

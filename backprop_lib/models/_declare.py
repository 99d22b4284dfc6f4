r"""One declaration per model: what it takes, what it computes, how it is differentiated.

A model module writes its facts once and calls :func:`declare`, which returns a :class:`Model`
holding the checked public functions (``forward``, ``loss``, ``backward``, ``grads``) built from
the module's unchecked pieces, and registers it in :data:`REGISTRY` (read by
:mod:`backprop_lib.models`, the tests, the benchmarks, chapter 6's engine versions and the
derivation checker :mod:`backprop_lib.check`).

The pieces a model supplies, all on arrays already checked by
:func:`backprop_lib._validate.check_inputs` (float64 or complex128, shapes that fit):

- ``forward(p, d) -> dict``: every intermediate the derivation names, and ``"loss"``;
- ``loss(p, d)`` (optional): the loss alone, fused for speed; default ``forward(p, d)["loss"]``
  (a model gives one only where it is faster: softmax_ce's forward computes the softmax the loss
  does not need);
- ``backward(p, d, *, full, inputs) -> dict``: the hand-derived gradient. With ``full`` it holds
  every intermediate's gradient as well, with ``inputs`` the data's; with neither, the
  parameters' gradients only, in the order of ``inputs.params``;
- ``engine(leaves, data) -> Tensor``: the same loss written on chapter 6's autodiff engine
  (:mod:`backprop_lib.autodiff`), which knows no rule of the hand-derived backward pass.

The symbol table (:class:`Symbol`) lists every name a reader's formula may use: the parameters,
the data and the outputs of ``forward``, each with its symbolic shape, its meaning and the
LaTeX spellings a student writes for it (``W_1``, ``\bar z``, ``y_{pre}``, ...); ``functions``
the letters a chapter names its activations by (seed 004's ``f`` and ``g``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .._validate import Dim, Inputs, check_inputs

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Symbol:
    """A name a formula may use.

    ``shape`` is symbolic (the :data:`~backprop_lib._validate.Dim` of :class:`Inputs`: ``("B", "n1")``);
    ``latex`` the spellings a student writes, in a normal form (``"W_1"``, ``"\\bar z"``,
    ``"y_{pre}"``: one space after a command, braces only around a subscript of more than one
    character); ``column`` marks a quantity with one value per example that a formula treats as a
    B x 1 column although the code stores it as (B,) (chapter 1's and chapter 3's ``y``, ``\\hat y``).
    """

    shape: tuple[Dim, ...]
    meaning: str
    latex: tuple[str, ...] = ()
    column: bool = False


@dataclass(frozen=True)
class Model:
    """A registered model: its facts and its checked functions (see the module docstring)."""

    name: str
    seed: str  # the seed file's number, "000".."004"
    chapter: str  # the chapter's docname in _toc.yml, "book/ch2_softmax_ce"
    inputs: Inputs
    reduction: Literal["mean", "sum"]  # over the batch
    target: str  # the data key of the target
    symbols: Mapping[str, Symbol]
    example: Callable[..., tuple[Arrays, Arrays]]
    #: keyword sets for ``example`` the derivation checker draws instances with: the seed's sizes
    #: first ({}), then sizes that make every matrix non-square where the model allows it
    sizes: tuple[Mapping[str, Any], ...]
    #: keyword sets for ``example`` drawn at random, every size the model allows within small bounds:
    #: ``any_sizes(draw)`` with ``draw(lo, hi)`` an integer from lo to hi inclusive (hypothesis'
    #: ``st.integers`` in the property tests, a generator's ``integers(lo, hi + 1)`` elsewhere)
    any_sizes: Callable[[Callable[[int, int], int]], Mapping[str, Any]]
    forward: Callable[[Mapping, Mapping], Arrays]
    loss: Callable[[Mapping, Mapping], Any]
    backward: Callable[..., Arrays]
    grads: Callable[[Mapping, Mapping], Arrays]
    engine: Callable[[Mapping, Mapping], Any]
    raw: Mapping[str, Callable] = field(repr=False, default_factory=dict)
    #: the chapter's names for its activations, read by the derivation checker in LaTeX:
    #: ``{"f": "tanh", "g": "softmax"}`` makes ``f(h)``, ``f'(h)`` and ``g(t)`` mean
    #: ``\tanh(h)``, ``\tanh'(h)`` and ``\operatorname{softmax}(t)`` (one letter each, none a symbol)
    functions: Mapping[str, str] = field(default_factory=dict)

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(self.inputs.params)

    @property
    def data(self) -> tuple[str, ...]:
        return tuple(self.inputs.data)

    @property
    def input(self) -> str:
        """The data key of the network's input (the first data array)."""
        return next(iter(self.inputs.data))


REGISTRY: dict[str, Model] = {}
#: the activations a model's ``functions`` may name
FUNCTIONS = ("tanh", "sigmoid", "softmax")


def declare(
    name: str,
    *,
    seed: str,
    chapter: str,
    inputs: Inputs,
    reduction: Literal["mean", "sum"],
    target: str,
    symbols: Mapping[str, Symbol],
    example: Callable[..., tuple[Arrays, Arrays]],
    forward: Callable[[Arrays, Arrays], Arrays],
    backward: Callable[..., Arrays],
    engine: Callable[[Mapping, Mapping], Any],
    loss: Callable[[Arrays, Arrays], Any] | None = None,
    sizes: tuple[Mapping[str, Any], ...] = ({},),
    any_sizes: Callable[[Callable[[int, int], int]], Mapping[str, Any]] = lambda draw: {},
    functions: Mapping[str, str] | None = None,
) -> Model:
    """Build the checked functions of a model from its unchecked pieces, and register it."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{name}: reduction is 'mean' or 'sum', got {reduction!r}")
    missing = [k for k in (*inputs.params, *inputs.data) if k not in symbols]
    if missing:
        raise ValueError(f"{name}: the symbol table lacks {missing}")
    functions = dict(functions or {})
    spelled = {alias for sym in symbols.values() for alias in sym.latex} | set(symbols)
    for letter, fn in functions.items():
        if len(letter) != 1 or not letter.isascii() or not letter.isalpha() or letter in spelled:
            raise ValueError(f"{name}: a function's name is one letter that is no symbol, not {letter!r}")
        if fn not in FUNCTIONS:
            raise ValueError(f"{name}: the function {letter} is one of {', '.join(FUNCTIONS)}, not {fn!r}")

    loss_of = loss if loss is not None else (lambda p, d: forward(p, d)["loss"])
    spec = inputs  # backward_checked's keyword ``inputs`` (the data's gradients too) hides the name

    # each checks its inputs itself, one call less than a shared helper (measurable at batch 1)
    def forward_checked(params: Mapping, data: Mapping) -> Arrays:
        p, d, _ = check_inputs(inputs, params, data)
        return forward(p, d)

    def loss_checked(params: Mapping, data: Mapping) -> Any:
        p, d, _ = check_inputs(inputs, params, data)
        return loss_of(p, d)

    def backward_checked(params: Mapping, data: Mapping, *, inputs: bool = True) -> Arrays:
        p, d, _ = check_inputs(spec, params, data)
        return backward(p, d, full=True, inputs=inputs)

    def grads_checked(params: Mapping, data: Mapping) -> Arrays:
        p, d, _ = check_inputs(inputs, params, data)
        return backward(p, d, full=False, inputs=False)

    forward_checked.__doc__ = forward.__doc__
    loss_checked.__doc__ = loss.__doc__ if loss is not None else (
        f"The loss of ``{name}``: ``forward(params, data)['loss']`` (its formula: :func:`forward`).")
    backward_checked.__doc__ = backward.__doc__
    grads_checked.__doc__ = f"Gradients of ``{name}``'s loss with respect to {', '.join(inputs.params)} (their shapes)."
    for fn, public in ((forward_checked, "forward"), (loss_checked, "loss"), (backward_checked, "backward"),
                       (grads_checked, "grads")):
        fn.__name__ = fn.__qualname__ = public
        fn.__module__ = forward.__module__

    model = Model(name=name, seed=seed, chapter=chapter, inputs=inputs, reduction=reduction, target=target,
                  symbols=dict(symbols), example=example, sizes=tuple(sizes), any_sizes=any_sizes,
                  forward=forward_checked, loss=loss_checked, backward=backward_checked, grads=grads_checked, engine=engine,
                  raw={"forward": forward, "backward": backward, **({"loss": loss} if loss else {})},
                  functions=functions)
    REGISTRY[name] = model
    return model

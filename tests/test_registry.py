"""The registry (backprop_lib.models.MODELS) is the one list of models: every registered model has
what the rest of the project reads from it, so that a model added without one of its pieces fails
here, by name, instead of being left out of a table somewhere.

A model needs: its module in backprop_lib/models/ (declared, with the contract's functions), a
symbol table for every name its formulas may use, sizes that draw valid instances, its loss on
chapter 6's engine, a PyTorch reference in bench/torch_reference.py, a chapter in the homework
part of _toc.yml, and its widget logic in backprop_lib/explore/ with a test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from backprop_lib._validate import check_inputs
from backprop_lib.gradcheck import check_gradients
from backprop_lib.models import ALL, MODELS, NOT_MODELS, on_engine

ROOT = Path(__file__).resolve().parents[1]
NAMES = list(MODELS)


def _shape(dims: tuple, sizes: dict[str, int]) -> tuple[int, ...]:
    """A symbolic shape (``Symbol.shape``, ``Inputs``' dims) with the sizes of one instance."""
    return tuple(d if isinstance(d, int) else sizes[d] if isinstance(d, str) else d(sizes) for d in dims)


def test_the_registry_holds_every_model_module_in_seed_order():
    modules = sorted(p.stem for p in (ROOT / "backprop_lib" / "models").glob("*.py")
                     if not p.stem.startswith("_") and p.stem not in NOT_MODELS)
    assert sorted(MODELS) == modules and list(ALL) == NAMES
    seeds = [m.seed for m in MODELS.values()]
    assert seeds == sorted(seeds) and len(set(seeds)) == len(seeds)


@pytest.mark.parametrize("name", NAMES)
def test_the_module_is_its_declaration(name):
    module, model = ALL[name], MODELS[name]
    assert model.name == name and module.MODEL is model and module.INPUTS is model.inputs
    assert module.example is model.example
    for fn in ("forward", "loss", "backward", "grads"):
        assert getattr(module, fn) is getattr(model, fn) and getattr(model, fn).__module__ == module.__name__
    assert model.reduction in ("mean", "sum") and model.target in model.data and model.input in model.data


@pytest.mark.parametrize("name", NAMES)
def test_the_symbol_table_names_every_array_with_its_shape(name):
    """Parameters, data and every output of forward but the loss; each symbol's shape is the array's
    on every declared size (a (B,) quantity marked as a column where its formula treats it as B x 1)."""
    model = MODELS[name]
    assert model.sizes[0] == {}, "the seed's sizes come first"
    for kw in model.sizes:
        params, data = model.example(np.random.default_rng(0), 3, **kw)
        arrays = {**params, **data, **model.forward(params, data)}
        loss = arrays.pop("loss")
        assert np.ndim(loss) == 0
        assert set(arrays) == set(model.symbols), "symbols: " + str(sorted(set(arrays) ^ set(model.symbols)))
        _, _, sizes = check_inputs(model.inputs, params, data)
        for key, symbol in model.symbols.items():
            assert np.shape(arrays[key]) == _shape(symbol.shape, sizes), (key, kw)
            assert not symbol.column or len(symbol.shape) == 1, key
            assert symbol.meaning and symbol.latex, key


def _normal(latex: str) -> bool:
    """The normal form of a spelling (see ``Symbol``): no braces around a one-character subscript or
    argument, one space between a command and a letter."""
    return not re.search(r"_\{.\}|\\[a-zA-Z]+\{.\}|\\[a-zA-Z]+ {2,}|\s$|^\s", latex)


def test_latex_spellings_are_normal_and_name_one_symbol_per_model():
    assert _normal(r"\hat y") and _normal("y_{pre}") and not _normal(r"\hat{y}") and not _normal("W_{1}")
    for name, model in MODELS.items():
        spellings = [s for symbol in model.symbols.values() for s in symbol.latex]
        assert len(spellings) == len(set(spellings)), f"{name}: a spelling names two symbols"
        assert all(_normal(s) for s in spellings), name


@pytest.mark.parametrize("name", NAMES)
def test_declared_sizes_draw_valid_instances(name):
    model = MODELS[name]
    rng = np.random.default_rng(1)
    for kw in (*model.sizes, *(model.any_sizes(lambda lo, hi: int(rng.integers(lo, hi + 1))) for _ in range(5))):
        params, data = model.example(rng, 2, **kw)
        check_gradients(model.loss, model.grads, params, data).assert_ok()


@pytest.mark.parametrize("name", NAMES)
def test_every_model_has_an_engine_version(name):
    """Chapter 6 and tests/test_autodiff.py read on_engine.LOSSES."""
    loss = on_engine.LOSSES[name]
    assert loss is MODELS[name].engine and loss.__module__ == ALL[name].__name__


def test_every_model_has_a_torch_reference_in_bench():
    """bench/torch_reference.py looks up ``_<name>`` for every registered model (torch is not installed
    here, so the file is read, not imported)."""
    tree = ast.parse((ROOT / "bench" / "torch_reference.py").read_text(encoding="utf-8"))
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    missing = [name for name in NAMES if f"_{name}" not in functions]
    assert not missing, f"bench/torch_reference.py has no PyTorch loss _<name>(p, d) for {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_every_model_has_a_homework_chapter(name):
    """In the part whose chapters tests/test_chapter_size.py bounds."""
    chapter = MODELS[name].chapter
    parts = {p.get("caption"): [c["file"] for c in p["chapters"]]
             for p in yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["parts"]}
    assert chapter in parts["The homework chapters"], f"{chapter} is not in the homework part of _toc.yml"
    assert (ROOT / f"{chapter}.md").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_every_model_has_its_widget_logic_and_its_test(name):
    for path in (f"backprop_lib/explore/{name}.py", f"tests/test_explore_{name}.py"):
        assert (ROOT / path).is_file(), f"{name} has no {path}"

"""Every model refuses every wrong shape with a ValueError (issue 19): hypothesis changes one array
of a valid instance (its rank, one of its sizes, the order of its axes) or the keys of a dict, and
loss, grads, forward and backward must raise, never return an array of the wrong shape, never
broadcast. Each array's sizes are tied to another's (a batch, a width), so no change of one
array alone can leave a consistent instance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backprop_lib.models import MODELS

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


def sizes(d: st.DataObject, name: str) -> dict:
    """Keywords for the model's ``example``, drawn from the sizes it declares (``Model.any_sizes``),
    so that the valid instance itself varies."""
    return dict(MODELS[name].any_sizes(lambda lo, hi: d.draw(st.integers(lo, hi), label="size")))


def _changed_shape(d: st.DataObject, arr: np.ndarray) -> np.ndarray:
    """``arr`` with one more or one fewer axis, one size changed, or its axes in another order."""
    kinds = ["add axis", "size"] + (["drop axis"] if arr.ndim else []) + (["swap axes"] if arr.ndim >= 2 else [])
    kind = d.draw(st.sampled_from(kinds), label="change")
    if kind == "add axis":
        where = d.draw(st.integers(0, arr.ndim), label="at")
        return np.expand_dims(arr, where).repeat(d.draw(st.integers(1, 3), label="length"), axis=where)
    if kind == "drop axis":
        return np.take(arr, 0, axis=d.draw(st.integers(0, arr.ndim - 1), label="axis")) if arr.size else arr.sum(axis=0)
    if kind == "swap axes":
        order = d.draw(st.permutations(range(arr.ndim)), label="order")
        out = np.transpose(arr, order)
        assume(out.shape != arr.shape)  # a square matrix transposed has a valid shape
        return out
    axis = d.draw(st.integers(0, arr.ndim - 1), label="axis") if arr.ndim else None
    if axis is None:  # a scalar has no size to change: make it a vector
        return np.full(d.draw(st.integers(1, 3), label="length"), float(arr))
    new = d.draw(st.integers(0, arr.shape[axis] + 3).filter(lambda n: n != arr.shape[axis]), label="size")
    shape = list(arr.shape)
    shape[axis] = new
    return np.resize(arr, shape)


def _changed_keys(d: st.DataObject, mapping: dict, names: tuple[str, ...]) -> dict:
    kind = d.draw(st.sampled_from(["missing", "extra", "renamed"]), label="keys")
    out = dict(mapping)
    victim = d.draw(st.sampled_from(names), label="key")
    if kind in ("missing", "renamed"):
        value = out.pop(victim)
        if kind == "renamed":
            out[victim.upper() if victim.upper() != victim else victim.lower() + "_"] = value
    else:
        out[d.draw(st.sampled_from(["W9", "bias", "x2", "extra"]), label="new key")] = np.zeros(2)
    return out


@pytest.mark.parametrize("name", list(MODELS))
@SETTINGS
@given(d=st.data())
def test_every_wrong_shape_or_key_raises_value_error(name, d):
    model = MODELS[name]
    params, data = model.example(np.random.default_rng(d.draw(st.integers(0, 99), label="seed")),
                                 batch=d.draw(st.integers(1, 5), label="batch"), **sizes(d, name))
    for fn in (model.loss, model.grads):  # the valid instance passes
        fn(params, data)
    if d.draw(st.booleans(), label="keys, not a shape"):
        which = d.draw(st.sampled_from(["params", "data"]), label="dict")
        if which == "params":
            params = _changed_keys(d, params, model.params)
        else:
            data = _changed_keys(d, data, model.data)
    else:
        key = d.draw(st.sampled_from(model.params + model.data), label="array")
        target = params if key in params else data
        before = np.shape(target[key])
        target[key] = _changed_shape(d, target[key])
        assert np.shape(target[key]) != before
    for fn in (model.loss, model.grads, model.forward, model.backward):
        with pytest.raises(ValueError):
            fn(params, data)

"""Every chapter fails under nbval when what it checks is wrong (shared/CHAPTER.md, issue 26).

Each test runs one chapter under nbval, as ``make test`` does, with one mutation of ``backprop_lib``
applied before the first cell: an IPython startup file in a temporary ``IPYTHONDIR`` (the kernel
that nbval starts reads it) patches the library, and writes a mark file that proves it ran.

- **One wrong gradient entry.** A model's hand-derived gradient (``grads`` and ``backward``, the
  module's functions and its declaration's) is off in one entry of one parameter, by 1e-3 of the
  parameter's largest entry. Every chapter that uses the model must fail: each homework chapter
  for its own model (the declaration's ``chapter``, last parameter), chapter 6 for each model
  (first parameter), the appendix for chapter 2's.
- **Jacobians in the other layout.** The numerical Jacobians (``numerical_gradient`` and
  ``complex_step_gradient`` of an array-valued function) come with the input's axes first, the
  denominator layout, and the activation Jacobian helpers (``softmax_jacobian``,
  ``tanh_jacobian``) return their transposes. Every chapter that checks a Jacobian's layout must
  fail: chapters 1, 2 and 5. The activation helpers' transposes alone change no number (the
  softmax Jacobian is symmetric, the tanh one diagonal), which is why those chapters check the
  layout on products with a non-square matrix. Chapters 3 and 4 check only diagonal Jacobians
  (activations entry by entry), where the two layouts are the same array; chapter 6 and the
  appendix differentiate scalar losses only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backprop_lib.models import MODELS

ROOT = Path(__file__).resolve().parents[1]

ONE_ENTRY = """
import numpy as np
from backprop_lib import models

model = models.ALL[{model!r}]


def one_entry_off(fn):
    def wrong(params, data, **kwargs):
        g = dict(fn(params, data, **kwargs))
        value = np.array(g[{param!r}])
        value.flat[-1] += 1e-3 * max(1e-3, float(np.abs(value).max()))
        g[{param!r}] = value
        return g
    return wrong


for name in ("grads", "backward"):
    setattr(model, name, one_entry_off(getattr(model, name)))
    declared = getattr(model, "MODEL", None)
    if declared is not None:  # the frozen declaration that models.MODELS and the checker read
        object.__setattr__(declared, name, getattr(model, name))
"""

OTHER_LAYOUT = """
import numpy as np
from backprop_lib import activations, gradcheck


def input_axes_first(numerical):
    def other_layout(f, x, *args, **kwargs):
        jac = numerical(f, x, *args, **kwargs)
        n_out = jac.ndim - np.ndim(x)
        return np.moveaxis(jac, tuple(range(n_out)), tuple(range(np.ndim(x), jac.ndim)))
    return other_layout


gradcheck.numerical_gradient = input_axes_first(gradcheck.numerical_gradient)
gradcheck.complex_step_gradient = input_axes_first(gradcheck.complex_step_gradient)
for name in ("softmax_jacobian", "tanh_jacobian"):
    helper = getattr(activations, name)
    setattr(activations, name, lambda s, helper=helper: np.swapaxes(helper(s), -1, -2))
"""

# (chapter, model, the parameter whose gradient gets one wrong entry), from the registry
ONE_WRONG_ENTRY = (
    [(Path(m.chapter).name, name, m.params[-1]) for name, m in MODELS.items()]
    + [("ch6_autodiff", name, m.params[0]) for name, m in MODELS.items()]
    + [("appendix_checks", "softmax_ce", "W2")]
)
# the chapters that check a Jacobian's layout (a new one that does belongs here)
CHECK_A_LAYOUT = ["ch1_conv_mse", "ch2_softmax_ce", "ch5_jacobian_form"]


def run_chapter(chapter: str, mutation: str, tmp_path: Path) -> tuple[int, str]:
    """nbval's exit code and report for ``book/<chapter>.md`` with ``mutation`` applied first."""
    mark = tmp_path / "applied"
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-mutation.py").write_text(mutation + f"\nopen({str(mark)!r}, 'w').write('applied')\n")
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython"), "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", "-p", "no:xdist", "--nbval-lax",
         "--nbval-current-env", f"book/{chapter}.md"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert mark.exists(), f"the mutation was not applied before {chapter} ran:\n{result.stdout[-2000:]}"
    return result.returncode, result.stdout


def failed_cells(report: str) -> list[str]:
    return re.findall(r"^FAILED \S+::(Cell \d+)", report, re.M)


@pytest.mark.parametrize("chapter, model, param", ONE_WRONG_ENTRY)
def test_a_chapter_fails_for_one_wrong_gradient_entry(chapter, model, param, tmp_path):
    code, report = run_chapter(chapter, ONE_ENTRY.format(model=model, param=param), tmp_path)
    assert code == 1 and failed_cells(report), (
        f"{chapter} passed with one entry of {model}'s gradient of {param} wrong:\n{report[-3000:]}")


@pytest.mark.parametrize("chapter", CHECK_A_LAYOUT)
def test_a_chapter_that_checks_a_jacobian_layout_fails_for_the_other_layout(chapter, tmp_path):
    code, report = run_chapter(chapter, OTHER_LAYOUT, tmp_path)
    assert code == 1 and failed_cells(report), (
        f"{chapter} passed with every Jacobian in the other layout:\n{report[-3000:]}")


def test_the_mutations_are_valid_python():
    for source in (ONE_ENTRY.format(model="softmax_ce", param="W1"), OTHER_LAYOUT):
        compile(textwrap.dedent(source), "<mutation>", "exec")

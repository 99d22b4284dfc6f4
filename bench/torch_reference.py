"""The models' `grads` against PyTorch's CPU autograd on the same instances (batch 4096, float64).

PyTorch is not a dependency of this project and never goes into requirements.txt. Run this
script with a Python that has torch and numpy installed, outside the project's .venv; it imports
backprop_lib from this checkout (it needs only NumPy). The README's table was made with:

    python3.11 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.13.0 numpy==2.4.6 -e .
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/torchenv/bin/python bench/torch_reference.py

(`env -u ...`: the two OpenBLAS variables, when a machine sets them, slow NumPy's matrix products;
they are cleared for this one command, for NumPy and PyTorch alike.)

For every model it first checks that PyTorch's gradients equal `grads` (relative error below
1e-10), so that both compute the same thing; then it times, in alternation (one sample of
`--number` calls of each in turn, `--samples` samples, medians), `loss`, `grads` and PyTorch's
forward plus backward (`torch.autograd.grad` of the loss with respect to every parameter, which
is what `loss.backward()` computes, without accumulating into `.grad`). It prints grads/loss and
grads/torch per model with the spread over `--repeats` runs (min-max of the per-run medians),
and writes the numbers to _build/bench/torch_reference.json. Nothing here is run by `make test`
or `make bench`; `make bench` prints this command when torch is importable there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _threads_from_argv() -> int:
    """--threads N, read before NumPy and PyTorch are imported (their thread pools start with them)."""
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return int(sys.argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return 1


THREADS = _threads_from_argv()
if THREADS > 0:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(THREADS)

import numpy as np  # noqa: E402

from backprop_lib import models  # noqa: E402
from backprop_lib.timing import CLOCKS, alternating  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - the message is the point
    raise SystemExit("bench/torch_reference.py needs torch; see its docstring for the scratch environment "
                     "(torch is not one of the project's requirements)") from None


def _conv_mse(p: dict, d: dict) -> torch.Tensor:
    z = F.conv2d(d["a"][:, None], p["w"][None, None]) + p["b"]  # (B, 1, m, m), cross-correlation
    y_hat = (torch.sigmoid(z[:, 0]) * p["v"]).sum(dim=(1, 2))
    return ((y_hat - d["y"]) ** 2).mean()


def _softmax_ce(p: dict, d: dict) -> torch.Tensor:
    a2 = torch.sigmoid(d["x"] @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    return F.cross_entropy(a2, d["t"])  # probability targets: mean over the batch of -sum_k t log softmax


def _three_layer(p: dict, d: dict) -> torch.Tensor:
    a1 = torch.tanh(d["x"] @ p["W1"] + p["b1"])
    a2 = torch.tanh(a1 @ p["W2"] + p["b2"])
    y_hat = torch.sigmoid(a2 @ p["W3"] + p["b3"])[:, 0]
    return ((d["y"] - y_hat) ** 2).sum()


def _frobenius(p: dict, d: dict) -> torch.Tensor:
    Y_pred = torch.sigmoid(d["X"] @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    return ((d["Y"] - Y_pred) ** 2).sum()


def _jacobian_form(p: dict, d: dict) -> torch.Tensor:
    y_pre = torch.softmax(torch.tanh(d["x"] + p["b0"]) @ p["w1"] + p["b1"], dim=-1)
    return ((y_pre - d["y"]) ** 2).sum()


#: every registered model's loss in PyTorch: the function ``_<name>`` above (tests/test_registry.py checks
#: that each model has one)
TORCH_LOSS: dict[str, Callable[[dict, dict], torch.Tensor]] = {name: globals()[f"_{name}"] for name in models.MODELS}


def one_model(name: str, batch: int, samples: int, number: int, clock: Callable[[], float]) -> dict[str, float]:
    model = models.ALL[name]
    params, data = model.example(np.random.default_rng(0), batch=batch)  # the instance `make bench` times
    tp = {k: torch.from_numpy(np.array(v)).requires_grad_() for k, v in params.items()}
    td = {k: torch.from_numpy(np.array(v)) for k, v in data.items()}
    leaves = list(tp.values())
    torch_loss = TORCH_LOSS[name]

    def torch_grads() -> tuple[torch.Tensor, ...]:
        return torch.autograd.grad(torch_loss(tp, td), leaves)

    ours = model.grads(params, data)
    theirs = dict(zip(tp, torch_grads()))
    for key, g in ours.items():
        t = theirs[key].numpy()
        err = np.max(np.abs(g - t) / np.maximum(np.maximum(np.abs(g), np.abs(t)), 1e-300), initial=0.0)
        scale = np.max(np.abs(g))
        if err > 1e-10 and np.max(np.abs(g - t)) > 1e-12 * scale:
            raise SystemExit(f"{name}: torch's gradient of {key!r} differs from grads (relative error {err:.1e})")
    ours_loss, their_loss = float(model.loss(params, data)), torch_loss(tp, td).item()
    if abs(ours_loss - their_loss) > 1e-12 * max(1.0, abs(ours_loss)):
        raise SystemExit(f"{name}: torch's loss {their_loss!r} differs from loss {ours_loss!r}")
    t_loss, t_grads, t_torch = alternating(
        [lambda: model.loss(params, data), lambda: model.grads(params, data), torch_grads], samples, number, clock)
    return {"loss": t_loss, "grads": t_grads, "torch": t_torch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3, help="independent runs; the table shows their min-max")
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--number", type=int, default=20)
    parser.add_argument("--models", nargs="*", default=list(models.ALL))
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="process",
                        help="process: CPU seconds of this process (time.process_time), robust on a shared machine; "
                             "wall: elapsed seconds (time.perf_counter)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for OpenBLAS (NumPy's matrix products) and PyTorch; 0 keeps each library's default")
    args = parser.parse_args()
    if THREADS > 0:
        torch.set_num_threads(THREADS)
        torch.set_num_interop_threads(THREADS)
    runs = {name: [] for name in args.models}
    for _ in range(args.repeats):
        for name in args.models:
            runs[name].append(one_model(name, args.batch, args.samples, args.number, CLOCKS[args.clock]))
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, batch {args.batch}, "
          f"{args.repeats} runs of {args.samples} alternating samples of {args.number} calls, {args.clock} time; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"{'model':<14} {'loss ms':>13} {'grads ms':>13} {'torch ms':>13} {'grads/loss':>11} {'grads/torch':>11}")

    def span(values: list[float], fmt: str) -> str:
        lo, hi = min(values), max(values)
        return f"{lo:{fmt}}-{hi:{fmt}}" if f"{lo:{fmt}}" != f"{hi:{fmt}}" else f"{lo:{fmt}}"

    summary = {}
    for name, rows in runs.items():
        ms = {k: [r[k] * 1e3 for r in rows] for k in ("loss", "grads", "torch")}
        gl = [r["grads"] / r["loss"] for r in rows]
        gt = [r["grads"] / r["torch"] for r in rows]
        summary[name] = {"runs": rows, "grads_over_loss": gl, "grads_over_torch": gt}
        print(f"{name:<14} {span(ms['loss'], '.2f'):>13} {span(ms['grads'], '.2f'):>13} {span(ms['torch'], '.2f'):>13} "
              f"{span(gl, '.2f'):>11} {span(gt, '.2f'):>11}")
    out = ROOT / "_build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "torch_reference.json").write_text(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "numpy": np.__version__,
        "python": platform.python_version(), "batch": args.batch, "clock": args.clock,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "models": summary}, indent=2))


if __name__ == "__main__":
    main()

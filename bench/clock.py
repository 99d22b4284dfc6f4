"""Timing for the benchmarks: samples of several functions taken in turn, on the clock of choice.

On a machine shared with other jobs, wall time measures mostly how long a process waited for a
core; the CPU time of the process (``time.process_time``, user plus system) measures the work.
Both scripts in bench/ take ``--clock process|wall`` and default to CPU time; ratios are taken
within one run, from samples that alternate, so that a slow spell hits every function alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

CLOCKS: dict[str, Callable[[], float]] = {"process": time.process_time, "wall": time.perf_counter}


def alternating(fns: list[Callable[[], object]], samples: int, number: int, clock: Callable[[], float]) -> list[float]:
    """Median seconds per call of each function: ``samples`` rounds, each timing ``number`` calls of
    every function in turn (after one warm-up call of each)."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(samples):
        for fn, out in zip(fns, times):
            start = clock()
            for _ in range(number):
                fn()
            out.append((clock() - start) / number)
    return [statistics.median(t) for t in times]

"""Timing for the benchmarks and the chapters' measured plots (never for assertions on speed).

Medians, not means: a busy machine adds long outliers, and the median ignores them. On a machine
shared with other jobs, wall time measures mostly how long a process waited for a core; the CPU
time of the process (``time.process_time``, user plus system) measures the work: the benchmarks
take ``--clock process|wall`` (:data:`CLOCKS`) and default to CPU time, and compare functions
within one run, from samples that alternate (:func:`alternating`), so that a slow spell hits
every function alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

#: the clocks the benchmarks take (``--clock``): CPU time of this process, or elapsed time
CLOCKS: dict[str, Callable[[], float]] = {"process": time.process_time, "wall": time.perf_counter}


def median_time(fn: Callable[[], Any], repeats: int = 5, number: int | None = None, target: float = 0.01) -> float:
    """Median over ``repeats`` samples of the seconds per call of ``fn``.

    Each sample times ``number`` consecutive calls; with ``number=None`` it is chosen (1 to 1000)
    so that a sample lasts about ``target`` seconds, from one warm-up call.
    """
    if number is None:
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        number = int(min(1000, max(1, round(target / once))))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def alternating(fns: Sequence[Callable[[], Any]], samples: int = 9, number: int = 3,
                clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Median seconds per call of each function, timed in alternation so that a busy machine slows all alike.

    One warm-up call of each comes first; then ``samples`` rounds, each timing ``number`` calls of
    every function in turn, on ``clock`` (elapsed time by default; ``time.process_time`` for the CPU
    time of this process). Returns the medians in the order of ``fns``.
    """
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

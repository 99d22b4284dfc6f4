"""Wall-clock timing for the benchmarks and the chapters' measured plots (never for assertions on speed).

Medians, not means: a busy machine adds long outliers, and the median ignores them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


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


def paired_times(f: Callable[[], Any], g: Callable[[], Any], repeats: int = 9, number: int = 3) -> tuple[float, float]:
    """Median seconds per call of f and of g, timed in alternation so that a busy machine slows both alike.

    Each of ``repeats`` rounds times ``number`` calls of f, then ``number`` calls of g; one
    warm-up call of each comes first. Returns (median for f, median for g).
    """
    f(), g()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((f, samples[0]), (g, samples[1])):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            out.append((time.perf_counter() - start) / number)
    return statistics.median(samples[0]), statistics.median(samples[1])

import time

from backprop_lib.timing import CLOCKS, alternating, median_time


def test_median_time_measures_the_call():
    calls = []

    def nap():
        calls.append(1)
        time.sleep(0.002)

    t = median_time(nap, repeats=3, number=2)
    assert 0.002 <= t < 0.5
    assert len(calls) == 6  # exactly repeats * number, no warm-up when number is given


def test_median_time_chooses_the_number_of_calls():
    calls = []
    t = median_time(lambda: calls.append(1), repeats=2, target=0.001)
    assert t < 0.001
    assert len(calls) > 3  # a warm-up, then more than one call per sample for a fast function


def test_alternating_alternates_and_orders():
    order = []
    tf, tg = alternating([lambda: (order.append("f"), time.sleep(0.001)), lambda: (order.append("g"), time.sleep(0.004))],
                         samples=3, number=1)
    assert order == ["f", "g"] * 4  # one warm-up of each, then f and g in turn
    assert 0.001 <= tf < tg


def test_alternating_on_cpu_time_leaves_out_sleep():
    """The process clock counts work, not waiting (what the benchmarks measure on a shared machine)."""
    (slept,) = alternating([lambda: time.sleep(0.003)], samples=3, number=1, clock=CLOCKS["process"])
    assert slept < 0.002

"""How a function's cost grows with its input, judged on CPU time so that neighbours on the machine
do not decide it."""
from __future__ import annotations

import gc
import time
from collections.abc import Callable


def least_cpu(work: Callable[[str], object], texts: tuple[str, ...], rounds: int = 5) -> list[float]:
    """The least CPU time of `work` on each text over `rounds`, taken in turn: the same work reads up to
    twice as long from one round to the next here, so each text gets its share of the fast rounds. The
    collector is paused, as timeit does: a collection's cost depends on everything else alive in the
    test process, not on the work itself."""
    best = [float("inf")] * len(texts)
    gc.disable()
    try:
        for _ in range(rounds):
            for i, text in enumerate(texts):
                start = time.process_time()
                work(text)
                best[i] = min(best[i], time.process_time() - start)
    finally:
        gc.enable()
    return best


def growth_ratios(work: Callable[[str], object], small: str, growth: int, allowed: float,
                  slack_s: float = 0.0, attempts: int = 3) -> tuple[bool, list[float]]:
    """Whether `growth` times `small` costs at most `allowed` times as much (plus `slack_s`), and the
    ratios measured. Linear work reads 10-12x for 10x here, now and then past 15x when the machine slows
    in the middle of a round; quadratic work reads ~100x every time. So the first of `attempts` within
    the bound passes."""
    work(small)  # warm caches (dictionaries, compiled patterns)
    ratios = []
    for _ in range(attempts):
        one, many = least_cpu(work, (small, small * growth))
        ratios.append(many / one if one else float("inf"))
        if many <= allowed * one + slack_s:
            return True, ratios
    return False, ratios

"""Population cost per candidate as a run grows: sample() + add() at 100 and at 100k candidates.

Run: python benchmarks/perf/search_population.py [N]
Prints the median microseconds per candidate for the first and last 1,000 steps and
their ratio (the issue's goal: 100k within 1.5x of 100). Never asserts times.
"""

from __future__ import annotations

import random
import statistics
import sys
import time

import numpy as np

from syslab.search.novelty import NoveltyChecker
from syslab.search.population import Member, Population
from syslab.search.settings import SearchSettings


def main(n: int = 100_000) -> None:
    settings = SearchSettings(pareto_metrics=["a", "b"], near_duplicate_threshold=0.95)
    pop = Population(settings, {"a": "maximize", "b": "minimize"})
    checker = NoveltyChecker.from_settings(settings)
    rng = random.Random(0)
    gen = np.random.default_rng(0)
    base = gen.integers(0, 2**32, 64, dtype=np.uint64)
    sigs = [
        tuple(
            int(v) for v in np.where(gen.random(64) < 0.3, gen.integers(0, 2**32, 64, dtype=np.uint64), base)
        )
        for _ in range(1000)
    ]
    pop.add(Member(0, 0.0, {"a": 0.0, "b": 0.0}, code_length=1000, signature=sigs[0]))
    pop_t, nov_t = [], []
    for i in range(1, n + 1):
        t0 = time.perf_counter()
        s = pop.sample(rng)
        score = rng.random()
        sig = sigs[i % 1000]
        pop.add(Member(i, score, {"a": score, "b": rng.random()}, parent_id=s.parent_id,
                       code_length=rng.randrange(8000), signature=sig), island=s.island)  # fmt: skip
        t1 = time.perf_counter()
        checker.check(f"{i:016x}", sig)
        checker.add(i, f"{i:016x}", sig)
        t2 = time.perf_counter()
        pop_t.append(t1 - t0)
        nov_t.append(t2 - t1)
    k = min(1000, n // 2)
    for name, t in (("population sample+add", pop_t), ("novelty check+add", nov_t)):
        first, last = statistics.median(t[:k]), statistics.median(t[-k:])
        print(f"{name:24s} first {k}: {first * 1e6:7.0f} us   last {k}: {last * 1e6:7.0f} us   "
              f"ratio {last / first:.2f}")  # fmt: skip
    print(f"members held: {len(pop.members)}   novelty index entries: {len(checker.index)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)

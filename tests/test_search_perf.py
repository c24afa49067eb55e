"""The loop's population cost stays flat as a run grows (timings printed, ratio checked loosely)."""

from __future__ import annotations

import random
import statistics
import time

import numpy as np

from syslab.search.population import Member, Population
from syslab.search.settings import SearchSettings

N = 12_000  # benchmarks/search_population.py runs the full 100k
BATCH = 3_000


def test_sample_and_add_cost_is_flat():
    settings = SearchSettings(pareto_metrics=["a", "b"])
    pop = Population(settings, {"a": "maximize", "b": "minimize"})
    rng = random.Random(0)
    gen = np.random.default_rng(0)
    base = gen.integers(0, 2**32, 64, dtype=np.uint64)
    # a pool of related signatures, as in a converging population
    sigs = [
        tuple(
            int(v) for v in np.where(gen.random(64) < 0.3, gen.integers(0, 2**32, 64, dtype=np.uint64), base)
        )
        for _ in range(500)
    ]
    pop.add(Member(0, 0.0, {"a": 0.0, "b": 0.0}, code_length=1000, signature=sigs[0]))
    per_step = []
    for i in range(1, N + 1):
        t0 = time.perf_counter()
        s = pop.sample(rng)
        score = rng.random()
        child = Member(i, score, {"a": score, "b": rng.random()}, parent_id=s.parent_id,
                       code_length=rng.randrange(8000), signature=sigs[i % 500])  # fmt: skip
        pop.add(child, island=s.island)
        per_step.append(time.perf_counter() - t0)
    first = statistics.median(per_step[:BATCH])
    last = statistics.median(per_step[-BATCH:])
    print(f"\nsample+add median: first {BATCH}: {first * 1e6:.0f} us, last {BATCH}: {last * 1e6:.0f} us;"
          f" members held {len(pop.members)}")  # fmt: skip
    assert len(pop.members) < 400  # bounded, not growing with N
    assert last <= 3 * first

"""UCB1 model ensemble: shifts toward improvement per unit cost, serialisable state."""

from __future__ import annotations

import random

from syslab.agents.ensemble import Ensemble
from syslab.agents.llm_config import ModelSpec

COST = {"cheap": 0.001, "dear": 0.01}


def simulate(ens: Ensemble, rounds: int, seed: int) -> dict[str, int]:
    """Both models improve half the time by the same amount; 'dear' costs 10x more per call."""
    rng, env = random.Random(seed), random.Random(seed + 1)
    counts = {"cheap": 0, "dear": 0}
    for _ in range(rounds):
        m = ens.choose(rng)
        counts[m] += 1
        ens.update(m, 1.0 if env.random() < 0.5 else 0.0, COST[m])
    return counts


def test_shifts_toward_better_improvement_per_cost():
    ens = Ensemble([ModelSpec(name="dear"), ModelSpec(name="cheap")], c=0.5)
    counts = simulate(ens, 300, seed=3)
    assert counts["cheap"] > 0.8 * 300, counts
    assert counts["dear"] >= 1  # it was explored


def test_shifts_toward_the_model_that_improves_more_at_equal_cost():
    ens = Ensemble([ModelSpec(name="a"), ModelSpec(name="b")], c=0.5)
    rng, env = random.Random(0), random.Random(1)
    picks = []
    for _ in range(300):
        m = ens.choose(rng)
        picks.append(m)
        gain = 1.0 if (m == "b" and env.random() < 0.6) or (m == "a" and env.random() < 0.2) else 0.0
        ens.update(m, gain, 0.002)
    assert picks[150:].count("b") > 0.75 * 150


def test_weights_govern_without_signal():
    ens = Ensemble([ModelSpec(name="big", weight=1.0), ModelSpec(name="small", weight=0.25)], c=1.0)
    rng = random.Random(5)
    counts = {"big": 0, "small": 0}
    for _ in range(200):
        m = ens.choose(rng)
        counts[m] += 1
        ens.update(m, 0.0, 0.001)  # nothing ever improves
    assert counts["big"] > 2 * counts["small"] > 0, counts


def test_state_round_trip_gives_same_choices():
    models = [ModelSpec(name="dear"), ModelSpec(name="cheap"), ModelSpec(name="mid", weight=0.5)]
    ens = Ensemble(models, c=0.5)
    simulate_all = random.Random(9)
    for _ in range(40):
        m = ens.choose(simulate_all)
        ens.update(m, simulate_all.random(), 0.001 + simulate_all.random() / 100)
    clone = Ensemble.from_state(models, ens.to_state(), c=0.5)
    assert clone.to_state() == ens.to_state()
    r1, r2 = random.Random(1), random.Random(1)
    assert [ens.choose(r1) for _ in range(20)] == [clone.choose(r2) for _ in range(20)]


def test_unknown_model_update_is_ignored_and_single_model_short_circuits():
    ens = Ensemble([ModelSpec(name="only")])
    ens.update("gone", 5.0, 0.1)
    assert ens.choose(random.Random(0)) == "only"
    assert "gone" not in ens.to_state()["plays"]

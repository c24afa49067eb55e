"""Population policies: islands, migration, archive, MAP-Elites, Pareto front, state round-trip."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from syslab.search.novelty import signature
from syslab.search.population import (
    Member,
    Move,
    Population,
    crowding_distances,
    dominates,
    ring_moves,
    rng_from_state,
    rng_state,
)
from syslab.search.settings import SearchSettings


def _pop(**kw) -> Population:
    directions = kw.pop("directions", None)
    return Population(SearchSettings(**kw), directions)


# ------------------------------------------------------------------ islands and migration
def test_root_goes_to_every_island_and_child_to_its_parents_island():
    pop = _pop(islands=3, migration_interval=0)
    res = pop.add(Member(0, 1.0))
    assert res.islands == [0, 1, 2] and res.new_best
    pop.add(Member(1, 0.5, parent_id=0), island=2)
    pop.add(Member(2, 0.4, parent_id=1))  # no island given: parent's home island
    assert pop.island_of(2) == [2]
    assert pop.members[0].children == 1 and pop.members[1].children == 1


def test_invalid_member_counts_but_is_not_placed():
    pop = _pop(islands=1, migration_interval=0)
    pop.add(Member(0, 1.0))
    res = pop.add(Member(1, None, parent_id=0))
    assert res.islands == [] and 1 not in pop.members
    assert pop.evaluations == 2 and pop.members[0].children == 1
    pop.add(Member(2, float("nan"), parent_id=0))
    assert 2 not in pop.members


def test_island_capacity_evicts_worst_never_best():
    pop = _pop(islands=1, island_capacity=3, migration_interval=0, archive_size=1, feature_dimensions=[])
    for i, s in enumerate([5.0, 1.0, 2.0]):
        pop.add(Member(i, s))
    res = pop.add(Member(3, 3.0))
    assert res.evicted == [1] and sorted(pop.islands[0]) == [0, 2, 3]
    res = pop.add(Member(4, 0.5))  # worse than everyone: not admitted
    assert res.islands == [] and 4 not in pop.islands[0]
    # members nothing refers to any more are forgotten (memory stays bounded)
    assert 1 not in pop.members and 4 not in pop.members
    pop2 = _pop(islands=1, island_capacity=1, migration_interval=0, feature_dimensions=[])
    pop2.add(Member(0, 9.0))
    pop2.add(Member(1, 1.0))
    assert pop2.islands[0] == [0]  # capacity 1 keeps the best


def test_ring_moves_pure_topology():
    rank = {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0, 5: 5.0, 6: 6.0}.get
    islands = [[1, 2], [3, 4], [5, 6]]
    assert ring_moves(islands, rank, 1) == [Move(0, 1, 2), Move(1, 2, 4), Move(2, 0, 6)]
    assert ring_moves(islands, rank, 2) == [
        Move(0, 1, 2), Move(0, 1, 1), Move(1, 2, 4), Move(1, 2, 3), Move(2, 0, 6), Move(2, 0, 5)
    ]  # fmt: skip
    assert ring_moves([[1, 2], [2]], rank, 1) == []  # each best is already on its destination
    assert ring_moves([[1, 2], [3, 2]], rank, 1) == [Move(1, 0, 3)]
    assert ring_moves([[1, 2]], rank, 1) == [] and ring_moves(islands, rank, 0) == []


def test_migration_runs_only_every_interval_along_the_ring():
    pop = _pop(islands=3, migration_interval=5, migration_count=1)
    pop.add(Member(0, 0.0))  # root on all islands; evaluation 1
    best = {0: 10, 1: 11, 2: 12}
    for isl, node_id in best.items():  # evaluations 2..4
        res = pop.add(Member(node_id, 1.0 + isl, parent_id=0), island=isl)
        assert res.migrations == []
    assert pop.island_of(10) == [0] and pop.island_of(12) == [2]
    res = pop.add(Member(99, None))  # evaluation 5: an invalid one still counts
    assert res.migrations == [Move(0, 1, 10), Move(1, 2, 11), Move(2, 0, 12)]
    assert pop.island_of(10) == [0, 1] and pop.island_of(11) == [1, 2] and pop.island_of(12) == [0, 2]
    for k in range(4):
        assert pop.add(Member(200 + k, None)).migrations == []
    assert pop.add(Member(300, None)).migrations != []  # evaluation 10


# ------------------------------------------------------------------ MAP-Elites
def test_map_elites_replacement():
    pop = _pop(
        islands=1,
        migration_interval=0,
        feature_dimensions=["code_length", "latency"],
        feature_bins={"code_length": 10, "latency": 4},
        feature_ranges={"code_length": (0, 1000), "latency": (0, 4)},
    )
    res = pop.add(Member(0, 1.0, {"latency": 0.5}, code_length=150))
    assert res.cell == (1, 0) and res.cell_improved and pop.grid[(1, 0)] == 0
    res = pop.add(Member(1, 2.0, {"latency": 0.9}, parent_id=0, code_length=199))  # same cell, better
    assert res.cell == (1, 0) and res.cell_improved and pop.grid[(1, 0)] == 1
    res = pop.add(Member(2, 1.5, {"latency": 0.1}, parent_id=0, code_length=100))  # same cell, worse
    assert not res.cell_improved and pop.grid[(1, 0)] == 1
    res = pop.add(Member(3, 0.1, {"latency": 3.5}, parent_id=0, code_length=5000))  # clamped to the edge
    assert res.cell == (9, 3) and pop.grid[(9, 3)] == 3 and pop.grid[(1, 0)] == 1
    res = pop.add(Member(4, 9.0, {}, parent_id=0, code_length=10))  # missing metric: no cell
    assert res.cell is None and len(pop.grid) == 2


# ------------------------------------------------------------------ Pareto front
def test_dominance_hand_cases():
    assert dominates((2, 2), (1, 2)) and not dominates((1, 2), (2, 2))
    assert not dominates((1, 1), (1, 1))  # equal points do not dominate each other
    assert not dominates((2, 0), (0, 2))  # trade-off
    assert crowding_distances([(0, 2), (1, 1), (2, 0)])[1] == pytest.approx(2.0)


def _front_pop(cap=1000, dims=2):
    names = ["m0", "m1", "m2"][:dims]
    directions = {n: ("minimize" if n == "m1" else "maximize") for n in names}
    return _pop(islands=1, migration_interval=0, feature_dimensions=[], pareto_metrics=names,
                pareto_capacity=cap, island_capacity=5000, directions=directions)  # fmt: skip


def test_front_ties_equal_points_and_minimise_direction():
    pop = _front_pop()
    pop.add(Member(0, 0.0, {"m0": 1.0, "m1": 5.0}))
    assert pop.add(Member(1, 0.0, {"m0": 1.0, "m1": 5.0})).on_front  # equal: both stay
    assert pop.add(Member(2, 0.0, {"m0": 2.0, "m1": 9.0})).on_front  # trade-off
    assert not pop.add(Member(3, 0.0, {"m0": 0.5, "m1": 6.0})).on_front  # dominated (m1 minimised)
    assert sorted(pop.front) == [0, 1, 2]
    assert pop.add(Member(4, 0.0, {"m0": 1.0, "m1": 4.0})).on_front  # dominates 0 and 1
    assert sorted(pop.front) == [2, 4]
    assert not pop.add(Member(5, 0.0, {"m0": 9.0})).on_front  # missing objective


@pytest.mark.parametrize("dims", [2, 3])
def test_incremental_front_equals_brute_force(dims):
    rng = random.Random(dims)
    pop = _front_pop(dims=dims)
    points = {}
    for i in range(400):
        # coarse values so that ties and equal points happen
        m = {f"m{k}": float(rng.randrange(20)) for k in range(dims)}
        points[i] = tuple(m[f"m{k}"] if k != 1 else -m[f"m{k}"] for k in range(dims))
        pop.add(Member(i, rng.random(), m))
    brute = {i for i, p in points.items() if not any(dominates(q, p) for q in points.values())}
    assert set(pop.front) == brute


def test_front_capacity_drops_the_most_crowded():
    pop = _front_pop(cap=5)
    for i in range(12):  # all on one trade-off line: every point non-dominated
        pop.add(Member(i, 0.0, {"m0": float(i), "m1": float(i)}))
    assert len(pop.front) == 5
    assert 0 in pop.front and 11 in pop.front  # extremes have infinite crowding distance


# ------------------------------------------------------------------ archive
def test_archive_bounded_and_diverse():
    pop = _pop(islands=1, migration_interval=0, archive_size=3, archive_similarity=0.8, feature_dimensions=[])
    base = "def f(x):\n    y = x * 2 + 1\n    return sorted(range(y))[::-1]\n"
    other = ["import heapq\nq = []\nheapq.heappush(q, 3)\n", "class A:\n    pass\nprint(A())\n",
             "for i in range(9):\n    print(i ** 3 - i)\n"]  # fmt: skip
    pop.add(Member(0, 1.0, signature=signature(base)))
    for k, code in enumerate(other, start=1):
        pop.add(Member(k, 0.5 + k / 10, signature=signature(code)))
    assert len(pop.archive) == 3 and 1 not in pop.archive  # worst dropped when full
    # a better near-twin of 0 replaces 0, not the worst
    res = pop.add(Member(10, 2.0, signature=signature(base + "# note\n")))
    assert res.in_archive and 0 not in pop.archive and 2 in pop.archive


# ------------------------------------------------------------------ sampling
def test_sampling_modes_and_round_robin():
    pop = _pop(islands=2, exploration_ratio=1.0, exploitation_ratio=0.0, migration_interval=0)
    pop.add(Member(0, 0.0))
    for i in range(1, 9):
        pop.add(Member(i, float(i), parent_id=0), island=i % 2)
    rng = random.Random(3)
    samples = [pop.sample(rng) for _ in range(400)]
    assert [s.island for s in samples[:4]] == [0, 1, 0, 1]
    assert all(s.mode == "explore" and s.parent_id in pop.islands[s.island] for s in samples)
    assert {s.parent_id for s in samples if s.island == 0} == set(pop.islands[0])  # uniform covers all
    pop.settings = SearchSettings(islands=2, exploration_ratio=0.0, exploitation_ratio=1.0, archive_size=2)
    s = pop.sample(rng, island=1)
    assert s.mode == "exploit" and s.parent_id in pop.archive + [max(pop.islands[1])]
    assert s.parent_id not in s.inspiration_ids and len(s.inspiration_ids) == 4


def test_sample_empty_population_and_bad_island():
    pop = _pop()
    with pytest.raises(LookupError):
        pop.sample(random.Random(0))
    pop.add(Member(0, 1.0))
    with pytest.raises(ValueError):
        pop.sample(random.Random(0), island=5)


def test_uniform_front_selection_picks_front_members():
    pop = _pop(islands=1, migration_interval=0, selection="uniform_front", exploration_ratio=0.0,
               exploitation_ratio=0.0, pareto_metrics=["a", "b"], directions={"a": "maximize", "b": "maximize"})  # fmt: skip
    rng = random.Random(0)
    for i in range(30):
        pop.add(Member(i, rng.random(), {"a": rng.random(), "b": rng.random()}))
    parents = {pop.sample(rng).parent_id for _ in range(300)}
    assert parents == set(pop.front)


def test_pareto_metric_needs_direction():
    with pytest.raises(ValueError, match="direction"):
        _pop(pareto_metrics=["x"], directions={})


# ------------------------------------------------------------------ state
def _drive(pop: Population, rng: random.Random, start: int, n: int) -> list[tuple]:
    trace = []
    for i in range(start, start + n):
        s = pop.sample(rng)
        score = None if rng.random() < 0.1 else rng.random()
        code = f"def f(x):\n    return x * {i % 17} + {i % 5}\n"
        m = {"a": rng.random(), "b": rng.random()}
        pop.add(Member(i, score, m, parent_id=s.parent_id, code_length=len(code) * (i % 40),
                       signature=signature(code)), island=s.island)  # fmt: skip
        trace.append((s.parent_id, tuple(s.inspiration_ids), s.island, s.mode))
    return trace


@pytest.mark.parametrize("selection", ["power_law", "sigmoid", "tournament", "uniform_front"])
def test_state_round_trip_resumes_identically(selection):
    settings = SearchSettings(islands=3, island_capacity=8, archive_size=4, migration_interval=7,
                              selection=selection, pareto_metrics=["a", "b"], pareto_capacity=6)  # fmt: skip
    pop = Population(settings, {"a": "maximize", "b": "minimize"})
    pop.add(Member(0, 0.5, {"a": 0.5, "b": 0.5}, signature=signature("seed")))
    rng = random.Random(11)
    _drive(pop, rng, 1, 150)
    state = json.loads(json.dumps(pop.to_state()))
    saved_rng = json.loads(json.dumps(rng_state(rng)))
    resumed = Population.from_state(state)
    assert resumed.to_state() == pop.to_state()
    rng2 = rng_from_state(saved_rng)
    assert _drive(pop, rng, 151, 100) == _drive(resumed, rng2, 151, 100)
    assert resumed.to_state() == pop.to_state()


def test_state_is_bounded():
    settings = SearchSettings(islands=2, island_capacity=10, archive_size=5, feature_bins=3)
    pop = Population(settings)
    pop.add(Member(0, 0.0))
    rng = random.Random(2)
    _drive(pop, rng, 1, 600)
    bound = 2 * 10 + 5 + 9 + 1
    assert len(pop.members) <= bound
    assert all(len(isl) <= 10 for isl in pop.islands) and len(pop.archive) <= 5
    # every remembered member is held by some structure, and every held id is remembered
    held = set(itertools.chain(*pop.islands, pop.archive, pop.grid.values(), pop.front, [pop.best_id]))
    assert held == set(pop.members)


def test_from_state_rejects_other_versions():
    state = Population().to_state()
    state["version"] = 99
    with pytest.raises(ValueError, match="version"):
        Population.from_state(state)

"""Distribution properties of the selection policies, with fixed seeds."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from syslab.search.selection import (
    pick_inspirations,
    power_law_rank,
    tournament,
    uniform_from_front,
    weighted_sigmoid,
)

SCORES = [0.3, 0.9, 0.1, 0.5, 0.7]  # best is index 1, then 4, 3, 0, 2
BY_RANK = [1, 4, 3, 0, 2]
DRAWS = 40_000


def _freq(pick, n=DRAWS) -> Counter:
    rng = random.Random(7)
    return Counter(pick(rng) for _ in range(n))


def test_power_law_follows_rank_law():
    c = _freq(lambda rng: power_law_rank(SCORES, 1.0, rng))
    freqs = [c[i] / DRAWS for i in BY_RANK]
    harmonic = sum(1 / r for r in range(1, 6))
    for r, f in enumerate(freqs, start=1):
        assert f == pytest.approx((1 / r) / harmonic, abs=0.015)
    assert freqs == sorted(freqs, reverse=True)  # the best is picked most often
    assert c[BY_RANK[0]] / c[BY_RANK[1]] == pytest.approx(2.0, rel=0.1)
    assert c[BY_RANK[0]] / c[BY_RANK[3]] == pytest.approx(4.0, rel=0.15)


def test_power_law_alpha_zero_is_uniform_and_large_alpha_is_greedy():
    c = _freq(lambda rng: power_law_rank(SCORES, 0.0, rng))
    assert all(abs(c[i] / DRAWS - 0.2) < 0.015 for i in range(5))
    c = _freq(lambda rng: power_law_rank(SCORES, 12.0, rng), 2000)
    assert c[1] / 2000 > 0.99


def test_tournament_full_size_always_best_and_k2_matches_theory():
    rng = random.Random(1)
    assert all(tournament(SCORES, 5, rng) == 1 for _ in range(500))
    assert all(tournament(SCORES, 50, rng) == 1 for _ in range(100))  # k > n is clamped
    c = _freq(lambda rng: tournament(SCORES, 2, rng))
    # with 2 distinct entrants out of 5, the best is in the draw with probability 2/5
    assert c[1] / DRAWS == pytest.approx(0.4, abs=0.015)
    assert c[2] == 0  # the worst can never win a 2-way tournament


def test_sigmoid_prefers_high_scores_and_penalises_children():
    c = _freq(lambda rng: weighted_sigmoid(SCORES, 6.0, None, rng))
    freqs = [c[i] for i in BY_RANK]
    assert freqs == sorted(freqs, reverse=True)
    # equal scores: weight is divided by (1 + children)
    c = _freq(lambda rng: weighted_sigmoid([1.0, 1.0], 6.0, None, rng, children_counts=[0, 9]))
    assert c[0] / c[1] == pytest.approx(10.0, rel=0.15)
    # an explicit midpoint above every score still gives a valid, ordered distribution
    c = _freq(lambda rng: weighted_sigmoid(SCORES, 6.0, 5.0, rng), 5000)
    assert c[1] > c[2]


def test_uniform_from_front_only_members_and_covers_them():
    front = [11, 42, 7]
    c = _freq(lambda rng: uniform_from_front(front, rng), 3000)
    assert set(c) == set(front)
    assert all(abs(v / 3000 - 1 / 3) < 0.04 for v in c.values())


def test_empty_pools_raise():
    rng = random.Random(0)
    with pytest.raises(ValueError):
        power_law_rank([], 1.0, rng)
    with pytest.raises(ValueError):
        tournament([], 2, rng)
    with pytest.raises(ValueError):
        uniform_from_front([], rng)


def test_pick_inspirations_top_then_most_different():
    ids = [10, 11, 12, 13, 14, 15]
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    # "families": 10,11,12 alike (sim 0.9), 13,14 alike, 15 alone; different families sim 0.1
    family = {10: 0, 11: 0, 12: 0, 13: 1, 14: 1, 15: 2}

    def similarity(anchor):
        return [1.0 if i == anchor else 0.9 if family[i] == family[anchor] else 0.1 for i in ids]

    got = pick_inspirations(ids, scores, 1, 2, random.Random(0), similarity, exclude=[10])
    assert got[0] == 11  # best once the parent is excluded
    assert 10 not in got and len(set(got)) == 3
    assert {family[i] for i in got[1:]} == {1, 2}  # one from each family not yet shown


def test_pick_inspirations_without_similarity_is_random_but_seeded():
    ids = list(range(20))
    scores = [float(i) for i in ids]
    a = pick_inspirations(ids, scores, 2, 3, random.Random(5))
    b = pick_inspirations(ids, scores, 2, 3, random.Random(5))
    assert a == b and a[:2] == [19, 18] and len(set(a)) == 5
    assert len(pick_inspirations(ids[:3], scores[:3], 2, 5, random.Random(1))) == 3  # small pool

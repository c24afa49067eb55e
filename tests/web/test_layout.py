"""The server-side tidy tree layout."""

from __future__ import annotations

import random

from syslab.web.layout import ANALYSIS_ROW, tree_layout


def _layout(parents: dict[int, int | None], islands: dict[int, int] | None = None, analysis=(), targets=None):
    ids = sorted(parents)
    x, y = tree_layout(
        ids,
        [parents[i] for i in ids],
        [(islands or {}).get(i, 0) for i in ids],
        [i in analysis for i in ids],
        targets,
    )
    return {i: (x[k], y[k]) for k, i in enumerate(ids)}


def test_random_tree_levels_and_no_overlap() -> None:
    rng = random.Random(3)
    parents: dict[int, int | None] = {0: None}
    for i in range(1, 3000):
        parents[i] = rng.randrange(max(0, i - 50), i)
    pos = _layout(parents, {i: rng.randrange(4) for i in parents})
    assert len(set(pos.values())) == len(pos)
    for i, p in parents.items():
        if p is not None:
            assert pos[i][1] == pos[p][1] + 1
    # Subtrees occupy disjoint x intervals: a node's descendants lie within its subtree span and
    # no other node of the same depth falls inside two siblings' spans at once.
    children: dict[int, list[int]] = {}
    for i, p in parents.items():
        if p is not None:
            children.setdefault(p, []).append(i)

    def span(n: int) -> tuple[float, float]:
        lo = hi = pos[n][0]
        stack = [n]
        while stack:
            for c in children.get(stack.pop(), []):
                lo, hi = min(lo, pos[c][0]), max(hi, pos[c][0])
                stack.append(c)
        return lo, hi

    for _p, ch in list(children.items())[:200]:
        spans = sorted(span(c) for c in ch)
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_parent_sits_over_its_largest_subtree() -> None:
    # 0 -> 1 (leaf), 0 -> 2 -> 3 -> 4: the chain is vertical and the root is above it.
    pos = _layout({0: None, 1: 0, 2: 0, 3: 2, 4: 3})
    assert pos[0][0] == pos[2][0] == pos[3][0] == pos[4][0] != pos[1][0]


def test_islands_are_grouped_among_siblings() -> None:
    parents = {0: None, **{i: 0 for i in range(1, 9)}}
    islands = {0: 0, 1: 1, 2: 0, 3: 1, 4: 0, 5: 1, 6: 0, 7: 1, 8: 0}
    pos = _layout(parents, islands)
    order = sorted(range(1, 9), key=lambda i: pos[i][0])
    assert [islands[i] for i in order] == [0, 0, 0, 0, 1, 1, 1, 1]


def test_deep_chain_does_not_recurse() -> None:
    n = 20_000
    pos = _layout({i: (i - 1 if i else None) for i in range(n)})
    assert pos[n - 1][1] == n - 1


def test_missing_parent_cycle_and_analysis_nodes() -> None:
    parents = {0: None, 1: 0, 2: 99, 3: 4, 4: 3, 5: None}  # 2: parent not in run; 3<->4: a cycle
    pos = _layout(parents, analysis={5}, targets={5: [0, 1]})
    assert pos[2][1] == 0.0  # a root of its own
    assert {pos[3][1], pos[4][1]} == {0.0}  # laid out, not lost
    assert pos[5] == ((pos[0][0] + pos[1][0]) / 2, ANALYSIS_ROW)
    assert len({pos[i] for i in (0, 1, 2, 3, 4)}) == 5

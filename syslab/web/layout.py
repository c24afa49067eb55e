"""Server-side layout of the exploration graph: a layered tidy tree, O(n).

Depth (y) is the distance from the root along `parent_id`; leaves take consecutive x slots in
depth-first order and a parent sits straight above its largest child subtree, so subtrees never
overlap, every edge points downwards and long lineages are vertical lines. Children are ordered by (island, id), which keeps an
island's members next to each other inside each subtree. Analysis (analyst note) nodes are not
in the parent tree: they sit on a row above it, over the mean x of the candidates they discuss.

The result is a dict of flat arrays (one entry per node, in id order) that the page draws as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

ANALYSIS_ROW = -1.5  # y of the analyst-note row, above the roots (y = 0)


def tree_layout(
    ids: Sequence[int],
    parent: Sequence[int | None],
    island: Sequence[int],
    is_analysis: Sequence[bool],
    analysis_targets: Mapping[int, Iterable[int]] | None = None,
) -> tuple[list[float], list[float]]:
    """x and y of every node (same order as `ids`). A parent that is missing, an analysis node,
    or part of a cycle makes its child a root."""
    n = len(ids)
    index = {nid: i for i, nid in enumerate(ids)}
    children: list[list[int]] = [[] for _ in range(n)]
    roots: list[int] = []
    for i in range(n):
        if is_analysis[i]:
            continue
        p = parent[i]
        pi = index.get(p) if p is not None else None
        if pi is None or is_analysis[pi] or pi == i:
            roots.append(i)
        else:
            children[pi].append(i)
    for ch in children:
        if len(ch) > 1:
            ch.sort(key=lambda c: (island[c], ids[c]))
    roots.sort(key=lambda r: (island[r], ids[r]))

    x = [0.0] * n
    y = [0.0] * n
    placed = [False] * n
    size = [1] * n
    slot = 0.0
    # Iterative post-order (a 10,000-deep chain must not hit the recursion limit).
    for root in roots:
        stack: list[tuple[int, int]] = [(root, 0)]
        y[root] = 0.0
        placed[root] = True
        while stack:
            node, k = stack[-1]
            ch = children[node]
            if k < len(ch):
                stack[-1] = (node, k + 1)
                c = ch[k]
                if placed[c]:
                    continue
                placed[c] = True
                y[c] = y[node] + 1.0
                stack.append((c, 0))
                continue
            stack.pop()
            if ch:
                # Above its largest subtree: long lineages (the best path among them) run straight
                # down instead of zig-zagging between the midpoints of ever wider subtrees.
                heavy = max(ch, key=lambda c: size[c])
                x[node] = x[heavy]
                size[node] += sum(size[c] for c in ch)
            else:
                x[node] = slot
                slot += 1.0
    # Nodes in a parent cycle were never reached from a root: lay them out as extra roots.
    for i in range(n):
        if not placed[i] and not is_analysis[i]:
            x[i], y[i] = slot, 0.0
            slot += 1.0
            placed[i] = True

    targets = analysis_targets or {}
    next_free = 0.0
    for i in range(n):
        if not is_analysis[i]:
            continue
        xs = [x[index[t]] for t in targets.get(ids[i], ()) if t in index and not is_analysis[index[t]]]
        if xs:
            x[i] = sum(xs) / len(xs)
        else:
            x[i] = next_free
            next_free += 1.0
        y[i] = ANALYSIS_ROW
    return x, y

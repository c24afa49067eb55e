"""Prefix-cache hit rate of a table serialised row by row (the LLM-SQL metric).

Each row becomes the concatenation of its cell strings (no separator, NaN as
""). A row's hit is the longest prefix it shares with any earlier row; the
rate is total hits / total characters. The longest shared prefix with any
earlier string is attained at a lexicographic neighbour among the earlier
strings, so a sorted list replaces the usual trie.
"""

from __future__ import annotations

import bisect
import os


def row_strings(df) -> list[str]:
    """Each row's cells as text (NaN as ""), concatenated; same as
    `df.fillna("").astype(str).agg("".join, axis=1)`, column by column instead of row by row."""
    if not len(df.columns):
        return [""] * len(df)
    categorical = [i for i, dtype in enumerate(df.dtypes) if dtype.name == "category"]
    if categorical:  # pandas 2 cannot fill "" into a categorical column that lacks the category
        df = df.copy()
        for i in categorical:
            df.isetitem(i, df.iloc[:, i].astype(object))
    text = df.fillna("").astype(str)
    rows = text.iloc[:, 0].to_numpy(dtype=object)
    for i in range(1, len(text.columns)):
        rows = rows + text.iloc[:, i].to_numpy(dtype=object)  # elementwise str concatenation
    return rows.tolist()


def prefix_hit_rate(rows: list[str]) -> float:
    seen: list[str] = []
    hits = total = 0
    for s in rows:
        total += len(s)
        i = bisect.bisect_left(seen, s)
        best = 0
        for j in (i - 1, i):
            if 0 <= j < len(seen):
                best = max(best, len(os.path.commonprefix([seen[j], s])))
        hits += min(best, len(s))
        seen.insert(i, s)
    return hits / total if total else 0.0

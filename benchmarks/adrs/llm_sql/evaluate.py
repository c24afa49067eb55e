"""Evaluator for llm_sql: prefix-cache hit rate of the reordered table, leaderboard score.

Score = 0.95 · hit_score + 0.05 · runtime_score, where hit_score =
clamp((hit − base) / (1 − base)) · 100 with base = the hit rate of the original
column order (after the requested column merges), and runtime_score =
(10 − min(10, t)) / 10 · 100. To keep the score repeatable, t is the solver's
wall time rounded down to whole seconds (raw time is reported as solve_s).

Split evaluation: the table crosses to the candidate as plain columns
(syslab.adrs.frames; adapter.py builds the DataFrame there) and the reordered
table comes back the same way. Rows are serialised, checked and scored here.
t is measured here, around the whole call: handing the table over and back
(about 0.2 s for beer.csv) counts, since a candidate could do its work there.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from functools import cache
from typing import Any

import pandas as pd

from syslab.adrs.common import linear_score
from syslab.adrs.frames import from_plain, to_plain
from syslab.adrs.prefix_hits import prefix_hit_rate, row_strings
from syslab.data import data_path
from syslab.evaluators import InvalidOutput, WrongAnswer
from syslab.evaluators.handle import Candidate

# (dataset, column groups the leaderboard asks to merge). Only beer.csv ships with the shared data;
# movies, BIRD, PDMX and products are used when present under $SYSLAB_DATA/adrs/llm_sql/.
DATASETS = {
    "movies.csv": [["movieinfo", "movietitle", "rottentomatoeslink"]],
    "beer.csv": [["beer/beerId", "beer/name"]],
    "BIRD.csv": [["PostId", "Body"]],
    "PDMX.csv": [
        ["path", "metadata"],
        ["hasmetadata", "isofficial", "isuserpublisher", "isdraft", "hasannotations", "subsetall"],
    ],
    "products.csv": [["product_title", "parent_asin"]],
}
REQUIRED = "beer.csv"


def available() -> list[str]:
    names = []
    for name in DATASETS:
        try:
            data_path(f"adrs/llm_sql/{name}")
            names.append(name)
        except Exception:
            if name == REQUIRED:
                raise
    return names


@cache
def _load(name: str) -> pd.DataFrame:
    return pd.read_csv(data_path(f"adrs/llm_sql/{name}"), low_memory=False)


def merged(df: pd.DataFrame, groups: list[list[str]]) -> pd.DataFrame:
    out = df.copy()
    for group in groups:
        if all(c in out.columns for c in group):
            out["_".join(group)] = row_strings(out[group])
            out = out.drop(columns=group)
    return out


@cache
def baseline_hit(name: str) -> float:
    return prefix_hit_rate(row_strings(merged(_load(name), DATASETS[name])))


@cache
def original_rows(name: str) -> tuple[str, ...]:
    return tuple(row_strings(_load(name)))


@cache
def _plain(name: str) -> dict[str, Any]:
    return to_plain(_load(name))


def options(name: str) -> dict[str, Any]:
    """solve()'s keyword arguments for a dataset (the leaderboard's)."""
    return {
        "early_stop": 100000,
        "row_stop": 4,
        "col_stop": 2,
        "col_merge": DATASETS[name],
        "one_way_dep": [],
        "distinct_value_threshold": 0.7,
        "parallel": True,
    }


def _cells(df: pd.DataFrame) -> Counter:
    """Each row as the multiset of its non-empty cell texts; the table as the multiset of those."""
    text = df.fillna("").astype(str)
    return Counter(tuple(sorted(c for c in row if c)) for row in text.itertuples(index=False, name=None))


FUSION_CHOICES_MAX = 256  # fusion layouts tried per table (each a pass over the table)
_SHAPES: dict[tuple[Any, ...], Counter] = {}


def fusion_orders(group: list[str], returned_columns: set[str]) -> list[tuple[str, ...]]:
    """Orders in which a col_merge group may have been fused: the spec's, any order a returned
    column is named for (solvers fuse in their own column-statistics order and name the column
    "_".join(order)), and every order of a group of up to 3 columns."""
    perms = list(itertools.permutations(group)) if len(group) <= 7 else [tuple(group)]
    named = [p for p in perms if "_".join(p) in returned_columns]
    small = perms if len(group) <= 3 else []
    return list(dict.fromkeys([*named, tuple(group), *small]))


def is_reordering(key: str, table: pd.DataFrame, groups: list[list[str]], result: pd.DataFrame) -> bool:
    """Whether every returned row holds exactly the cell texts of one row of `table`, each
    col_merge group either left as its cells or fused into one cell in some order."""
    returned = _cells(result)
    columns = {str(c) for c in result.columns}
    choices = itertools.product(*([None, *fusion_orders(g, columns)] for g in groups))
    for choice in itertools.islice(choices, FUSION_CHOICES_MAX):
        fused = tuple(order for order in choice if order is not None)
        if (key, fused) not in _SHAPES:
            _SHAPES[key, fused] = _cells(merged(table, [list(order) for order in fused]))
        if returned == _SHAPES[key, fused]:
            return True
    return False


def _check(name: str, reply: object) -> list[str]:
    """The returned table's serialised rows, after checking it is the table reordered.

    Rows may be reordered, cells within a row reordered (columns), and the col_merge groups fused
    (in any order of their columns); nothing else: every returned row must hold exactly the cell texts of one original row. (A check
    on the table's characters alone let a reply add a common prefix to every row, or deal the
    table's characters back out sorted, and score hits no reordering can.)"""
    try:
        result = from_plain(reply)
    except Exception as e:  # noqa: BLE001 - any reply pandas cannot build into a table is the candidate's
        raise InvalidOutput(f"{name}: solve() returned a table that cannot be rebuilt: {e}") from None
    original = original_rows(name)
    if len(result) != len(original):
        raise WrongAnswer(f"{name}: {len(result)} rows returned, the table has {len(original)}")
    if not is_reordering(name, _load(name), DATASETS[name], result):
        raise WrongAnswer(
            f"{name}: the returned rows are not the table's rows reordered (cell contents were changed, "
            "added, dropped or moved between rows)"
        )
    return row_strings(result)


def warm() -> None:
    """Called once by the trusted warm template: tables, their rows and baselines are every
    evaluation's."""
    for name in available():
        _plain(name)
        original_rows(name)
        baseline_hit(name)


def evaluate(candidate: Candidate, datasets: list[str] | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    solve = candidate.function("solve")
    metrics: dict[str, Any] = {}
    hits, bases, solve_times = [], [], []
    for name in datasets or available():
        table = _plain(name)
        start = time.perf_counter()
        reply = solve(table, options(name))
        solve_times.append(time.perf_counter() - start)
        hit = prefix_hit_rate(_check(name, reply))
        stem = name.removesuffix(".csv")
        metrics[f"hit_rate_{stem}"] = hit
        hits.append(hit)
        bases.append(baseline_hit(name))
    hit_rate, base = sum(hits) / len(hits), sum(bases) / len(bases)
    hit_score = linear_score(hit_rate, base, 1.0)
    runtime = sum(solve_times) / len(solve_times)
    runtime_score = (10.0 - min(10.0, math.floor(runtime))) / 10.0 * 100.0
    metrics.update(
        score=0.95 * hit_score + 0.05 * runtime_score,
        hit_rate=hit_rate,
        baseline_hit_rate=base,
        hit_score=hit_score,
        solve_s=runtime,
        datasets=float(len(hits)),
        eval_wall_s=time.perf_counter() - t0,
    )
    return metrics

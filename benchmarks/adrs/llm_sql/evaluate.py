"""Evaluator for llm_sql: prefix-cache hit rate of the reordered table, leaderboard score.

Score = 0.95 · hit_score + 0.05 · runtime_score, where hit_score =
clamp((hit − base) / (1 − base)) · 100 with base = the hit rate of the original
column order (after the requested column merges), and runtime_score =
(10 − min(10, t)) / 10 · 100. To keep the score repeatable, t is the solver's
wall time rounded down to whole seconds (raw time is reported as solve_s).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from functools import cache

import pandas as pd

from syslab.adrs.common import linear_score, load_candidate, seed_everything
from syslab.adrs.prefix_hits import prefix_hit_rate, row_strings
from syslab.data import data_path
from syslab.evaluators import InvalidOutput, WrongAnswer

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
            out["_".join(group)] = out[group].fillna("").astype(str).agg("".join, axis=1)
            out = out.drop(columns=group)
    return out


@cache
def baseline_hit(name: str) -> float:
    return prefix_hit_rate(row_strings(merged(_load(name), DATASETS[name])))


def _check(original: pd.DataFrame, result, name: str) -> list[str]:
    if not isinstance(result, pd.DataFrame):
        raise InvalidOutput(f"{name}: solve() returned {type(result).__name__}, expected a DataFrame")
    if len(result) != len(original):
        raise WrongAnswer(f"{name}: {len(result)} rows returned, the table has {len(original)}")
    rows = row_strings(result)
    # Every character of the table must still be there: reordering and merging keep content,
    # dropping or shortening cells does not.
    want = Counter("".join(row_strings(original)))
    have = Counter("".join(rows))
    lost = want - have
    if lost:
        raise WrongAnswer(f"{name}: cell content was dropped ({sum(lost.values())} characters missing)")
    return rows


def evaluate(program_path: str) -> dict:
    t0 = time.perf_counter()
    program = load_candidate(program_path, "Solution")
    metrics: dict[str, float] = {}
    hits, bases, solve_times = [], [], []
    for name in available():
        df = _load(name)
        seed_everything(0)
        start = time.perf_counter()
        result = program.Solution().solve(
            df.copy(),
            early_stop=100000,
            row_stop=4,
            col_stop=2,
            col_merge=DATASETS[name],
            one_way_dep=[],
            distinct_value_threshold=0.7,
            parallel=True,
        )
        solve_times.append(time.perf_counter() - start)
        hit = prefix_hit_rate(_check(df, result, name))
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

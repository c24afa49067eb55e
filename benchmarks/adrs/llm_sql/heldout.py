"""Held-out evaluation for llm_sql: another table cut from beer.csv (the only table shipped).

The search scores the tables present locally (beer.csv in the shared data). With one table there
is no other table to hold out, so the held-out table is cut from beer.csv itself, with a secret
seed: half of its rows, in shuffled order, without two of its columns (never the col_merge ones),
the remaining columns shuffled. A solver that generalises reorders it as well as the full table;
one that hard-codes beer.csv's columns or layout does not. Checked and scored like evaluate.py
(the rows must be this table's rows reordered; the leaderboard's 0.95 hit + 0.05 runtime score,
the hit score against this table's own original order). syslab runs this after the search, on
the best candidates, never during it.
"""

from __future__ import annotations

import math
import time
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from evaluate import DATASETS, REQUIRED, _load, is_reordering, merged, options

from syslab.adrs.common import linear_score
from syslab.adrs.frames import from_plain, to_plain
from syslab.adrs.prefix_hits import prefix_hit_rate, row_strings
from syslab.evaluators import InvalidOutput, WrongAnswer
from syslab.evaluators.handle import Candidate

HELDOUT_SEED = 798955987664091398  # secret
ROW_SHARE, DROPPED_COLUMNS = 0.5, 2


@cache
def heldout_table() -> pd.DataFrame:
    df = _load(REQUIRED)
    rng = np.random.default_rng(HELDOUT_SEED)
    merge_cols = {c for group in DATASETS[REQUIRED] for c in group}
    droppable = sorted(c for c in df.columns if c not in merge_cols)
    dropped = set(rng.choice(droppable, size=DROPPED_COLUMNS, replace=False).tolist())
    columns = [c for c in df.columns if c not in dropped]
    columns = [columns[i] for i in rng.permutation(len(columns))]
    rows = rng.permutation(len(df))[: int(ROW_SHARE * len(df))]
    return df.iloc[rows][columns].reset_index(drop=True)


def evaluate_heldout(candidate: Candidate) -> dict[str, Any]:
    t0 = time.perf_counter()
    table = heldout_table()
    solve = candidate.function("solve")
    start = time.perf_counter()
    reply = solve(to_plain(table), options(REQUIRED))
    runtime = time.perf_counter() - start
    try:
        result = from_plain(reply)
    except Exception as e:  # noqa: BLE001 - any reply pandas cannot build into a table is the candidate's
        raise InvalidOutput(f"held-out table: solve() returned a table that cannot be rebuilt: {e}") from None
    if len(result) != len(table):
        raise WrongAnswer(f"held-out table: {len(result)} rows returned, the table has {len(table)}")
    if not is_reordering("heldout", table, DATASETS[REQUIRED], result):
        raise WrongAnswer("held-out table: the returned rows are not the table's rows reordered")
    hit = prefix_hit_rate(row_strings(result))
    base = prefix_hit_rate(row_strings(merged(table, DATASETS[REQUIRED])))
    hit_score = linear_score(hit, base, 1.0)
    runtime_score = (10.0 - min(10.0, math.floor(runtime))) / 10.0 * 100.0
    return {
        "score": 0.95 * hit_score + 0.05 * runtime_score,
        "hit_rate": hit,
        "baseline_hit_rate": base,
        "hit_score": hit_score,
        "solve_s": runtime,
        "eval_wall_s": time.perf_counter() - t0,
    }

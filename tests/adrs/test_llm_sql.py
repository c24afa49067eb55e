"""llm_sql in split mode: tables cross as plain columns (syslab.adrs.frames) both ways."""

import numpy as np
import pandas as pd
import pytest
from adrs_support import TASKS, sandboxed, score, seed_code

from syslab.adrs.frames import from_plain, to_plain
from syslab.adrs.prefix_hits import row_strings
from syslab.data import data_path
from syslab.evaluators import CandidateRejected
from syslab.evaluators.codec import decode, encode
from syslab.task import load_task

SEED = seed_code("llm_sql")
SEED_SCORE = 5.213892407570718  # the path-based evaluator's score before the split
SEED_HIT_RATE = 0.14622030323162655  # the leaderboard's trie on beer.csv

BETTER = """
class Solution:
    def solve(self, df, early_stop=0, row_stop=None, col_stop=None, col_merge=None, one_way_dep=None,
              distinct_value_threshold=0.7, parallel=True):
        # few-distinct-values columns first, then sort rows so equal prefixes are adjacent
        cols = sorted(df.columns, key=lambda c: df[c].nunique())
        out = df[cols]
        return out.sort_values(cols, kind="stable", na_position="last").reset_index(drop=True)
"""

DROPS = """
class Solution:
    def solve(self, df, **kw):
        return df.drop(columns=[df.columns[-1]])
"""

BLANKS_CELLS = """
class Solution:
    def solve(self, df, **kw):
        out = df.copy()
        out.iloc[::2, 0] = None
        return out
"""

FEWER_ROWS = """
class Solution:
    def solve(self, df, **kw):
        return df.iloc[:-1]
"""

# Fuses the col_merge group (beer/beerId, beer/name) in its own column order, as the leaderboard's
# GEPA, ShinkaEvolve and human-SOTA solvers do (their column statistics pick the order).
FUSES_REVERSED = """
class Solution:
    def solve(self, df, col_merge=None, **kw):
        out = df.copy()
        for group in col_merge:
            order = list(reversed(group))
            out["_".join(order)] = out[order].astype(str).agg("".join, axis=1)
            out = out.drop(columns=order)
        cols = sorted(out.columns, key=lambda c: out[c].nunique())
        return out[cols].sort_values(cols, kind="stable").reset_index(drop=True)
"""

# Fuses two columns that are no col_merge group: cells move between columns' texts.
FUSES_OTHERS = """
class Solution:
    def solve(self, df, **kw):
        out = df.copy()
        a, b = "review/palate", "review/taste"
        out[a + "_" + b] = out[a].astype(str) + out[b].astype(str)
        return out.drop(columns=[a, b])
"""

NOT_DF = """
class Solution:
    def solve(self, df, **kw):
        return list(df.columns)
"""

# Replaces the adapter's function: a table whose packed text does not add up.
FORGED = """
import sys
import numpy as np

class Solution:
    def solve(self, df, **kw):
        return df

def forged(program, table, options):
    lengths = np.array([5, 5], dtype=np.int64)
    return {"columns": ["a"], "dtypes": ["str"], "data": [("text", "abc", lengths, np.zeros(2, dtype=bool))]}

sys.modules["syslab_adapter"].solve = forged
"""

# Sleeps, and makes every clock in its process stand still: the time is taken on the trusted side.
STOPS_CLOCKS = """
import time

class Solution:
    def solve(self, df, **kw):
        time.sleep(1.2)
        for name in ("perf_counter", "monotonic", "time", "process_time"):
            setattr(time, name, lambda: 0.0)
        return df
"""


def beer() -> pd.DataFrame:
    return pd.read_csv(data_path("adrs/llm_sql/beer.csv"), low_memory=False)


def mixed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": [1.5, np.nan, 3.0],
            "b": ["x", None, "zé"],
            "c": [1, 2, 3],
            "d": [True, False, True],
            "e": [1, "s", None],
            "f": pd.Categorical(["u", "v", "u"]),
        }
    )


def test_frames_round_trip_through_the_codec():
    table = beer()
    back = from_plain(decode(encode(to_plain(table)), allow_nonfinite=True))
    pd.testing.assert_frame_equal(back, table)
    other = from_plain(decode(encode(to_plain(mixed())), allow_nonfinite=True))
    assert row_strings(other) == row_strings(mixed())  # a category column comes back as object


@pytest.mark.parametrize(
    "doc, message",
    [
        ([1, 2], "is a dict"),
        ({"columns": ["a"], "dtypes": ["str"], "data": []}, "differ in length"),
        (
            {"columns": ["a", "b"], "dtypes": ["int64", "int64"], "data": [np.arange(2), np.arange(3)]},
            "length",
        ),
        (
            {"columns": ["a"], "dtypes": ["str"], "data": [("text", "ab", np.array([3]), np.array([False]))]},
            "add up",
        ),
        ({"columns": ["a"], "dtypes": ["str"], "data": [("text", "ab", [2], [False])]}, "malformed"),
    ],
)
def test_from_plain_rejects_inconsistent_tables(doc, message):
    with pytest.raises(ValueError, match=message):
        from_plain(doc)


def test_row_strings_match_the_row_wise_join():
    for df in (beer().iloc[:2000], beer().iloc[:50, ::-1], mixed().drop(columns="f")):
        assert row_strings(df) == df.fillna("").astype(str).agg("".join, axis=1).tolist()


def test_task_is_split():
    task = load_task(TASKS / "llm_sql")
    assert task.evaluation_mode == "split" and task.spec.adapter == "adapter.py"


def test_seed_scores_as_before():
    m = score("llm_sql", SEED)
    assert m["hit_rate"] == pytest.approx(SEED_HIT_RATE, abs=1e-12)
    assert m["score"] == pytest.approx(SEED_SCORE, abs=1e-9)
    assert 0 < m["solve_s"] < 1  # the hand-over both ways, measured here, stays under a second


def test_better_candidate():
    m = score("llm_sql", BETTER)
    assert m["hit_rate"] > 0.5 and m["score"] > 40


def test_a_merge_group_fused_in_the_solvers_own_order_scores():
    m = score("llm_sql", FUSES_REVERSED)
    assert m["hit_rate"] > SEED_HIT_RATE


def test_time_is_taken_on_the_trusted_clock():
    m = score("llm_sql", STOPS_CLOCKS)
    assert m["solve_s"] >= 1.2
    assert m["score"] <= SEED_SCORE - 0.5  # at least one whole second: 0.05 x 10 runtime points


@pytest.mark.parametrize(
    "code, kind, message",
    [
        (DROPS, "wrong_answer", "dropped"),
        (BLANKS_CELLS, "wrong_answer", "dropped"),
        (FEWER_ROWS, "wrong_answer", "28478 rows returned"),
        (FUSES_OTHERS, "wrong_answer", "not the table's rows reordered"),
        (NOT_DF, "invalid_output", "DataFrame"),
        (FORGED, "invalid_output", "cannot be rebuilt"),
    ],
    ids=["drops_column", "blanks_cells", "fewer_rows", "fuses_other_columns", "not_dataframe", "forged"],
)
def test_hostile_tables_fail(code, kind, message):
    with pytest.raises(CandidateRejected, match=message) as info:
        score("llm_sql", code)
    assert info.value.kind.value == kind


def test_sandboxed_end_to_end():
    result = sandboxed("llm_sql", SEED)
    assert result.valid and result.verified, result.failure
    assert result.score == pytest.approx(SEED_SCORE, abs=1e-9)

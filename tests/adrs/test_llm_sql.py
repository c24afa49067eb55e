import pytest
from adrs_support import TASKS, load_evaluator, write

from syslab.evaluators import InvalidOutput, WrongAnswer

SEED = TASKS / "llm_sql" / "seed.py"

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

NOT_DF = """
class Solution:
    def solve(self, df, **kw):
        return list(df.columns)
"""


def test_seed_and_determinism():
    evaluate = load_evaluator("llm_sql")
    a, b = evaluate(str(SEED)), evaluate(str(SEED))
    assert a["hit_rate"] == b["hit_rate"] and a["score"] == b["score"]
    assert a["hit_rate"] == pytest.approx(0.14622, abs=1e-5)  # the leaderboard's trie on beer.csv


def test_better_candidate(tmp_path):
    m = load_evaluator("llm_sql")(write(tmp_path, BETTER))
    assert m["hit_rate"] > 0.5 and m["score"] > 40


def test_dropping_content_is_wrong(tmp_path):
    with pytest.raises(WrongAnswer, match="dropped"):
        load_evaluator("llm_sql")(write(tmp_path, DROPS))


def test_not_a_dataframe_is_invalid(tmp_path):
    with pytest.raises(InvalidOutput, match="DataFrame"):
        load_evaluator("llm_sql")(write(tmp_path, NOT_DF))

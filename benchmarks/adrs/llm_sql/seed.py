"""LLM-SQL: reorder a table's columns (and rows) so consecutive serialised rows share long prefixes.

Interface (as on the ADRS leaderboard): Solution().solve(df, early_stop,
row_stop, col_stop, col_merge, one_way_dep, distinct_value_threshold,
parallel) -> DataFrame. Each row is serialised as the concatenation of its
cells; an LLM's prefix cache reuses the longest prefix shared with an earlier
row. `col_merge` lists column groups the caller wants fused into one column.
"""

import pandas as pd

# EVOLVE-BLOCK-START


class Solution:
    def solve(
        self,
        df: pd.DataFrame,
        early_stop: int = 100000,
        row_stop: int = 4,
        col_stop: int = 2,
        col_merge: list = None,
        one_way_dep: list = None,
        distinct_value_threshold: float = 0.7,
        parallel: bool = True,
    ) -> pd.DataFrame:
        """Baseline: keep the original row and column order."""
        return df


# EVOLVE-BLOCK-END

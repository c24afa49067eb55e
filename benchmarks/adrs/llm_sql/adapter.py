"""Candidate-side adapter for llm_sql (runs in the candidate's process, before the program).

The evaluator sends the table as plain columns (syslab.adrs.frames); this builds the DataFrame the
program's `Solution().solve(df, ...)` expects and sends the DataFrame it returns back the same
way. The evaluator rebuilds it, serialises the rows and computes the hit rate and the content
check itself, and times this whole call. Nothing here is trusted.
"""

import syslab.adrs.adapter_support as support

support.prepare()


def solve(program, table, options):
    import pandas as pd

    from syslab.adrs.frames import from_plain, to_plain
    from syslab.evaluators import InvalidOutput

    df = from_plain(table)
    module = support.entry_module(program, "Solution")
    support.seed_everything(0)
    result = module.Solution().solve(df, **options)
    if not isinstance(result, pd.DataFrame):
        raise InvalidOutput(f"solve() returned {type(result).__name__}, expected a DataFrame")
    return to_plain(result)

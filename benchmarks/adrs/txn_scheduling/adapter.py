"""Candidate-side adapter for txn_scheduling (runs in the candidate's process, before the program).

The program imports `txn_simulator` and `workloads` as on the leaderboard. The candidate's process
cannot read the workload data, so the evaluator sends it (`provide_workloads`) and reloads the
candidate; the program then imports the real workloads. `get_random_costs` returns only the
schedules: the evaluator re-simulates them and times the call itself, so the program's own
makespan and seconds are not needed. Nothing here is trusted.
"""

import syslab.adrs.adapter_support as support

support.prepare()

import workloads  # noqa: E402 - syslab/adrs/lib, on sys.path after prepare()

workloads.defer()


def provide_workloads(program, texts):
    workloads.provide(texts)


def get_random_costs(program):
    module = support.entry_module(program, "get_random_costs")
    support.seed_everything(0)
    out = module.get_random_costs()
    if not isinstance(out, (list, tuple)) or len(out) != 3:
        from syslab.evaluators import InvalidOutput

        raise InvalidOutput("get_random_costs() must return (total_makespan, schedules, seconds)")
    return out[1]

"""Candidate-side adapter for cant_be_late: runs in the candidate's sandboxed process, before the program.

Importing syslab.adrs.spot_adapter makes syslab's `sky_spot` importable for
the program. The evaluator calls `candidate.new("make_fleet")` once per pass
and then the fleet's `step(new, observations)` once per clock tick: it builds
a strategy for each scenario that starts (duration_h, deadline_h, overhead_h,
gap_seconds) and answers one decision per running scenario
(syslab/adrs/spot_lockstep.py, spot_wire.py). `make_strategy` builds one
scenario's driver alone. Not trusted: a candidate can change any of this,
and it only changes what the candidate sees.
"""

from syslab.adrs.spot_adapter import Fleet, single_region


def make_strategy(program, duration_h, deadline_h, overhead_h, gap_seconds):
    return single_region(program, duration_h, deadline_h, overhead_h, gap_seconds)


def make_fleet(program):
    return Fleet(program, single_region)

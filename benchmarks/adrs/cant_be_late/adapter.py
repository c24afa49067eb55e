"""Candidate-side adapter for cant_be_late: runs in the candidate's sandboxed process, before the program.

Importing syslab.adrs.spot_adapter makes syslab's `sky_spot` importable for
the program. The evaluator calls `candidate.new("make_strategy", duration_h,
deadline_h, overhead_h, gap_seconds)` per scenario and then the driver's
`tick(...)` once per tick (syslab/adrs/spot_wire.py). Not trusted: a
candidate can change any of this, and it only changes what the candidate sees.
"""

from syslab.adrs.spot_adapter import single_region


def make_strategy(program, duration_h, deadline_h, overhead_h, gap_seconds):
    return single_region(program, duration_h, deadline_h, overhead_h, gap_seconds)

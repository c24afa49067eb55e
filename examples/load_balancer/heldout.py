"""Held-out evaluation for the load balancer: two other bursty workloads of the same size.

The same arrival process, servers and scoring as evaluate.py, on workload seeds the search never
used (secret, like the search seeds). syslab runs this only after the search ends, on the best
candidates, to show whether a lower p99 holds beyond the two workloads it was tuned on.
"""

from __future__ import annotations

from typing import Any

from evaluate import REQUESTS_PER_WORKLOAD, evaluate

from syslab.evaluators.handle import Candidate

HELDOUT_SEEDS = (0xE64F3167EE183CF828C22DCD70C1935D, 0xC3DE143E30D491E7435070851DBA1E6A)


def evaluate_heldout(candidate: Candidate) -> dict[str, Any]:
    return evaluate(candidate, seeds=HELDOUT_SEEDS, n_requests=REQUESTS_PER_WORKLOAD)

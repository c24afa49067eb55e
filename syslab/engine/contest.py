"""Promotion contests for noisy tasks: re-measure a challenger and the incumbents it would displace.

When a task declares noise ([noise] in task.toml, syslab.task.NoiseSpec), a newly evaluated
candidate whose single measurement would make it the new best, or the elite of an occupied
MAP-Elites cell, is evaluated again until it has `repeats` measurements, and so is each incumbent
(its earlier measurements are reused). syslab.search.noise.beats then decides each contest. The
repeats run through the same executor and sandbox as every evaluation and count against the
evaluation budget; a contest the budget left cannot pay for is not run and the challenger is not
promoted ("unconfirmed"). A deterministic task (repeats 1, no tolerance) never holds a contest.

Every measurement is kept. The record, on each re-measured node (read it, do not re-derive it):

    node.metrics  the mean of each metric over the node's valid runs; node.score is the task's
                  score of those means (= the mean score), what selection and ranking use.
    node.data["repeats"] = {
      "n": 3,                               # runs of this program, failed ones included
      "metrics": {"<name>": {"n": 3, "mean": 1.2, "ci95": [lo, hi] or None, "values": [...]}},
      "runs": [{"metrics": {...}, "score": 1.1, "valid": true, "failure": null, "wall_s": 0.4,
                "evidence": {"stdout": "<sha256 blob>", ...}}, ...],   # the first run included
      "contests": [{"incumbent": 4, "won": false, "lower_bound": -0.3, "margin": 0.0}],
      "promoted": true,                     # this contest made it the run's best
      "unconfirmed": "budget",              # present when the repeats could not be paid for
    }

ci95 is the two-sided 95% Student t interval of the mean (None with fewer than two valid runs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from syslab.artifacts.schema import Node
from syslab.evaluators.base import EvaluationResult, Failure, FailureKind
from syslab.search.noise import Measurements, beats, difference_lower_bound, margin, summarize
from syslab.task import Task

REPEATS = "repeats"  # the key in Node.data


@dataclass
class ContestOutcome:
    """What one contest measured and decided (recorded by Referee.record)."""

    challenger_runs: list[EvaluationResult]  # the first measurement included
    incumbent_runs: dict[int, list[EvaluationResult]]  # new measurements of each incumbent
    decisions: dict[int, bool]  # incumbent id -> did the challenger beat it
    bounds: dict[int, tuple[float, float]] = field(default_factory=dict)  # id -> (lower bound, margin)
    unconfirmed: str | None = None
    promoted: bool = False  # set by the run loop: the challenger beat the run's best

    @property
    def extra(self) -> int:
        """Evaluations the contest spent (they count against the budget)."""
        return len(self.challenger_runs) - 1 + sum(len(r) for r in self.incumbent_runs.values())


def runs_of(node: Node) -> list[dict[str, Any]]:
    """Every recorded measurement of a node (one synthesised from the node if never repeated)."""
    rep = node.data.get(REPEATS)
    if rep:
        return list(rep["runs"])
    return [
        {
            "metrics": dict(node.metrics),
            "score": node.score,
            "valid": node.valid,
            "failure": node.failure_kind,
            "wall_s": node.wall_s,
            "evidence": dict(node.evidence),
        }
    ]


def measurements(node: Node) -> Measurements:
    """The node's valid scores (direction-normalised)."""
    return Measurements.of(
        [
            r["score"]
            for r in runs_of(node)
            if r["valid"] and r["score"] is not None and not math.isnan(r["score"])
        ]
    )


def extra_evaluations(node: Node) -> int:
    """Evaluations beyond the node's first (resume counts them against the budget)."""
    rep = node.data.get(REPEATS)
    return max(0, len(rep["runs"]) - 1) if rep else 0


class Referee:
    """Holds contests for one run: runs the repeats and decides with the task's tolerance."""

    def __init__(
        self,
        task: Task,
        get_node: Callable[[int], Node],
        evaluate: Callable[[int, str], Future[EvaluationResult]],
        code_of: Callable[[int], str],
        put_blob: Callable[[str], str],
    ):
        self.task = task
        self.spec = task.spec.noise
        self.get_node = get_node
        self.evaluate = evaluate  # (node id, code) -> a submitted evaluation
        self.code_of = code_of
        self.put_blob = put_blob
        self.decisions: dict[tuple[int, int], bool] = {}  # (challenger, incumbent) -> won

    # -- the population's promotion hook ------------------------------------------------------
    def promotes(self, challenger: int, incumbent: int) -> bool:
        """Decided contests first (live or recorded, so a resumed run replays the same choices);
        otherwise the rule on what is recorded, without new measurements."""
        decided = self.decisions.get((challenger, incumbent))
        if decided is not None:
            return decided
        node = self.get_node(challenger)
        for c in (node.data.get(REPEATS) or {}).get("contests", []):
            if c["incumbent"] == incumbent:
                return bool(c["won"])
        return beats(measurements(node), measurements(self.get_node(incumbent)), self.spec)

    # -- a contest ----------------------------------------------------------------------------
    def needed(self, incumbents: list[Node]) -> int:
        """Evaluations a contest against `incumbents` costs."""
        k = self.spec.repeats
        return (k - 1) + sum(max(0, k - len(runs_of(n))) for n in incumbents)

    def hold(
        self, node: Node, result: EvaluationResult, incumbents: list[Node], budget_left: int | None
    ) -> ContestOutcome:
        """Re-measure the challenger and incumbents up to `repeats` each, then decide every contest."""
        outcome = ContestOutcome([result], {}, {})
        if budget_left is not None and self.needed(incumbents) > budget_left:
            outcome.unconfirmed = "budget"
            outcome.decisions = {n.id: False for n in incumbents}
            self._remember(node.id, outcome)
            return outcome
        k = self.spec.repeats
        code = self.code_of(node.id)
        # Submitted together, so the repeats run in parallel on the executor's workers.
        mine = [self.evaluate(node.id, code) for _ in range(k - 1)]
        theirs = {
            n.id: [self.evaluate(n.id, self.code_of(n.id)) for _ in range(max(0, k - len(runs_of(n))))]
            for n in incumbents
        }
        outcome.challenger_runs += [_result(f) for f in mine]
        outcome.incumbent_runs = {i: [_result(f) for f in fs] for i, fs in theirs.items()}
        flaky = any(not r.ok for r in outcome.challenger_runs)  # a program that fails on re-run never wins
        mine_m = Measurements.of([r.score for r in outcome.challenger_runs if r.ok and r.score is not None])
        for n in incumbents:
            new = [r.score for r in outcome.incumbent_runs[n.id] if r.ok and r.score is not None]
            theirs_m = Measurements.of([*measurements(n).values, *new])
            outcome.bounds[n.id] = (
                difference_lower_bound(mine_m, theirs_m),
                margin(theirs_m.mean, self.spec),
            )
            outcome.decisions[n.id] = not flaky and beats(mine_m, theirs_m, self.spec)
        self._remember(node.id, outcome)
        return outcome

    def _remember(self, challenger: int, outcome: ContestOutcome) -> None:
        for i, won in outcome.decisions.items():
            self.decisions[(challenger, i)] = won

    # -- recording ------------------------------------------------------------------------------
    def record(self, node: Node, outcome: ContestOutcome) -> list[Node]:
        """Write the contest onto the challenger (in place) and return the updated incumbents.

        Call after the node's first result and evidence are set on it; the caller stores them.
        """
        runs = runs_of(node)  # the first measurement, as the node holds it
        runs += [self._run(r) for r in outcome.challenger_runs[1:]]
        contests = [
            {
                "incumbent": i,
                "won": won,
                "lower_bound": outcome.bounds.get(i, (None, None))[0],
                "margin": outcome.bounds.get(i, (None, None))[1],
            }
            for i, won in outcome.decisions.items()
        ]
        self._apply(node, runs, contests=contests, promoted=outcome.promoted, unconfirmed=outcome.unconfirmed)
        changed = []
        for i, new in outcome.incumbent_runs.items():
            if not new:
                continue
            inc = self.get_node(i)
            rep = inc.data.get(REPEATS) or {}
            self._apply(
                inc,
                runs_of(inc) + [self._run(r) for r in new],
                contests=rep.get("contests", []),
                promoted=rep.get("promoted"),
                unconfirmed=rep.get("unconfirmed"),
            )
            changed.append(inc)
        return changed

    def _run(self, r: EvaluationResult) -> dict[str, Any]:
        evidence = r.evidence.blobs(self.put_blob)
        return {
            "metrics": dict(r.metrics),
            "score": r.score,
            "valid": r.ok,
            "failure": None if r.failure is None else f"{r.failure.kind.value}: {r.failure.message}"[:500],
            "wall_s": r.wall_s,
            "evidence": evidence,
        }

    def _apply(
        self,
        node: Node,
        runs: list[dict[str, Any]],
        contests: list[dict[str, Any]],
        promoted: bool | None,
        unconfirmed: str | None,
    ) -> None:
        valid = [r for r in runs if r["valid"]]
        names = dict.fromkeys(name for r in valid for name in r["metrics"])
        per_metric = {
            name: summarize([r["metrics"][name] for r in valid if name in r["metrics"]]) for name in names
        }
        rep: dict[str, Any] = {"n": len(runs), "metrics": per_metric, "runs": runs, "contests": contests}
        if promoted is not None:
            rep["promoted"] = promoted
        if unconfirmed:
            rep["unconfirmed"] = unconfirmed
        node.data = {**node.data, REPEATS: rep}
        if valid:  # selection and ranking use the means
            node.metrics = {name: s["mean"] for name, s in per_metric.items()}
            node.score = self.task.score(node.metrics)


def _result(future: Future[EvaluationResult]) -> EvaluationResult:
    try:
        return future.result()
    except Exception as e:  # an executor crash is a failed measurement, not the end of the run
        return EvaluationResult(failure=Failure(kind=FailureKind.evaluator_error, message=f"executor: {e!r}"))

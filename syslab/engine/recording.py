"""The record half of the evolution engine: finished evaluations are recorded in slot order
(`record_ready`), a noisy task's contests are held before a promotion (`_contest`, see
syslab.engine.contest), results land on their nodes with their evidence (`finish_node`) and the
loop state is checkpointed. A mixin of `syslab.engine.loop.Engine`, whose fields it uses.
"""

from __future__ import annotations

import time
from typing import Any

from syslab.artifacts.schema import Node, NodeStatus
from syslab.engine.slots import Slot
from syslab.evaluators.base import EvaluationResult, Failure, FailureKind


class Recording:
    """Engine methods that record evaluations (see the module docstring)."""

    def record_ready(self) -> bool:
        progressed = False
        while self.slots:
            head = self.slots[0]
            if head.finished:
                self.slots.popleft()
                progressed = True
                continue
            if head.evaluation is None or not head.evaluation.done():
                break
            self.slots.popleft()
            self._record_evaluation(head)
            progressed = True
        if not self.ordered:
            for slot in list(self.slots):
                if slot.evaluation is not None and slot.evaluation.done():
                    self.slots.remove(slot)
                    self._record_evaluation(slot)
                    progressed = True
        return progressed

    def _record_evaluation(self, slot: Slot) -> None:
        assert slot.node is not None and slot.evaluation is not None
        try:
            result = slot.evaluation.result()
        except Exception as e:  # executor/sandbox crash: the evaluation is lost, the run goes on
            result = EvaluationResult(
                failure=Failure(kind=FailureKind.evaluator_error, message=f"executor: {e!r}")
            )
        result = self.apply_run_limits(result)
        contest = self._contest(slot.node, result)
        node = self.finish_node(slot.node, result, contest)
        self._observe(slot, node)
        self.counters.evaluations += 1 + (contest.extra if contest else 0)
        self.counters.since_analysis += 1
        # Every evaluation counts (migration timing, children counts); only valid ones are placed.
        self.population.add(node, self.code_of(node.id))
        if contest is not None and not contest.promoted and self.best is not None:
            self.store.set_best(self.best.id)  # the store follows the top mean; the run follows contests
        if (
            contest.promoted
            if contest is not None
            else self.task.better(node.score if node.valid else None, self.best.score if self.best else None)
        ):
            from syslab.artifacts.logic import note_new_best

            note_new_best(self.store, node, self.best)  # a pivot when the best moves to another line
            self.best = node
            if hasattr(self.store, "set_best"):
                self.store.set_best(node.id)
            if self.referee is not None:  # a noisy task's best is not always the top mean: say which
                self.store.set_state("best", {"node_id": node.id, "rule": "noise-aware"})
        best_score = self.best.score if self.best else None
        self.history.append((self.counters.evaluations, node.score if node.valid else None, best_score))
        if node.failure_kind:
            self.recent_failures.append(self.view(node, with_code=False))
        if self.on_record:
            self.on_record(node, evaluated=True)

    def apply_run_limits(self, result: EvaluationResult) -> EvaluationResult:
        """A result over a metric's `max_in_runs` becomes a wrong answer: `syslab eval` scores it as
        published, but the search must not build on it (metrics kept, for the record)."""
        breach = self.task.run_limit_breach(result.metrics) if result.ok else None
        if breach is None:
            return result
        failure = Failure(kind=FailureKind.wrong_answer, message=breach)
        return result.model_copy(update={"valid": False, "score": None, "failure": failure})

    def _contest(self, node: Node, result: EvaluationResult) -> Any:
        """A noisy task: re-measure before `node` displaces the best or a cell's elite (syslab.engine.contest).

        None when nothing is at stake (or the task is deterministic): no extra evaluation.
        """
        if self.referee is None or not result.ok or result.score is None:
            return None
        probe = node.model_copy(
            update={"score": result.score, "valid": True, "metrics": dict(result.metrics)}
        )
        rivals = self.population.rivals(probe, self.code_of(node.id))
        if not rivals:
            return None
        # Still to be paid from the budget: evaluations submitted, then slots not yet applied.
        budget = self.eval_budget()
        unapplied = sum(1 for s in self.slots if s.node is None and not s.finished)
        left = None if budget is None else budget - self.counters.submitted - unapplied
        contest = self.referee.hold(node, result, [self.store.get_node(i) for i in rivals], left)
        contest.promoted = self.best is not None and contest.decisions.get(self.best.id, False)
        self.counters.submitted += contest.extra
        self.counters.repeats += contest.extra
        return contest

    def replays_as_best(self, node: Node) -> bool:
        """Resume: did recording `node` make it the run's best? (a noisy task: as its contest decided)"""
        if self.referee is not None and self.best is not None:
            return node.valid and bool((node.data.get("repeats") or {}).get("promoted"))
        return node.valid and self.task.better(node.score, self.best.score if self.best else None)

    def _observe(self, slot: Slot, node: Node) -> None:
        """Tell an adaptive proposer (the model bandit) how its proposal did."""
        observe = getattr(self.proposer, "observe", None)
        if observe is None or slot.proposal is None or slot.requeued_code is not None:
            return
        try:
            proposal = slot.proposal.result()
        except Exception:  # noqa: BLE001 - a crashed proposer has nothing to learn from
            return
        improvement = 0.0
        if node.valid and node.score is not None and node.parent_id is not None:
            parent_score = self.store.get_node(node.parent_id).score
            if parent_score is not None:
                improvement = node.score - parent_score
        observe(proposal, improvement)

    def finish_node(self, node: Node, result: EvaluationResult, contest: Any = None) -> Node:
        """Store an evaluation result on its node (and evidence blobs), with a checkpoint.

        With a contest (syslab.engine.contest), its repeats go in the same transaction: the node and the
        incumbents it was measured against then hold their means and every measurement.
        """
        with self.store.transaction():
            node.evidence.update(result.evidence.blobs(self.store.put_blob))
            node.metrics = dict(result.metrics)
            node.score = result.score
            node.valid = result.ok
            node.stage = result.stage
            node.status = NodeStatus.evaluated if result.failure is None else NodeStatus.failed
            if result.failure is not None:
                node.failure_kind = result.failure.kind.value
                node.failure_message = result.failure.message
            node.finished_at = time.time()
            node.wall_s = result.wall_s
            node.cpu_s = result.cpu_s
            node.peak_rss_mb = result.peak_rss_mb
            if result.artifacts:
                node.data["artifacts"] = result.artifacts
            if contest is not None:
                for incumbent in self.referee.record(node, contest):
                    self.store.update_node(incumbent)
                    self.population.rescore(incumbent)
                    if self.best is not None and self.best.id == incumbent.id:
                        self.best = incumbent
            self.store.update_node(node)
            self.checkpoint()
        return node

    def checkpoint(self) -> None:
        state: dict[str, Any] = {"counters": self.counters.to_state(), "notes": self.notes}
        if self.counters.evaluations - self.counters.last_checkpoint >= self.checkpoint_every:
            self.counters.last_checkpoint = self.counters.evaluations
            state["counters"] = self.counters.to_state()
            self.store.set_state("population", self.population.to_state())
        self.store.set_state("loop", state)
        proposer_state = getattr(self.proposer, "state", None)
        if callable(proposer_state):
            self.store.set_state("proposer", proposer_state())

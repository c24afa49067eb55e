"""The evolution engine: an ordered pipeline of proposal and evaluation slots.

Each slot is one attempt: a parent is selected, a proposal is requested
(possibly from a slow LLM, so proposals run in a thread pool), the
proposal is applied and checked for duplicates, and the candidate is
evaluated on the executor. Several slots are in flight at once, so
proposals and evaluations overlap. Results are recorded in slot order
(when `pipeline.ordered`), which makes a run a pure function of its seed
and of the proposer's answers: the property resume and replay rely on.

Randomness is derived per slot from (run seed, slot index), so the only
RNG state is the slot counter, checkpointed with every record.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from syslab.agents.base import CandidateView, Proposal, ProposalRequest
from syslab.agents.replay import ReplayMismatch
from syslab.artifacts.schema import Edge, EdgeKind, Node, NodeKind, NodeStatus
from syslab.artifacts.store import RunStore
from syslab.engine.recording import Recording
from syslab.engine.slots import LoopCounters, Slot, done_future, slot_rng
from syslab.evaluators.base import EvaluationResult, Failure, FailureKind
from syslab.sandbox.executor import EvalJob, Executor
from syslab.task import Task


@dataclass
class Engine(Recording):
    """Drives slots through propose -> apply -> evaluate -> record."""

    task: Task
    store: RunStore
    executor: Executor
    proposer: Any
    population: Any
    seed: int
    sandbox_backend: str
    image: str | None
    capacity: int
    ordered: bool = True
    proposal_workers: int = 1
    dedup: Any = None  # syslab.engine.population_adapter.Dedup
    counters: LoopCounters = field(default_factory=LoopCounters)
    notes: str = ""
    best: Node | None = None
    seed_score: float | None = None
    history: list[tuple[int, float | None, float | None]] = field(default_factory=list)
    recent_failures: collections.deque = field(default_factory=lambda: collections.deque(maxlen=4))
    on_record: Any = None  # callback(node) for progress and analysis
    may_attempt: Callable[[], bool] = lambda: True  # the run's attempt budget
    checkpoint_every: int = 100  # evaluations between population checkpoints
    max_duplicate_retries: int = 2  # re-asks of the proposer after a duplicate
    eval_budget: Callable[[], int | None] = lambda: None  # the run's evaluation budget (contests pay from it)

    def __post_init__(self) -> None:
        self.slots: collections.deque[Slot] = collections.deque()
        self._proposal_pool = ThreadPoolExecutor(
            max(1, self.proposal_workers), thread_name_prefix="syslab-propose"
        )
        self._code_cache: collections.OrderedDict[int, str] = collections.OrderedDict()
        self.referee: Any = None  # syslab.engine.contest.Referee when the task declares noise
        if self.task.spec.noise.active:
            from syslab.engine.contest import Referee

            self.referee = Referee(
                self.task, self.store.get_node, self._submit, self.code_of, self.store.put_blob
            )
            self.population.promotes = self.referee.promotes

    # -- code access ---------------------------------------------------------------------
    def code_of(self, node_id: int) -> str:
        code = self._code_cache.get(node_id)
        if code is None:
            code = self.store.get_code(node_id) or ""
            self._code_cache[node_id] = code
            if len(self._code_cache) > 256:
                self._code_cache.popitem(last=False)
        else:
            self._code_cache.move_to_end(node_id)
        return code

    def view(self, node: Node, with_code: bool = True) -> CandidateView:
        tail = ""
        if node.failure_kind and "stderr" in node.evidence:
            tail = self.store.get_blob(node.evidence["stderr"]).decode(errors="replace")[-1500:]
        if node.failure_kind and "traceback" in node.evidence:
            tail = self.store.get_blob(node.evidence["traceback"]).decode(errors="replace")[-1500:]
        parent_score = None
        if node.parent_id is not None and node.kind != NodeKind.analysis:
            parent_score = self.store.get_node(node.parent_id).score
        return CandidateView(
            node_id=node.id,
            parent_id=node.parent_id,
            parent_score=parent_score,
            code=self.code_of(node.id) if with_code else "",
            score=node.score,
            metrics=node.metrics,
            valid=node.valid,
            failure_kind=node.failure_kind,
            failure_message=node.failure_message,
            stderr_tail=tail,
            operator=node.operator,
            island=node.island,
        )

    # -- slots -----------------------------------------------------------------------------
    def new_slot(self) -> Slot:
        index = self.counters.slots
        self.counters.slots += 1
        rng = slot_rng(self.seed, index)
        parent_id, inspiration_ids, island = self.population.sample(rng)
        slot = Slot(index=index, parent_id=parent_id, island=island, inspiration_ids=inspiration_ids)
        self._request(slot, rng)
        self.slots.append(slot)
        return slot

    def _request(self, slot: Slot, rng: random.Random) -> None:
        parent = self.store.get_node(slot.parent_id)
        request = ProposalRequest(
            task_name=self.task.name,
            task_description=self.task.spec.description,
            primary_metric=self.task.primary_metric,
            metric_directions={k: m.direction.value for k, m in self.task.spec.metrics.items()},
            metric_units={k: m.unit for k, m in self.task.spec.metrics.items()},
            parent=self.view(parent),
            inspirations=[self.view(self.store.get_node(i)) for i in slot.inspiration_ids],
            recent_failures=list(self.recent_failures),
            notes=self.notes,
            seed=rng.getrandbits(63),
            attempt=slot.attempt,
        )
        self.counters.attempts += 1
        if self.proposal_workers == 0:  # a fast in-process proposer: no thread hand-off
            try:
                slot.proposal = done_future(self.proposer.propose(request))
            except Exception as e:  # noqa: BLE001 - recorded as a failed proposal by _apply
                slot.proposal = Future()
                slot.proposal.set_exception(e)
        else:
            slot.proposal = self._proposal_pool.submit(self.proposer.propose, request)

    def requeue(self, node: Node, code: str) -> None:
        """Resume: evaluate an interrupted candidate again in a fresh slot."""
        slot = Slot(
            index=-1,
            parent_id=node.parent_id if node.parent_id is not None else 0,
            island=node.island,
            inspiration_ids=[],
            requeued_code=code,
        )
        prop = Proposal(code=code, operator=node.operator, note=f"re-queued after interruption of {node.id}")
        slot.proposal = done_future(prop)
        self.slots.append(slot)

    # -- the ordered schedule -----------------------------------------------------------------
    def step_ordered(self) -> bool:
        """Deterministic actions until one evaluation is recorded (or nothing is in flight).

        Each action applies the earliest unapplied slot, else records the head.

        Proposals of later slots and all submitted evaluations keep running while we
        block here, so the pipeline overlaps, yet node ids and records follow a fixed
        schedule that depends only on the seed and the proposer's answers.
        """
        while self.slots:
            unapplied = next((s for s in self.slots if s.node is None and not s.finished), None)
            if unapplied is not None:
                assert unapplied.proposal is not None
                wait([unapplied.proposal])
                self._apply(unapplied)
                continue
            head = self.slots.popleft()
            if head.finished:
                continue
            assert head.evaluation is not None
            wait([head.evaluation])
            self._record_evaluation(head)
            return True
        return False

    # -- apply: proposal -> recorded node (running) -> submitted evaluation ---------------
    def apply_ready(self) -> bool:
        progressed = False
        for slot in list(self.slots):
            if slot.node is not None or slot.finished:
                continue
            assert slot.proposal is not None
            if not slot.proposal.done():
                if self.ordered:
                    break
                continue
            self._apply(slot)
            progressed = True
        return progressed

    def _base_node(self, slot: Slot, proposal: Proposal) -> Node:
        parent = self.store.get_node(slot.parent_id)
        return Node(
            id=self.store.next_node_id(),
            kind=NodeKind.candidate,
            parent_id=slot.parent_id,
            island=slot.island,
            generation=parent.generation + 1,
            operator=proposal.operator,
            model=proposal.model,
            note=proposal.note,
            created_at=time.time(),
        )

    def _apply(self, slot: Slot) -> None:
        try:
            proposal = slot.proposal.result()
        except ReplayMismatch:
            raise  # a replay that diverged from its recording ends the run (syslab.engine.run says why)
        except Exception as e:  # a proposer bug must not end the run: record it
            proposal = Proposal(
                failure=Failure(kind=FailureKind.llm_error, message=f"proposer crashed: {e!r}")
            )
        node = self._base_node(slot, proposal)
        if proposal.failure is not None or not proposal.code:
            failure = proposal.failure or Failure(
                kind=FailureKind.malformed_response, message="empty proposal"
            )
            self._record_failed(slot, node, proposal, failure)
            return
        dup = self.dedup.check(proposal.code) if self.dedup is not None else None
        if dup is not None and slot.requeued_code is None:
            dup_of, similarity = dup
            msg = f"duplicate of node {dup_of}" + (
                "" if similarity >= 1.0 else f" (similarity {similarity:.2f})"
            )
            self._record_failed(
                slot, node, proposal, Failure(kind=FailureKind.duplicate, message=msg), proposal.code
            )
            if slot.attempt < self.max_duplicate_retries and self.may_attempt():
                retry = Slot(
                    index=slot.index,
                    parent_id=slot.parent_id,
                    island=slot.island,
                    inspiration_ids=slot.inspiration_ids,
                    attempt=slot.attempt + 1,
                )
                self._request(retry, slot_rng(self.seed, slot.index * 1000 + slot.attempt + 1))
                self.slots.insert(self.slots.index(slot) + 1, retry)
            return
        node.status = NodeStatus.running
        node.started_at = time.time()
        with self.store.transaction():
            node = self.store.add_node(node, code=proposal.code)
            self._add_edges(node, proposal)
            self._link_llm_calls(proposal, node.id)
        if self.dedup is not None:
            self.dedup.add(node.id, proposal.code)
        slot.node = node
        self._code_cache[node.id] = proposal.code
        self.counters.submitted += 1
        slot.evaluation = self._submit(node.id, proposal.code)

    def _submit(self, node_id: int, code: str) -> Future[EvaluationResult]:
        job = EvalJob(
            node_id=node_id,
            task_dir=str(self.task.root),
            code=code,
            sandbox=self.sandbox_backend,
            image=self.image,
        )
        return self.executor.submit(job)

    def _add_edges(self, node: Node, proposal: Proposal) -> None:
        if node.parent_id is not None:
            self.store.add_edge(Edge(src=node.parent_id, dst=node.id, kind=EdgeKind.parent))
        kind = EdgeKind.crossover if proposal.operator.startswith("crossover") else EdgeKind.inspiration
        for i in proposal.inspiration_ids:
            if i != node.parent_id:
                self.store.add_edge(Edge(src=i, dst=node.id, kind=kind))

    def _link_llm_calls(self, proposal: Proposal, node_id: int) -> None:
        if proposal.llm_call_ids and hasattr(self.store, "link_llm_calls"):
            self.store.link_llm_calls(proposal.llm_call_ids, node_id)

    def _record_failed(
        self, slot: Slot, node: Node, proposal: Proposal, failure: Failure, code: str | None = None
    ) -> None:
        node.status = NodeStatus.failed
        node.failure_kind = failure.kind.value
        node.failure_message = failure.message
        node.finished_at = time.time()
        with self.store.transaction():
            if proposal.raw_response:
                node.evidence["response"] = self.store.put_blob(proposal.raw_response)
            node = self.store.add_node(node, code=code)
            self._add_edges(node, proposal)
            self._link_llm_calls(proposal, node.id)
            self.checkpoint()
        slot.finished = True
        self._observe(slot, node)
        self.recent_failures.append(self.view(node, with_code=False))
        if self.on_record:
            self.on_record(node, evaluated=False)

    # -- waiting -----------------------------------------------------------------------------
    def wait_any(self, timeout: float | None = None) -> None:
        pending: list[Future] = []
        for slot in self.slots:
            if slot.evaluation is not None and not slot.evaluation.done():
                pending.append(slot.evaluation)
            elif (
                slot.node is None
                and not slot.finished
                and slot.proposal is not None
                and not slot.proposal.done()
            ):
                pending.append(slot.proposal)
        if pending:
            wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)

    def in_flight(self) -> int:
        return len(self.slots)

    def shutdown(self) -> None:
        self._proposal_pool.shutdown(wait=False, cancel_futures=True)

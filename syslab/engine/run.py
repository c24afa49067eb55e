"""The run loop as a LangGraph StateGraph, and the public `run_evolution` / `resume_run`.

    start -> fill -> advance -> (reflect) -> fill ... -> finish

`fill` selects parents and requests proposals until the pipeline is full
or the budget is spent; `advance` applies ready proposals, submits their
evaluations, records finished ones in order, and waits when nothing is
ready; `reflect` asks the analyst for notes every K evaluations. The
heavy objects live in the Engine (syslab.engine.loop); the graph state only
carries what routing needs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TypedDict

from langgraph.graph import END, StateGraph

import syslab
from syslab.artifacts.schema import Manifest, Node, NodeKind, NodeStatus
from syslab.artifacts.store import RunStore
from syslab.cli.progress import Progress
from syslab.config import RunConfig
from syslab.engine.loop import Engine
from syslab.engine.population_adapter import Dedup, PopulationAdapter
from syslab.engine.result import RunResult
from syslab.engine.setup import check_gpu, new_run_dir, platform_info
from syslab.errors import SyslabError
from syslab.sandbox.executor import EvalJob, make_executor, make_sandbox
from syslab.task import Task, load_task


class LoopState(TypedDict):
    stop: str  # "" while running, else the stop reason


class Run:
    """One evolution run: owns the store, the executor, the agents and the engine."""

    def __init__(
        self,
        task: Task,
        config: RunConfig,
        store: RunStore,
        proposer: Any,
        proposer_kind: str,
        analyst: Any,
        llm_usage: Any = None,
        executor: Any = None,
    ):
        self.task = task
        self.config = config
        self.store = store
        self.proposer_kind = proposer_kind
        self.analyst = analyst
        self.llm_usage = llm_usage  # callable -> {model: {"tokens":..., "cost_usd":...}}
        self.budget_evals = config.budget.evaluations or task.spec.budget.evaluations
        self.wall_limit = config.budget.wall_time_s or task.spec.budget.wall_time_s
        self.cost_limit = (
            config.budget.cost_usd if config.budget.cost_usd is not None else task.spec.budget.cost_usd
        )
        self.token_limit = (
            config.budget.tokens if config.budget.tokens is not None else task.spec.budget.tokens
        )
        self.t0 = time.monotonic()
        settings = config.search_settings()
        self.executor = executor or make_executor(
            config.executor.kind,
            config.executor.workers,
            config.executor.ray_address,
            gpu=task.spec.sandbox.gpu,
        )
        workers = config.executor.workers
        dedup = Dedup(settings)
        self.engine = Engine(
            task=task,
            store=store,
            executor=self.executor,
            proposer=proposer,
            population=PopulationAdapter(settings, task, dedup.signatures),
            seed=config.seed,
            sandbox_backend=config.sandbox.backend,
            image=config.sandbox.image,
            capacity=workers + config.pipeline.prefetch,
            ordered=config.pipeline.ordered,
            # The offline mutator takes about a millisecond: run it inline, not in a thread.
            proposal_workers=0 if proposer_kind in ("mutate",) else workers + config.pipeline.prefetch,
            dedup=dedup,
        )
        self.engine.checkpoint_every = config.pipeline.checkpoint_every
        self.engine.max_duplicate_retries = settings.max_duplicate_retries
        self.engine.eval_budget = lambda: self.budget_evals  # noise contests' repeats pay from it
        # A duplicate's re-ask is a new proposal: none once a stop condition holds (wall time, cost).
        self.engine.may_attempt = lambda: self.may_attempt() and not self.budget_stop()
        self.progress = Progress(enabled=config.progress, total=self.budget_evals, task=task)
        self.engine.on_record = self._on_record
        self.stop_reason = ""
        self.batch = 64  # records per LangGraph superstep (see advance)

    # -- budget --------------------------------------------------------------------------------
    def spend(self) -> dict[str, dict[str, float]]:
        return self.llm_usage() if self.llm_usage else {}

    def budget_stop(self) -> str:
        if self.engine.counters.evaluations >= self.budget_evals:
            return "evaluations"
        if self.wall_limit and time.monotonic() - self.t0 >= self.wall_limit:
            return "wall_time"
        spend = self.spend()
        if (
            self.cost_limit is not None
            and sum(v.get("cost_usd", 0.0) for v in spend.values()) >= self.cost_limit
        ):
            return "cost"
        if (
            self.token_limit is not None
            and sum(v.get("tokens", 0) for v in spend.values()) >= self.token_limit
        ):
            return "tokens"
        return ""

    def may_attempt(self) -> bool:
        c = self.engine.counters
        return c.attempts < self.config.budget.max_attempts_factor * self.budget_evals

    def may_propose(self) -> bool:
        c = self.engine.counters
        pending = sum(1 for s in self.engine.slots if s.node is None and not s.finished)
        return not self.budget_stop() and c.submitted + pending < self.budget_evals and self.may_attempt()

    # -- graph nodes ---------------------------------------------------------------------------
    def fill(self, state: LoopState) -> dict:
        while self.engine.in_flight() < self.engine.capacity and self.may_propose():
            self.engine.new_slot()
        return {}

    def advance(self, state: LoopState) -> dict:
        """Apply, evaluate and record, refilling the pipeline, for up to `batch` records.

        A LangGraph superstep costs a fraction of a millisecond, so one superstep
        drives a batch of candidates; it returns early when the analyst is due (so
        reflection happens at the same point in every run with the same seed).
        """
        every = self.config.analyst_every if self.analyst is not None else 0
        for _ in range(self.batch):
            if self.engine.ordered:
                recorded = self.engine.step_ordered()
            else:
                recorded = self.engine.apply_ready()
                recorded = self.engine.record_ready() or recorded
                if not recorded and self.engine.in_flight():
                    self.engine.wait_any(timeout=1.0)
            stop = self.budget_stop()
            if not self.engine.in_flight() and (stop or not self.may_propose()):
                return {"stop": stop or "attempts"}
            if every and self.engine.counters.since_analysis >= every:
                break
            if not stop:
                self.fill(state)
            if not recorded and not self.engine.in_flight():
                break
        return {}

    def reflect(self, state: LoopState) -> dict:
        from syslab.engine.reflection import run_analysis

        run_analysis(self)
        return {}

    def _route_after_advance(self, state: LoopState) -> str:
        if state.get("stop"):
            return END
        every = self.config.analyst_every
        if self.analyst is not None and every and self.engine.counters.since_analysis >= every:
            return "reflect"
        return "fill"

    def build_graph(self) -> Any:
        graph = StateGraph(LoopState)
        graph.add_node("fill", self.fill)
        graph.add_node("advance", self.advance)
        graph.add_node("reflect", self.reflect)
        graph.set_entry_point("fill")
        graph.add_edge("fill", "advance")
        graph.add_conditional_edges(
            "advance", self._route_after_advance, {"fill": "fill", "reflect": "reflect", END: END}
        )
        graph.add_edge("reflect", "fill")
        return graph.compile()

    # -- lifecycle -----------------------------------------------------------------------------
    def _on_record(self, node: Node, evaluated: bool) -> None:
        self.progress.update(node, self.engine)

    def evaluate_seed(self) -> None:
        seed = Node(
            id=self.store.next_node_id(),
            kind=NodeKind.seed,
            status=NodeStatus.running,
            operator="seed",
            note="the task's seed program",
            created_at=time.time(),
            started_at=time.time(),
        )
        seed = self.store.add_node(seed, code=self.task.seed_code)
        self.engine.dedup.add(seed.id, self.task.seed_code)
        job = EvalJob(
            node_id=seed.id,
            task_dir=str(self.task.root),
            code=self.task.seed_code,
            sandbox=self.config.sandbox.backend,
            image=self.config.sandbox.image,
        )
        self.engine.counters.submitted += 1
        result = self.engine.apply_run_limits(self.executor.submit(job).result())
        seed = self.engine.finish_node(seed, result)
        self.engine.counters.evaluations += 1
        self.engine.seed_score = seed.score if seed.valid else None
        if not seed.valid:
            fk = seed.failure_kind or "invalid"
            self.progress.close()
            raise SyslabError(
                f"{self.task.seed_path}: seed program failed evaluation ({fk}: {seed.failure_message}); "
                f"see `syslab show {self.store.run_dir}`"
            )
        self.engine.population.add(seed, self.task.seed_code)
        self.engine.best = seed
        if hasattr(self.store, "set_best"):
            self.store.set_best(seed.id)
        self.engine.history.append((1, seed.score, seed.score))
        self.engine.checkpoint()
        self.progress.update(seed, self.engine)

    def loop(self) -> RunResult:
        # The budget in force (raised by `resume --more`) is the manifest's: the next --more adds to it.
        config = self.store.manifest.config
        budget = self.config.budget.model_dump(mode="json")
        if config.get("budget") != budget:
            self.store.update_manifest(config={**config, "budget": budget})
        failure: SyslabError | None = None
        try:
            self.build_graph().invoke({"stop": ""}, {"recursion_limit": 10**9})
        except SyslabError as e:  # e.g. a replay that diverged: what was recorded so far stays
            failure = e
        finally:
            self.engine.shutdown()
            self.executor.shutdown()
            self.progress.close()
        if failure is not None:
            self.store.update_manifest(status="failed", stop_reason=str(failure), finished_at=time.time())
            self.store.close()  # flushes code.git refs
            raise failure
        stop = self.budget_stop() or "attempts"
        failed = self.nothing_evaluated()
        from syslab.engine.heldout import run_heldout

        # After the search only: held-out results never reach the agents or selection.
        self.heldout = run_heldout(self)
        self.store.update_manifest(
            status="failed" if failed else "finished", stop_reason=failed or stop, finished_at=time.time()
        )
        from syslab.engine.logic import finalize_logic

        finalize_logic(self)
        result = self.result(stop)
        result.failed = failed
        self.store.close()  # flushes code.git refs
        return result

    def nothing_evaluated(self) -> str:
        """Why no candidate reached the evaluator although proposals were made, or ""."""
        c = self.engine.counters
        if c.attempts == 0 or c.evaluations > 1:  # the seed's is the first evaluation
            return ""
        counts = self.store.failure_counts()
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        errors = [call.error for call in self.store.llm_calls() if call.error]
        last = f"; last LLM error: {errors[-1][:300]}" if errors else ""
        return (
            f"no candidate was evaluated: all {c.attempts} proposals failed ({kinds or 'no program'}){last}"
        )

    def result(self, stop: str) -> RunResult:
        # A noisy task's best is the one its contests promoted, not merely the top mean (syslab.engine.contest).
        best = self.engine.best if self.engine.referee is not None else self.store.best_node()
        man = self.store.manifest
        return RunResult(
            run_dir=self.store.run_dir,
            run_id=man.run_id,
            best_node_id=best.id if best else None,
            best_score=best.score if best else None,
            best_metrics=best.metrics if best else {},
            seed_score=self.engine.seed_score,
            evaluations=self.engine.counters.evaluations,
            nodes=self.store.count_nodes(),
            failures=self.store.failure_counts(),
            stop_reason=stop,
            wall_s=time.monotonic() - self.t0,
            proposer=self.proposer_kind,
            history=list(self.engine.history),
            spend=self.spend(),
            verified=man.verified,
            attempts=self.engine.counters.attempts,
            heldout=list(getattr(self, "heldout", [])),
            primary=self.task.primary_metric,
            direction=self.task.spec.metrics[self.task.primary_metric].direction.value,
            unit=self.task.spec.metrics[self.task.primary_metric].unit,
        )


def run_evolution(
    task: Task | str | Path, config: RunConfig | None = None, executor: Any = None
) -> RunResult:
    """Run an evolution on `task` (a Task or a task directory) and return its summary.

    `executor` replaces the configured one (anything with submit(EvalJob) -> Future and shutdown()).
    """
    from syslab.agents.select import build_agents

    task = task if isinstance(task, Task) else load_task(task)
    config = config or RunConfig()
    if config.budget.evaluations is None:
        # Record the budget in force, so that `resume --more N` raises it by N (not to N).
        budget = config.budget.model_copy(update={"evaluations": task.spec.budget.evaluations})
        config = config.model_copy(update={"budget": budget})
    check_gpu(task, config)
    agents = build_agents(config, task)
    run_dir, run_id = new_run_dir(config, task)
    sandbox = make_sandbox(config.sandbox.backend, config.sandbox.image)
    manifest = Manifest(
        syslab_version=syslab.__version__,
        run_id=run_id,
        task_name=task.name,
        task_dir=str(task.root),
        task_hash=task.content_hash(),
        seed=config.seed,
        config=config.model_dump(mode="json"),
        platform=platform_info(),
        isolation={**sandbox.isolation(), "executor": config.executor.kind},
        proposer=agents.kind,
        created_at=time.time(),
        evaluation_mode=task.evaluation_mode,
        verified=task.verified,
    )
    store = RunStore.create(run_dir, manifest)
    if hasattr(agents, "attach"):
        agents.attach(store)
    try:
        run = Run(task, config, store, agents.proposer, agents.kind, agents.analyst, agents.usage, executor)
        from syslab.engine.logic import init_logic

        init_logic(run)
        run.progress.start(run_dir, agents.kind, agents.reason)
        run.evaluate_seed()
        return run.loop()
    finally:
        agents.close()


def resume_run(run_dir: str | Path, extra_evaluations: int | None = None, progress: bool = True) -> RunResult:
    """Continue a run that was stopped or killed (see syslab.engine.resume)."""
    from syslab.engine.resume import resume

    return resume(run_dir, extra_evaluations, progress)

"""Crash-safe resume: continue a run killed at any point, losing and repeating nothing.

The store holds every completed evaluation; the loop checkpoint holds the slot
counter (the only RNG state) and the analyst's notes; the population
checkpoint covers the first K evaluations and the rest are re-added in record
order. Candidates that were in flight are marked interrupted and re-queued.
"""

from __future__ import annotations

import time
from pathlib import Path

from syslab.artifacts.schema import Node, NodeKind, NodeStatus
from syslab.artifacts.store import RunStore
from syslab.config import RunConfig
from syslab.engine.contest import extra_evaluations as repeat_evaluations
from syslab.engine.run import Run, RunResult
from syslab.engine.slots import LoopCounters
from syslab.errors import SyslabError
from syslab.task import load_task


def resume(run_dir: str | Path, extra_evaluations: int | None = None, progress: bool = True) -> RunResult:
    """Continue a run that was stopped or killed: nothing completed is lost or repeated."""
    from syslab.agents.select import build_agents

    store = RunStore.open(run_dir)
    run_dir = store.run_dir  # the run itself, also when given the --out directory holding it
    man = store.manifest
    config = RunConfig.model_validate(man.config)
    config.progress = progress
    if extra_evaluations:
        config.budget.evaluations = (config.budget.evaluations or 0) + extra_evaluations
    task = load_task(man.task_dir)
    if task.content_hash() != man.task_hash:
        raise SyslabError(f"{man.task_dir}: task changed since the run started (hash differs); not resuming")
    agents = build_agents(config, task, resume_store=store)
    run = Run(task, config, store, agents.proposer, agents.kind, agents.analyst, agents.usage)
    eng = run.engine
    loop_state = store.get_state("loop") or {}
    eng.counters = LoopCounters(**loop_state.get("counters", {}))
    eng.notes = loop_state.get("notes", "")
    pop_state = store.get_state("population") or {}
    if pop_state:
        eng.population.load_state(pop_state)
    # The checkpoint holds the first `evaluations` records; the rest are re-added in record order.
    in_checkpoint = int(pop_state.get("evaluations", 0))
    replayed = 0
    interrupted: list[Node] = []
    seed_node = None
    for node in sorted(store.nodes(), key=lambda n: (n.finished_at or float("inf"), n.id)):
        if node.kind == NodeKind.analysis:
            continue
        if node.kind == NodeKind.seed:
            seed_node = node
        if node.status in (NodeStatus.running, NodeStatus.pending):
            interrupted.append(node)
            continue
        code = store.get_code(node.id) if node.commit else None
        if code is not None:
            eng.dedup.add(node.id, code)
        if node.wall_s is not None and code is not None:  # an evaluation record
            replayed += 1
            if replayed > in_checkpoint:
                eng.population.add(node, code)
        if eng.replays_as_best(node):
            eng.best = node
    if seed_node is None or seed_node.status != NodeStatus.evaluated:
        raise SyslabError(f"{run_dir}: the run died before its seed was evaluated; start a new run")
    eng.seed_score = seed_node.score
    # Exact counts from the store (the loop checkpoint may predate the last records).
    evaluated = [
        n
        for n in store.nodes()
        if n.kind != NodeKind.analysis
        and n.wall_s is not None
        and n.status in (NodeStatus.evaluated, NodeStatus.failed)
    ]
    eng.counters.repeats = sum(repeat_evaluations(n) for n in evaluated)  # noise contests' re-measurements
    eng.counters.evaluations = len(evaluated) + eng.counters.repeats
    eng.counters.submitted = eng.counters.evaluations
    for node in interrupted:
        node.status = NodeStatus.interrupted
        node.failure_kind = "interrupted"
        node.failure_message = "the run stopped while this candidate was in flight; re-queued"
        node.finished_at = time.time()
        store.update_node(node)
        code = store.get_code(node.id)
        if code:
            eng.requeue(node, code)
    store.update_manifest(status="running")
    run.progress.start(run_dir, agents.kind, "resumed")
    try:
        return run.loop()
    finally:
        agents.close()

"""Held-out evaluation: the best candidates scored on data the search never saw.

A task's `[heldout]` table (syslab.task.HeldoutSpec) names an evaluator entry with the same
contract as the search evaluator, on other seeds, traces, workloads or tables. It runs only
here, after the search loop has ended (and in `syslab reproduce RUN`): the entry is in no prompt,
its results are in no node, so neither the agents nor selection can use it. Each measurement is
recorded in the store's `heldout` table with its evidence blobs.

The gap is the held-out shortfall of the primary metric against the search value (see
HeldoutSpec.tolerance); a gap beyond the tolerance means the candidate overfit the search data.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from syslab.artifacts.heldout_rows import HeldoutRecord, latest_heldout
from syslab.artifacts.schema import Node, NodeKind, NodeStatus
from syslab.task import Direction, HeldoutSpec, Task


def heldout_task(task: Task) -> Task | None:
    """The task with the held-out entry as its only stage, or None when it declares none.

    The evaluation then goes through the same harness, sandbox and (split or shared) mode as any
    other, so the integrity model is unchanged."""
    held = task.spec.heldout
    if held is None:
        return None
    sandbox = task.spec.sandbox
    if held.timeout_s is not None:
        sandbox = sandbox.model_copy(update={"timeout_s": held.timeout_s})
    # The mode is fixed from the search evaluator, so the held-out entry cannot change it.
    spec = task.spec.model_copy(
        update={"evaluator": held.entry, "stages": [], "sandbox": sandbox, "mode": task.evaluation_mode}
    )
    return task.model_copy(update={"spec": spec})


def shortfall(spec: HeldoutSpec, direction: Direction, search: float, heldout: float) -> float:
    """How much worse the held-out value is than the search value (negative: better held-out)."""
    worse = search - heldout if direction == Direction.maximize else heldout - search
    if spec.relative:
        if search == 0:  # no scale to divide by: any shortfall is infinitely large
            return 0.0 if worse <= 0 else float("inf")
        return worse / abs(search)
    return worse


def _seed_gap(against: str, direction: Direction, record: HeldoutRecord) -> float | None:
    """The gap measured against the seed's values (HeldoutSpec.against); None: not comparable."""
    base_s, base_h = record.seed_search_value, record.seed_heldout_value
    value_s, value_h = record.search_value, record.heldout_value
    if base_s is None or base_h is None or value_s is None or value_h is None:
        return None
    sign = 1.0 if direction == Direction.maximize else -1.0
    if against == "gain":
        gain_s, gain_h = sign * (value_s - base_s), sign * (value_h - base_h)
        return 0.0 if gain_s <= 0 else (gain_s - gain_h) / gain_s
    if not base_s or not base_h:  # no seed value to scale by
        return None
    return sign * (value_s / base_s - value_h / base_h)


def judge(task: Task, node: Node, record: HeldoutRecord, seed: HeldoutRecord | None = None) -> HeldoutRecord:
    """Fill in the record's verdict: search value beside held-out value, the gap, overfit or not.

    `seed`: the seed's held-out record of the same evaluation (needed with against = "seed")."""
    spec = task.spec.heldout
    assert spec is not None
    metric = task.primary_metric
    record.metric, record.tolerance, record.relative = metric, spec.tolerance, spec.relative
    record.against = spec.against
    record.search_value = node.metrics.get(metric)
    record.heldout_value = record.metrics.get(metric) if record.valid else None
    record.gap = None
    direction = task.spec.metrics[metric].direction
    if record.search_value is not None and record.heldout_value is not None:
        if spec.against in ("seed", "gain"):
            seed = record if node.kind == NodeKind.seed else seed  # the seed is its own baseline
            record.seed_search_value = seed.search_value if seed is not None else None
            record.seed_heldout_value = seed.heldout_value if seed is not None else None
            record.gap = _seed_gap(spec.against, direction, record)
        else:
            record.gap = shortfall(spec, direction, record.search_value, record.heldout_value)
    # A failed held-out evaluation is overfit; a valid one without the primary metric (a kernel
    # checked for correctness only, without a GPU) is not comparable, and not a gap.
    record.overfit = not record.valid or (record.gap is not None and record.gap > spec.tolerance)
    return record


def heldout_targets(store: Any, top_k: int, extra: tuple[int, ...] = ()) -> list[tuple[int | None, Node]]:
    """(search rank, node) of the top-k valid candidates by search score, then the seed (the
    baseline every improvement claim is measured against) and the `extra` nodes (the run's own
    best where noise-aware promotion chose it, the nodes claims name) not among them."""
    ranked = sorted(
        (
            n
            for n in store.nodes(status=NodeStatus.evaluated)
            if n.kind in (NodeKind.seed, NodeKind.candidate) and n.valid and n.score is not None
        ),
        key=lambda n: (-(n.score or 0.0), n.id),
    )
    targets: list[tuple[int | None, Node]] = list(enumerate(ranked[:top_k]))
    seeds = [n for n in store.nodes(kind=NodeKind.seed) if n.valid]
    rank = {n.id: i for i, n in enumerate(ranked)}
    for node in seeds[:1] + [store.get_node(i) for i in extra]:
        if node.valid and all(n.id != node.id for _, n in targets):
            targets.append((rank.get(node.id), node))
    return targets


def _record(store: Any, task: Task, node: Node, rank: int | None, result: Any, origin: str) -> HeldoutRecord:
    """The measurement as a record (evidence blobs stored), its verdict not yet judged."""
    evidence = result.evidence.blobs(store.put_blob)
    return HeldoutRecord(
        node_id=node.id,
        origin=origin,  # type: ignore[arg-type]
        entry=task.spec.heldout.entry if task.spec.heldout else "",
        rank=rank,
        search_score=node.score,
        score=result.score if result.ok else None,
        valid=bool(result.ok),
        metrics=dict(result.metrics),
        failure_kind=result.failure.kind.value if result.failure else None,
        failure_message=result.failure.message if result.failure else None,
        evidence=evidence,
        wall_s=result.wall_s,
        created_at=time.time(),
    )


def evaluate_heldout(
    store: Any,
    task: Task,
    origin: str = "run",
    backend: str = "process",
    image: str | None = None,
    workers: int = 1,
    top_k: int | None = None,
    extra: tuple[int, ...] = (),
) -> list[HeldoutRecord]:
    """Score the top-k candidates (and the seed) on the task's held-out entry and record each.

    Returns one record per candidate, best first; [] when the task declares no held-out split."""
    from syslab.evaluators.harness import evaluate_program
    from syslab.sandbox.executor import make_sandbox

    held = heldout_task(task)
    if held is None or task.spec.heldout is None:
        return []
    targets = heldout_targets(store, top_k or task.spec.heldout.top_k, extra)
    codes = {node.id: store.get_code(node.id) for _, node in targets}
    targets = [(rank, node) for rank, node in targets if codes[node.id] is not None]
    image = image or task.spec.sandbox.image

    def run_one(node_id: int) -> Any:
        # A fresh sandbox per evaluation, as for any other candidate.
        return evaluate_program(held, codes[node_id] or "", make_sandbox(backend, image))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(run_one, [node.id for _, node in targets]))
    task_hash = task.content_hash()
    records = [
        _record(store, task, node, rank, result, origin)
        for (rank, node), result in zip(targets, results, strict=True)
    ]
    # The seed first: with against = "seed" every other verdict is scaled by its values.
    seed_id = next((n.id for _, n in targets if n.kind == NodeKind.seed), None)
    order = sorted(range(len(records)), key=lambda i: records[i].node_id != seed_id)
    seed_record = None
    for i in order:
        record, node = records[i], targets[i][1]
        record.task_hash = task_hash
        judge(task, node, record, seed_record)
        if node.id == seed_id:
            seed_record = record
    return [store.add_heldout(r) for r in records]


def latest_records(store: Any) -> dict[int, HeldoutRecord]:
    """The latest held-out record of every node that has one (none for runs without a split)."""
    return latest_heldout(store.heldout())


def run_heldout(run: Any) -> list[HeldoutRecord]:
    """The end-of-run hook: the search is over, its evaluations are recorded; score the best."""
    if run.task.spec.heldout is None:
        return []
    return evaluate_heldout(
        run.store,
        run.task,
        origin="run",
        backend=run.config.sandbox.backend,
        image=run.config.sandbox.image,
        workers=run.config.executor.workers,
        # With noise-aware promotion the run's best need not be the top search score.
        extra=(run.engine.best.id,) if getattr(run.engine, "best", None) is not None else (),
    )

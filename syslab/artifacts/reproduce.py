"""`syslab reproduce RUN`: re-evaluate a run's claimed candidates and check its claims still hold.

The claimed nodes (every node a claim names: the best and the seed it is compared with) and
the top-k candidates by score are evaluated again, each in a fresh sandbox, from the code
committed in code.git, with the task found at the manifest's `task_dir` (or `task_dir=`).

Tolerance: the best candidate is evaluated twice first. If both runs give identical metrics
the evaluator is treated as deterministic and every comparison must match exactly; otherwise
metrics match when |new - recorded| <= rel_tol * max(|new|, |recorded|) (default 5%). A claim
is `supported` when every node it names reproduces its claim metric, `refuted` otherwise; the
statuses are written back to logic.yaml and the full comparison to `reproduction.json`.
The task dir's content hash is compared with the manifest's, so a changed evaluator is named.
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel, Field

from syslab.artifacts.heldout_rows import HeldoutRecord
from syslab.artifacts.logic import load_logic, save_logic
from syslab.artifacts.schema import Node, NodeKind, NodeStatus
from syslab.artifacts.store import RunStore
from syslab.errors import SyslabError

REPORT_FILE = "reproduction.json"
DEFAULT_REL_TOL = 0.05


class NodeReproduction(BaseModel):
    node_id: int
    recorded: dict[str, float]
    reproduced: dict[str, float] = Field(default_factory=dict)
    recorded_valid: bool
    reproduced_valid: bool = False
    failure: str | None = None
    mismatches: list[str] = Field(default_factory=list)  # "metric: recorded -> reproduced"

    @property
    def ok(self) -> bool:
        return not self.mismatches


class ClaimReproduction(BaseModel):
    claim_id: str
    previous_status: str
    status: str
    reason: str


class ReproductionReport(BaseModel):
    run_dir: str
    task_dir: str
    task_hash_recorded: str
    task_hash_now: str
    evaluator_changed: bool
    deterministic: bool
    tolerance: str  # "exact" or "rel 0.05"
    nodes: list[NodeReproduction]
    claims: list[ClaimReproduction]
    started_at: float
    wall_s: float
    heldout: list[HeldoutRecord] = Field(default_factory=list)  # the top-k re-scored held-out

    @property
    def ok(self) -> bool:
        # A top-k candidate that overfits is reported; it fails the check only through a claim.
        return all(n.ok for n in self.nodes) and all(c.status != "refuted" for c in self.claims)


def _close(a: float, b: float, rel_tol: float) -> bool:
    if a == b:
        return True
    if math.isnan(a) and math.isnan(b):
        return True
    return rel_tol > 0 and abs(a - b) <= rel_tol * max(abs(a), abs(b))


def compare(node: Node, result: object, rel_tol: float) -> NodeReproduction:
    """Compare a node's recorded metrics and validity with a fresh EvaluationResult."""
    rep = NodeReproduction(
        node_id=node.id,
        recorded=dict(node.metrics),
        reproduced=dict(result.metrics),  # type: ignore[attr-defined]
        recorded_valid=node.valid,
        reproduced_valid=bool(result.ok),  # type: ignore[attr-defined]
        failure=(f"{result.failure.kind.value}: {result.failure.message}" if result.failure else None),  # type: ignore[attr-defined]
    )
    if rep.recorded_valid != rep.reproduced_valid:
        rep.mismatches.append(f"valid: {rep.recorded_valid} -> {rep.reproduced_valid}")
    for name, old in sorted(node.metrics.items()):
        new = rep.reproduced.get(name)
        if new is None:
            rep.mismatches.append(f"{name}: {old:.6g} -> missing")
        elif not _close(old, new, rel_tol):
            rep.mismatches.append(f"{name}: {old:.6g} -> {new:.6g}")
    return rep


def _same(a: object, b: object) -> bool:
    return a.metrics == b.metrics and a.ok == b.ok  # type: ignore[attr-defined]


def _targets(store: RunStore, top_k: int, claim_nodes: list[int]) -> list[Node]:
    ranked = sorted(
        (
            n
            for n in store.nodes(status=NodeStatus.evaluated)
            if n.kind != NodeKind.analysis and n.valid and n.score is not None
        ),
        key=lambda n: (-(n.score or 0.0), n.id),
    )
    ids = list(dict.fromkeys([*(n.id for n in ranked[: max(top_k, 1)]), *claim_nodes]))
    return [store.get_node(i) for i in ids]


def reproduce_run(
    run_dir: str | Path,
    top_k: int = 3,
    rel_tol: float | None = None,
    task_dir: str | Path | None = None,
    sandbox: str | None = None,
    workers: int = 1,
    update: bool = True,
) -> ReproductionReport:
    """Re-evaluate the claimed and top-k candidates of a run and update its claim statuses.

    `rel_tol` forces a relative tolerance (0 = exact) instead of detecting determinism.
    `update=False` leaves logic.yaml and reproduction.json untouched.
    """
    from syslab.evaluators.harness import evaluate_program
    from syslab.sandbox.executor import make_sandbox
    from syslab.task import load_task

    run_dir = Path(run_dir)
    t0, started = time.monotonic(), time.time()
    store = RunStore.open(run_dir, readonly=True)
    run_dir = store.run_dir  # the run itself, also when given the --out directory holding it
    try:
        man = store.manifest
        tdir = Path(task_dir) if task_dir is not None else Path(man.task_dir)
        if not (tdir / "task.toml").is_file():
            raise SyslabError(
                f"{run_dir}/manifest.json: task_dir {tdir} has no task.toml; pass the task dir explicitly"
            )
        task = load_task(tdir)
        now_hash = task.content_hash()
        backend = sandbox or str(man.config.get("sandbox", {}).get("backend") or "process")
        image = man.config.get("sandbox", {}).get("image") or task.spec.sandbox.image
        logic = load_logic(run_dir)
        claim_nodes = sorted({i for c in (logic.claims if logic else []) for i in c.node_ids})
        targets = _targets(store, top_k, claim_nodes)
        codes = {n.id: store.get_code(n.id) for n in targets}
    finally:
        store.close()
    missing = [i for i, c in codes.items() if c is None]
    if missing:
        raise SyslabError(f"{run_dir}: nodes {missing} have no committed code to re-evaluate")

    def evaluate(node_id: int) -> object:
        # A fresh sandbox per evaluation: nothing carries over between candidates.
        return evaluate_program(task, codes[node_id], make_sandbox(backend, image))

    results: dict[int, object] = {}
    deterministic = False
    if rel_tol is None and targets:
        first = targets[0].id
        a, b = evaluate(first), evaluate(first)
        deterministic = _same(a, b)
        results[first] = a
        tol = 0.0 if deterministic else DEFAULT_REL_TOL
    else:
        tol = float(rel_tol or 0.0)
    todo = [n.id for n in targets if n.id not in results]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for nid, res in zip(todo, pool.map(evaluate, todo), strict=True):
            results[nid] = res
    node_reps = {n.id: compare(n, results[n.id], tol) for n in targets}

    claim_reps: list[ClaimReproduction] = []
    if logic is not None:
        for claim in logic.claims:
            checked = [node_reps[i] for i in claim.node_ids if i in node_reps]
            if not checked:
                continue
            metric = claim.metric
            bad = [
                r
                for r in checked
                if (r.recorded_valid != r.reproduced_valid)
                or (metric and any(m.startswith(f"{metric}:") for m in r.mismatches))
                or (not metric and r.mismatches)
            ]
            status = "refuted" if bad else "supported"
            how = "exact" if tol == 0 else f"rel {tol:g}"
            if bad:
                reason = "; ".join(f"node {r.node_id}: " + ", ".join(r.mismatches) for r in bad)
            else:
                reason = f"{len(checked)} node(s) reproduced {metric or 'all metrics'} ({how})"
            if now_hash != man.task_hash:
                reason += "; the task dir changed since the run (task hash differs)"
            claim_reps.append(
                ClaimReproduction(
                    claim_id=claim.id, previous_status=claim.status, status=status, reason=reason
                )
            )
            claim.status = status  # type: ignore[assignment]
            claim.verified = f"syslab reproduce at {time.strftime('%Y-%m-%d %H:%M:%S')}: {reason}"

    heldout = _reproduce_heldout(
        run_dir, task, logic, claim_reps, backend, image, workers, update, claim_nodes
    )
    report = ReproductionReport(
        heldout=heldout,
        run_dir=str(run_dir),
        task_dir=str(tdir),
        task_hash_recorded=man.task_hash,
        task_hash_now=now_hash,
        evaluator_changed=now_hash != man.task_hash,
        deterministic=deterministic,
        tolerance="exact" if tol == 0 else f"rel {tol:g}",
        nodes=list(node_reps.values()),
        claims=claim_reps,
        started_at=started,
        wall_s=time.monotonic() - t0,
    )
    if update:
        if logic is not None:
            save_logic(run_dir, logic)
        (run_dir / REPORT_FILE).write_text(json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
    return report


def _reproduce_heldout(
    run_dir: Path,
    task: object,
    logic: object,
    claim_reps: list[ClaimReproduction],
    backend: str,
    image: str | None,
    workers: int,
    update: bool,
    claim_nodes: list[int],
) -> list[HeldoutRecord]:
    """Score the top-k on the task's held-out split again (recorded as origin "reproduce" when
    `update`), and let the claims' held-out numbers and statuses follow the new measurements."""
    from syslab.artifacts.heldout_claims import attach_heldout
    from syslab.engine.heldout import evaluate_heldout

    if task.spec.heldout is None:  # type: ignore[attr-defined]
        return []
    store = RunStore.open(run_dir, readonly=not update)
    if not update:  # measure without recording: a store that only pretends to add rows
        store = _Unrecorded(store)  # type: ignore[assignment]
    try:
        records = evaluate_heldout(
            store, task, "reproduce", backend, image, workers, extra=tuple(claim_nodes)
        )  # type: ignore[arg-type]
        if logic is not None:
            before = {c.id: c.status for c in logic.claims}  # type: ignore[attr-defined]
            attach_heldout(logic, store)  # type: ignore[arg-type]
            for claim in logic.claims:  # type: ignore[attr-defined]
                if claim.status != before[claim.id] or claim.heldout_record is not None:
                    rep = next((r for r in claim_reps if r.claim_id == claim.id), None)
                    if rep is None:
                        rep = ClaimReproduction(
                            claim_id=claim.id, previous_status=before[claim.id], status="", reason=""
                        )
                        claim_reps.append(rep)
                    rep.status = claim.status
                    rep.reason = claim.verified.split(" | ")[-1] if claim.verified else rep.reason
    finally:
        store.close()
    return records


class _Unrecorded:
    """A read-only store whose held-out rows stay in memory (reproduce with update=False)."""

    def __init__(self, store: RunStore) -> None:
        self._store, self._rows = store, list(store.heldout())

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def put_blob(self, data: bytes | str) -> str:
        import hashlib

        return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()

    def add_heldout(self, record: HeldoutRecord) -> HeldoutRecord:
        record.id = -len(self._rows) - 1
        self._rows.append(record)
        return record

    def heldout(self, node_id: int | None = None) -> list[HeldoutRecord]:
        return [r for r in self._rows if node_id is None or r.node_id == node_id]

    def close(self) -> None:
        self._store.close()


def print_reproduction(console: object, report: ReproductionReport) -> None:
    from rich.table import Table

    from syslab.cli.terminal import safe

    # A reproduced candidate's failure text and metric names are the candidate's: escaped.
    c = console
    if report.evaluator_changed:
        c.print(  # type: ignore[attr-defined]
            f"[yellow]the task dir changed since the run[/]: hash {safe(report.task_hash_recorded[:12])} "
            f"-> {safe(report.task_hash_now[:12])} ({safe(report.task_dir)})"
        )
    c.print(  # type: ignore[attr-defined]
        f"evaluator {'deterministic' if report.deterministic else 'not shown deterministic'}; "
        f"tolerance {report.tolerance}"
    )
    table = Table("node", "status", "recorded", "reproduced", "mismatches")
    for n in report.nodes:
        fmt = lambda d: ", ".join(f"{k}={v:.6g}" for k, v in sorted(d.items()))  # noqa: E731
        table.add_row(
            str(n.node_id),
            "[green]match[/]" if n.ok else "[red]mismatch[/]",
            safe(fmt(n.recorded)),
            safe(fmt(n.reproduced) or (n.failure or "")),
            safe("; ".join(n.mismatches)),
        )
    c.print(table)  # type: ignore[attr-defined]
    for cl in report.claims:
        colour = "green" if cl.status == "supported" else "red"
        line = f"claim {safe(cl.claim_id)}: [{colour}]{safe(cl.status)}[/] ({safe(cl.reason)})"
        c.print(line)  # type: ignore[attr-defined]
    for r in report.heldout:
        colour = "red" if r.overfit else "green"
        verdict = "overfit" if r.overfit else "holds"
        c.print(f"held-out [{colour}]{verdict}[/]: {safe(r.describe())}")  # type: ignore[attr-defined]
    c.print(f"report: {safe(Path(report.run_dir) / REPORT_FILE)}  ({report.wall_s:.1f}s)")  # type: ignore[attr-defined]

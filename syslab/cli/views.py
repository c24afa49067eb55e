"""Terminal views: a run artifact (show, lineage, diff, the CLI twins of the web UI), the summary
at the end of a run, and one evaluation (`syslab eval`).

Notes, failure messages, metric names, operators and code were written by candidates, LLMs or
another framework: every string from the artifact goes through syslab.cli.terminal before printing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from syslab import metric_text
from syslab.artifacts.heldout_rows import HeldoutRecord, latest_heldout
from syslab.artifacts.schema import NodeKind
from syslab.artifacts.store import RunStore
from syslab.cli.terminal import clean, json_text, safe
from syslab.errors import SyslabError

if TYPE_CHECKING:  # syslab.engine.run imports LangGraph: seconds, and only the type is needed here
    from syslab.engine.run import RunResult
    from syslab.evaluators.base import EvaluationResult
    from syslab.task import MetricSpec


def open_run(run_dir: Path) -> RunStore:
    """The run at `run_dir` (or the one run inside it), read-only."""
    return RunStore.open(run_dir, readonly=True)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.6g}"


def _metric_specs(task_dir: str) -> tuple[str | None, dict[str, MetricSpec]]:
    """(primary metric, every metric's spec) of the run's task; (None, {}) when it moved or changed."""
    from syslab.task import load_task

    try:
        task = load_task(task_dir)
    except SyslabError:  # the task moved or changed: fall back to any shared metric
        return None, {}
    return task.primary_metric, dict(task.spec.metrics)


def _metric_header(name: str, spec: MetricSpec | None) -> str:
    """`excess_pct (%, lower better)`: a metric column says its unit and which way is better."""
    if spec is None:
        return safe(name)
    way = "lower better" if spec.direction.value == "minimize" else "higher better"
    return safe(f"{name} ({spec.unit}, {way})" if spec.unit else f"{name} ({way})")


def _metric_value(value: float | None, spec: MetricSpec | None) -> str:
    return "-" if value is None else metric_text.fmt(value, spec.unit if spec else "")


def _primary_cell(node: Any, primary: str | None, specs: dict[str, MetricSpec]) -> str:
    """A node's primary metric in its own units (its ranking score when the task is unknown)."""
    if primary is None:
        return _fmt(node.score)
    return _metric_value(node.metrics.get(primary), specs.get(primary))


def show_run(console: Console, run_dir: Path, top: int = 10, list_all: bool = False) -> None:
    from syslab.artifacts.provenance import verification_note

    store = open_run(run_dir)
    man = store.manifest
    nodes = [n for n in store.nodes() if n.kind != NodeKind.analysis]
    analyses = store.count_nodes(kind=NodeKind.analysis)
    console.print(
        f"[bold]{safe(man.run_id)}[/]  task [cyan]{safe(man.task_name)}[/]  status {safe(man.status)}  "
        f"proposer {safe(man.proposer)}  seed {man.seed}"
    )
    style = "green" if man.verified else "bold yellow"
    console.print(f"[{style}]{safe(verification_note(man))}[/] ({safe(man.evaluation_mode)} mode)")
    iso = ", ".join(f"{k}={v}" for k, v in sorted(man.isolation.items()))
    console.print(f"isolation: {safe(iso)}")
    evaluated = [n for n in nodes if n.status.value in ("evaluated", "failed") and n.wall_s is not None]
    console.print(f"{len(nodes)} attempts, {len(evaluated)} evaluations, {analyses} analyst notes")
    seed = next((n for n in nodes if n.kind == NodeKind.seed), None)
    best = store.best_node()
    primary, specs = _metric_specs(man.task_dir)
    if seed is not None and best is not None:
        metric = primary or next((k for k in seed.metrics if k in best.metrics), None)
        if metric is not None and metric in seed.metrics and metric in best.metrics:
            spec = specs.get(metric)
            way = f"; {metric_text.better(spec.direction.value)}" if spec else ""
            console.print(
                f"seed {safe(metric)} {_metric_value(seed.metrics[metric], spec)} -> best "
                f"{_metric_value(best.metrics[metric], spec)} (node {best.id}{way})"
                + ("" if man.verified else " [yellow](unverified)[/]")
            )
    _print_spend(console, store)
    heldout = latest_heldout(store.heldout())
    valid = sorted((n for n in nodes if n.valid and n.score is not None), key=lambda n: -n.score)
    # Every metric, the task's order first (primary leading), then any others the evaluator reported;
    # the ranking score is not a column of its own: it is the primary metric, signed.
    seen = {k for n in valid[:top] for k in n.metrics}
    ordered = sorted(specs, key=lambda k: k != primary) if specs else []
    metric_names = [k for k in ordered if k in seen] + sorted(seen - set(ordered))
    title = "best candidates" + ("" if man.verified else " (unverified scores)")
    held_col = ["held-out"] if heldout else []
    headers = [_metric_header(m, specs.get(m)) for m in metric_names]
    table = Table("node", "parent", "op", *headers, *held_col, "note", title=title)
    for n in valid[:top]:
        held = [_heldout_cell(heldout.get(n.id))] if heldout else []
        table.add_row(
            str(n.id),
            str(n.parent_id),
            safe(n.operator),
            *[_metric_value(n.metrics.get(m), specs.get(m)) for m in metric_names],
            *held,
            safe(metric_text.shorten(n.note, 60)),
        )
    console.print(table)
    if heldout:
        print_heldout(console, list(heldout.values()))
    _print_claims(console, run_dir)
    counts: dict[str, list[int]] = {}
    for n in nodes:
        counts.setdefault(n.failure_kind or ("ok" if n.valid else n.status.value), []).append(n.id)
    ft = Table("outcome", "count", "nodes", title="every attempt by outcome")
    for kind, ids in sorted(counts.items(), key=lambda kv: (kv[0] != "ok", kv[0])):
        shown = ", ".join(map(str, ids[:25])) + (" ..." if len(ids) > 25 else "")
        ft.add_row(safe(kind), str(len(ids)), shown)
    console.print(ft)
    if list_all:
        key = primary or "score"
        at = Table(
            "node",
            "parent",
            "status",
            "op",
            _metric_header(key, specs.get(key)),
            "failure",
            title="all nodes",
        )
        for n in nodes:
            at.add_row(
                str(n.id),
                str(n.parent_id),
                n.status.value,
                safe(n.operator),
                _primary_cell(n, primary, specs),
                safe(f"{n.failure_kind or ''} {(n.failure_message or '')[:60]}"),
            )
        console.print(at)
    store.close()


def _print_spend(console: Console, store: RunStore) -> None:
    """LLM spend by model, from the recorded calls (retries included in their attempts)."""
    by_model: dict[str, list[float]] = {}
    for call in store.llm_calls():
        calls, tokens, cost, failed = by_model.setdefault(call.model, [0, 0, 0.0, 0])
        by_model[call.model] = [
            calls + 1, tokens + call.prompt_tokens + call.completion_tokens, cost + call.cost_usd,
            failed + (1 if call.error else 0),
        ]  # fmt: skip
    for model, (calls, tokens, cost, failed) in sorted(by_model.items()):
        errors = f", {int(failed)} failed" if failed else ""
        console.print(f"LLM {safe(model)}: {int(calls)} calls{errors}, {int(tokens)} tokens, ${cost:.4f}")


def _print_claims(console: Console, run_dir: Path) -> None:
    from syslab.artifacts.logic import load_logic

    logic = load_logic(run_dir)
    for c in logic.claims if logic else []:
        colour = {"supported": "green", "refuted": "red"}.get(c.status, "yellow")
        numbers = f" [n={c.n}" + (f", mean {_fmt(c.mean)}" if c.mean is not None else "")
        numbers += (f", interval [{_fmt(c.interval[0])}, {_fmt(c.interval[1])}]" if c.interval else "") + "]"
        console.print(
            f"claim {safe(c.id)}: [{colour}]{safe(c.status)}[/] {safe(c.statement)}{safe(numbers) if c.n else ''}"
        )
        if c.verified:
            console.print(f"  {safe(c.verified)}")


def _heldout_cell(record: HeldoutRecord | None) -> str:
    if record is None:
        return "-"
    if not record.valid:
        return "[red]failed[/]"
    return f"[red]{_fmt(record.heldout_value)} overfit[/]" if record.overfit else _fmt(record.heldout_value)


def print_heldout(console: Console, records: list[HeldoutRecord]) -> None:
    """Search value beside held-out value of each candidate scored held-out; overfit ones in red."""
    table = Table("node", "rank", "metric", "search", "held-out", "gap", "tolerance", "verdict", "origin")
    table.title = "held-out evaluation (data the search never saw)"
    for r in sorted(records, key=lambda r: (r.rank is None, r.rank or 0, r.node_id)):
        verdict = "[red]overfit[/]" if r.overfit else "[green]holds[/]"
        failure = (
            f" ({safe(r.failure_kind or '')}: {safe((r.failure_message or '')[:60])})" if not r.valid else ""
        )
        table.add_row(
            str(r.node_id),
            "seed" if r.rank is None else str(r.rank + 1),
            safe(r.metric),
            _fmt(r.search_value),
            _fmt(r.heldout_value) + failure,
            _fmt(r.gap),
            f"{r.tolerance:g} " + (r.against if r.against != "search" else "rel" if r.relative else "abs"),
            verdict,
            r.origin,
        )
    console.print(table)


def show_lineage(console: Console, run_dir: Path, node_id: int) -> None:
    from syslab.artifacts.graph import lineage, load_graph

    store = open_run(run_dir)
    try:
        store.get_node(node_id)
    except KeyError:
        raise SyslabError(f"{run_dir}: no node {node_id}") from None
    graph = load_graph(store)
    primary, specs = _metric_specs(store.manifest.task_dir)
    key = primary or "score"
    table = Table(
        "node", "op", _metric_header(key, specs.get(key)), "note", title=f"lineage of node {node_id}"
    )
    for nid in lineage(graph, node_id):
        n = store.get_node(nid)
        table.add_row(
            str(n.id),
            safe(n.operator),
            _primary_cell(n, primary, specs),
            safe(metric_text.shorten(n.note, 70)),
        )
    console.print(table)
    store.close()


def show_diff(console: Console, run_dir: Path, node_id: int, other: int | None = None) -> None:
    store = open_run(run_dir)
    try:
        store.get_node(node_id)
        if other is not None:
            store.get_node(other)
    except KeyError as e:
        raise SyslabError(f"{run_dir}: no node {e}") from None
    text = store.diff(node_id, other)
    if not text.strip():
        console.print("(no difference)")
    else:
        # Syntax highlights tokens, it does not parse markup; control characters still need showing.
        console.print(Syntax(clean(text), "diff", theme="ansi_dark", word_wrap=True))
    store.close()


def print_run_result(console: Console, result: RunResult) -> None:
    """What `syslab run` and `syslab resume` print when the run ends."""
    from syslab.task import UNVERIFIED_NOTE

    # Metric names and failure kinds can come from a shared-mode candidate: every name is escaped.
    metric_line = ", ".join(f"{safe(k)}={v:.6g}" for k, v in sorted(result.best_metrics.items()))
    console.print(
        f"[bold green]done[/] ({safe(result.stop_reason)}) in {result.wall_s:.1f}s: "
        f"{result.evaluations} evaluations, {result.nodes} nodes, proposer {safe(result.proposer)}"
    )
    d, unit, name = result.direction, result.unit, safe(result.primary or "score")
    console.print(
        f"seed {name} {metric_text.fmt(metric_text.from_score(result.seed_score, d), unit)}  ->  best "
        f"{metric_text.fmt(metric_text.from_score(result.best_score, d), unit)} (node {result.best_node_id}; "
        f"{metric_text.better(d)})" + ("" if result.verified else "  [yellow](unverified)[/]")
    )
    if metric_line:
        console.print(f"best metrics: {metric_line}")
    if not result.verified:
        console.print(f"[yellow]{safe(UNVERIFIED_NOTE)}[/]")
    if result.failures:
        console.print("failures: " + ", ".join(f"{safe(k)}={v}" for k, v in sorted(result.failures.items())))
    for model, s in sorted(result.spend.items()):
        console.print(
            f"spend {safe(model)}: {s.get('calls', 0)} calls, {s.get('tokens', 0)} tokens, "
            f"${s.get('cost_usd', 0):.4f}"
        )
    if result.heldout:
        print_heldout(console, result.heldout)
    run_dir = safe(result.run_dir)
    console.print(f"artifact: [cyan]{run_dir}[/]  (syslab show {run_dir})")


def print_evaluation(console: Console, result: EvaluationResult, as_json: bool) -> None:
    """`syslab eval` output. The failure message, traceback, stage and (shared mode) metric names
    are the candidate's to choose: printed through syslab.cli.terminal, never interpreted."""
    from syslab.artifacts.provenance import VERIFIED_NOTE
    from syslab.task import UNVERIFIED_NOTE

    note = VERIFIED_NOTE if result.verified else UNVERIFIED_NOTE
    if as_json:
        data = json.loads(result.model_dump_json())
        data["verification_note"] = note
        sys.stdout.write(json_text(data) + "\n")
        return
    status = "[green]valid[/]" if result.ok else "[red]invalid[/]"
    unverified = "" if result.verified else "  [yellow](unverified)[/]"
    console.print(
        f"{status}  score={result.score}  stage={safe(result.stage)}  wall={result.wall_s:.2f}s{unverified}"
    )
    if not result.verified:
        console.print(f"[yellow]{safe(note)}[/]")
    for k, v in sorted(result.metrics.items()):
        console.print(f"  {safe(k)} = {v:.6g}")
    if result.failure:
        console.print(f"[red]{result.failure.kind.value}[/]: {safe(result.failure.message)}")
        if result.evidence.traceback:
            console.print(clean(result.evidence.traceback[-2000:]), markup=False, highlight=False)

"""What the browse page shows, computed from a run store opened read-only.

`RunView` keeps the run's nodes in memory and pulls only what changed since the last look
(`nodes_changed` by revision, `edges_after` by sequence number), so polling a live run costs one
small query when nothing happened. Every method returns plain JSON-able dicts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from syslab.artifacts.logic import load_logic
from syslab.artifacts.provenance import provenance
from syslab.artifacts.schema import EdgeKind, Node, NodeKind
from syslab.artifacts.store import RunStore
from syslab.errors import SyslabError
from syslab.web.layout import tree_layout

KIND_CODE = {"seed": 0, "candidate": 1, "analysis": 2}
STATUS_CODE = {"pending": 0, "running": 1, "evaluated": 2, "failed": 3, "interrupted": 4}
TEXT_CAP = 200_000  # characters of one evidence text put inline in the node panel


def task_metrics(task_dir: str) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """(primary metric, {name: unit, direction, primary, description}) from the run's task, so the
    page shows metrics in their own units and direction; (None, {}) when the task moved."""
    from syslab.task import load_task

    try:
        task = load_task(task_dir)
    except Exception:  # a moved or changed task: the page falls back to the raw score
        return None, {}
    specs = {k: m.model_dump(mode="json") for k, m in task.spec.metrics.items()}
    return task.primary_metric, specs


def full_note(node: Node) -> str:
    """The note as the analyst wrote it: an analysis node's stored note is its guidance's first line
    cut at 200 characters (mid-word), and the whole line is still in its data."""
    guidance = node.data.get("guidance") if node.kind == NodeKind.analysis else None
    if isinstance(guidance, str) and guidance.strip():
        first = guidance.strip().splitlines()[0]
        if first.startswith(node.note) and len(first) > len(node.note):
            return first
    return node.note


def _finite(v: float | None) -> float | None:
    return v if v is not None and v == v and abs(v) != float("inf") else None


def _open_store(run_dir: Path, wait_s: float = 10.0) -> RunStore:
    """Open read-only; a run that has just started may have its database file but not yet its
    tables, so wait a little for them rather than fail."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            store = RunStore.open(run_dir, readonly=True)
            return store
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise SyslabError(f"{run_dir}: syslab.db has no run tables (still being created?)") from None
            time.sleep(0.1)


class RunView:
    """One registered run: its store (read-only), nodes in memory, and derived views."""

    def __init__(self, run_id: str, run_dir: Path):
        self.run_id = run_id
        self.run_dir = Path(run_dir)
        self.store = _open_store(self.run_dir)
        self.evidence_root = (self.run_dir / "evidence").resolve()
        self.primary_metric, self.metric_specs = task_metrics(self.store.manifest.task_dir)
        self.nodes: dict[int, Node] = {}
        self.analysis_of: dict[int, set[int]] = defaultdict(set)  # analysis node -> candidates
        self.mentioned_by: dict[int, set[int]] = defaultdict(set)  # candidate -> analysis nodes
        self.crossover: list[tuple[int, int]] = []
        self.rev = 0
        self.edge_seq = 0
        self._lock = threading.Lock()
        self._graph: dict[str, Any] | None = None
        self._code_len: dict[int, int] = {}
        self.signatures: dict[int, object] = {}  # node id -> MinHash signature (code never changes)
        self.cache: dict[str, tuple[int, Any]] = {}  # view name -> (rev it was computed at, value)
        self.refresh()

    def refresh(self) -> bool:
        """Pull what changed in the store; True when something did."""
        with self._lock:
            changed, rev = self.store.nodes_changed(self.rev)
            edges, seq = self.store.edges_after(self.edge_seq)
            for node in changed:
                self.nodes[node.id] = node
            for e in edges:
                kind = EdgeKind(e.kind)
                if kind == EdgeKind.analysis_of:
                    self.analysis_of[e.src].add(e.dst)
                    self.mentioned_by[e.dst].add(e.src)
                elif kind == EdgeKind.crossover:
                    self.crossover.append((e.src, e.dst))
            moved = rev != self.rev or seq != self.edge_seq
            self.rev, self.edge_seq = rev, seq
            if moved:
                self._graph = None
            return moved

    @property
    def manifest(self) -> dict[str, Any]:
        m = self.store.manifest
        return {
            "run_id": self.run_id,
            "task_name": m.task_name,
            "status": m.status,
            "proposer": m.proposer,
            "seed": m.seed,
            "created_at": m.created_at,
            "finished_at": m.finished_at,
            "search": m.config.get("search", {}),
            "primary_metric": self.primary_metric,
            "metric_specs": self.metric_specs,
            **provenance(m),  # verified, evaluation_mode, verification_note: the page's badge
        }

    # -- graph -------------------------------------------------------------------------------

    def graph(self) -> dict[str, Any]:
        """Compact arrays for the renderer (cached until the store changes)."""
        with self._lock:
            if self._graph is None:
                self._graph = self._build_graph()
            return self._graph

    def _build_graph(self) -> dict[str, Any]:
        nodes = [self.nodes[i] for i in sorted(self.nodes)]
        ids = [n.id for n in nodes]
        x, y = tree_layout(
            ids,
            [n.parent_id for n in nodes],
            [n.island for n in nodes],
            [n.kind == NodeKind.analysis for n in nodes],
            self.analysis_of,
        )
        fails = sorted({n.failure_kind for n in nodes if n.failure_kind})
        ops = sorted({n.operator for n in nodes})
        fidx = {k: i for i, k in enumerate(fails)}
        oidx = {k: i for i, k in enumerate(ops)}
        best = self._best_id()
        path: list[int] = []
        seen: set[int] = set()
        cur = best
        while cur is not None and cur in self.nodes and cur not in seen:
            path.append(cur)
            seen.add(cur)
            cur = self.nodes[cur].parent_id
        # Every metric any node reports (the task's first, in its order), one value per node.
        names = list(self.metric_specs) + sorted(
            {k for n in nodes for k in n.metrics} - set(self.metric_specs)
        )
        metrics = {
            k: [_finite(n.metrics.get(k)) if n.valid and n.kind != NodeKind.analysis else None for n in nodes]
            for k in names
        }
        return {
            "run_id": self.run_id,
            "rev": self.rev,
            "edge_seq": self.edge_seq,
            "status": self.store.manifest.status,
            "id": ids,
            "parent": [n.parent_id if n.parent_id is not None else -1 for n in nodes],
            "island": [n.island for n in nodes],
            "kind": [KIND_CODE[n.kind.value] for n in nodes],
            "status_code": [STATUS_CODE[n.status.value] for n in nodes],
            "score": [_finite(n.score) for n in nodes],
            "valid": [1 if n.valid else 0 for n in nodes],
            "fail": [fidx[n.failure_kind] if n.failure_kind else -1 for n in nodes],
            "op": [oidx[n.operator] for n in nodes],
            "x": x,
            "y": y,
            "failure_kinds": fails,
            "operators": ops,
            "statuses": list(STATUS_CODE),
            "best": best,
            "best_path": path[::-1],
            "crossover": [list(e) for e in self.crossover],
            "metrics": metrics,
            "primary_metric": self.primary_metric,
            "metric_specs": self.metric_specs,
        }

    def _best_id(self) -> int | None:
        best: tuple[float, int] | None = None
        for n in self.nodes.values():
            if n.kind != NodeKind.analysis and n.valid and n.status.value == "evaluated":
                s = _finite(n.score)
                if s is not None and (best is None or (s, -n.id) > (best[0], -best[1])):
                    best = (s, n.id)
        return None if best is None else best[1]

    def search(self, query: str, limit: int = 2000) -> list[int]:
        """Ids of nodes whose id, operator, note, failure or analyst text contains `query`."""
        q = query.strip().lower()
        if not q:
            return []
        exact = int(q.lstrip("#")) if q.lstrip("#").isdigit() else None
        out = []
        with self._lock:
            nodes = list(self.nodes.values())
        for n in sorted(nodes, key=lambda n: n.id):
            hay = " ".join(
                (n.operator, n.note, n.failure_kind or "", n.failure_message or "", n.model or "")
            ).lower()
            if n.kind == NodeKind.analysis:
                hay += " " + json.dumps(n.data).lower()
            if n.id == exact or q in hay:
                out.append(n.id)
                if len(out) >= limit:
                    break
        return out

    # -- node panel --------------------------------------------------------------------------

    def evidence_text(self, sha: str) -> str | None:
        try:
            data = self.store.get_blob(sha)
        except Exception:  # a missing blob is shown as missing, not as an error page
            return None
        text = data.decode("utf-8", errors="replace")
        return text if len(text) <= TEXT_CAP else text[:TEXT_CAP] + f"\n... ({len(text)} characters in all)"

    def node_detail(self, node_id: int) -> dict[str, Any] | None:
        self.refresh()
        node = self.nodes.get(node_id)
        if node is None:
            return None
        # Every node of a run was scored the same way (one task, one mode): the run's provenance.
        out: dict[str, Any] = {"node": node.model_dump(mode="json"), **provenance(self.store.manifest)}
        out["node"]["note"] = full_note(node)
        out["code"] = self.store.get_code(node_id) if node.commit else None
        out["diff"] = self.store.diff(node_id) if node.commit and node.parent_id is not None else None
        out["evidence"] = {
            name: {"sha256": sha, "text": self.evidence_text(sha)} for name, sha in node.evidence.items()
        }
        calls = []
        for c in self.store.llm_calls(node_id):
            d = c.model_dump(mode="json")
            d["prompt"] = self.evidence_text(c.prompt_sha)
            d["response"] = self.evidence_text(c.response_sha) if c.response_sha else None
            calls.append(d)
        out["llm_calls"] = calls
        out["children"] = sorted(n.id for n in self.nodes.values() if n.parent_id == node_id)
        notes = []
        for aid in sorted(self.mentioned_by.get(node_id, ())):
            a = self.nodes.get(aid)
            if a is not None:
                notes.append({"id": aid, "note": full_note(a), "model": a.model, "data": a.data})
        out["analyst_notes"] = notes
        out["analysis_of"] = sorted(self.analysis_of.get(node_id, ()))
        # Held-out measurements (after the search, never seen by it): newest last.
        out["heldout"] = [r.model_dump(mode="json") for r in self.store.heldout(node_id)]
        logic = load_logic(self.run_dir)
        if logic is not None:
            out["claims"] = [c.model_dump(mode="json") for c in logic.claims if node_id in c.node_ids]
            out["hypotheses"] = [
                h.model_dump(mode="json")
                for h in logic.hypotheses
                if node_id in h.node_ids or h.source_node == node_id
            ]
            out["dead_ends"] = [
                d.model_dump(mode="json")
                for d in logic.dead_ends
                if node_id in d.node_ids or d.source_node == node_id
            ]
        else:
            out["claims"], out["hypotheses"], out["dead_ends"] = [], [], []
        return out

    def logic(self) -> dict[str, Any] | None:
        logic = load_logic(self.run_dir)
        return None if logic is None else logic.model_dump(mode="json")

    def code_length(self, node_id: int) -> int:
        if node_id not in self._code_len:
            self._code_len[node_id] = len(self.store.get_code(node_id) or "")
        return self._code_len[node_id]

    def close(self) -> None:
        self.store.close()

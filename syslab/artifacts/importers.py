"""Import another framework's run as a syslab artifact (browse, review and export it the same way).

- OpenEvolve: a checkpoint directory `checkpoint_N/` with `metadata.json` (islands, best_program_id,
  ...) and `programs/<id>.json` (id, code, parent_id, generation, timestamp, iteration_found,
  metrics, metadata{island, ...}). Score = metrics["combined_score"] when present, else the mean
  of the numeric metrics (OpenEvolve's own fallback). A program whose metrics carry an `error`
  or no numbers is recorded as a failure.
- ShinkaEvolve: the SQLite `programs` table (id, code, parent_id, generation, timestamp,
  combined_score, public_metrics / private_metrics JSON, correct, island_idx, text_feedback,
  archive_inspiration_ids / top_k_inspiration_ids JSON, metadata JSON). `correct = 0` is a failure.

Each program becomes a node (parents first; the oldest root is the seed), its code a commit in
code.git, its raw record an evidence blob; inspirations become inspiration edges. The logic layer
(best-vs-seed claim, failure dead ends, pivots) is derived as at the end of a syslab run.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import sqlite3
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

import syslab
from syslab.artifacts.logic import conclude_run
from syslab.artifacts.schema import Edge, EdgeKind, Manifest, Node, NodeKind, NodeStatus
from syslab.artifacts.store import RunStore
from syslab.errors import SpecError

SCORE_METRIC = "combined_score"


class Program(BaseModel):
    """A framework-neutral program record."""

    ext_id: str
    code: str
    parent: str | None = None
    inspirations: list[str] = Field(default_factory=list)
    generation: int = 0
    island: int = 0
    timestamp: float = 0.0
    metrics: dict[str, float] = Field(default_factory=dict)
    score: float | None = None
    valid: bool = True
    failure: str | None = None
    note: str = ""
    raw: dict[str, Any] = Field(default_factory=dict)


def _numbers(d: Any) -> dict[str, float]:
    if not isinstance(d, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in d.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))
    }


def _json(value: Any, default: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return default if value is None else value


def read_openevolve(checkpoint_dir: Path) -> tuple[list[Program], dict[str, Any]]:
    meta_path = checkpoint_dir / "metadata.json"
    progs_dir = checkpoint_dir / "programs"
    if not progs_dir.is_dir():
        raise SpecError(checkpoint_dir, "programs/", "not an OpenEvolve checkpoint (no programs/ directory)")
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError as e:
            raise SpecError(meta_path, "(root)", f"invalid JSON ({e})") from None
    programs = []
    for path in sorted(progs_dir.glob("*.json")):
        try:
            d = json.loads(path.read_text())
        except ValueError as e:
            raise SpecError(path, "(root)", f"invalid JSON ({e})") from None
        if not isinstance(d, dict) or not isinstance(d.get("code"), str) or not d.get("id"):
            raise SpecError(path, "id/code", "field 'id' or 'code' missing")
        metrics = _numbers(d.get("metrics"))
        md = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
        raw_metrics = d.get("metrics") if isinstance(d.get("metrics"), dict) else {}
        # OpenEvolve records a failed evaluation as metrics {"error": ...}.
        failure = None
        if "error" in raw_metrics:
            failure = f"evaluator error: {raw_metrics['error']}"
            metrics.pop("error", None)
        elif not metrics:
            failure = "no metrics recorded"
        score = metrics.get(SCORE_METRIC)
        if score is None and metrics:
            score = sum(metrics.values()) / len(metrics)
        programs.append(
            Program(
                ext_id=str(d["id"]),
                code=d["code"],
                parent=str(d["parent_id"]) if d.get("parent_id") else None,
                generation=int(d.get("generation") or 0),
                island=int(md.get("island") or 0),
                timestamp=float(d.get("timestamp") or 0.0),
                metrics=metrics,
                score=None if failure else score,
                valid=failure is None,
                failure=failure,
                note=str(d.get("changes_description") or md.get("changes") or "")[:300],
                raw=d,
            )
        )
    return programs, meta


def read_shinka(db_path: Path) -> tuple[list[Program], dict[str, Any]]:
    if not db_path.is_file():
        raise SpecError(db_path, "(file)", "no such ShinkaEvolve database")
    uri = f"file:{db_path.resolve()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM programs").fetchall()
        meta_rows = []
        try:
            meta_rows = conn.execute("SELECT key, value FROM metadata_store").fetchall()
        except sqlite3.Error:
            pass
    except sqlite3.Error as e:
        raise SpecError(db_path, "programs", f"not a ShinkaEvolve database ({e})") from None
    finally:
        conn.close()
    programs = []
    for r in rows:
        d = dict(r)
        if not d.get("id") or not isinstance(d.get("code"), str):
            raise SpecError(db_path, "programs.id/code", "a row without 'id' or 'code'")
        public = _numbers(_json(d.get("public_metrics"), {}))
        private = _numbers(_json(d.get("private_metrics"), {}))
        metrics = {**{f"private_{k}": v for k, v in private.items()}, **public}
        score = d.get("combined_score")
        if isinstance(score, int | float) and math.isfinite(float(score)):
            metrics[SCORE_METRIC] = float(score)
        correct = bool(d.get("correct"))
        feedback = d.get("text_feedback") or ""
        inspirations = [
            str(x)
            for key in ("archive_inspiration_ids", "top_k_inspiration_ids")
            for x in (_json(d.get(key), []) or [])
        ]
        md = _json(d.get("metadata"), {}) or {}
        programs.append(
            Program(
                ext_id=str(d["id"]),
                code=d["code"],
                parent=str(d["parent_id"]) if d.get("parent_id") else None,
                inspirations=inspirations,
                generation=int(d.get("generation") or 0),
                island=int(d.get("island_idx") or 0),
                timestamp=float(d.get("timestamp") or 0.0),
                metrics=metrics,
                score=metrics.get(SCORE_METRIC) if correct else None,
                valid=correct,
                failure=None if correct else f"incorrect: {str(feedback)[:300] or 'correct = 0'}",
                note=str(md.get("patch_name") or md.get("patch_description") or "")[:300],
                raw={
                    k: v
                    for k, v in d.items()
                    if k not in ("embedding", "embedding_pca_2d", "embedding_pca_3d")
                },
            )
        )
    return programs, {str(k): v for k, v in meta_rows}


def _ordered(programs: list[Program]) -> list[Program]:
    """Parents before children (generation, then time), so every parent exists when its child is added."""
    by_id = {p.ext_id: p for p in programs}
    out: list[Program] = []
    state: dict[str, int] = {}
    for start in sorted(programs, key=lambda p: (p.generation, p.timestamp, p.ext_id)):
        chain = []
        cur: Program | None = start
        while cur is not None and state.get(cur.ext_id) is None:
            state[cur.ext_id] = 1
            chain.append(cur)
            cur = by_id.get(cur.parent) if cur.parent else None
        out.extend(reversed(chain))
    return out


def _source_hash(path: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def import_programs(
    programs: list[Program], source: Path, framework: str, out_dir: Path, meta: dict[str, Any]
) -> Path:
    if not programs:
        raise SpecError(source, "programs", "no programs to import")
    manifest = Manifest(
        syslab_version=syslab.__version__,
        run_id=out_dir.name,
        task_name=f"{framework}:{source.resolve().name}",
        task_dir=str(source.resolve()),
        task_hash=_source_hash(source),
        seed=0,
        config={"imported_from": framework, "source": str(source.resolve()), "source_metadata": meta},
        platform={"python": platform.python_version(), "system": platform.system(), "imported": "yes"},
        isolation={"backend": f"unknown (imported from {framework})"},
        proposer=framework,
        created_at=min((p.timestamp for p in programs if p.timestamp), default=time.time()),
        status="finished",
        finished_at=time.time(),
        evaluation_mode="imported",  # scored by the other framework, candidate in its scorer's process
        verified=False,
    )
    store = RunStore.create(out_dir, manifest)
    ids: dict[str, int] = {}
    try:
        with store.transaction():
            for i, p in enumerate(_ordered(programs)):
                parent = ids.get(p.parent) if p.parent else None
                failed = p.failure is not None
                node = Node(
                    id=i,
                    kind=NodeKind.seed if i == 0 else NodeKind.candidate,
                    status=NodeStatus.failed if failed else NodeStatus.evaluated,
                    parent_id=parent,
                    island=p.island,
                    generation=p.generation,
                    operator=f"{framework}:{'seed' if i == 0 else 'program'}",
                    score=p.score,
                    valid=p.valid and not failed,
                    stage="main",
                    metrics=p.metrics,
                    failure_kind="imported_failure" if failed else None,
                    failure_message=p.failure,
                    created_at=p.timestamp or time.time(),
                    finished_at=p.timestamp or None,
                    note=(p.note or f"{framework} program {p.ext_id}")[:300],
                    data={"external_id": p.ext_id, "framework": framework},
                )
                node.evidence["raw_record"] = store.put_blob(json.dumps(p.raw, sort_keys=True, default=str))
                if p.parent and parent is None:
                    node.data["missing_parent"] = p.parent
                store.add_node(node, code=p.code)
                ids[p.ext_id] = i
            for p in programs:
                for insp in p.inspirations:
                    if insp in ids and ids[insp] < ids[p.ext_id]:
                        store.add_edge(Edge(src=ids[insp], dst=ids[p.ext_id], kind=EdgeKind.inspiration))
        conclude_run(
            store,
            f"Imported {framework} run from {source}: which program maximises {SCORE_METRIC}?",
            manifest.task_name,
            SCORE_METRIC,
        )
    finally:
        store.close()
    return out_dir


def _default_out(source: Path, framework: str) -> Path:
    base = Path("runs") / f"{framework}-{source.resolve().name}-{time.strftime('%Y%m%d-%H%M%S')}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def import_openevolve(checkpoint_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Turn an OpenEvolve checkpoint directory into a syslab run directory; returns its path."""
    src = Path(checkpoint_dir)
    programs, meta = read_openevolve(src)
    return import_programs(
        programs, src, "openevolve", Path(out_dir or _default_out(src, "openevolve")), meta
    )


def import_shinka(db_path: str | Path, out_dir: str | Path | None = None) -> Path:
    """Turn a ShinkaEvolve SQLite database into a syslab run directory; returns its path."""
    src = Path(db_path)
    programs, meta = read_shinka(src)
    return import_programs(programs, src, "shinka", Path(out_dir or _default_out(src, "shinka")), meta)

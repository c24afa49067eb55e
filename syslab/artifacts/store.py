"""RunStore: one run directory = syslab.db (SQLite, WAL) + code.git + evidence/ + manifest.json.

Durability: a node's git objects wait in SQLite in the same transaction as its row (gitpending.py),
and evidence blobs are files written before the row that names them, so a SIGKILL at any moment
leaves a store that opens and lists every node whose `add_node` returned, code included. `flush`
moves waiting objects into code.git (every FLUSH_NODES nodes or FLUSH_SECONDS, on close, on a
writable open); `get_code` and `diff` see waiting objects too, so only raw `git` lags a live run
by at most one batch. A writable open finishes a killed run's flush and rebuilds the refs.

Threads: the run loop writes from one thread, other threads may read; all use one connection
behind a re-entrant lock. Other processes (browse, show) open with `readonly=True`, which works
while a run is writing (WAL readers do not block the writer).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from pydantic import ValidationError

from syslab.artifacts.blobs import BlobStore
from syslab.artifacts.gitpending import PendingGit
from syslab.artifacts.gitrepo import CodeRepo
from syslab.artifacts.noderows import node_values, node_where, row_to_node
from syslab.artifacts.schema import Edge, EdgeKind, Manifest, Node, NodeKind, NodeStatus
from syslab.artifacts.store_records import RunRecords
from syslab.artifacts.tables import (
    BEST_SQL,
    CANDIDATE_KINDS,
    CHANGED_SQL,
    NODE_COLS,
    NODE_INSERT,
    NODE_SELECT,
    NODE_UPDATE,
    UPDATE_COLS,
    init_schema,
)
from syslab.errors import SyslabError, spec_error_from_validation

DB_FILE = "syslab.db"
GIT_DIR = "code.git"
EVIDENCE_DIR = "evidence"
MANIFEST_FILE = "manifest.json"
# Git objects wait in SQLite (durable with their row) and go to code.git as one pack per batch:
# after this many nodes, or this long after the first one waiting, whichever comes first.
FLUSH_NODES = 64
FLUSH_SECONDS = 1.0


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _close_at_exit(ref: weakref.ref) -> None:
    store = ref()
    if store is not None:
        try:
            store.close()
        except Exception:  # at exit a failure to flush must not mask the program's own outcome
            pass


def resolve_run_dir(path: Path | str) -> Path:
    """A run directory, given it or the `--out` directory that holds it: a directory with exactly
    one run in it stands for that run (`syslab run --out DIR` makes DIR/<run id>)."""
    path = Path(path)
    if (path / DB_FILE).is_file():
        return path
    runs = sorted(p for p in path.iterdir() if (p / DB_FILE).is_file()) if path.is_dir() else []
    if len(runs) == 1:
        return runs[0]
    if runs:
        names = ", ".join(p.name for p in runs[:8]) + (", ..." if len(runs) > 8 else "")
        raise SyslabError(f"{path}: holds {len(runs)} runs ({names}): name one of them")
    raise SyslabError(f"{path}: not a syslab run directory (no {DB_FILE}, and no run inside)")


class RunStore(RunRecords):
    """The artifact of one run. Create with `RunStore.create`, reopen with `RunStore.open`."""

    def __init__(self, run_dir: Path, conn: sqlite3.Connection, readonly: bool):
        self.run_dir = Path(run_dir)
        self.readonly = readonly
        self._conn = conn
        self._lock = threading.RLock()
        self._depth = 0
        self._closed = False
        self._git = PendingGit(conn, CodeRepo(self.run_dir / GIT_DIR, readonly=readonly), self._lock)
        self._blobs = BlobStore(self.run_dir / EVIDENCE_DIR, readonly=readonly)
        self._rev = conn.execute("SELECT COALESCE(MAX(rev), 0) FROM nodes").fetchone()[0]
        self._best: tuple[float, int] | None = None
        # A noisy task's best is what its contests promoted (state "best", syslab.engine.contest), which
        # need not be the top mean: then only set_best moves main, and best_node() reads the state.
        self._promoted = conn.execute("SELECT 1 FROM state WHERE key = 'best'").fetchone() is not None
        self._load_best()

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def create(cls, run_dir: Path, manifest: Manifest) -> RunStore:
        run_dir = Path(run_dir)
        if (run_dir / DB_FILE).exists():
            raise SyslabError(f"{run_dir}: already holds a run store ({DB_FILE}); choose a new run directory")
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / EVIDENCE_DIR).mkdir(exist_ok=True)
        CodeRepo.init(run_dir / GIT_DIR)
        _atomic_write(run_dir / MANIFEST_FILE, manifest.model_dump_json(indent=2) + "\n")
        # The database is created last: its presence is what marks a complete store.
        return cls._open_writable(run_dir)

    @classmethod
    def open(cls, run_dir: Path, readonly: bool = False) -> RunStore:
        run_dir = resolve_run_dir(run_dir)
        db = run_dir / DB_FILE
        if readonly:
            uri = f"file:{quote(str(db.resolve()))}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 5000")
            return cls(run_dir, conn, readonly=True)
        return cls._open_writable(run_dir)

    @classmethod
    def _open_writable(cls, run_dir: Path) -> RunStore:
        conn = sqlite3.connect(str(run_dir / DB_FILE), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 5000")
        init_schema(conn)
        store = cls(run_dir, conn, readonly=False)
        store.flush()  # objects a killed run left waiting
        store._repair_refs()
        # A writer that is never closed still flushes when the interpreter exits normally.
        atexit.register(_close_at_exit, weakref.ref(store))
        return store

    def _repair_refs(self) -> None:
        """Rebuild git refs from the rows and drop temp files a killed writer left."""
        self._blobs.remove_temp_files()
        best = self.best_node()
        self._git.repair_refs(best.commit if best and best.commit else None)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            if not self.readonly and self._depth == 0:
                self.flush()
            self._git.repo.close()
            self._conn.close()
            self._closed = True

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[RunStore]:
        """Group several writes into one SQLite commit (nested calls join the outer one)."""
        self._check_writable()
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                    self._git.rolled_back()
                    self._load_best()
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")
                self._git.committed()
                if self._git.due(FLUSH_NODES, FLUSH_SECONDS):
                    self.flush()

    def flush(self) -> None:
        """Move waiting git objects into code.git (one pack, or loose when few), then publish
        their `refs/nodes/<id>` and main. Runs by itself every FLUSH_NODES nodes / FLUSH_SECONDS,
        on close and on a writable open; call it before running git on a live run's code.git."""
        self._check_writable()
        with self._lock:
            if self._depth:
                return  # inside a transaction: its commit will flush
            self._git.flush()

    def _check_writable(self) -> None:
        if self.readonly:
            raise SyslabError(f"{self.run_dir}: store opened read-only")

    # -- manifest ----------------------------------------------------------------------------

    @property
    def manifest(self) -> Manifest:
        path = self.run_dir / MANIFEST_FILE
        try:
            return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as e:
            raise spec_error_from_validation(path, e) from None

    def update_manifest(self, **fields: object) -> Manifest:
        self._check_writable()
        with self._lock:
            data = self.manifest.model_dump()
            data.update(fields)
            try:
                new = Manifest.model_validate(data)
            except ValidationError as e:
                raise spec_error_from_validation(self.run_dir / MANIFEST_FILE, e) from None
            _atomic_write(self.run_dir / MANIFEST_FILE, new.model_dump_json(indent=2) + "\n")
            # A manifest change marks a run milestone (finished, interrupted): bring code.git up
            # to date then, so raw `git` sees every node even if the caller never closes.
            self.flush()
            return new

    # -- evidence ----------------------------------------------------------------------------

    def put_blob(self, data: bytes | str) -> str:
        return self._blobs.put(data)

    def get_blob(self, sha: str) -> bytes:
        return self._blobs.get(sha)

    def blob_path(self, sha: str) -> Path:
        return self._blobs.path(sha)

    # -- nodes -------------------------------------------------------------------------------

    def next_node_id(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COALESCE(MAX(id) + 1, 0) FROM nodes").fetchone()[0]

    def _next_rev(self) -> int:
        self._rev += 1
        return self._rev

    def _write_metrics(self, node: Node, replace: bool) -> None:
        if replace:
            self._conn.execute("DELETE FROM metrics WHERE node_id = ?", (node.id,))
        if node.metrics:
            self._conn.executemany(
                "INSERT INTO metrics (node_id, name, value) VALUES (?, ?, ?)",
                [(node.id, k, v) for k, v in node.metrics.items()],
            )

    def add_node(self, node: Node, code: str | None = None) -> Node:
        """Record a node; with `code`, first commit it to code.git (git parent = nearest
        ancestor's commit) and set `node.commit`. Also records the parent edge."""
        with self.transaction():
            if not node.created_at:
                node.created_at = time.time()
            if code is not None:
                # Stored with the row, in the same SQLite transaction; code.git gets them at flush.
                self._git.stage(node, code)
                if node.code_sha is None:
                    node.code_sha = hashlib.sha256(code.encode("utf-8")).hexdigest()
            try:
                self._conn.execute(NODE_INSERT, [*node_values(node, NODE_COLS), self._next_rev()])
            except sqlite3.IntegrityError:
                raise SyslabError(f"{self.run_dir}: node {node.id} already exists") from None
            self._write_metrics(node, replace=False)
            if node.parent_id is not None:
                self._insert_edge(Edge(src=node.parent_id, dst=node.id, kind=EdgeKind.parent))
            self._consider_best(node)
        return node

    def update_node(self, node: Node) -> None:
        with self.transaction():
            cur = self._conn.execute(
                NODE_UPDATE, [*node_values(node, UPDATE_COLS), self._next_rev(), node.id]
            )
            if cur.rowcount == 0:
                raise SyslabError(f"{self.run_dir}: no node {node.id} to update")
            self._write_metrics(node, replace=True)
            if node.commit is None:
                node.commit = self._conn.execute(
                    'SELECT "commit" FROM nodes WHERE id = ?', (node.id,)
                ).fetchone()[0]
            self._consider_best(node)

    def set_best(self, node_id: int) -> None:
        """Point refs/heads/main at `node_id` now (the run loop's own idea of the best; the store
        also follows the best score by itself, and a writable reopen re-derives it)."""
        with self.transaction():
            row = self._conn.execute('SELECT "commit" FROM nodes WHERE id = ?', (node_id,)).fetchone()
            if row is None:
                raise SyslabError(f"{self.run_dir}: no node {node_id}")
            if row[0]:
                self._git.point_main(row[0])

    def _load_best(self) -> None:
        best = self.top_node()
        self._best = (best.score, best.id) if best and best.score is not None else None

    def _consider_best(self, node: Node) -> None:
        """Move refs/heads/main to a new best candidate (published after commit)."""
        if self._promoted:
            return  # the contests decide the best; set_best moves main
        is_best_kind = (
            node.kind.value in CANDIDATE_KINDS
            and node.status == NodeStatus.evaluated
            and node.valid
            and node.score is not None
        )
        if is_best_kind and (self._best is None or node.score > self._best[0]):
            self._best = (node.score, node.id)
            if node.commit:
                self._git.point_main(node.commit)
        elif self._best is not None and self._best[1] == node.id:
            # The best node got worse (re-evaluated): fall back to a query.
            self._load_best()
            best = self.best_node()
            if best and best.commit:
                self._git.pending_main = best.commit
        elif not self._git.main_set and node.commit:
            self._git.point_main(node.commit)  # no result yet: show the first lineage

    def get_node(self, node_id: int) -> Node:
        with self._lock:
            row = self._conn.execute(NODE_SELECT + " WHERE id = ?", (node_id,)).fetchone()
        if row is None:
            raise SyslabError(f"{self.run_dir}: no node {node_id}")
        return row_to_node(row)

    def nodes(
        self, kind: NodeKind | None = None, status: NodeStatus | None = None, since_id: int | None = None
    ) -> list[Node]:
        """Nodes in id order; `since_id` keeps those with id > since_id."""
        where, args = node_where(kind, status, since_id)
        with self._lock:
            rows = self._conn.execute(NODE_SELECT + where + " ORDER BY id", args).fetchall()
        return [row_to_node(r) for r in rows]

    def count_nodes(self, kind: NodeKind | None = None, status: NodeStatus | None = None) -> int:
        where, args = node_where(kind, status, None)
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM nodes" + where, args).fetchone()[0]

    def nodes_changed(self, since_rev: int = 0) -> tuple[list[Node], int]:
        """Nodes added or updated after revision `since_rev`, and the current revision
        (for incremental views: pass the returned revision next time)."""
        with self._lock:
            rev = self._conn.execute("SELECT COALESCE(MAX(rev), 0) FROM nodes").fetchone()[0]
            rows = self._conn.execute(CHANGED_SQL, (since_rev,)).fetchall()
        return sorted((row_to_node(r) for r in rows), key=lambda n: n.id), rev

    def best_node(self) -> Node | None:
        """The run's best: for a noisy task the node its contests promoted, else the top node."""
        if self._promoted:
            state = self.get_state("best") or {}
            if isinstance(state.get("node_id"), int):
                try:
                    return self.get_node(state["node_id"])
                except SyslabError:
                    pass  # a state naming no node: fall back to the scores
        return self.top_node()

    def top_node(self) -> Node | None:
        """Highest score among valid evaluated seed/candidate nodes (ties: lowest id)."""
        with self._lock:
            row = self._conn.execute(BEST_SQL).fetchone()
        return row_to_node(row) if row else None

    def failure_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT failure_kind, COUNT(*) FROM nodes WHERE failure_kind IS NOT NULL"
                " GROUP BY failure_kind ORDER BY failure_kind"
            ).fetchall()
        return dict(rows)

    # -- resume state ------------------------------------------------------------------------

    def set_state(self, key: str, value: dict) -> None:
        text = json.dumps(value)
        with self.transaction():
            self._conn.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, text))
        if key == "best":
            self._promoted = True

    def get_state(self, key: str) -> dict | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

"""Node code on its way into code.git: git objects staged in SQLite with their row, then flushed.

A node's objects (blob, tree, commit; shas computed in-process by `program_commit`) go into the
`git_pending` table inside the caller's SQLite transaction, so they are exactly as durable as the
row. `flush` moves them into code.git in one batch and appends their `refs/nodes/<id>`; until
then `read_object` serves them from the table. `refs/heads/main` follows the store's best node:
a target chosen inside a transaction is published after the commit, or at the flush that brings
its commit into code.git. RunStore owns the lock, the transaction and when to flush; this class
holds the pending-object bookkeeping and talks to git.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from syslab.artifacts.gitrepo import CodeRepo, program_commit
from syslab.artifacts.schema import Node


class PendingGit:
    def __init__(self, conn: sqlite3.Connection, repo: CodeRepo, lock: threading.RLock):
        self._conn = conn
        self.repo = repo
        self._lock = lock
        self.pending_main: str | None = None  # main's new target, decided in the open transaction
        self._main_at_flush: str | None = None  # main's target once its commit reaches code.git
        self._unflushed: set[str] = set()  # commits still in git_pending
        self._first_unflushed = 0.0
        self.main_set = repo.main() is not None

    def point_main(self, commit: str) -> None:
        """Move main to `commit` once the open transaction commits."""
        self.pending_main = commit
        self.main_set = True

    def stage(self, node: Node, code: str) -> None:
        """Build the node's commit (git parent = nearest ancestor's commit), set `node.commit`,
        and store its objects in git_pending (the caller's transaction makes them durable)."""
        parent = self._code_parent_commit(node.parent_id)
        msg = f"node {node.id} [{node.kind.value}] {node.operator}".rstrip()
        if node.note:
            msg += "\n\n" + node.note
        objects = program_commit(code, parent, msg, node.created_at)
        node.commit = objects[-1][0]
        self._conn.executemany(
            "INSERT OR IGNORE INTO git_pending (sha, kind, data, node_id) VALUES (?, ?, ?, ?)",
            [
                (sha, kind.decode(), data, node.id if kind == b"commit" else None)
                for sha, kind, data in objects
            ],
        )
        if not self._unflushed:
            self._first_unflushed = time.monotonic()
        self._unflushed.add(node.commit)

    def _code_parent_commit(self, parent_id: int | None) -> str | None:
        """Commit of the nearest ancestor that has code (a code-less node has no commit)."""
        seen: set[int] = set()
        while parent_id is not None and parent_id not in seen:
            seen.add(parent_id)
            row = self._conn.execute(
                'SELECT parent_id, "commit" FROM nodes WHERE id = ?', (parent_id,)
            ).fetchone()
            if row is None:
                return None
            if row[1]:
                return row[1]
            parent_id = row[0]
        return None

    def code_ancestor(self, node_id: int | None) -> int | None:
        """`node_id` or its nearest ancestor that has code (None: none has; a missing id is returned)."""
        while node_id is not None:
            row = self._conn.execute(
                'SELECT parent_id, "commit" FROM nodes WHERE id = ?', (node_id,)
            ).fetchone()
            if row is None or row[1]:
                break
            node_id = row[0]
        return node_id

    def rolled_back(self) -> None:
        """Forget what the rolled-back transaction staged."""
        self.pending_main = None
        self._main_at_flush = None  # a writable reopen re-derives main if it mattered
        self._unflushed = {
            r[0] for r in self._conn.execute("SELECT sha FROM git_pending WHERE kind = 'commit'")
        }

    def committed(self) -> None:
        """Publish main's new target now, or at the flush that brings its commit into code.git."""
        if self.pending_main:
            if self.pending_main in self._unflushed:
                self._main_at_flush = self.pending_main
            else:
                self.repo.set_main(self.pending_main)
                self._main_at_flush = None
            self.pending_main = None

    def due(self, max_nodes: int, max_seconds: float) -> bool:
        """Whether a batch is ready: `max_nodes` commits waiting, or the first waited `max_seconds`."""
        return bool(self._unflushed) and (
            len(self._unflushed) >= max_nodes or time.monotonic() - self._first_unflushed >= max_seconds
        )

    def flush(self) -> None:
        """Write waiting objects into code.git, then their node refs and main (caller holds the lock,
        outside any transaction)."""
        rows = self._conn.execute(
            "SELECT seq, sha, kind, data, node_id FROM git_pending ORDER BY seq"
        ).fetchall()
        if rows:
            self.repo.write_objects([(sha, kind.encode(), bytes(data)) for _, sha, kind, data, _ in rows])
            # Objects are in git before their pending rows go: a kill in between only
            # means writing them again at the next open.
            self._conn.execute("DELETE FROM git_pending WHERE seq <= ?", (rows[-1][0],))
            self.repo.append_node_refs([(nid, sha) for _, sha, kind, _, nid in rows if kind == "commit"])
        if self._main_at_flush:
            self.repo.set_main(self._main_at_flush)
            self._main_at_flush = None
        self._unflushed.clear()

    def repair_refs(self, best_commit: str | None) -> None:
        """Rebuild git refs from the rows (O(n), once per writable open): a SIGKILL between a
        commit and the ref append, or a rolled-back node, leaves refs that differ from the rows.
        main goes to `best_commit`, else to the first node with code."""
        self.repo.remove_temp_files()
        commits = dict(self._conn.execute('SELECT id, "commit" FROM nodes WHERE "commit" IS NOT NULL'))
        self.repo.rewrite_node_refs(commits)
        target = best_commit
        if target is None and commits:
            target = commits[min(commits)]
        if target and self.repo.main() != target:
            self.repo.set_main(target)
        self.main_set = target is not None

    def read_object(self, sha: str) -> tuple[bytes, bytes]:
        """A git object, waiting in git_pending or already in code.git."""
        with self._lock:
            row = self._conn.execute("SELECT kind, data FROM git_pending WHERE sha = ?", (sha,)).fetchone()
        return (row[0].encode(), bytes(row[1])) if row else self.repo.read_object(sha)

    def read_program(self, commit: str) -> str | None:
        return self.repo.read_program(commit, self.read_object)

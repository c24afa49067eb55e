"""RunStore's records beside the nodes: edges, code (git), LLM calls and held-out results.

A mixin of `syslab.artifacts.store.RunStore`, which owns the connection, the lock, the
transactions and the git repository these methods use.
"""

from __future__ import annotations

from syslab.artifacts.gitrepo import program_diff
from syslab.artifacts.heldout_rows import HeldoutRecord, insert_heldout, select_heldout
from syslab.artifacts.llmcalls import call_insert, call_query, row_to_call
from syslab.artifacts.schema import Edge, EdgeKind, LLMCall
from syslab.errors import SyslabError


class RunRecords:
    """Edges, code, LLM calls and held-out results of a run (see the module docstring)."""

    # -- edges -------------------------------------------------------------------------------

    def _insert_edge(self, edge: Edge) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO edges (src, dst, kind) VALUES (?, ?, ?)",
            (edge.src, edge.dst, EdgeKind(edge.kind).value),
        )

    def add_edge(self, edge: Edge) -> None:
        """Idempotent: the same (src, dst, kind) is stored once (add_node already adds `parent`)."""
        with self.transaction():
            self._insert_edge(edge)

    def edges(self, since_id: int | None = None) -> list[Edge]:
        """Edges in insertion order; `since_id` keeps those touching a node with id > since_id."""
        sql, args = "SELECT src, dst, kind FROM edges", []
        if since_id is not None:
            sql, args = sql + " WHERE src > ? OR dst > ?", [since_id, since_id]
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY seq", args).fetchall()
        return [Edge(src=s, dst=d, kind=k) for s, d, k in rows]

    def edges_after(self, seq: int = 0) -> tuple[list[Edge], int]:
        """Edges inserted after sequence number `seq`, and the last sequence number."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, src, dst, kind FROM edges WHERE seq > ? ORDER BY seq", (seq,)
            ).fetchall()
        last = rows[-1][0] if rows else seq
        return [Edge(src=s, dst=d, kind=k) for _, s, d, k in rows], last

    # -- code --------------------------------------------------------------------------------

    def get_code(self, node_id: int) -> str | None:
        """The node's program (from code.git); None for a node without code."""
        with self._lock:
            row = self._conn.execute('SELECT "commit" FROM nodes WHERE id = ?', (node_id,)).fetchone()
        if row is None:
            raise SyslabError(f"{self.run_dir}: no node {node_id}")
        return self._git.read_program(row[0]) if row[0] else None

    def diff(self, node_id: int, other_id: int | None = None) -> str:
        """Unified diff from `other_id` (default: the nearest ancestor with code) to `node_id`."""
        if other_id is None:
            with self._lock:
                row = self._conn.execute("SELECT parent_id FROM nodes WHERE id = ?", (node_id,)).fetchone()
                if row is None:
                    raise SyslabError(f"{self.run_dir}: no node {node_id}")
                base_id = self._git.code_ancestor(row[0])
        else:
            base_id = other_id
        old = (self.get_code(base_id) or "") if base_id is not None else ""
        new = self.get_code(node_id) or ""
        old_label = f"a/program.py (node {base_id})" if base_id is not None else "/dev/null"
        return program_diff(old, new, old_label, f"b/program.py (node {node_id})")

    # -- LLM calls ---------------------------------------------------------------------------

    def add_llm_call(self, call: LLMCall) -> int:
        sql, values = call_insert(call)
        with self.transaction():
            call.id = self._conn.execute(sql, values).lastrowid
        return call.id

    def link_llm_calls(self, call_ids: list[int], node_id: int) -> None:
        """Attach LLM calls recorded before their node existed (the proposal) to that node."""
        with self.transaction():
            self._conn.executemany(
                "UPDATE llm_calls SET node_id = ? WHERE id = ?", [(node_id, i) for i in call_ids]
            )

    def llm_calls(self, node_id: int | None = None) -> list[LLMCall]:
        sql, args = call_query(node_id)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [row_to_call(r) for r in rows]

    # -- held-out evaluations (kept out of `nodes`: the search never sees them) ----------------

    def add_heldout(self, record: HeldoutRecord) -> HeldoutRecord:
        with self.transaction():
            return insert_heldout(self._conn, record)

    def heldout(self, node_id: int | None = None) -> list[HeldoutRecord]:
        with self._lock:
            return select_heldout(self._conn, node_id)

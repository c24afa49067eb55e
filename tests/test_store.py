"""RunStore: SQLite rows, git code history, evidence blobs, manifest, crash safety."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from syslab.artifacts.schema import Edge, EdgeKind, LLMCall, Manifest, Node, NodeKind, NodeStatus
from syslab.artifacts.store import FLUSH_NODES, RunStore
from syslab.errors import SpecError, SyslabError

REPO_ROOT = Path(__file__).resolve().parents[1]


def make_manifest(**over) -> Manifest:
    fields = dict(
        syslab_version="0.1.0",
        run_id="run-1",
        task_name="toy",
        task_dir="/tasks/toy",
        task_hash="abc",
        seed=7,
        config={"budget": 10},
        platform={"python": "3.11"},
        isolation={"network": False},
        created_at=1000.0,
    )
    fields.update(over)
    return Manifest(**fields)


@pytest.fixture
def store(tmp_path):
    s = RunStore.create(tmp_path / "run", make_manifest())
    yield s
    s.close()


def git(run_dir: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(run_dir / "code.git"), *args], capture_output=True, text=True, check=True
    )
    return out.stdout


def evaluated(node: Node, score: float | None, valid: bool = True) -> Node:
    node.status = NodeStatus.evaluated
    node.score = score
    node.valid = valid
    return node


def test_create_open_readonly(tmp_path):
    run = tmp_path / "run"
    s = RunStore.create(run, make_manifest())
    assert (run / "syslab.db").exists() and (run / "code.git" / "HEAD").exists()
    assert (run / "evidence").is_dir()
    assert s.manifest.run_id == "run-1"
    s.add_node(Node(id=0, kind=NodeKind.seed), code="print(1)\n")
    with pytest.raises(SyslabError, match="already holds"):
        RunStore.create(run, make_manifest())
    # A reader sees committed rows while the writer is still open.
    ro = RunStore.open(run, readonly=True)
    assert [n.id for n in ro.nodes()] == [0]
    assert ro.get_code(0) == "print(1)\n"
    with pytest.raises(SyslabError, match="read-only"):
        ro.add_node(Node(id=1))
    with pytest.raises(SyslabError, match="read-only"):
        ro.update_manifest(status="finished")
    s.add_node(Node(id=1, parent_id=0))
    assert ro.count_nodes() == 2
    ro.close()
    s.close()
    s2 = RunStore.open(run)
    assert s2.next_node_id() == 2
    s2.close()
    with pytest.raises(SyslabError, match="no syslab.db"):
        RunStore.open(tmp_path / "elsewhere")


def test_manifest_update_and_bad_field(store):
    store.add_node(Node(id=0), code="v0\n")
    m = store.update_manifest(status="finished", finished_at=2000.0)
    # A milestone flushes code.git even when the run never closes its store.
    assert git(store.run_dir, "log", "--all", "--format=%H").split() == [store.get_node(0).commit]
    assert m.status == "finished"
    assert store.manifest.finished_at == 2000.0
    assert store.manifest.seed == 7
    with pytest.raises(SpecError, match="manifest.json: seed"):
        store.update_manifest(seed="not a number")
    assert store.manifest.seed == 7


def test_blob_dedup_and_sha(store):
    data = b"stdout line\n" * 10
    sha = store.put_blob(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.blob_path(sha) == store.run_dir / "evidence" / sha[:2] / sha[2:]
    assert store.get_blob(sha) == data
    mtime = store.blob_path(sha).stat().st_mtime_ns
    assert store.put_blob(data) == sha
    assert store.blob_path(sha).stat().st_mtime_ns == mtime  # not rewritten
    assert store.put_blob("héllo") == hashlib.sha256("héllo".encode()).hexdigest()
    files = [p for p in (store.run_dir / "evidence").rglob("*") if p.is_file()]
    assert len(files) == 2  # no temp files left behind
    with pytest.raises(SyslabError, match="not a sha256"):
        store.get_blob("../../etc/passwd")
    with pytest.raises(SyslabError, match="no evidence blob"):
        store.get_blob("0" * 64)


def test_node_edge_round_trip(store):
    assert store.next_node_id() == 0
    ev = store.put_blob("trace")
    node = Node(
        id=0,
        kind=NodeKind.seed,
        operator="seed",
        metrics={"latency": 1.5, "throughput": 10.0},
        evidence={"stdout": ev},
        data={"features": [1, 2]},
        note="the seed",
        model=None,
    )
    store.add_node(node, code="def f():\n    return 1\n")
    got = store.get_node(0)
    assert got == node
    assert got.commit and len(got.commit) == 40
    assert got.code_sha == hashlib.sha256(b"def f():\n    return 1\n").hexdigest()
    child = store.add_node(Node(id=store.next_node_id(), parent_id=0, generation=1), code="x=2\n")
    evaluated(child, 3.0)
    child.metrics = {"latency": 0.5}
    child.wall_s, child.cpu_s, child.peak_rss_mb = 1.25, 1.0, 42.0
    store.update_node(child)
    assert store.get_node(1) == child
    assert store.get_node(1).commit == child.commit
    # metrics are queryable by name
    rows = store._conn.execute(
        "SELECT node_id, value FROM metrics WHERE name='latency' ORDER BY node_id"
    ).fetchall()
    assert rows == [(0, 1.5), (1, 0.5)]
    store.add_node(Node(id=2, parent_id=1, kind=NodeKind.analysis))
    store.add_edge(Edge(src=2, dst=1, kind=EdgeKind.analysis_of))
    store.add_edge(Edge(src=0, dst=1, kind=EdgeKind.parent))  # duplicate of the automatic one
    assert [(e.src, e.dst, e.kind) for e in store.edges()] == [
        (0, 1, EdgeKind.parent),
        (1, 2, EdgeKind.parent),
        (2, 1, EdgeKind.analysis_of),
    ]
    assert [(e.src, e.dst) for e in store.edges(since_id=1)] == [(1, 2), (2, 1)]
    assert [n.id for n in store.nodes(kind=NodeKind.candidate)] == [1]
    assert [n.id for n in store.nodes(status=NodeStatus.pending)] == [0, 2]
    assert [n.id for n in store.nodes(since_id=0)] == [1, 2]
    assert store.count_nodes(kind=NodeKind.analysis) == 1
    assert store.count_nodes(status="evaluated") == 1
    with pytest.raises(SyslabError, match="already exists"):
        store.add_node(Node(id=1))
    with pytest.raises(SyslabError, match="no node 99"):
        store.get_node(99)
    with pytest.raises(SyslabError, match="no node 99"):
        store.update_node(Node(id=99))


def test_git_parent_structure_and_refs(store):
    run = store.run_dir

    def g(*args: str) -> str:
        store.flush()  # git objects of the latest nodes wait in SQLite until a flush
        return git(run, *args)

    store.add_node(Node(id=0, kind=NodeKind.seed), code="v0\n")
    store.add_node(Node(id=1, parent_id=0), code="v1\n")
    store.add_node(Node(id=2, parent_id=1))  # malformed answer: no code, no commit
    store.add_node(Node(id=3, parent_id=2), code="v3\n")  # git parent skips the code-less node
    store.add_node(Node(id=4, parent_id=0), code="v4\n")  # a sibling branch
    commits = {i: store.get_node(i).commit for i in range(5)}
    assert commits[2] is None
    parents = dict(line.split(" ", 1) for line in g("log", "--all", "--format=%H %P").splitlines())
    assert set(parents) == {commits[i] for i in (0, 1, 3, 4)}
    assert parents[commits[0]] == ""
    assert parents[commits[1]] == commits[0]
    assert parents[commits[3]] == commits[1]
    assert parents[commits[4]] == commits[0]
    assert g("show", f"{commits[3]}:program.py") == "v3\n"
    assert g("rev-parse", "refs/nodes/4").strip() == commits[4]
    # No result yet: main shows the first lineage; then it follows the best candidate.
    assert g("rev-parse", "HEAD").strip() == commits[0]
    store.update_node(evaluated(store.get_node(4), 2.0))
    assert g("rev-parse", "HEAD").strip() == commits[4]
    store.update_node(evaluated(store.get_node(3), 5.0))
    assert g("log", "--format=%H").split() == [commits[3], commits[1], commits[0]]
    store.update_node(evaluated(store.get_node(1), 1.0))  # worse: main stays
    assert g("rev-parse", "HEAD").strip() == commits[3]
    store.update_node(evaluated(store.get_node(3), 5.0, valid=False))  # re-judged invalid
    assert g("rev-parse", "HEAD").strip() == commits[4]
    store.set_best(1)  # the run loop may decide the best itself
    assert g("rev-parse", "HEAD").strip() == commits[1]
    store.set_best(4)
    subprocess.run(["git", "-C", str(run / "code.git"), "fsck", "--strict"], check=True, capture_output=True)
    # A writable reopen rebuilds refs from the rows without losing any.
    store.close()
    again = RunStore.open(run)
    assert len(git(run, "log", "--all", "--format=%H").split()) == 4
    assert git(run, "rev-parse", "HEAD").strip() == commits[4]
    assert again.get_code(3) == "v3\n" and again.get_code(2) is None
    again.close()


def test_git_objects_batched_into_packs(store):
    run = store.run_dir
    store.add_node(Node(id=0), code="v0\n")
    # Not in code.git yet, but durable in SQLite and readable through the store.
    assert git(run, "log", "--all", "--format=%H") == ""
    assert store.get_code(0) == "v0\n"
    for i in range(1, FLUSH_NODES + 5):
        store.add_node(Node(id=i, parent_id=i - 1), code=f"v{i}\n" * i)
    packs = list((run / "code.git" / "objects" / "pack").glob("*.pack"))
    assert len(packs) == 1  # the first FLUSH_NODES nodes went in as one pack
    assert len(git(run, "log", "--all", "--format=%H").split()) == FLUSH_NODES
    store.flush()  # the rest: a few objects, written loose
    assert len(git(run, "log", "--all", "--format=%H").split()) == FLUSH_NODES + 5
    subprocess.run(["git", "-C", str(run / "code.git"), "fsck", "--strict"], check=True, capture_output=True)
    assert git(run, "show", "refs/nodes/40:program.py") == "v40\n" * 40
    assert all(store.get_code(i) == f"v{i}\n" * i for i in range(1, FLUSH_NODES + 5))
    assert store._conn.execute("SELECT COUNT(*) FROM git_pending").fetchone()[0] == 0


def test_slow_run_flushes_each_node_loose(store, monkeypatch):
    import syslab.artifacts.store as store_mod

    monkeypatch.setattr(store_mod, "FLUSH_SECONDS", 0.0)  # a run slower than FLUSH_SECONDS per node
    store.add_node(Node(id=0), code="v0\n")
    commit = store.get_node(0).commit
    assert git(store.run_dir, "log", "--all", "--format=%H").split() == [commit]
    assert (store.run_dir / "code.git" / "objects" / commit[:2] / commit[2:]).exists()  # loose
    assert not list((store.run_dir / "code.git" / "objects" / "pack").glob("*.pack"))


def test_writable_open_removes_stale_temp_files(store):
    sha = store.put_blob("x")
    stale = [
        store.run_dir / "code.git" / "objects" / "tmp_obj_1_0",
        store.run_dir / "code.git" / "objects" / "pack" / "tmp_pack-0.pack",
        store.blob_path(sha).parent / ".tmp-1-0",
    ]
    for p in stale:
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"partial")
    store.close()
    RunStore.open(store.run_dir, readonly=True).close()
    assert all(p.exists() for p in stale)  # a reader never deletes
    RunStore.open(store.run_dir).close()
    assert not any(p.exists() for p in stale)
    assert RunStore.open(store.run_dir, readonly=True).get_blob(sha) == b"x"


def test_small_packs_are_consolidated(store, monkeypatch):
    import syslab.artifacts.gitrepo as gitrepo_mod
    import syslab.artifacts.store as store_mod

    monkeypatch.setattr(store_mod, "FLUSH_NODES", 5)
    monkeypatch.setattr(gitrepo_mod, "REPACK_EVERY", 4)
    for i in range(60):  # 12 packs written, a background repack after every 4
        store.add_node(Node(id=i, parent_id=i - 1 if i else None), code=f"v{i}\n" * (i + 1))
        assert store.get_code(max(0, i - 7)) == f"v{max(0, i - 7)}\n" * (max(0, i - 7) + 1)
    run = store.run_dir
    store.close()  # waits for the repack
    packs = list((run / "code.git" / "objects" / "pack").glob("*.pack"))
    assert 1 <= len(packs) < 12
    subprocess.run(["git", "-C", str(run / "code.git"), "fsck", "--strict"], check=True, capture_output=True)
    assert len(git(run, "log", "--all", "--format=%H").split()) == 60
    ro = RunStore.open(run, readonly=True)
    assert all(ro.get_code(i) == f"v{i}\n" * (i + 1) for i in range(60))
    ro.close()


def test_code_readable_after_git_gc(store):
    store.add_node(Node(id=0), code="packed\n")
    store.flush()
    subprocess.run(["git", "-C", str(store.run_dir / "code.git"), "gc", "-q", "--prune=now"], check=True)
    assert not any(
        p.name != "pack" and p.is_dir() and any(p.iterdir())
        for p in (store.run_dir / "code.git" / "objects").iterdir()
        if len(p.name) == 2
    )
    assert store.get_code(0) == "packed\n"


def test_diff(store):
    store.add_node(Node(id=0), code="a\nb\nc\n")
    store.add_node(Node(id=1, parent_id=0), code="a\nB\nc\n")
    store.add_node(Node(id=2, parent_id=1))
    store.add_node(Node(id=3, parent_id=2), code="a\nB\nc\nd")
    d = store.diff(1)
    assert "--- a/program.py (node 0)" in d and "+++ b/program.py (node 1)" in d
    assert "-b\n" in d and "+B\n" in d
    d3 = store.diff(3)  # against node 1 (node 2 has no code)
    assert "(node 1)" in d3 and "+d\n\\ No newline at end of file\n" in d3
    assert "-b" in store.diff(3, other_id=0) and store.diff(1, other_id=1) == ""
    assert store.diff(0).startswith("--- /dev/null")


def test_state_kv(store):
    assert store.get_state("rng") is None
    store.set_state("rng", {"state": [1, 2, 3], "gen": 4})
    store.set_state("rng", {"state": [5], "gen": 5})
    assert store.get_state("rng") == {"state": [5], "gen": 5}


def test_failure_counts_and_best_with_none_scores(store):
    assert store.best_node() is None
    store.add_node(Node(id=0, kind=NodeKind.seed), code="s\n")
    store.update_node(evaluated(store.get_node(0), None))  # evaluated but no score
    assert store.best_node() is None
    for i, kind in enumerate(["syntax", "timeout", "syntax", None], start=1):
        n = Node(
            id=i, parent_id=0, failure_kind=kind, status=NodeStatus.failed if kind else NodeStatus.pending
        )
        store.add_node(n)
    store.add_node(evaluated(Node(id=5, parent_id=0), 2.0))
    store.add_node(evaluated(Node(id=6, parent_id=0), 9.0, valid=False))
    store.add_node(evaluated(Node(id=7, parent_id=0), 2.0))  # tie: lower id wins
    store.add_node(evaluated(Node(id=8, kind=NodeKind.analysis), 100.0))  # not a candidate
    assert store.failure_counts() == {"syntax": 2, "timeout": 1}
    assert store.best_node().id == 5


def test_llm_calls(store):
    store.add_node(Node(id=0))
    p = store.put_blob('[{"role": "user"}]')
    cid = store.add_llm_call(LLMCall(node_id=0, model="m", prompt_sha=p, prompt_tokens=10, cost_usd=0.01))
    cid2 = store.add_llm_call(LLMCall(model="m", prompt_sha=p, error="timeout", attempts=3))
    assert cid != cid2
    calls = store.llm_calls(node_id=0)
    assert len(calls) == 1 and calls[0].id == cid and calls[0].prompt_tokens == 10
    assert [c.error for c in store.llm_calls()] == [None, "timeout"]
    store.link_llm_calls([cid2], 0)
    assert [c.id for c in store.llm_calls(node_id=0)] == [cid, cid2]


def test_transaction_groups_and_rolls_back(store):
    with store.transaction():
        store.add_node(Node(id=0), code="one\n")
        store.set_state("k", {"v": 1})
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.add_node(Node(id=1, parent_id=0), code="two\n")
            raise RuntimeError("boom")
    assert [n.id for n in store.nodes()] == [0]
    assert store.get_state("k") == {"v": 1}
    store.add_node(Node(id=1, parent_id=0), code="three\n")
    store.close()
    s = RunStore.open(store.run_dir)
    assert s.get_code(1) == "three\n"
    assert git(s.run_dir, "show", "refs/nodes/1:program.py") == "three\n"
    s.close()


def test_concurrent_reader_thread(store):
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                for n in store.nodes():
                    assert n.id >= 0
                store.best_node()
        except BaseException as e:  # surfaced below
            errors.append(e)

    t = threading.Thread(target=reader)
    t.start()
    for i in range(50):
        n = store.add_node(Node(id=i, parent_id=i - 1 if i else None), code=f"v{i}\n")
        store.update_node(evaluated(n, float(i)))
    stop.set()
    t.join()
    assert not errors
    assert store.best_node().id == 49


CHILD = """
import sys, time
from pathlib import Path
from syslab.artifacts.store import FLUSH_NODES, RunStore
from syslab.artifacts.schema import Node, NodeStatus
s = RunStore.open(Path(sys.argv[1]))
i = 0
while True:
    n = s.add_node(Node(id=i, parent_id=i - 1 if i else None), code=f"x = {i}\\n" * 20)
    n.status, n.valid, n.score = NodeStatus.evaluated, True, float(i % 7)
    n.metrics = {"m": float(i)}
    s.update_node(n)
    print(i, flush=True)
    i += 1
"""


def test_sigkill_mid_run_leaves_readable_store(tmp_path):
    run = tmp_path / "run"
    RunStore.create(run, make_manifest()).close()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(run)], stdout=subprocess.PIPE, text=True, env=env
    )
    done = []
    deadline = time.time() + 60
    while len(done) < 40 and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        done.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done += [int(x) for x in proc.stdout.read().split()]  # lines already written before the kill
    assert len(done) >= 40
    ro = RunStore.open(run, readonly=True)
    ids = [n.id for n in ro.nodes()]
    assert set(done) <= set(ids)
    assert ids == list(range(len(ids)))
    for i in done:
        assert ro.get_code(i) == f"x = {i}\n" * 20
    ro.close()
    s = RunStore.open(run)  # a resume: rebuilds refs
    n_commits = len(git(run, "log", "--all", "--format=%H").split())
    assert n_commits == s.count_nodes()
    assert s.next_node_id() == len(ids)
    s.add_node(Node(id=s.next_node_id(), parent_id=ids[-1]), code="after\n")
    s.close()

"""Per-candidate cost of the run artifact store, and whether it stays flat as the run grows.

For each scale N it records N candidates the way the run loop does: `add_node` with the
program (git blob + tree + commit, row, parent edge) inside a transaction with an inspiration
edge, then `update_node` with the evaluation (status, score, metrics, evidence). It prints the
median, p90, p99 and mean wall time per candidate over the whole run, the mean CPU time (what
the store costs when the machine is not shared), and the median and p90 over the run's last 10%
(the flatness check).

    python benchmarks/perf/store_overhead.py              # 100, 1k, 10k
    python benchmarks/perf/store_overhead.py --full       # also 100k
    python benchmarks/perf/store_overhead.py --compare-git  # git object-writing strategies

Issue 4's budget is a median of 2 ms per candidate for loop + store together.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from syslab.artifacts.schema import Edge, EdgeKind, Manifest, Node, NodeKind, NodeStatus  # noqa: E402
from syslab.artifacts.store import RunStore  # noqa: E402

SEED = "".join(f"def f{i}(x):\n    return x * {i} + {i % 7}\n\n" for i in range(60))  # ~2.3 KB


def _manifest() -> Manifest:
    return Manifest(
        syslab_version="bench",
        run_id="bench",
        task_name="bench",
        task_dir="/",
        task_hash="0",
        seed=0,
        config={},
        platform={},
        isolation={},
        created_at=time.time(),
    )


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def run_scale(n: int, root: Path) -> dict[str, float]:
    rng = random.Random(n)
    store = RunStore.create(root / f"run{n}", _manifest())
    store.add_node(Node(id=0, kind=NodeKind.seed), code=SEED)
    per: list[float] = []
    cpu = 0.0
    for i in range(1, n + 1):
        parent = rng.randrange(max(0, i - 200), i)  # a recent-ish parent, as a population gives
        insp = rng.randrange(0, i)
        line = rng.randrange(60)
        code = SEED.replace(f"x * {line} +", f"x * {line} - {i} +", 1)
        t0, c0 = time.perf_counter(), time.process_time()
        with store.transaction():
            node = store.add_node(
                Node(id=i, parent_id=parent, operator="mutate:constant", status=NodeStatus.running), code=code
            )
            store.add_edge(Edge(src=insp, dst=i, kind=EdgeKind.inspiration))
        node.status = NodeStatus.evaluated
        node.valid = rng.random() > 0.3
        node.score = rng.random() if node.valid else None
        node.metrics = {"latency": rng.random(), "throughput": rng.random() * 100}
        node.evidence = {"stdout": "0" * 64}
        node.finished_at = time.time()
        store.update_node(node)
        per.append((time.perf_counter() - t0) * 1e3)
        cpu += time.process_time() - c0
    store.close()
    tail = per[-max(1, n // 10) :]
    return {
        "median": statistics.median(per),
        "p90": _pct(per, 0.9),
        "p99": _pct(per, 0.99),
        "mean": statistics.fmean(per),
        "cpu_mean": cpu / n * 1e3,
        "tail_median": statistics.median(tail),
        "tail_p90": _pct(tail, 0.9),
    }


def compare_git(root: Path, count: int = 300) -> None:
    """Per-commit cost (blob + tree + commit) of the ways one could write candidate commits."""
    from gitdb import IStream, LooseObjectDB
    from gitdb.base import OStream
    from gitdb.pack import PackEntity

    from syslab.artifacts.gitrepo import CodeRepo, program_commit
    from syslab.artifacts.store import FLUSH_NODES

    def timed(label: str, fn, k: int) -> None:
        t0 = time.perf_counter()
        fn(k)
        print(f"  {label:<44} {(time.perf_counter() - t0) / k * 1e3:8.3f} ms/commit")

    repo = CodeRepo.init(root / "direct.git")

    def direct(k: int) -> None:
        parent = None
        for i in range(k):
            objects = program_commit(SEED + f"# {i}\n", parent, f"node {i}", 1.0)
            for _sha, kind, data in objects:
                repo.write_object(kind, data)
            parent = objects[-1][0]

    timed("loose objects written directly", direct, count)

    packed = CodeRepo.init(root / "packed.git")

    def batched(k: int) -> None:
        parent, batch = None, []
        for i in range(k):
            objects = program_commit(SEED + f"# {i}\n", parent, f"node {i}", 1.0)
            batch += objects
            parent = objects[-1][0]
            if len(batch) >= 3 * FLUSH_NODES:
                packed.write_pack(batch)
                batch = []
        if batch:
            packed.write_pack(batch)

    timed(f"one pack per {FLUSH_NODES} commits (syslab)", batched, count)

    gitdb_packs = CodeRepo.init(root / "gitdbpack.git").objects / "pack"
    gitdb_packs.mkdir(parents=True, exist_ok=True)

    def write_gitdb_pack(objects: list[tuple[str, bytes, bytes]], n: int) -> None:
        # gitdb names neither file: write temporaries, then rename both as CodeRepo.write_pack does.
        tmp_pack, tmp_idx = gitdb_packs / f"tmp-{n}.pack", gitdb_packs / f"tmp-{n}.idx"
        streams = [
            OStream(bytes.fromhex(sha), kind, len(data), io.BytesIO(data)) for sha, kind, data in objects
        ]
        with open(tmp_pack, "wb") as pack, open(tmp_idx, "wb") as idx:
            pack_sha, _ = PackEntity.write_pack(streams, pack.write, idx.write, object_count=len(streams))
        os.replace(tmp_pack, gitdb_packs / f"pack-{pack_sha.hex()}.pack")
        os.replace(tmp_idx, gitdb_packs / f"pack-{pack_sha.hex()}.idx")

    def batched_gitdb(k: int) -> None:
        parent, batch, n = None, [], 0
        for i in range(k):
            objects = program_commit(SEED + f"# {i}\n", parent, f"node {i}", 1.0)
            batch += objects
            parent = objects[-1][0]
            if len(batch) >= 3 * FLUSH_NODES:
                write_gitdb_pack(batch, n := n + 1)
                batch = []
        if batch:
            write_gitdb_pack(batch, n + 1)

    timed(f"one gitdb PackEntity.write_pack per {FLUSH_NODES} commits", batched_gitdb, count)

    CodeRepo.init(root / "gitdb.git")
    db = LooseObjectDB(str(root / "gitdb.git" / "objects"))

    def store(kind: bytes, data: bytes) -> bytes:
        return db.store(IStream(kind, len(data), io.BytesIO(data))).binsha

    def via_gitdb(k: int) -> None:
        parent = None
        for i in range(k):
            blob = store(b"blob", (SEED + f"# {i}\n").encode())
            tree = store(b"tree", b"100644 program.py\0" + blob)
            body = b"tree %s\n" % tree.hex().encode()
            if parent:
                body += b"parent %s\n" % parent.hex().encode()
            body += b"author a <a> 1 +0000\ncommitter a <a> 1 +0000\n\nnode\n"
            parent = store(b"commit", body)

    timed("gitdb LooseObjectDB.store", via_gitdb, count)

    fi_dir = root / "fastimport.git"
    CodeRepo.init(fi_dir)
    proc = subprocess.Popen(["git", "-C", str(fi_dir), "fast-import", "--quiet"], stdin=subprocess.PIPE)

    def fast_import(k: int) -> None:
        for i in range(k):
            data = (SEED + f"# {i}\n").encode()
            cmd = b"commit refs/nodes/%d\ncommitter a <a> 1 +0000\ndata 4\nnode\n" % i
            if i:
                cmd += b"from refs/nodes/%d\n" % (i - 1)
            cmd += b"M 100644 inline program.py\ndata %d\n%s\n" % (len(data), data)
            # Without a checkpoint nothing is visible on disk until fast-import exits, so a
            # killed run would lose its commits; checkpoint after each one to compare fairly.
            cmd += b"checkpoint\n\n"
            proc.stdin.write(cmd)
            proc.stdin.flush()
        proc.stdin.close()
        proc.wait()

    timed("git fast-import, checkpoint per commit", fast_import, min(count, 100))

    import git

    grepo = git.Repo.init(str(root / "index_repo"))

    def index_commit(k: int) -> None:
        for i in range(k):
            (root / "index_repo" / "program.py").write_text(SEED + f"# {i}\n")
            grepo.index.add(["program.py"])
            grepo.index.commit(f"node {i}")

    timed("gitpython index add + commit", index_commit, min(count, 100))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also run 100k candidates (several minutes)")
    ap.add_argument("--compare-git", action="store_true", help="time the git object-writing strategies")
    ap.add_argument("--keep", action="store_true", help="keep the run directories and time `git log --all`")
    ap.add_argument("--scales", type=int, nargs="*", help="override the scales")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="syslab-bench-"))
    try:
        if args.compare_git:
            compare_git(root)
            return
        scales = args.scales or ([100, 1000, 10000] + ([100000] if args.full else []))
        print(
            f"{'candidates':>10}  {'median ms':>9}  {'p90 ms':>7}  {'p99 ms':>7}  {'mean ms':>7}  {'cpu ms':>6}"
            f"  {'last10% median':>14}  {'last10% p90':>11}"
        )
        for n in scales:
            r = run_scale(n, root)
            print(
                f"{n:>10}  {r['median']:9.3f}  {r['p90']:7.3f}  {r['p99']:7.3f}  {r['mean']:7.3f}  {r['cpu_mean']:6.3f}"
                f"  {r['tail_median']:14.3f}  {r['tail_p90']:11.3f}"
            )
            if args.keep:
                git_dir = root / f"run{n}" / "code.git"
                t0 = time.perf_counter()
                out = subprocess.run(
                    ["git", "-C", str(git_dir), "log", "--all", "--format=%H"], capture_output=True
                )
                took = time.perf_counter() - t0
                print(
                    f"{'':>10}  git log --all: {len(out.stdout.split())} commits in {took:.2f} s ({git_dir})"
                )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

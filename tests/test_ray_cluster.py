"""A real multi-node Ray cluster on this machine: a head and two worker nodes, each started with
`ray start` and its own temp dir (so its own raylet), and `syslab run --executor ray --ray-address`
against it as a subprocess. Mid-run one worker node crashes (its raylet and every process under it
SIGKILLed, what a machine failure does); the run must finish with every evaluation recorded, the
one that was in flight on the dead node retried on the survivor and the retry recorded.

The head has no CPUs: the driver attaches to the head's raylet, and with none to offer it no
evaluation runs there, so every evaluation is on a worker node and the crash of one leaves exactly
one place for the retries. Token authentication (Ray's default for `ray start --head`) is kept, with
a token file of this test's own, so the driver is tested the way a secured cluster is joined.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from syslab.artifacts.schema import NodeKind
from syslab.artifacts.store import RunStore

pytest.importorskip("ray", reason="Ray is not installed (pip install 'syslab[ray]')")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 10
NODE_LABEL = "SYSLAB_RAY_TEST_NODE"  # set on each worker node's raylet; its workers inherit it
LOST_TYPES = ("NodeDiedError", "WorkerCrashedError", "LocalRayletDiedError", "OwnerDiedError")

SEED = """# EVOLVE-BLOCK-START
def answer():
    return 40.0 + 1.0


# EVOLVE-BLOCK-END
"""
TASK_TOML = """name = "ray-cluster-sleepy"
description = "Return a number close to 42. Each evaluation sleeps on the trusted side so a run lasts."
seed = "seed.py"
evaluator = "evaluate.py:evaluate"

[metrics.gap]
direction = "minimize"
primary = true

[sandbox]
timeout_s = 30
memory_mb = 512
"""
# The trusted evaluator logs "<node> <pid>" when it starts (the node read from the Ray worker it
# runs under), sleeps so that the killed node surely has work in flight, and returns both as
# artifacts, so each recorded result names the attempt that produced it.
EVALUATE = f'''import os
import time
from pathlib import Path

LOG = Path(__file__).resolve().parent.parent / "starts.log"


def _ray_node():
    pid = os.getppid()
    while pid > 1:
        try:
            for item in Path(f"/proc/{{pid}}/environ").read_bytes().split(b"\\0"):
                if item.startswith(b"{NODE_LABEL}="):
                    return item.split(b"=", 1)[1].decode()
            pid = int(Path(f"/proc/{{pid}}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return "?"


def evaluate(candidate):
    node = _ray_node()
    with LOG.open("a") as f:
        f.write(f"{{node}} {{os.getpid()}}\\n")
    time.sleep(1.5)
    tag = {{"ray_test_node": node, "ray_test_pid": os.getpid()}}
    try:
        value = float(candidate.call("answer"))
    except Exception as e:  # a mutant that raises is still a recorded attempt of this node
        return {{"gap": 1e6, "valid": False, "error": str(e)[:200], "artifacts": tag}}
    return {{"gap": abs(value - 42.0), "artifacts": tag}}
'''


@dataclass
class Cluster:
    address: str
    base: Path  # short (Ray's unix socket paths are limited to 107 characters)
    env: dict[str, str]
    temp_dirs: dict[str, Path]  # head, a, b


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_table() -> dict[int, tuple[int, str, bytes]]:
    """pid -> (ppid, state, cmdline) of every live process (zombies left out)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            table[int(name)] = (int(fields[1]), fields[0], cmdline)
    return table


def _with_descendants(roots: set[int], table: dict[int, tuple[int, str, bytes]]) -> set[int]:
    found, grew = set(roots), True
    while grew:
        children = {pid for pid, (ppid, _, _) in table.items() if ppid in found} - found
        found |= children
        grew = bool(children)
    return found


def _ours(base: Path) -> set[int]:
    """Processes of this test's cluster: those naming its base dir, and everything under them."""
    table = _proc_table()
    roots = {pid for pid, (_, _, cmd) in table.items() if str(base).encode() + b"/" in cmd}
    return _with_descendants(roots - {os.getpid()}, table)


def _kill_all(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _teardown(base: Path) -> set[int]:
    """SIGKILL, by pid, every process of this cluster; returns any still alive after ~5 s.

    Not `ray stop --force`: that matches Ray processes by name on the whole host, so it would also
    stop any other Ray running here (other tests, other users); it has no temp-dir filter.
    """
    left: set[int] = set()
    for _ in range(25):
        left = _ours(base)
        if not left:
            break
        _kill_all(left)
        time.sleep(0.2)
    return left


RAY_CLI = [sys.executable, "-m", "ray.scripts.scripts"]  # `ray` of this interpreter (maybe not on PATH)


def _ray(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*RAY_CLI, *args], capture_output=True, text=True, timeout=90, env=env)


def _start_args(args: list[str]) -> list[str]:
    common = ["--node-ip-address=127.0.0.1", "--object-store-memory=80000000", "--disable-usage-stats"]
    common += ["--include-log-monitor=false", f"--dashboard-agent-listen-port={_free_port()}"]
    return ["start", *args, *common, f"--metrics-export-port={_free_port()}"]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    base = Path(tempfile.mkdtemp(prefix="slr-", dir="/tmp"))
    token = base / "auth_token"
    token.write_text(secrets.token_hex(32))
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN")}
    env.update(
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN_PATH=str(token),
        RAY_USAGE_STATS_ENABLED="0",
        # Ray workers import syslab the way every node of a real cluster must be able to.
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        # The GCS declares a silent node dead after ~5 s rather than Ray's default ~30 s.
        RAY_health_check_period_ms="1000",
        RAY_health_check_failure_threshold="5",
    )
    temp_dirs = {name: base / name for name in ("head", "a", "b")}
    port = _free_port()
    try:
        head_args = ["--head", f"--port={port}", "--num-cpus=0", f"--temp-dir={temp_dirs['head']}"]
        head_args += ["--include-dashboard=false", f"--dashboard-port={_free_port()}"]
        head = _ray(_start_args(head_args), env)
        if head.returncode != 0:
            pytest.skip(f"`ray start --head` cannot start a node here: {head.stderr.strip()[-600:]}")
        address = f"127.0.0.1:{port}"
        workers = {}  # both join at once: node start-up is most of this test's time
        for name in ("a", "b"):
            args = [f"--address={address}", "--num-cpus=1", f"--temp-dir={temp_dirs[name]}"]
            args.append(f"--resources={json.dumps({f'syslab_test_node_{name}': 1})}")
            workers[name] = subprocess.Popen(
                [*RAY_CLI, *_start_args(args)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**env, NODE_LABEL: name},
            )
        for name, worker in workers.items():
            _, err = worker.communicate(timeout=90)
            assert worker.returncode == 0, f"worker node {name}: {err[-2000:]}"
        # Both workers joined this head's cluster (each node's own resource is listed there; the
        # status lags a node's start by seconds on a loaded machine).
        deadline = time.monotonic() + 45
        while True:
            status = _ray(["status", f"--address={address}"], env)
            joined = "syslab_test_node_a" in status.stdout and "syslab_test_node_b" in status.stdout
            if joined or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        assert status.returncode == 0, status.stderr[-2000:]
        assert joined, status.stdout
        yield Cluster(address=address, base=base, env=env, temp_dirs=temp_dirs)
    finally:
        left = _teardown(base)
        shutil.rmtree(base, ignore_errors=True)
        assert not left, f"cluster processes still alive after teardown: {sorted(left)}"


def _raylet_pid(temp_dir: Path) -> int:
    for pid, (_, _, cmd) in _proc_table().items():
        argv = cmd.split(b"\0")
        if argv[0].endswith(b"/raylet") and any(str(temp_dir).encode() + b"/" in a for a in argv):
            return pid
    raise AssertionError(f"no raylet running under {temp_dir}")


def _starts(log: Path) -> list[tuple[str, int]]:
    if not log.is_file():
        return []
    return [(n, int(p)) for n, p in (line.split() for line in log.read_text().splitlines() if line.strip())]


def _crash_node_when_busy(temp_dir: Path, label: str, log: Path, proc: subprocess.Popen) -> tuple[int, int]:
    """Wait until the node runs its second evaluation, then SIGKILL its raylet and everything under
    it. Returns (pid of the evaluation in flight, how many start lines there were at the kill)."""
    raylet = _raylet_pid(temp_dir)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        starts = _starts(log)
        mine = [pid for node, pid in starts if node == label]
        # The second one: the first has then finished on this 1-CPU node and reached the driver.
        if len(mine) >= 2 and Path(f"/proc/{mine[-1]}").exists():
            node_tree = _with_descendants({raylet}, _proc_table())
            os.kill(raylet, signal.SIGKILL)  # the raylet first, then its workers and their sandboxes
            _kill_all(node_tree - {raylet})
            return mine[-1], len(starts)
        time.sleep(0.02)
    raise AssertionError(f"node {label} never had a second evaluation in flight; starts: {_starts(log)}")


def test_run_survives_a_worker_node_crash(cluster: Cluster) -> None:
    task = cluster.base / "task"
    task.mkdir()
    (task / "task.toml").write_text(TASK_TOML)
    (task / "seed.py").write_text(SEED)
    (task / "evaluate.py").write_text(EVALUATE)
    log = cluster.base / "starts.log"
    cmd = [sys.executable, "-m", "syslab.cli", "run", str(task), "--executor", "ray"]
    cmd += ["--ray-address", cluster.address, "--workers", "2", "--budget", str(BUDGET)]
    cmd += ["--proposer", "mutate", "--seed", "1", "-o", str(cluster.base / "runs"), "--name", "r", "-q"]
    out = cluster.base / "run.out"
    with out.open("w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, cwd=cluster.base, env=cluster.env)
        try:
            in_flight, starts_at_kill = _crash_node_when_busy(cluster.temp_dirs["b"], "b", log, proc)
            rc = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert rc == 0, out.read_text()[-3000:]

    run_dir = cluster.base / "runs" / "r"
    with RunStore.open(run_dir, readonly=True) as store:
        assert store.manifest.status == "finished"
        assert store.manifest.isolation["executor"] == "ray"
        evaluated = [n for n in store.nodes() if n.kind != NodeKind.analysis and n.wall_s is not None]
    arts = [n.data["artifacts"] for n in evaluated]
    starts = _starts(log)

    # Every evaluation of the budget is recorded, each from one attempt that ran to its end.
    assert len(evaluated) == BUDGET
    assert all(n.failure_kind != "evaluator_error" for n in evaluated), [n.failure_message for n in evaluated]
    if os.geteuid() == 0:  # each worker node forked its evaluations from its own warm templates
        assert all(a["sandbox_start"] == "warm" for a in arts), [a["sandbox_start"] for a in arts]
    recorded = {a["ray_test_pid"]: a for a in arts}
    assert len(recorded) == BUDGET  # no attempt's result was recorded twice
    # Nothing completed is lost: every evaluation node b finished before the crash was recorded,
    # and the one it had in flight was not (its result died with the node)...
    done_on_b = [pid for node, pid in starts[:starts_at_kill] if node == "b" and pid != in_flight]
    assert done_on_b and all(pid in recorded for pid in done_on_b)
    assert in_flight not in recorded
    # ...but retried on the surviving node, and the retry recorded with the error that lost it.
    retried = [a for a in arts if a["ray_attempts"] > 1]
    assert retried, "the evaluation in flight on the crashed node was not retried"
    for a in retried:
        assert a["ray_test_node"] == "a"
        assert len(a["ray_lost_workers"]) == a["ray_attempts"] - 1
        assert all(any(t in err for t in LOST_TYPES) for err in a["ray_lost_workers"]), a["ray_lost_workers"]
    assert all("ray_lost_workers" not in a for a in arts if a["ray_attempts"] == 1)
    # Only attempts on the crashed node were lost, and none ran there after the crash.
    lost = [(node, pid) for node, pid in starts if pid not in recorded]
    assert lost and {node for node, _ in lost} == {"b"}
    assert len(lost) <= sum(a["ray_attempts"] - 1 for a in arts)
    assert all(node == "a" for node, _ in starts[starts_at_kill:])

"""The red-team suite's helpers: hostile split-mode candidates, run for real, and a host left unchanged.

A hostile candidate is built from tests/fixtures/hostile/split/: the prelude (hooks and a `leak()`
that fails the candidate with "LEAK: ..."), one or more attack snippets, and the honest policy of
a task family, which calls the attack's `on_call` / `on_result` hooks. So the only way a hostile
candidate can do better than the honest one is through a hole, and anything it reads that it
must not read comes back as a LEAK failure naming it.

`run_hostile` evaluates one candidate through `evaluate_program` (both processes, sandboxed) and
then checks the host: no process left with the run's uid (or container left), no SysV IPC object,
key or /dev/shm, /tmp entry owned by a sandbox uid, no syslab-<our pid>-* cgroup, nothing left in
the test's private temp root (scratch, trusted and channel dirs), and this process's memory not
blown up. `outcome_error` compares the result with the honest candidate's.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import tempfile
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from syslab.evaluators.base import EvaluationResult
from syslab.evaluators.harness import evaluate_program
from syslab.sandbox.cgroup import memory_parent
from syslab.sandbox.process import ProcessSandbox
from syslab.sandbox.sitedir import candidate_site
from syslab.task import Task, load_task

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SPLIT = FIXTURES / "hostile" / "split"
TASKS = FIXTURES / "tasks"
REPO = Path(__file__).resolve().parents[2]
SANDBOX_UIDS = set(range(61000, 62000)) | {65534}  # process-sandbox run uids; Docker's nobody
OTHER_SCRATCH = re.compile(r"syslab-eval-[a-z0-9_]{8}")
NOT_HIDDEN = 10**9  # no array is ever that long: the heap scan's "hidden trace" check is off
# A timed result faster than this share of the honest runtime is impossible: the honest runtime
# varies ~3x with the machine's load (others' tests); answers written ahead time at ~0.05x.
TIMED_FLOOR = 0.15

candidate_site()  # made once per process under the real temp dir, before a test redirects tempfile


@dataclass(frozen=True)
class Family:
    """A task family as the suite attacks it: a task and the honest policy with the attack hooks."""

    name: str
    task_dir: Path
    honest: str  # snippet name (a file under SPLIT); "" = the task's own seed with forward hooks
    compare: str = "exact"  # exact score | "timed" (within a tolerance) | "correct" (no score: no GPU)
    big: int = NOT_HIDDEN  # arrays this long exist only as the simulator's hidden state
    seed_hooks: str = ""  # with honest "": a snippet appended to the seed to route it through the hooks

    def task(self) -> Task:
        return load_task(self.task_dir)


FAMILIES = {
    "decision": Family("decision", TASKS / "decision_mini", "honest_decision"),
    "oneshot": Family("oneshot", TASKS / "oneshot_mini", "honest_oneshot"),
    "stateful": Family("stateful", TASKS / "stateful_mini", "honest_stateful"),
    "kernel": Family("kernel", TASKS / "kernel_mini", "honest_kernel", compare="timed"),
    "bin_packing": Family("bin_packing", REPO / "examples" / "bin_packing", "honest_bin_packing", big=4000),
    "load_balancer": Family(
        "load_balancer", REPO / "examples" / "load_balancer", "honest_load_balancer", big=4000
    ),
}
MINI = ["decision", "oneshot", "stateful", "kernel"]
KERNEL_TASK = REPO / "benchmarks" / "kernels" / "row_mean"  # the bundled kernel family, on CPU
FAMILIES["kernel_row_mean"] = Family(
    "kernel_row_mean", KERNEL_TASK, "", "correct", seed_hooks="k_forward_hooks"
)
# A bundled one-shot solver (needs $SYSLAB_DATA): its seed as is, so only load-time attacks apply.
FAMILIES["txn_scheduling"] = Family("txn_scheduling", REPO / "benchmarks" / "adrs" / "txn_scheduling", "")


def snippet(name: str) -> str:
    return (SPLIT / f"{name}.py").read_text()


def build(family: Family, *attacks: str, **subs: object) -> str:
    """prelude + attacks + honest policy, with every __KEY__ placeholder filled in from `subs`."""
    if family.honest:
        honest = snippet(family.honest)
    else:
        honest = family.task().seed_code + (snippet(family.seed_hooks) if family.seed_hooks else "")
    code = "\n\n".join([snippet("prelude"), *(snippet(a) for a in attacks), honest])
    values = {**subs, "FAMILY": family.name, "BIG": family.big}  # subs first: they may hold placeholders
    for key, value in values.items():
        code = code.replace(f"__{key}__", str(value))
    left = sorted(set(re.findall(r"__[A-Z][A-Z_]*__", code)))
    if left:
        raise ValueError(f"hostile candidate has unfilled placeholders {left}")
    return code


class RecordingProcessSandbox(ProcessSandbox):
    """The process sandbox, unchanged, remembering each run's uid (to look for its leftovers)."""

    def __init__(self) -> None:
        super().__init__()
        self.uids: list[int] = []

    def start(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - same signature as the parent's
        run = super().start(*args, **kwargs)
        if run.uid is not None:
            self.uids.append(run.uid)
        return run


# -- the host's state ----------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _sysv_objects() -> set[str]:
    """SysV IPC objects (host IPC namespace) created by a sandbox uid."""
    found = set()
    for kind in ("shm", "sem", "msg"):
        lines = _read(f"/proc/sysvipc/{kind}").splitlines()
        if not lines:
            continue
        cuid = lines[0].split().index("cuid")
        for line in lines[1:]:
            cols = line.split()
            if len(cols) > cuid and int(cols[cuid]) in SANDBOX_UIDS:
                found.add(f"{kind} key={cols[0]} id={cols[1]} cuid={cols[cuid]}")
    return found


def sandbox_keys() -> set[str]:
    """Kernel keys (visible to us) owned by a sandbox uid: they outlive every process of that uid."""
    found = set()
    for line in _read("/proc/keys").splitlines():
        cols = line.split()
        if len(cols) > 8 and cols[5].isdigit() and int(cols[5]) in SANDBOX_UIDS and cols[7] != "keyring":
            found.add(" ".join(cols[:1] + cols[5:]))
    return found


def _owned_entries(folder: str) -> set[str]:
    found = set()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        if OTHER_SCRATCH.fullmatch(entry.name):
            continue  # a concurrent evaluation's scratch dir (ours are made in the test's temp root)
        try:
            if entry.stat(follow_symlinks=False).st_uid in SANDBOX_UIDS:
                found.add(entry.path)
        except OSError:
            continue
    return found


def _our_cgroups() -> set[str]:
    parent = memory_parent()
    if parent is None:
        return set()
    prefix = f"syslab-{os.getpid()}-"
    try:
        return {p.name for p in parent[1].iterdir() if p.name.startswith(prefix)}
    except OSError:
        return set()


def rss_mb(pid: int | str = "self") -> float:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def processes_of(uid: int) -> list[int]:
    """Live processes with real uid `uid` that one of our runs started: a run uid is free for another
    evaluation (another engineer's, concurrently) once ours ended, so only processes in one of our
    memory cgroups (syslab-<our pid>-*) count, where there are such cgroups."""
    mine = f"/syslab-{os.getpid()}-" if memory_parent() is not None else "/"
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        status = _read(f"/proc/{name}/status").splitlines()
        uid_ok = any(line.startswith("Uid:") and line.split()[1] == str(uid) for line in status)
        zombie = any(line.startswith("State:") and line.split()[1] == "Z" for line in status)
        if uid_ok and not zombie and mine in _read(f"/proc/{name}/cgroup"):
            found.append(int(name))
    return found


@dataclass
class HostState:
    sysv: set[str]
    keys: set[str]
    shared: set[str]  # /dev/shm, /tmp, /var/tmp entries owned by a sandbox uid
    cgroups: set[str]
    rss_mb: float

    @classmethod
    def now(cls) -> HostState:
        shared = set().union(*(_owned_entries(d) for d in ("/dev/shm", "/tmp", "/var/tmp")))
        return cls(_sysv_objects(), sandbox_keys(), shared, _our_cgroups(), rss_mb())


@dataclass
class Outcome:
    result: EvaluationResult
    wall_s: float
    problems: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "ok" if self.result.failure is None else self.result.failure.kind.value

    @property
    def message(self) -> str:
        return "" if self.result.failure is None else self.result.failure.message


def leftovers(before: HostState, after: HostState, sandbox: object, temp_root: Path | None) -> list[str]:
    """What the evaluation left on the host (empty when nothing)."""
    problems = [f"new SysV IPC object: {x}" for x in sorted(after.sysv - before.sysv)]
    problems += [f"new kernel key of a sandbox uid: {x}" for x in sorted(after.keys - before.keys)]
    problems += [
        f"new shared entry owned by a sandbox uid: {x}" for x in sorted(after.shared - before.shared)
    ]
    problems += [f"cgroup left: {x}" for x in sorted(after.cgroups - before.cgroups)]
    for uid in getattr(sandbox, "uids", []):
        pids = processes_of(uid)
        if pids:
            problems.append(f"processes of run uid {uid} still alive: {pids}")
    for cid in getattr(sandbox, "cids", []):
        if sandbox.client.api.containers(all=True, filters={"id": cid}):  # type: ignore[attr-defined]
            problems.append(f"container {cid[:12]} left")
    if temp_root is not None and temp_root.exists():
        problems += [f"left in the temp root: {p.name}" for p in sorted(temp_root.iterdir())]
    if after.rss_mb - before.rss_mb > 200:
        problems.append(f"host process memory grew by {after.rss_mb - before.rss_mb:.0f} MB")
    return problems


def run_hostile(task: Task, code: str, sandbox: object, temp_root: Path | None) -> Outcome:
    """Evaluate for real, then list what was left on the host in `Outcome.problems`."""
    for recorded in ("uids", "cids"):  # what the recording sandboxes remember, per evaluation
        getattr(sandbox, recorded, []).clear()
    before = HostState.now()
    start = time.monotonic()
    result = evaluate_program(task, code, sandbox)  # type: ignore[arg-type]
    wall = time.monotonic() - start
    return Outcome(result, wall, leftovers(before, HostState.now(), sandbox, temp_root))


def same_as_honest(result: EvaluationResult, honest: EvaluationResult | None, family: Family) -> bool:
    if family.compare == "correct":  # correctness-only (no GPU): valid and correct, no score at all
        return result.valid and result.score is None and result.metrics.get("correct") == 1.0
    if honest is None or not (
        result.valid and honest.valid and result.score is not None and honest.score is not None
    ):
        return False
    if family.compare == "exact":
        return result.score == honest.score
    # Timed: the same checks passed, and no impossible speed-up.
    return (
        result.metrics.get("checked") == honest.metrics.get("checked")
        and result.score <= TIMED_FLOOR * honest.score
    )


def outcome_error(
    out: Outcome, honest: EvaluationResult | None, family: Family, allowed: set[str]
) -> str | None:
    """None when the result is the honest one ("honest" allowed) or a failure of an allowed kind.

    `honest` may be None for a correctness-only family (compared with its verdict, not a score)."""
    r = out.result
    if "LEAK" in out.message:
        return f"HOLE: {out.message}"
    if r.valid:
        if "honest" not in allowed:
            return f"expected a failure of kind {sorted(allowed)}, got a valid score {r.score} ({r.metrics})"
        if not same_as_honest(r, honest, family):
            shown = "a correct result" if honest is None else f"the honest {honest.score} ({honest.metrics})"
            return f"score {r.score} ({r.metrics}) differs from {shown}"
        return None
    if out.kind not in allowed:
        return f"expected {sorted(allowed)}, got {out.kind}: {out.message}"
    if r.score is not None:
        return f"a failed candidate kept a score: {r.score}"
    return None


_HONEST: dict[tuple[str, str], EvaluationResult] = {}


def honest_result(family: Family, sandbox: object) -> EvaluationResult:
    """The honest candidate's result on this family and backend (evaluated once per session)."""
    key = (family.name, getattr(sandbox, "name", "?"))
    if key not in _HONEST:
        result = evaluate_program(family.task(), build(family), sandbox)  # type: ignore[arg-type]
        assert result.valid, f"honest {family.name} candidate failed: {result.failure}"
        _HONEST[key] = result
    return _HONEST[key]


def with_limits(task: Task, **sandbox: object) -> Task:
    """A copy of the task with some [sandbox] fields changed."""
    spec = task.spec.model_copy(update={"sandbox": task.spec.sandbox.model_copy(update=sandbox)})
    return task.model_copy(update={"spec": spec})


# -- what the read attack (class H) tries ---------------------------------------------------


def forbidden_reads(task_dir: Path) -> list[str]:
    """Files and dirs no candidate may read: repo root, task dir, data, host sys.path, /root, shadow."""
    # The host's sys.path entries inside the repo, except what the candidate may read by design: the
    # syslab package (its runtime imports it; an ADRS test puts syslab/adrs/lib on this process's
    # sys.path) and the runtime's own site-packages (a venv made inside the checkout).
    from syslab.sandbox.sitedir import runtime_read_paths

    allowed = [str(REPO / "syslab"), *runtime_read_paths()]
    host_paths = [
        p
        for p in sys.path
        if p and p.startswith(str(REPO)) and not any(os.path.realpath(p).startswith(a) for a in allowed)
    ]
    return [
        str(REPO / "pyproject.toml"),
        str(REPO / ".git" / "HEAD"),
        str(REPO),
        str(REPO / "test-artifacts"),
        str(task_dir / "evaluate.py"),
        str(task_dir / "hidden" / "reference.txt"),
        str(task_dir),
        os.environ.get("SYSLAB_DATA", "/work/shared/data"),
        "/work/shared/data",
        "/root",
        "/root/.bashrc",
        "/etc/shadow",
        *host_paths,
    ]


@contextlib.contextmanager
def other_channel() -> Iterator[str]:
    """A live Docker-style candidate channel socket of "another evaluation" (made by the real code)."""
    from syslab.sandbox.docker import DockerSandbox

    saved = tempfile.tempdir
    tempfile.tempdir = "/tmp"  # where the harness really makes it, not the test's private root
    try:
        ends = DockerSandbox.channel(types.SimpleNamespace(user="65534:65534"))  # type: ignore[arg-type]
    finally:
        tempfile.tempdir = saved
    try:
        yield ends.candidate_env["SYSLAB_CHANNEL_PATH"]
    finally:
        for fd in ends.trusted_fds:
            os.close(fd)
        ends.cleanup()


@contextlib.contextmanager
def open_host_socket() -> Iterator[tuple[str, socket.socket]]:
    """A listening unix socket any local user may connect to, like a host service's (D-Bus, journald)."""
    folder = tempfile.mkdtemp(prefix="syslab-rt-host-", dir="/tmp")
    os.chmod(folder, 0o755)
    path = os.path.join(folder, "service.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        os.chmod(path, 0o777)
        listener.listen(4)
        listener.setblocking(False)
        yield path, listener
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.rmdir(folder)


def accepted(listener: socket.socket) -> bool:
    """Did anything connect to this listener?"""
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def read_attack_subs(
    task_dir: Path, temp_root: Path, sockets: list[str], env_canary: str
) -> dict[str, object]:
    """Substitutions for h_reads; `env_canary` is the value of a variable set in the host's environment."""
    return {
        "ENV_CANARY": env_canary,
        "READS": forbidden_reads(task_dir),
        "SOCKETS": ["/var/run/docker.sock", "/run/docker.sock", *sockets],
        "GLOBS": [f"{temp_root}/*", "/tmp/syslab-trusted-*", "/tmp/syslab-eval-*", "/tmp/syslab-chan-*"],
    }

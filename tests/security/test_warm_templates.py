"""Warm templates: forked children see what a cold start sees, and nothing of each other.

Each test writes a small split task whose evaluator (trusted, unsandboxed) appends what the
candidate reported to a JSON-lines file, so the test reads exactly what each candidate saw.
"""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from syslab.evaluators.harness import evaluate_program
from syslab.sandbox.process import ProcessSandbox
from syslab.sandbox.warm import POOL
from syslab.task import Task, load_task

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="warm templates need root (as the sandbox's namespaces)"
)

# What a candidate leaves behind, one marker per place; `probe` lists those it finds.
PROGRAM = textwrap.dedent(
    """
    # EVOLVE-BLOCK-START
    import builtins, ctypes, os, random, sys, tempfile, time, types
    import numpy as np
    import syslab.evaluators.protocol as protocol

    _libc = ctypes.CDLL(None, use_errno=True)
    SHM_KEY = 0x51A7

    def _shm():
        return _libc.shmget(SHM_KEY, 4096, 0) >= 0

    PLACES = {
        "numpy_global": lambda: hasattr(np, "_syslab_mark"),
        "syslab_global": lambda: hasattr(protocol, "_syslab_mark"),
        "builtins": lambda: hasattr(builtins, "_syslab_mark"),
        "sys_modules": lambda: "syslab_mark_module" in sys.modules,
        "environ": lambda: "SYSLAB_MARK" in os.environ,
        "tmp_file": lambda: os.path.exists(os.path.join(tempfile.gettempdir(), "mark")),
        "dev_shm": lambda: os.path.exists("/dev/shm/syslab-mark"),
        "sysv_shm": _shm,
    }

    def probe():
        return sorted(name for name, found in PLACES.items() if found())

    def poison():
        np._syslab_mark = 1
        protocol._syslab_mark = 1
        builtins._syslab_mark = 1
        sys.modules["syslab_mark_module"] = types.ModuleType("syslab_mark_module")
        os.environ["SYSLAB_MARK"] = "1"
        open(os.path.join(tempfile.gettempdir(), "mark"), "w").write("x")
        open("/dev/shm/syslab-mark", "w").write("x")
        _libc.shmget(SHM_KEY, 4096, 0o1000 | 0o666)  # IPC_CREAT

    def info():
        t = time.process_time()
        while time.process_time() - t < 0.2:  # CPU the sandbox's record must show
            pass
        fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
        return {
            "sys_path": sys.path,
            "env": sorted(os.environ),
            "fds": len(fds),
            "pid": os.getpid(),
            "uid": os.getuid(),
            "main_runtime": hasattr(sys.modules["__main__"], "Runtime"),
            "np_random": float(np.random.rand()),
            "random": random.random(),
        }
    # EVOLVE-BLOCK-END
    """
)

EVALUATOR = textwrap.dedent(
    """
    import json
    __PRELUDE__

    def evaluate(candidate):
        report = {"before": candidate.call("probe")}
        candidate.call("poison")
        report["after"] = candidate.call("probe")
        report["info"] = candidate.call("info")
        with open(__OUT__, "a") as f:
            f.write(json.dumps(report) + "\\n")
        return {"x": __VALUE__}
    """
)


def make_task(root: Path, out: Path, value: str = "1.0", prelude: str = "", sandbox: str = "") -> Task:
    root.mkdir(parents=True, exist_ok=True)
    (root / "task.toml").write_text(
        f'name = "warm"\ndescription = "d"\n[metrics.x]\ndirection = "maximize"\n[sandbox]\n{sandbox}'
    )
    (root / "seed.py").write_text(PROGRAM)
    evaluator = EVALUATOR.replace("__OUT__", repr(str(out))).replace("__VALUE__", value)
    (root / "evaluate.py").write_text(evaluator.replace("__PRELUDE__", prelude))
    return load_task(root)


def reports(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines()]


def templates_of(task: Task) -> dict[str, tuple[int, int]]:
    """pid and uses of the trusted template of this task, and of the candidate template."""
    found = {}
    for key, value in POOL.live().items():
        if key[0] == "trusted" and key[2] == str(task.root):
            found["trusted"] = value
        elif key[0] == "candidate" and key[2] == ("numpy", "numpy.random"):
            found["candidate"] = value
    return found


@pytest.fixture
def sandbox() -> ProcessSandbox:
    return ProcessSandbox()


def test_nothing_a_candidate_leaves_reaches_the_next_one(tmp_path: Path, sandbox: ProcessSandbox) -> None:
    out = tmp_path / "reports.jsonl"
    task = make_task(tmp_path / "task", out)
    for _ in range(3):
        res = evaluate_program(task, task.seed_code, sandbox)
        assert res.ok, res.failure
    first, *later = reports(out)
    assert first["after"] == sorted(first["after"]) and len(first["after"]) == 8  # every poison took
    for rep in later:
        assert rep["before"] == [], rep["before"]  # none of it in the next candidate's process
    live = templates_of(task)
    assert live["trusted"][1] >= 3 and live["candidate"][1] >= 3  # all three were forked warm


def test_a_warm_child_sees_what_a_cold_start_sees(tmp_path: Path, sandbox: ProcessSandbox) -> None:
    out = tmp_path / "reports.jsonl"
    task = make_task(tmp_path / "task", out)
    results = []
    for warm in (True, False, True):
        task.spec.sandbox.warm = warm
        results.append(evaluate_program(task, task.seed_code, sandbox))
        assert results[-1].ok, results[-1].failure
        assert results[-1].artifacts["sandbox_start"] == ("warm" if warm else "cold")
    warm1, cold, warm2 = (r["info"] for r in reports(out))
    for key in ("sys_path", "env", "fds", "pid", "main_runtime"):  # the uid is per run
        assert warm1[key] == cold[key], key
    assert warm1["pid"] == 1 and warm1["uid"] != 0  # PID 1 of its namespace, unprivileged
    # Entropy of its own: a fork would otherwise repeat the template's random state.
    assert warm1["np_random"] != warm2["np_random"] and warm1["random"] != warm2["random"]
    assert results[0].cpu_s >= 0.15 and results[2].cpu_s >= 0.15  # the waiter reports the child's CPU


def test_template_follows_the_task_dir_uses_and_death(tmp_path: Path, sandbox: ProcessSandbox) -> None:
    out = tmp_path / "reports.jsonl"
    task = make_task(tmp_path / "task", out, sandbox="template_uses = 2\n")
    assert evaluate_program(task, task.seed_code, sandbox).metrics == {"x": 1.0}
    pid0 = templates_of(task)["trusted"][0]
    time.sleep(0.05)  # a new mtime even on coarse clocks (the new file has the same size)
    make_task(tmp_path / "task", out, value="2.0", sandbox="template_uses = 2\n")  # the evaluator changed
    assert evaluate_program(task, task.seed_code, sandbox).metrics == {"x": 2.0}
    pid1, uses = templates_of(task)["trusted"]
    assert pid1 != pid0 and uses == 1
    assert evaluate_program(task, task.seed_code, sandbox).ok
    assert evaluate_program(task, task.seed_code, sandbox).ok  # third use of pid1: replaced at 2
    pid2 = templates_of(task)["trusted"][0]
    assert pid2 != pid1
    for pid in (pid2, templates_of(task)["candidate"][0]):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    res = evaluate_program(task, task.seed_code, sandbox)
    assert res.ok, res.failure
    assert templates_of(task)["trusted"][0] not in (pid2, pid1)


def test_evaluator_imports_are_not_timed_against_the_candidate(
    tmp_path: Path, sandbox: ProcessSandbox
) -> None:
    """The evaluator module takes 3 s to import; the stage has 2 s. Warm, the import happened
    in the template before the run's clock started; cold, it is part of the stage."""
    out = tmp_path / "reports.jsonl"
    task = make_task(tmp_path / "task", out, prelude="import time; time.sleep(3)", sandbox="timeout_s = 2\n")
    res = evaluate_program(task, task.seed_code, sandbox)
    assert res.ok, res.failure
    task.spec.sandbox.warm = False
    res = evaluate_program(task, task.seed_code, sandbox)
    assert res.failure is not None and res.failure.kind.value == "timeout"


def test_a_template_with_threads_is_not_forked(tmp_path: Path, sandbox: ProcessSandbox) -> None:
    """An evaluator that starts a thread at import: forking that template could deadlock, so the
    evaluation starts cold, and still scores."""
    out = tmp_path / "reports.jsonl"
    prelude = "import threading, time; threading.Thread(target=time.sleep, args=(600,), daemon=True).start()"
    task = make_task(tmp_path / "task", out, prelude=prelude)
    res = evaluate_program(task, task.seed_code, sandbox)
    assert res.ok and res.metrics == {"x": 1.0}, res.failure
    assert res.artifacts["sandbox_start"] == "cold"
    assert "trusted" not in templates_of(task)
    assert any(k[0] == "trusted" and k[2] == str(task.root) for k in POOL._refused)


def test_the_pool_keeps_a_bounded_number_of_templates(
    tmp_path: Path, sandbox: ProcessSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(POOL, "max_live", 2)
    tasks = [make_task(tmp_path / f"task{i}", tmp_path / "reports.jsonl") for i in range(3)]
    pids = []
    for task in tasks:
        assert evaluate_program(task, task.seed_code, sandbox).ok
        pids.append(templates_of(task)["trusted"][0])
    assert len(POOL.live()) <= 2
    assert "trusted" not in templates_of(tasks[0])  # the least recently used went
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


def test_prestart_readies_both_templates_for_the_first_evaluation(
    tmp_path: Path, sandbox: ProcessSandbox
) -> None:
    """`syslab run` starts a split task's templates while it imports its agent stack; the first
    evaluation then forks from those very templates (no second start)."""
    from syslab.sandbox.warm import prestart

    out = tmp_path / "reports.jsonl"
    task = make_task(tmp_path / "task", out, prelude="import time; time.sleep(0.5)")
    POOL.close()  # no candidate template left over from another test
    assert prestart(task, "docker") is None  # only the process backend forks templates
    thread = prestart(task, "process")
    assert thread is not None
    thread.join(timeout=30)
    before = templates_of(task)
    assert set(before) == {"trusted", "candidate"} and before["trusted"][1] == 0
    res = evaluate_program(task, task.seed_code, sandbox)
    assert res.ok and res.artifacts["sandbox_start"] == "warm", res.failure
    after = templates_of(task)
    assert after["trusted"] == (before["trusted"][0], 1)
    assert after["candidate"] == (before["candidate"][0], 1)


def test_an_evaluators_warm_runs_once_in_the_template(tmp_path: Path, sandbox: ProcessSandbox) -> None:
    """An evaluator's `warm()` (loading its data, say) runs in the trusted template, before any
    evaluation's clock: it takes 3 s, the stage has 2 s, and every evaluation finds what it made,
    made in another process (the template's), once."""
    out = tmp_path / "reports.jsonl"
    prelude = "import os, time\nWARMED = []\ndef warm():\n    time.sleep(3)\n    WARMED.append(os.getpid())\n"
    value = "float(len(WARMED) == 1 and WARMED[0] != __import__('os').getpid())"
    task = make_task(tmp_path / "task", out, value=value, prelude=prelude, sandbox="timeout_s = 2\n")
    for _ in range(2):
        res = evaluate_program(task, task.seed_code, sandbox)
        assert res.ok, res.failure
        assert res.metrics == {"x": 1.0} and res.artifacts["sandbox_start"] == "warm"

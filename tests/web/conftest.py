"""Fixtures for the browse tests: real runs of a small task whose evaluator fails on some
candidates (so there are tracebacks to look at), and a real HTTP server in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syslab.artifacts.schema import LLMCall
from syslab.artifacts.store import RunStore
from syslab.config import RunConfig
from syslab.engine.run import run_evolution
from syslab.errors import SyslabError

FIXTURE_TASKS = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
QUADRATIC = FIXTURE_TASKS / "quadratic"

# Refuses about a third of the values, deterministically (the seed's 8.5 passes).
FLAKY_EVALUATOR = """import importlib.util
import time


def evaluate(program_path):
    time.sleep({sleep})
    spec = importlib.util.spec_from_file_location("candidate", program_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    value = float(mod.solve())
    if round(value * 1000) % 3 == 0:
        raise ValueError(f"flaky evaluator refuses value {{value}}")
    return {{"distance": abs(value - 42.0), "value": value}}
"""


def make_task(root: Path, sleep: float = 0.0) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "task.toml").write_text((QUADRATIC / "task.toml").read_text().replace('"quadratic"', '"flaky"'))
    (root / "seed.py").write_text((QUADRATIC / "seed.py").read_text())
    (root / "evaluate.py").write_text(FLAKY_EVALUATOR.format(sleep=sleep))
    return root


def run_config(out: Path, evaluations: int, seed: int = 0, **extra: object) -> RunConfig:
    return RunConfig.model_validate(
        {
            "out": str(out),
            "progress": False,
            "proposer": "mutate",
            "seed": seed,
            "budget": {"evaluations": evaluations},
            "search": {"pareto_metrics": ["distance", "value"]},
            **extra,
        }
    )


def add_llm_call(run_dir: Path, node_id: int) -> LLMCall:
    """Record a proposer exchange for `node_id` as the LLM agents do (the mutate proposer has none)."""
    store = RunStore.open(run_dir)
    try:
        call = LLMCall(
            node_id=node_id,
            model="test-model-1",
            prompt_sha=store.put_blob('[{"role": "user", "content": "make solve() return 42"}]'),
            response_sha=store.put_blob("<<<<<<< SEARCH\n    a = 1.5\n=======\n    a = 2.5\n>>>>>>> REPLACE"),
            prompt_tokens=120,
            completion_tokens=30,
            cost_usd=0.0042,
            latency_s=1.5,
            created_at=time.time(),
        )
        store.add_llm_call(call)
    finally:
        store.close()
    return call


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web")


@pytest.fixture(scope="session")
def finished_run(runs_root: Path) -> Path:
    """A finished 12-evaluation run with failures (tracebacks), a claim, an LLM call, a Pareto config."""
    task = make_task(runs_root / "task")
    result = run_evolution(task, run_config(runs_root / "runs", 12))
    store = RunStore.open(result.run_dir, readonly=True)
    best = store.best_node()
    store.close()
    assert best is not None and best.id != 0, "the fixture run should improve on its seed"
    add_llm_call(result.run_dir, best.id)
    return result.run_dir


@pytest.fixture(scope="session")
def second_run(runs_root: Path, finished_run: Path) -> Path:
    result = run_evolution(runs_root / "task", run_config(runs_root / "runs2", 8, seed=1))
    return result.run_dir


@pytest.fixture(scope="session")
def split_run(runs_root: Path) -> Path:
    """A finished split-mode run (verified scores), next to the shared-mode `finished_run`."""
    result = run_evolution(FIXTURE_TASKS / "provenance_split", run_config(runs_root / "split", 3))
    return result.run_dir


@pytest.fixture(scope="session")
def hostile_run(runs_root: Path) -> Path:
    """A run whose seed prints HTML, Rich markup and escape sequences and fails with more of them
    (tests/fixtures/tasks/provenance_hostile): the run stops at the seed, which stays recorded."""
    out = runs_root / "hostile"
    with pytest.raises(SyslabError, match="seed program failed evaluation"):
        run_evolution(FIXTURE_TASKS / "provenance_hostile", run_config(out, 3))
    return next(out.iterdir())


class Server:
    """The browse app on a real uvicorn server in a thread (the browser needs real HTTP)."""

    def __init__(self, run_dirs: list[Path]):
        import uvicorn

        from syslab.web.app import create_app

        self.app = create_app(run_dirs)
        # The socket is bound here and handed to uvicorn: picking a free port and binding it later
        # raced with other processes on a busy machine ("address already in use").
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> Server:
        self._thread.start()
        deadline = time.time() + 20
        while not self._server.started:
            if time.time() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@pytest.fixture(scope="session")
def make_server() -> type[Server]:
    return Server


@pytest.fixture(scope="session")
def server(finished_run: Path, second_run: Path) -> Iterator[Server]:
    with Server([finished_run, second_run]) as s:
        yield s


class LiveRun:
    """A run going on in a background thread (slow evaluator), for watching it grow."""

    def __init__(self, root: Path, evaluations: int, sleep: float):
        self.task = make_task(root / "task", sleep=sleep)
        self.out = root / "runs"
        self.config = run_config(self.out, evaluations)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            run_evolution(self.task, self.config)
        except BaseException as e:  # reported by the test
            self.error = e

    def start(self, timeout: float = 30.0) -> Path:
        """Start it; returns its run directory once its store exists."""
        self.thread.start()
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = (
                [d for d in self.out.glob("*") if (d / "syslab.db").is_file()] if self.out.is_dir() else []
            )
            if found:
                return found[0]
            time.sleep(0.05)
        raise RuntimeError(f"the live run made no store in {timeout} s (error: {self.error})")

    def join(self, timeout: float = 120.0) -> None:
        self.thread.join(timeout)
        if self.error:
            raise self.error


@pytest.fixture
def live_run(tmp_path: Path) -> LiveRun:
    return LiveRun(tmp_path, evaluations=10, sleep=0.4)

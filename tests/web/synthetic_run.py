"""A run written straight into a store, with the values a newcomer met: scores near -5 and one
outlier at -542, a minimised primary metric with a unit, a second metric (cost) for a scatter,
an analyst note whose stored note was cut at 200 characters, an LLM exchange stored as the
request JSON, and attempts that never reached the evaluator (duplicates)."""

from __future__ import annotations

import time
from pathlib import Path

from syslab.agents.llm import prompt_text
from syslab.artifacts.schema import Edge, EdgeKind, LLMCall, Manifest, Node, NodeKind, NodeStatus
from syslab.artifacts.store import RunStore

TASK_TOML = """name = "latency"
description = "Serve requests fast and cheaply."
seed = "seed.py"
evaluator = "evaluate.py:evaluate"

[metrics.latency]
direction = "minimize"
primary = true
unit = "ms"

[metrics.cost]
direction = "minimize"
unit = "$/h"

[budget]
evaluations = 20
"""

# (latency ms, cost $/h) of candidates 1..12; candidate 7 is the outlier.
CANDIDATES = [
    (5.123456789, 3.5),
    (4.8, 4.25),
    (5.6, 2.75),
    (4.41, 5.5),
    (6.2, 2.5),
    (4.95, 3.0),
    (542.0, 1.0),
    (5.3, 3.25),
    (4.2, 6.0),
    (5.9, 2.6),
    (4.6, 4.0),
    (5.05, 3.9),
]
OUTLIER = 7
DUPLICATES = 2  # attempts after the candidates that yielded no new program
GUIDANCE = (
    "Batch small requests together before dispatch, because the per-request overhead dominates "
    "latency at this load; keep the batch window under one millisecond so that the tail does not "
    "grow, and measure the p99 latency separately from the mean before trusting an improvement.\n"
    "Second line of guidance."
)
SYSTEM = "You improve programs.\nReturn a SEARCH/REPLACE diff."
USER = "Make it faster.\n<script>window.__pwned=3</script>\nKeep the cost down."


def program(k: int) -> str:
    return (
        f"# EVOLVE-BLOCK-START\nBATCH = {k}\nWINDOW_MS = {k / 10}\n# EVOLVE-BLOCK-END\n\n\n"
        "def serve(requests):\n    return sorted(requests)\n"
    )


def make_task(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "task.toml").write_text(TASK_TOML)
    (root / "seed.py").write_text(program(0))
    (root / "evaluate.py").write_text("def evaluate(program_path):\n    return {'latency': 1.0}\n")
    return root


def make_run(root: Path, run_id: str = "outlier") -> Path:
    """The run's directory (finished, shared mode); its task lives next to it."""
    task = make_task(root / "task")
    man = Manifest(
        syslab_version="0", run_id=run_id, task_name="latency", task_dir=str(task), task_hash="0",
        seed=0, config={"search": {"pareto_metrics": ["latency", "cost"]}}, platform={}, isolation={},
        created_at=time.time(), status="finished", evaluation_mode="shared",
    )  # fmt: skip
    run_dir = root / run_id
    store = RunStore.create(run_dir, man)
    t = time.time()

    def evaluated(nid: int, parent: int | None, latency: float, cost: float) -> Node:
        return Node(
            id=nid, kind=NodeKind.seed if parent is None else NodeKind.candidate,
            status=NodeStatus.evaluated, parent_id=parent, generation=0 if parent is None else 1 + nid // 5,
            operator="seed" if parent is None else "llm:diff", score=-latency, valid=True,
            metrics={"latency": latency, "cost": cost}, created_at=t + nid, finished_at=t + nid + 0.5,
            wall_s=0.25, note="" if parent is None else f"candidate {nid}",
        )  # fmt: skip

    store.add_node(evaluated(0, None, 6.0, 3.0), code=program(0))
    for k, (latency, cost) in enumerate(CANDIDATES, start=1):
        store.add_node(evaluated(k, (k - 1) // 3, latency, cost), code=program(k))
    nid = len(CANDIDATES) + 1
    for j in range(DUPLICATES):
        store.add_node(
            Node(
                id=nid + j,
                status=NodeStatus.failed,
                parent_id=1,
                generation=1,
                operator="llm:diff",
                failure_kind="duplicate",
                failure_message="same program as #1",
                created_at=t + 40 + j,
                finished_at=t + 40 + j,
            )  # fmt: skip
        )
    analyst = nid + DUPLICATES
    store.add_node(
        Node(
            id=analyst,
            kind=NodeKind.analysis,
            status=NodeStatus.evaluated,
            operator="analyst:llm",
            model="test-model-1",
            note=GUIDANCE.splitlines()[0][:200],
            created_at=t + 50,
            finished_at=t + 50,
            data={"guidance": GUIDANCE, "hypotheses": ["batching helps", "the window bounds the tail"]},
        )  # fmt: skip
    )
    for target in (1, 2):
        store.add_edge(Edge(src=analyst, dst=target, kind=EdgeKind.analysis_of))
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
    store.add_llm_call(
        LLMCall(
            node_id=2,
            model="test-model-1",
            prompt_sha=store.put_blob(prompt_text("test-model-1", messages, 0.7, 512, 1)),
            response_sha=store.put_blob("<<<<<<< SEARCH\nBATCH = 1\n=======\nBATCH = 2\n>>>>>>> REPLACE"),
            prompt_tokens=50,
            completion_tokens=20,
            cost_usd=0.001,
            latency_s=0.5,
            created_at=t,
        )  # fmt: skip
    )
    store.flush()
    store.close()
    return run_dir

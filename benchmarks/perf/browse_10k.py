"""`syslab browse` on a 10,000-node artifact: time to first paint and to interactive in Chromium.

Builds a synthetic run directly through RunStore (realistic mix: 4 islands, scores that drift
upwards, ~30% failures of several kinds with tracebacks, analyst notes every 100 candidates),
serves it with the browse app on a free port, opens it in headless Chromium (Debian's
/usr/bin/chromium driven by Playwright) and reads the performance marks the page sets:
`syslab:first-paint` (graph drawn once) and `syslab:interactive` (hit-testing grid built, input
handlers live), both measured from navigation start. Also prints the server-side layout time,
the graph payload size, a full redraw and a hit test at that size.

    python benchmarks/perf/browse_10k.py [--nodes 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from syslab.artifacts.schema import Edge, EdgeKind, Manifest, Node, NodeKind, NodeStatus  # noqa: E402
from syslab.artifacts.store import RunStore  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FAILURES = ["runtime", "timeout", "syntax", "wrong_answer", "duplicate", "memory"]
SEED_CODE = "def solve(x):\n    # EVOLVE-BLOCK-START\n    a = 1.0\n    return a * x\n    # EVOLVE-BLOCK-END\n"


def make_run(run_dir: Path, n: int, seed: int = 0) -> Path:
    """A synthetic n-node run artifact (candidates, failures, analyst notes) made through RunStore."""
    rng = random.Random(seed)
    manifest = Manifest(
        syslab_version="bench",
        run_id=run_dir.name,
        task_name="synthetic",
        task_dir="/nonexistent",
        task_hash="0" * 64,
        seed=seed,
        config={"search": {"islands": 4}},
        platform={},
        isolation={},
        created_at=time.time(),
        status="finished",
    )
    store = RunStore.create(run_dir, manifest)
    valid: list[tuple[int, float]] = []
    t0 = time.time()
    with store.transaction():
        store.add_node(
            Node(
                id=0,
                kind=NodeKind.seed,
                status=NodeStatus.evaluated,
                operator="seed",
                score=-10.0,
                valid=True,
                stage="main",
                metrics={"cost": 10.0},
                created_at=t0,
                finished_at=t0,
            ),
            code=SEED_CODE,
        )
        valid.append((0, -10.0))
        elites = [(0, -10.0)]
        last_analysis = 0
        for i in range(1, n):
            if i - last_analysis >= 100:
                note = Node(
                    id=i,
                    kind=NodeKind.analysis,
                    status=NodeStatus.evaluated,
                    operator="analyst:bench",
                    note=f"analysis {i}: constant edits near node {i - 3} help",
                    created_at=t0 + i,
                    finished_at=t0 + i,
                    data={"hypotheses": [f"h{i}"], "dead_ends": [], "guidance": "go"},
                )
                store.add_node(note)
                for t in range(last_analysis + 1, i, 7):
                    store.add_edge(Edge(src=i, dst=t, kind=EdgeKind.analysis_of))
                last_analysis = i
                continue
            # Parents as a population-based search picks them: the elites, a uniform pick, a recent one.
            u = rng.random()
            if u < 0.5:
                pid, pscore = rng.choice(elites)
            elif u < 0.8:
                pid, pscore = rng.choice(valid)
            else:
                pid, pscore = rng.choice(valid[-50:])
            island = rng.randrange(4)
            fail = rng.random() < 0.3
            code = SEED_CODE.replace("a = 1.0", f"a = {rng.uniform(0, 5):.4f}")
            node = Node(
                id=i,
                parent_id=pid,
                island=island,
                generation=0,
                operator=rng.choice(["mutate:constant", "mutate:swap", "crossover", "llm:diff"]),
                created_at=t0 + i,
                finished_at=t0 + i,
                note=f"const edit at line {rng.randrange(1, 40)}",
            )
            if fail:
                kind = rng.choice(FAILURES)
                tb = store.put_blob(
                    f"Traceback (most recent call last):\n  File 'program.py', line 3\n{kind} in node {i}\n"
                )
                node = node.model_copy(
                    update={
                        "status": NodeStatus.failed,
                        "failure_kind": kind,
                        "failure_message": f"{kind} at node {i}",
                        "evidence": {"traceback": tb},
                    }
                )
            else:
                score = pscore + rng.gauss(-0.15, 0.25)  # most edits make it worse
                node = node.model_copy(
                    update={
                        "status": NodeStatus.evaluated,
                        "valid": True,
                        "score": score,
                        "stage": "main",
                        "metrics": {"cost": -score},
                    }
                )
                valid.append((i, score))
                elites = sorted([*elites, (i, score)], key=lambda v: -v[1])[:20]
            store.add_node(node, code=code)
            if node.operator == "crossover" and len(valid) > 2:
                store.add_edge(Edge(src=rng.choice(valid)[0], dst=i, kind=EdgeKind.crossover))
    store.close()
    return run_dir


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3, help="page loads to measure (fresh page each)")
    args = ap.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("needs the playwright Python package (pip install playwright) and Debian's chromium")
        return 1
    if not Path(CHROMIUM).exists():
        print(f"needs {CHROMIUM} (apt-get install chromium)")
        return 1
    import uvicorn

    from syslab.web.app import create_app
    from syslab.web.data import RunView

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        run_dir = make_run(Path(tmp) / "synthetic-10k", args.nodes)
        print(f"artifact: {args.nodes} nodes written in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        view = RunView("x", run_dir)
        t_load = time.perf_counter() - t
        t = time.perf_counter()
        view.graph()
        t_layout = time.perf_counter() - t
        view.close()
        print(f"server: load nodes {t_load * 1000:.0f} ms, layout + arrays {t_layout * 1000:.0f} ms")

        app = create_app([run_dir])
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/"
        import urllib.request

        with urllib.request.urlopen(url + "api/runs/synthetic-10k/graph") as r:
            print(f"graph payload: {len(r.read()) / 1024:.0f} KiB (uncompressed JSON)")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for k in range(args.repeat):
                page = browser.new_page(viewport={"width": 1500, "height": 900})
                page.goto(url)
                deadline = time.time() + 30
                while time.time() < deadline and not page.evaluate(
                    "!!(window.syslab && window.syslab.interactive)"
                ):
                    time.sleep(0.02)
                marks = page.evaluate(
                    "() => Object.fromEntries(['syslab:first-paint', 'syslab:interactive'].map("
                    "n => [n, performance.getEntriesByName(n)[0].startTime]))"
                )
                drawn = page.evaluate("window.syslab.G.id.length")
                redraw = page.evaluate(
                    "() => { const t = performance.now(); for (let i = 0; i < 10; i++) window.syslab.draw(); "
                    "return (performance.now() - t) / 10; }"
                )
                hit = page.evaluate(
                    "() => { const t = performance.now(); let h = 0; for (let i = 0; i < 1000; i++) "
                    "{ if (window.syslab.hit(Math.random() * 800, Math.random() * 700) !== null) h++; } "
                    "return [(performance.now() - t) / 1000, h]; }"
                )
                print(
                    f"load {k + 1}: {drawn} nodes drawn; first paint {marks['syslab:first-paint']:.0f} ms, "
                    f"interactive {marks['syslab:interactive']:.0f} ms; full redraw {redraw:.1f} ms; "
                    f"hit test {hit[0] * 1000:.0f} us ({hit[1]}/1000 random points on a node)"
                )
                page.close()
            browser.close()
        server.should_exit = True
    print("goal: first paint < 1000 ms, interactive < 2000 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

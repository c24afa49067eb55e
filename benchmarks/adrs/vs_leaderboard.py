"""The ADRS-Leaderboard's own evaluators beside syslab's, on the leaderboard's solution files.

    SYSLAB_DATA=../shared/data python benchmarks/adrs/vs_leaderboard.py --leaderboard CHECKOUT
        [--problems p,q] [--frameworks a,b] [--repeats 1] [--timeout S] [--seeded]
        [--lb-site DIR] [--out runs/vs-leaderboard] [--keep]

For each `solutions/<p>/<fw>` of a local UCB-ADRS/ADRS-Leaderboard checkout (the seven problems
syslab ships), `--repeats` times, alternating which side goes first:

- leaderboard: the checkout's `problems/<p>/evaluator.py`, run as its run_evaluator.sh runs it
  (`--solution`, and `--spec` / `--out` where that script passes them, cwd the problem directory)
  with this Python, in a scratch copy of `ADRS/problems/<p>` + `ADRS/solutions/<p>/<fw>` staged by
  the solution's own solve.sh (the evaluators write output_program.py, caches and results there).
  Data is staged from $SYSLAB_DATA into the layout download_datasets.sh / config.yaml produce;
  nothing is downloaded. eplb's vLLM load file is not there, so its evaluator is not run.
  Packages its uv environment has and this Python lacks: graphviz and wandb get stand-ins (never
  used for scoring), the rest comes from --lb-site (cant_be_late_multi: configargparse, tqdm).
  --timeout also becomes the spec's `timeout_seconds` (txn_scheduling's limit on the program).
- syslab: `leaderboard_repro.evaluate_solution`, the path of `syslab reproduce adrs --leaderboard`
  (staging, process sandbox, split mode, the leaderboard's declared timeout).

syslab seeds `random` and numpy with 0 right before it calls the program's entry, and its sandbox
sets PYTHONHASHSEED=0; the leaderboard does neither. `--seeded` does both for the leaderboard side
(a sitecustomize.py on PYTHONPATH, so every process the evaluator starts seeds before the same
call), so a randomised program draws the same numbers, and iterates sets of strings in the same
order, on both sides. Writes vs_leaderboard.md / .csv (medians over repeats, load averages) to
--out, rewritten after every solution, and prints the markdown; the leaderboard side's output
goes to --out/logs.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from syslab.adrs import leaderboard_staging as staging  # noqa: E402
from syslab.adrs.leaderboard_repro import evaluate_solution, one_line, select  # noqa: E402
from syslab.data import DataMissing, data_path  # noqa: E402


class Stage(NamedTuple):
    """`src` under $SYSLAB_DATA/adrs linked at `dest` (relative to the problem dir); a tarball's
    members under `member` are extracted once, less the `strip` prefix, and that is linked."""

    src: str
    dest: str
    member: str = ""
    strip: str = ""
    optional: bool = False


LLM_SQL_TABLES = ["movies.csv", "beer.csv", "BIRD.csv", "PDMX.csv", "products.csv"]
# Where each evaluator reads its data: cloudcast's evaluator and spec (resources/datasets/...),
# llm_sql's local fallback (resources/datasets), cant_be_late(_multi)'s config.yaml targets and
# eplb's local fallback (ADRS/datasets/eplb, beside problems/).
CBL_DATA = "resources/cant-be-late-simulator/data"
DATA: dict[str, list[Stage]] = {
    "cloudcast": [Stage("cloudcast/profiles", "resources/datasets/profiles"),
                  Stage("cloudcast/configs", "resources/datasets/examples/config")],
    "llm_sql": [Stage(f"llm_sql/{n}", f"resources/datasets/{n}", optional=n != "beer.csv")
                for n in LLM_SQL_TABLES],
    "cant_be_late": [Stage("cant_be_late/real_traces.tar.gz", CBL_DATA, member="real/")],
    "cant_be_late_multi": [Stage("cant_be_late_multi/real_traces.tar.gz", CBL_DATA,
                                 member="data/converted_multi_region_aligned/", strip="data/")],
    "eplb": [Stage("eplb/expert-load.json", "../../datasets/eplb/expert-load.json")],
}  # fmt: skip
# The call syslab's adapters seed before (benchmarks/adrs/<p>/adapter.py); cant_be_late(_multi)
# seed per scenario in syslab, once per process here (no leaderboard strategy draws numbers).
ENTRIES = {"txn_scheduling": "get_random_costs", "cloudcast": "search_algorithm", "llm_sql": "Solution.solve",
           "prism": "compute_model_placement", "eplb": "rebalance_experts"}  # fmt: skip
SITECUSTOMIZE = """# Staged by vs_leaderboard.py --seeded: random and numpy seeded with 0 before each call of the
# program's entry (VS_LB_SEED_ENTRY: "f" or "Class.method", wrapped as the program module loads).
import functools, importlib.machinery, os, random

def seed():
    random.seed(0)
    try:
        import numpy
        numpy.random.seed(0)
    except ImportError:
        pass

def exec_module(self, module, _exec=importlib.machinery.SourceFileLoader.exec_module):
    _exec(self, module)
    owner, _, name = os.environ.get("VS_LB_SEED_ENTRY", "").rpartition(".")
    target = getattr(module, owner, None) if owner else module
    fn = getattr(target, name, None) if name else None
    if callable(fn) and not hasattr(fn, "_vs_lb_seeded"):
        @functools.wraps(fn)
        def seeded(*args, **kwargs):
            seed()
            return fn(*args, **kwargs)
        seeded._vs_lb_seeded = True
        setattr(target, name, seeded)

importlib.machinery.SourceFileLoader.exec_module = exec_module
seed()
"""
# llm_sql's evaluator pairs its col_merge specs with the tables it finds by position, so with
# beer.csv alone beer would get movies' spec; this driver runs its main() with them re-paired by name.
LLM_SQL_DRIVER = """import sys, os, evaluator
NAMES = {names!r}
_init = evaluator.Evaluator.__init__
def __init__(self, problem_dir):
    _init(self, problem_dir)
    spec = dict(zip(NAMES, self.col_merges))
    self.col_merges = [spec[os.path.basename(f)] for f in self.trace_files]
evaluator.Evaluator.__init__ = __init__
sys.argv = ["evaluator.py"] + sys.argv[1:]
sys.exit(evaluator.main())
"""
# Stand-ins for what the leaderboard's uv environments have and this Python may lack, staged only
# where the module is not importable: graphviz (cloudcast's utils.py imports it to draw graphs,
# never called while scoring) and wandb (the simulators log to it; WANDB_MODE=disabled, and
# cant_be_late's own sim_worker.py stubs it the same way in minimal environments).
STUBS = {  # module: (the problem that imports it, the stand-in)
    "graphviz": ("cloudcast", "class Digraph:\n    def __init__(self, *a, **k):\n        pass\nGraph = Digraph\n"),
    "wandb": ("cant_be_late_multi", "run = None\nclass config:\n    update = staticmethod(lambda *a, **k: None)\n"
              "def init(*a, **k):\n    return None\ndef log(*a, **k):\n    return None\n"),
}  # fmt: skip
CLOCK = re.compile(r"time\.(?:time|perf_counter|monotonic)\(\)\s*-\s*\w+\s*<")


@dataclass
class Side:  # one evaluation by one side
    score: float | None = None
    wall_s: float = 0.0
    status: str = "ok"
    note: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    problem: str
    framework: str
    lb: list[Side] = field(default_factory=list)
    syslab: list[Side] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def stage_data(problem: str, problem_dir: Path, cache: Path) -> tuple[str | None, list[str]]:
    """Link the problem's data into its scratch copy: (why the evaluator cannot run, or None; notes)."""
    notes: list[str] = []
    for st in DATA.get(problem, []):
        try:
            src = data_path(f"adrs/{st.src}")
        except DataMissing:
            if st.optional:
                notes.append(f"{Path(st.src).name} absent")
                continue
            return f"lb not run: $SYSLAB_DATA/adrs/{st.src} missing (download_datasets.sh fetches it)", notes
        if src.name.endswith(".tar.gz"):
            extracted = cache / st.src.replace("/", "_")
            if not extracted.is_dir():
                with tarfile.open(src) as tar:  # once per run: the trace archives hold ~30,000 files
                    members = []
                    for m in tar.getmembers():
                        if m.name.startswith(st.member) and not Path(m.name).name.startswith("._"):
                            m.name = m.name.removeprefix(st.strip)
                            members.append(m)
                    tar.extractall(extracted, members=members, filter="data")
            src = extracted
        dest = problem_dir / st.dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(src)
    return None, notes


def scratch_copy(checkout: Path, sol: staging.LeaderboardSolution, root: Path) -> Path:
    """ADRS/problems/<p> and ADRS/solutions/<p>/<fw> as run_in_container.sh lays them out, with the
    solution staged by its solve.sh; returns the problem dir."""
    ignore = shutil.ignore_patterns(".venv", "execution_env", "__pycache__", "output_ans")
    problem_dir = root / "ADRS" / "problems" / sol.problem
    shutil.copytree(checkout / "problems" / sol.problem, problem_dir, ignore=ignore)
    sol_dir = root / "ADRS" / "solutions" / sol.problem / sol.framework
    shutil.copytree(sol.directory, sol_dir, ignore=ignore)
    env_dir = problem_dir / "resources" / "execution_env" / "solution_env"
    env_dir.mkdir(parents=True)
    shutil.copy(sol.solution_file, env_dir / "solution.py")  # run_in_container.sh copies it first
    if (sol_dir / "solve.sh").is_file():
        env = {**os.environ, "PROBLEM_NAME": sol.problem}
        subprocess.run(["bash", "solve.sh"], cwd=sol_dir, env=env, check=True, capture_output=True)
    return problem_dir


def lb_command(problem: str, problem_dir: Path, out_json: Path) -> tuple[list[str], dict[str, str]]:
    """The evaluator's command line and extra environment, as its run_evaluator.sh has them."""
    script = (problem_dir / "run_evaluator.sh").read_text(encoding="utf-8")
    solution = problem_dir / "resources" / "execution_env" / "solution_env" / "solution.py"
    args = ["--solution", str(solution)]
    if "--spec" in script:
        args += ["--spec", str(problem_dir / "resources" / "submission_spec.json")]
    if "--out" in script:
        args += ["--out", str(out_json)]
    env = dict(re.findall(r"(\w+)=(\w+) \"\$PYBIN\"", script))  # e.g. CBL_LOG_LEVEL=WARNING
    if problem == "llm_sql":
        return [sys.executable, "-c", LLM_SQL_DRIVER.format(names=LLM_SQL_TABLES), *args], env
    return [sys.executable, "evaluator.py", *args], env


def payload_of(stdout: str, out_json: Path) -> dict[str, Any]:
    """The evaluator's result: its --out file, else the last JSON object it printed."""
    texts = [out_json.read_text(encoding="utf-8")] if out_json.is_file() else []
    texts += [ln for ln in reversed(stdout.splitlines()) if ln.startswith("{")]
    for text in texts:
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        if isinstance(doc, dict):
            return doc
    return {}


class LbSetup(NamedTuple):  # how the leaderboard side runs
    limit_s: float  # outer wall limit
    pythonpath: list[str]
    seeded: bool
    spec_timeout_s: float | None  # --timeout, for the evaluator's own limit


def set_spec_timeout(problem_dir: Path, timeout_s: float) -> bool:
    """--timeout as the evaluator's own limit where its spec declares one (txn_scheduling's 600 s)."""
    spec = problem_dir / "resources" / "submission_spec.json"
    doc = json.loads(spec.read_text(encoding="utf-8")) if spec.is_file() else {}
    if "timeout_seconds" in doc:
        spec.write_text(json.dumps({**doc, "timeout_seconds": int(timeout_s)}), encoding="utf-8")
    return "timeout_seconds" in doc


def lb_uv_project(problem_dir: Path) -> Path | None:
    """The directory config.yaml names as the problem's uv project, when it is not resources/."""
    config = problem_dir / "config.yaml"
    try:
        doc = json.loads(config.read_text(encoding="utf-8")) if config.is_file() else {}
    except json.JSONDecodeError:
        return None
    name = (doc.get("dependencies") or {}).get("uv_project") or ""
    path = problem_dir / name
    return path if name and name.rstrip("/") != "resources" and path.is_dir() else None


def run_lb(checkout: Path, sol: staging.LeaderboardSolution, setup: LbSetup, work: Path, log: Path) -> Side:
    """One run of the leaderboard's evaluator on the solution, in a fresh scratch copy."""
    root = Path(tempfile.mkdtemp(prefix=f"lb-{sol.problem}-", dir=work))
    try:
        problem_dir = scratch_copy(checkout, sol, root)
        why, notes = stage_data(sol.problem, problem_dir, work / "data")
        if why:
            return Side(status="not_run", note=why)
        if setup.spec_timeout_s and set_spec_timeout(problem_dir, setup.spec_timeout_s):
            notes.append(f"lb spec timeout_seconds {setup.spec_timeout_s:.0f}")
        cmd, extra = lb_command(sol.problem, problem_dir, root / "results.json")
        # TMPDIR in the scratch dir: what the evaluators leave in the temp dir goes with it.
        env = {**os.environ, **extra, "WANDB_MODE": "disabled", "TMPDIR": str(root)}
        # The problem's uv project (config.yaml's uv_project, e.g. cant_be_late's simulator with
        # its sky_spot package) is installed into the leaderboard's venv; here it goes on the path.
        uv_project = lb_uv_project(problem_dir)
        paths = [*setup.pythonpath, *([str(uv_project)] if uv_project else []), env.get("PYTHONPATH")]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
        if setup.seeded:  # syslab's sandbox also pins str hashing (set order: cloudcast's GEPA ties)
            env.update(VS_LB_SEED_ENTRY=ENTRIES.get(sol.problem, ""), PYTHONHASHSEED="0")
        start = time.monotonic()
        # Own session: a timeout kills the evaluator and every process it started.
        proc = subprocess.Popen(cmd, cwd=problem_dir, env=env, text=True, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            out, _ = proc.communicate(timeout=setup.limit_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            log.write_text(out, encoding="utf-8")
            note = f"lb: no result in {setup.limit_s:.0f} s"
            return Side(wall_s=time.monotonic() - start, status="timeout", note=note)
        except BaseException:  # interrupted: the evaluator has its own session, take it down too
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        wall = time.monotonic() - start
        log.write_text(out, encoding="utf-8")
        doc = payload_of(out, root / "results.json")
        side = Side(wall_s=wall, metrics=doc, note="; ".join(notes))
        score = doc.get("score")
        if "error" in doc or proc.returncode != 0 or not isinstance(score, (int, float)):
            error = str(doc.get("error") or out.strip().splitlines()[-1:])
            if cause := str(doc.get("stderr") or "").strip().splitlines()[-1:]:  # cant_be_late_multi's
                error += f" ({cause[0]})"
            side.status = "timeout" if "timed out" in error else f"error (rc {proc.returncode})"
            side.note = one_line(f"lb: {error}", 160)
        else:
            side.score = float(score)
        return side
    except (OSError, ValueError, subprocess.CalledProcessError, tarfile.TarError) as e:
        return Side(status="staging_error", note=one_line(f"lb: {type(e).__name__}: {e}", 160))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_syslab(checkout: Path, sol: staging.LeaderboardSolution, timeout_s: float | None) -> Side:
    start = time.monotonic()
    row, result = evaluate_solution(checkout, sol, timeout_s)
    side = Side(score=row.syslab, wall_s=time.monotonic() - start, status=row.status)
    if row.status != "ok":
        side.note = one_line(f"syslab: {row.notes}", 160)
    side.metrics = dict(result.metrics) if result is not None else {}
    return side


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def lb_unrounded(problem: str, m: dict[str, Any]) -> float | None:
    """cant_be_late(_multi)'s scores are rounded (to 0 / 2 digits); the same formula unrounded."""
    try:
        od, spot, cost = float(m["od_anchor"]), float(m["spot_anchor"]), float(m["avg_cost"])
    except (KeyError, TypeError, ValueError):
        return None
    return max(0.0, min(1.0, (od - cost) / (od - spot))) * 100 if problem.startswith("cant_be_late") else None


def record(row: Row, seeded: bool) -> dict[str, str]:
    def num(v: float | None, digits: int = 2) -> str:
        return "" if v is None else f"{0.0 if round(v, digits) == 0 else v:.{digits}f}"

    lb_ok = [s.score for s in row.lb if s.score is not None]
    sy_ok = [s.score for s in row.syslab if s.score is not None]
    lb, sy = median(lb_ok), median(sy_ok)
    lb_wall = median([s.wall_s for s in row.lb if s.status != "not_run"])
    sy_wall = median([s.wall_s for s in row.syslab])
    notes = list(row.notes)
    for name, scores in (("lb", lb_ok), ("syslab", sy_ok)):
        if len(set(scores)) > 1:
            notes.append(f"{name} {min(scores):.2f}..{max(scores):.2f} over {len(scores)}")
    for side in row.lb + row.syslab:
        if side.note and side.note not in notes:
            notes.append(side.note)
    last_lb = next((s.metrics for s in reversed(row.lb) if s.metrics), {})
    exact = lb_unrounded(row.problem, last_lb)
    if exact is not None:
        notes.append(f"lb unrounded {exact:.2f}")
    costs = [s.metrics.get("avg_cost") for s in (row.lb[-1:] + row.syslab[-1:]) if s.metrics]
    if len(costs) == 2 and None not in costs:
        notes.append(f"avg_cost lb {costs[0]:.4f} / syslab {costs[1]:.4f}")
    bad = {f"lb {s.status}" for s in row.lb if s.status != "ok"}
    bad |= {f"syslab {s.status}" for s in row.syslab if s.status != "ok"}
    both = lb is not None and sy is not None
    values = [row.problem, row.framework, num(lb), num(sy), num(sy - lb) if both else "",
              num(lb_wall, 1), num(sy_wall, 1), num(sy_wall / lb_wall) if both and lb_wall else "",
              str(max(len(row.lb), len(row.syslab))), "/".join(f"{x:.1f}" for x in row.loads),
              "yes" if seeded else "no", ", ".join(sorted(bad)) or "ok", "; ".join(notes)]  # fmt: skip
    return dict(zip(COLUMNS, values, strict=True))


COLUMNS = ["problem", "framework", "lb_score", "syslab_score", "diff", "lb_wall_s", "syslab_wall_s",
           "ratio", "repeats", "load_1m", "lb_seeded", "status", "notes"]  # fmt: skip
LEFT = {"problem", "framework", "load_1m", "lb_seeded", "status", "notes"}  # left-aligned


def write(rows: list[Row], out: Path, header: list[str], seeded: bool) -> str:
    """vs_leaderboard.csv and .md in `out`; returns the markdown."""
    records = [record(r, seeded) for r in rows]
    with open(out / "vs_leaderboard.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(records)
    lines = [*header, "", "| " + " | ".join(COLUMNS) + " |",
             "|" + "|".join("---" if c in LEFT else "---:" for c in COLUMNS) + "|"]  # fmt: skip
    lines += ["| " + " | ".join(r[c].replace("|", "\\|") for c in COLUMNS) + " |" for r in records]
    text = "\n".join(lines) + "\n"
    (out / "vs_leaderboard.md").write_text(text, encoding="utf-8")
    return text


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leaderboard", type=Path, required=True, help="ADRS-Leaderboard checkout")
    ap.add_argument("--problems", help="comma-separated (default: all seven)")
    ap.add_argument("--frameworks", help="comma-separated solution directory names (default: all)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--timeout", type=float, help="seconds per evaluation (default: declared, else task's)")
    ap.add_argument("--seeded", action="store_true", help="seed the leaderboard side as syslab seeds")
    ap.add_argument("--out", type=Path, default=Path("runs/vs-leaderboard"))
    ap.add_argument("--lb-site", type=Path, action="append", default=[],
                    help="PYTHONPATH dir for the leaderboard side, e.g. `pip install --target DIR "
                    "configargparse tqdm` (cant_be_late_multi's simulator imports them)")  # fmt: skip
    ap.add_argument("--keep", action="store_true", help="keep the work dir (extracted data)")
    args = ap.parse_args()
    checkout = args.leaderboard.expanduser().resolve()
    problems = args.problems.split(",") if args.problems else None
    chosen, _ = select(checkout, problems)
    if args.frameworks:
        wanted = {f.lower() for f in args.frameworks.split(",")}
        chosen = [s for s in chosen if s.framework.lower() in wanted]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "logs").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="vs-lb-"))
    pythonpath = [str(p.resolve()) for p in args.lb_site]
    sys.path[:0] = pythonpath  # so that what --lb-site holds is not stubbed
    stubbed = [name for name in STUBS if importlib.util.find_spec(name) is None]
    (work / "stubs").mkdir()
    for name in stubbed:
        (work / "stubs" / f"{name}.py").write_text(STUBS[name][1], encoding="utf-8")
    pythonpath.append(str(work / "stubs"))
    if args.seeded:
        (work / "seeded").mkdir()
        (work / "seeded" / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
        pythonpath.append(str(work / "seeded"))
    mode = "seeded like syslab (random, numpy, PYTHONHASHSEED)" if args.seeded else "unseeded"
    header = [
        f"# ADRS-Leaderboard evaluators vs syslab ({time.strftime('%Y-%m-%d %H:%M')})",
        "",
        f"`{' '.join(sys.argv)}`; leaderboard side {mode}; {os.cpu_count()} CPUs; "
        f"load average (1/5/15 min) at start {loadavg()}",
    ]
    rows: list[Row] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` cleans up
    try:
        for sol in chosen:
            row = Row(sol.problem, sol.framework)
            rows.append(row)
            # Without --timeout each side gets its own declared limit; the leaderboard's evaluator
            # enforces its own (txn_scheduling: 600 s on the program), so the outer one is generous.
            declared = staging.leaderboard_timeout(checkout, sol.problem)
            limit = args.timeout or max(900.0, 2 * (declared or 300.0))
            setup = LbSetup(limit + 60 if args.timeout else limit, pythonpath, args.seeded, args.timeout)
            if CLOCK.search(sol.solution_file.read_text(encoding="utf-8")):
                row.notes.append("program stops on a wall-clock limit: its result depends on machine speed")
            if mine := [n for n in stubbed if STUBS[n][0] == sol.problem]:
                row.notes.append(f"lb: stand-in for {', '.join(mine)}")
            if sol.problem == "llm_sql":
                row.notes.append("lb col_merge specs paired with the tables by name; lb wall includes "
                                 "its baseline hit rate (its cache is for 5 tables)")  # fmt: skip
            for rep in range(args.repeats):
                row.loads.append(os.getloadavg()[0])
                for side in ("lb", "syslab") if rep % 2 == 0 else ("syslab", "lb"):
                    print(f"{sol.problem}/{sol.framework} #{rep + 1} {side} (load {loadavg()})", flush=True)
                    if side == "lb":
                        log = args.out / "logs" / f"{sol.problem}_{sol.framework}_{rep + 1}.log"
                        row.lb.append(run_lb(checkout, sol, setup, work, log))
                    else:
                        row.syslab.append(run_syslab(checkout, sol, args.timeout))
                    got = (row.lb if side == "lb" else row.syslab)[-1]
                    print(f"  -> {got.score} in {got.wall_s:.1f} s, {got.status} {got.note}", flush=True)
            write(rows, args.out, header, args.seeded)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    header.append(f"load average at end {loadavg()}")
    print(write(rows, args.out, header, args.seeded))
    print(f"wrote {args.out / 'vs_leaderboard.md'}, {args.out / 'vs_leaderboard.csv'}")


if __name__ == "__main__":
    main()

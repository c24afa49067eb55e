"""Stage an ADRS-Leaderboard solution the way the leaderboard does, for syslab's evaluator.

The leaderboard (run_in_container.sh, each solution's solve.sh) copies the
repository to a writable `ADRS/`, copies `solutions/<p>/<fw>/resources/*.py`
into `ADRS/problems/<p>/resources/execution_env/solution_env/`, and its
evaluator imports `solution_env/solution.py` from there with that directory
on sys.path. Solution files rely on all of it: some read
`Path(__file__).parents[k] / ...` (the problem's initial program), some
import `solver` and `utils` shipped beside them.

`stage` builds the same tree as `ProgramFiles` for the candidate's scratch
dir: the problem directory and the solution directory (small files only),
the solution's Python files in `solution_env`, the program at
`solution_env/solution.py` and that directory first on sys.path. Nothing in
it reaches the trusted side: syslab's own evaluator scores what the program
returns.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pydantic import BaseModel

from syslab.errors import SpecError
from syslab.evaluators.program_files import ProgramFiles

ROOT = "ADRS"  # the repository copy's name inside the scratch dir, as in run_in_container.sh
MAX_FILE_BYTES = 1 << 20  # larger files (trace archives) stay behind: no solution reads them
SKIP_DIRS = {"__pycache__", ".venv", ".git", "execution_env", "datasets", "node_modules"}


class LeaderboardSolution(BaseModel):
    """One `solutions/<problem>/<framework>/` directory of a leaderboard checkout."""

    problem: str
    framework: str
    directory: Path

    @property
    def solution_file(self) -> Path:
        return self.directory / "resources" / "solution.py"


class StagedSolution(BaseModel):
    """The program code and the files it lands with; `left_out` names the files not copied."""

    code: str
    files: ProgramFiles
    left_out: list[str] = []


def solution_env(problem: str) -> str:
    return f"{ROOT}/problems/{problem}/resources/execution_env/solution_env"


def find_solutions(checkout: Path) -> dict[str, list[LeaderboardSolution]]:
    """Every `solutions/<p>/<fw>/` with a `resources/solution.py`, by problem, sorted by name."""
    root = checkout / "solutions"
    if not root.is_dir():
        raise SpecError(checkout, "solutions", "not an ADRS-Leaderboard checkout (no solutions/ directory)")
    found: dict[str, list[LeaderboardSolution]] = {}
    for problem_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for fw_dir in sorted(p for p in problem_dir.iterdir() if p.is_dir()):
            if (fw_dir / "resources" / "solution.py").is_file():
                found.setdefault(problem_dir.name, []).append(
                    LeaderboardSolution(problem=problem_dir.name, framework=fw_dir.name, directory=fw_dir)
                )
    return found


def _tree(src: Path, dest: str, files: dict[str, bytes], left_out: list[str]) -> None:
    """Copy the regular files under `src` into `files` at `dest/...` (no links, no big files)."""
    if not src.is_dir():
        return
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if any(part in SKIP_DIRS for part in rel.parts) or path.is_symlink() or not path.is_file():
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            left_out.append(f"{dest}/{rel.as_posix()}")
            continue
        files[f"{dest}/{rel.as_posix()}"] = path.read_bytes()


def stage(checkout: Path, solution: LeaderboardSolution) -> StagedSolution:
    """The leaderboard's layout for one solution, as files for the candidate's scratch dir."""
    problem = solution.problem
    files: dict[str, bytes] = {}
    left_out: list[str] = []
    _tree(checkout / "problems" / problem, f"{ROOT}/problems/{problem}", files, left_out)
    _tree(solution.directory, f"{ROOT}/solutions/{problem}/{solution.framework}", files, left_out)
    env = solution_env(problem)
    for path in sorted((solution.directory / "resources").glob("*.py")):  # what solve.sh copies
        if path.name != "solution.py" and path.is_file():
            files[f"{env}/{path.name}"] = path.read_bytes()
    code = solution.solution_file.read_text(encoding="utf-8")
    return StagedSolution(
        code=code,
        files=ProgramFiles(program=f"{env}/solution.py", files=files, import_dirs=[env]),
        left_out=left_out,
    )


TIMEOUT_KEYS = ("timeout_s", "timeout_seconds", "timeout")
# Where a leaderboard problem declares its timeout, first match wins: config.yaml (JSON-shaped
# YAML), then the spec its evaluator hands to Solution.solve (txn_scheduling: timeout_seconds).
TIMEOUT_FILES = ("config.yaml", "resources/submission_spec.json")


def _timeout_in(path: Path) -> float | None:
    import yaml  # JSON is YAML: one parser for both files

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise SpecError(path, path.name, f"not valid YAML/JSON ({str(e).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise SpecError(path, path.name, "expected a mapping at the top level")
    for where in (doc, doc.get("evaluation"), doc.get("evaluator")):
        if not isinstance(where, dict):
            continue
        for key in TIMEOUT_KEYS:
            if key in where:
                value = where[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                    raise SpecError(path, key, f"expected a positive number of seconds, got {value!r}")
                return float(value)
    return None


def leaderboard_timeout(checkout: Path, problem: str) -> float | None:
    """The evaluation timeout (seconds) a problem declares in TIMEOUT_FILES, or None.

    Looked for at the top level and under `evaluation` / `evaluator`. A malformed file or value
    is an error naming the file and key."""
    for name in TIMEOUT_FILES:
        path = checkout / "problems" / problem / name
        if path.is_file():
            found = _timeout_in(path)
            if found is not None:
                return found
    return None


def results_score(checkout: Path, problem: str, framework: str) -> float | None:
    """The 0-100 `score` of `results/<p>/<fw>/results.json`, or None where absent.

    A file that is there but unreadable, or has a non-numeric score, is an error naming it."""
    path = checkout / "results" / problem / framework / "results.json"
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SpecError(path, "results.json", f"not valid JSON ({e})") from None
    score = doc.get("score") if isinstance(doc, dict) else None
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        raise SpecError(path, "score", f"expected a finite number, got {score!r}")
    return float(score)

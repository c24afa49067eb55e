"""`syslab reproduce adrs --leaderboard`: staging leaderboard solutions and the rows it writes.

The checkout is a fake mini leaderboard (tests/adrs/fixtures/leaderboard_mini, prism only: its
evaluation takes about a second), one solution per way leaderboard files are written.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from adrs_support import TASKS

from syslab.adrs import leaderboard_repro, leaderboard_staging
from syslab.errors import SpecError, SyslabError
from syslab.evaluators.harness import evaluate_program
from syslab.evaluators.program_files import ProgramFiles
from syslab.sandbox.base import Limits
from syslab.sandbox.process import ProcessSandbox
from syslab.task import load_task

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "leaderboard_mini"
HOSTILE = FIXTURES / "leaderboard_hostile"
GREEDY = MINI / "problems" / "prism" / "resources" / "greedy_program.py"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One reproduction of the mini leaderboard, shared by the tests that read its rows and files."""
    out = tmp_path_factory.mktemp("lb-out")
    seen = []
    rows = leaderboard_repro.reproduce_leaderboard(MINI, None, out, on_row=seen.append)
    return {row.framework: row for row in rows}, out, seen


@pytest.fixture(scope="module")
def greedy_score():
    """The score of the program the staged solutions yield, evaluated as `syslab eval` would."""
    result = evaluate_program(load_task(TASKS / "prism"), GREEDY.read_text(), ProcessSandbox())
    assert result.ok, result.failure
    return result.score


def test_only_problems_syslab_ships_are_run(run):
    rows, _, seen = run
    assert set(rows) == {"code", "failing", "multifile", "parents", "threads"}
    assert {r.problem for r in rows.values()} == {"prism"}
    assert [r.framework for r in seen] == sorted(rows)  # reported one by one, in order
    chosen, skipped = leaderboard_repro.select(MINI, None)
    assert skipped == ["multiagent_system"] and all(s.problem == "prism" for s in chosen)


def test_parents_solution_finds_its_resources_in_the_staged_layout(run, greedy_score):
    row = run[0]["parents"]
    assert row.status == "ok", row.notes
    assert row.syslab == pytest.approx(greedy_score)


def test_solve_returning_code_is_loaded(run, greedy_score):
    row = run[0]["code"]
    assert row.status == "ok", row.notes
    assert row.syslab == pytest.approx(greedy_score)


def test_multi_file_solution_imports_its_helpers(run, greedy_score):
    row = run[0]["multifile"]
    assert row.status == "ok", row.notes  # before: ModuleNotFoundError: No module named 'solver'
    assert row.syslab == pytest.approx(greedy_score)


def test_threaded_solution_runs(run, greedy_score):
    row = run[0]["threads"]
    assert row.status == "ok", row.notes  # before: RuntimeError: can't start new thread (64 tasks)
    assert row.syslab == pytest.approx(greedy_score)


def test_failing_solution_is_a_row_and_the_run_goes_on(run):
    rows = run[0]
    row = rows["failing"]
    assert row.status == "runtime" and row.syslab is None
    assert "deliberate failure in solve()" in row.notes and "\n" not in row.notes
    assert rows["parents"].status == "ok" and rows["threads"].status == "ok"  # evaluated after it


def test_published_scores_and_timeout_come_from_the_checkout(run):
    rows = run[0]
    assert (rows["parents"].published, rows["parents"].published_source) == (12.5, "results.json")
    assert (rows["code"].published, rows["code"].published_source) == (99.0, "results.json")
    assert rows["failing"].published == 0.0
    assert rows["multifile"].published is None and rows["multifile"].published_source == ""
    assert rows["parents"].diff == pytest.approx(rows["parents"].syslab - 12.5)
    assert all(r.timeout_s == 90 for r in rows.values())  # config.yaml's timeout_s


def test_ranks_within_the_problem(run):
    rows = run[0]
    assert [rows[f].rank_published for f in ("code", "parents", "failing", "multifile")] == [1, 2, 3, None]
    scored = {f: r.syslab for f, r in rows.items() if r.syslab is not None}
    for f, score in scored.items():
        assert rows[f].rank_syslab == 1 + sum(1 for s in scored.values() if s > score)
    assert rows["failing"].rank_syslab is None


def test_csv_and_markdown_hold_every_row(run):
    rows, out, _ = run
    with open(out / "leaderboard.csv") as f:
        records = list(csv.DictReader(f))
    assert list(records[0]) == leaderboard_repro.COLUMNS
    by_fw = {r["framework"]: r for r in records}
    assert set(by_fw) == set(rows)
    assert by_fw["parents"]["published"] == "12.50" and by_fw["parents"]["rank_published"] == "2"
    assert float(by_fw["parents"]["syslab"]) == pytest.approx(rows["parents"].syslab, abs=0.005)
    assert by_fw["failing"]["status"] == "runtime" and by_fw["failing"]["syslab"] == ""
    md = (out / "leaderboard.md").read_text().splitlines()
    assert md[0].startswith("| problem | framework | published |") and len(md) == 2 + len(rows)
    assert any("| prism | failing |" in line and "deliberate failure" in line for line in md)
    pytest.importorskip("matplotlib", reason="the plot needs the optional 'adrs' extra")
    assert (out / "leaderboard.png").stat().st_size > 1000


def test_rows_are_written_as_they_are_measured(tmp_path, monkeypatch):
    """An interrupted run keeps what it measured: the files hold every row finished so far."""
    calls = []

    def fake(checkout, solution, timeout_s, memory_mb=None):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(solution.framework)
        row = leaderboard_repro.ReproRow(problem=solution.problem, framework=solution.framework, syslab=1.0)
        return row, None

    monkeypatch.setattr(leaderboard_repro, "evaluate_solution", fake)
    with pytest.raises(KeyboardInterrupt):
        leaderboard_repro.reproduce_leaderboard(MINI, ["prism"], tmp_path)
    with open(tmp_path / "leaderboard.csv") as f:
        assert [r["framework"] for r in csv.DictReader(f)] == calls


def test_staged_layout_matches_the_leaderboards():
    solution = next(
        s for s in leaderboard_staging.find_solutions(MINI)["prism"] if s.framework == "multifile"
    )
    staged = leaderboard_staging.stage(MINI, solution)
    env = "ADRS/problems/prism/resources/execution_env/solution_env"
    assert staged.files.program == f"{env}/solution.py" and staged.files.import_dirs == [env]
    assert {f"{env}/solver.py", f"{env}/utils.py"} <= set(staged.files.files)
    assert "ADRS/problems/prism/resources/greedy_program.py" in staged.files.files
    assert "ADRS/solutions/prism/multifile/resources/solver.py" in staged.files.files
    assert staged.code == solution.solution_file.read_text()
    # parents[5] of the staged solution is the repository copy's root, as in the leaderboard's container
    assert Path(staged.files.program).parents[5] == Path("ADRS")


def test_program_files_stay_inside_the_scratch_dir():
    for bad in ("../escape.py", "/etc/passwd", "a/../../b.py", ""):
        with pytest.raises(ValueError):
            ProgramFiles(program=bad)
        with pytest.raises(ValueError):
            ProgramFiles(files={bad: b"x"})


def test_bad_checkout_files_name_the_file_and_field(tmp_path):
    (tmp_path / "problems" / "prism").mkdir(parents=True)
    (tmp_path / "problems" / "prism" / "config.yaml").write_text('{"timeout_s": "soon"}')
    with pytest.raises(SpecError, match=r"config\.yaml: timeout_s: expected a positive number"):
        leaderboard_staging.leaderboard_timeout(tmp_path, "prism")
    (tmp_path / "results" / "prism" / "x").mkdir(parents=True)
    (tmp_path / "results" / "prism" / "x" / "results.json").write_text("{not json")
    with pytest.raises(SpecError, match=r"results\.json: results\.json: not valid JSON"):
        leaderboard_staging.results_score(tmp_path, "prism", "x")
    with pytest.raises(SpecError, match="no solutions/ directory"):
        leaderboard_staging.find_solutions(tmp_path)
    with pytest.raises(SyslabError, match="unknown ADRS problem"):
        leaderboard_repro.select(MINI, ["no_such_problem"])


def test_published_toml_is_the_fallback(tmp_path):
    """Without a results.json the task's published.toml is used, and labelled as such."""
    import tomllib

    scores = tomllib.loads((TASKS / "cloudcast" / "published.toml").read_text())["scores"]
    score, source = leaderboard_repro.published_score(tmp_path, "cloudcast", "gepa")
    assert (score, source) == (pytest.approx(scores["gepa"]), "blog/published.toml")
    assert leaderboard_repro.published_score(tmp_path, "cloudcast", "no_such_framework") == (None, "")


@pytest.mark.skipif(os.geteuid() != 0, reason="the task limit is per sandbox uid, set only as root")
def test_a_forking_candidate_is_still_bounded(tmp_path):
    """Threads need a larger task limit than 64; processes must stay bounded by it all the same."""
    solution = leaderboard_staging.find_solutions(HOSTILE)["prism"][0]
    row, result = leaderboard_repro.evaluate_solution(HOSTILE, solution, timeout_s=60)
    assert result is not None
    line = next(ln for ln in result.evidence.stdout.splitlines() if ln.startswith("forked "))
    forked = int(line.split()[1])
    limit = Limits().max_processes
    assert 0 < forked < limit  # unbounded, it would have reached all 1,500 attempts
    assert row.status == "ok", row.notes  # the candidate itself went on answering


def test_cli_command(tmp_path):
    from typer.testing import CliRunner

    from syslab.cli import app

    out = tmp_path / "out"
    args = ["reproduce", "adrs", "--leaderboard", str(MINI), "--problems", "prism", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--timeout", "45"])
    assert result.exit_code == 0, result.output
    assert "skipped (no syslab task): multiagent_system" in result.output
    with open(out / "leaderboard.csv") as f:
        records = list(csv.DictReader(f))
    assert len(records) == 5 and {r["timeout_s"] for r in records} == {"45"}  # --timeout wins
    missing = CliRunner().invoke(app, ["reproduce", "adrs", "--leaderboard", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no solutions/ directory" in missing.output


def test_timeout_from_config_yaml_then_submission_spec(tmp_path):
    problem = tmp_path / "problems" / "txn_scheduling"
    (problem / "resources").mkdir(parents=True)
    assert leaderboard_staging.leaderboard_timeout(tmp_path, "txn_scheduling") is None
    (problem / "config.yaml").write_text('{"dependencies": {"uv_project": "resources"}}')
    (problem / "resources" / "submission_spec.json").write_text('{"timeout_seconds": 600}')
    assert leaderboard_staging.leaderboard_timeout(tmp_path, "txn_scheduling") == 600.0
    (problem / "config.yaml").write_text("evaluation:\n  timeout_s: 45\n")
    assert leaderboard_staging.leaderboard_timeout(tmp_path, "txn_scheduling") == 45.0


def test_memory_cap_is_the_reproductions_not_the_tasks(tmp_path):
    """The leaderboard caps no solution's memory: a 2.5 GiB program fails under the task's own 2 GiB
    (a smaller cap never lowers it) and scores under the default, half the machine's memory."""
    checkout = FIXTURES / "leaderboard_memory"
    solution = leaderboard_staging.find_solutions(checkout)["prism"][0]
    task_mb = load_task(TASKS / "prism").spec.sandbox.memory_mb
    small, _ = leaderboard_repro.evaluate_solution(checkout, solution, 60, memory_mb=1024)
    assert task_mb == 2048 and small.memory_mb == task_mb
    assert small.status == "memory", small.notes
    default = leaderboard_repro.default_memory_mb()
    if default < 3072:
        pytest.skip(f"this machine has {2 * default} MiB; the fixture needs a 3 GiB cap")
    rows = leaderboard_repro.reproduce_leaderboard(checkout, ["prism"], tmp_path)
    assert rows[0].memory_mb == default and rows[0].status == "ok", rows[0].notes
    with open(tmp_path / "leaderboard.csv") as f:
        assert next(csv.DictReader(f))["memory_mb"] == str(default)


def test_a_solution_gets_the_full_evaluation_alone():
    """The leaderboard scores every solution with one full evaluation; the cascade's cheaper first
    stage (cant_be_late's 72 scenarios) is evolution's and is not run first."""
    task = load_task(TASKS / "cant_be_late")
    assert task.spec.stages
    limited = leaderboard_repro.with_limits(task, 900.0, 8192)
    assert limited.spec.stages == []
    assert limited.spec.evaluator == task.spec.evaluator
    assert (limited.spec.sandbox.timeout_s, limited.spec.sandbox.memory_mb) == (900.0, 8192)

"""Candidate-controlled text reaches the operator's terminal shown, never interpreted.

The hostile candidate (tests/fixtures/tasks/provenance_hostile/seed.py) prints escape sequences,
Rich markup, a carriage return and HTML on stdout and stderr, and raises an exception carrying a
cursor move, a line erase, a fake "valid score=99.9" in markup and a terminal hyperlink. Every
test runs the real CLI (typer's runner, in process) and looks at the bytes that came out.
"""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console
from typer.testing import CliRunner

import syslab.cli.shell
from syslab.artifacts.reproduce import (
    ClaimReproduction,
    NodeReproduction,
    ReproductionReport,
    print_reproduction,
)
from syslab.artifacts.review import Check, ReviewReport, print_review
from syslab.artifacts.schema import Manifest, Node, NodeKind, NodeStatus
from syslab.artifacts.store import RunStore
from syslab.cli import app
from syslab.cli.progress import Progress
from syslab.cli.terminal import clean, safe

TASKS = Path(__file__).parent / "fixtures" / "tasks"
HOSTILE = TASKS / "provenance_hostile"
SHARED = TASKS / "provenance_shared"
FAKE = "[bold green]valid[/] score=99.9"  # what the candidate hopes shows as a green "valid"
# The candidate's own sequences: clear screen, cursor up, erase line, title, hyperlink, 8-bit CSI.
ATTACKS = ("\x1b[2J", "\x1b[1A", "\x1b[2K", "\x1b]0;", "\x1b]8;;", "\x9b", "\r", "\x07")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # colour codes: the only sequences Rich itself may write
RUNNER = CliRunner()


def cli(*args: str | Path) -> object:
    return RUNNER.invoke(app, [str(a) for a in args], catch_exceptions=False)


def assert_shown_not_sent(text: str, *shown: str) -> None:
    """No raw escape or control byte of the candidate's; its markup and the escapes visible as text."""
    assert "\x1b" not in text and "\x9b" not in text and "\r" not in text and "\x07" not in text, repr(text)
    for s in shown:
        assert s in text, f"{s!r} not shown in {text!r}"


@pytest.fixture
def coloured(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's consoles as on a colour terminal: Rich then writes SGR codes of its own."""
    for name, stderr in (("console", False), ("err", True)):
        con = Console(stderr=stderr, force_terminal=True, color_system="standard", width=160, emoji=False)
        monkeypatch.setattr(syslab.cli.shell, name, con)


def test_clean_keeps_newline_and_tab_and_shows_the_rest() -> None:
    text = "a\x1b[2Jb\r\n\tc\x9b\x07\x00\x7f\u202e[bold]x[/]"
    assert clean(text) == "a\\x1b[2Jb\\x0d\n\tc\\x9b\\x07\\x00\\x7f\\u202e[bold]x[/]"
    buf = io.StringIO()
    Console(file=buf, force_terminal=True, color_system="standard", width=200).print(f"[red]{safe(text)}[/]")
    out = SGR.sub("", buf.getvalue())
    assert_shown_not_sent(out, "[bold]x[/]", "\\x1b[2J")
    # A trailing backslash cannot swallow the closing tag that follows it.
    buf = io.StringIO()
    Console(file=buf, width=200).print(f"[red]{safe('end' + chr(92))}[/] after")
    assert buf.getvalue().startswith("end\\") and "[/]" not in buf.getvalue()


def test_eval_split_candidate_failure_is_shown_not_interpreted() -> None:
    res = cli("eval", HOSTILE, HOSTILE / "seed.py")
    assert res.exit_code == 1
    assert_shown_not_sent(res.output, FAKE, "\\x1b[1A\\x1b[2K", "\\x1b]8;;http://evil.example", "<b>x</b>")
    failure = next(ln for ln in res.stdout.splitlines() if ln.startswith("runtime:"))
    assert "RuntimeError: \\x1b[1A" in failure  # the fake line stays inside the failure line


@pytest.mark.usefixtures("coloured")
def test_eval_shared_candidate_on_a_colour_terminal() -> None:
    res = cli("eval", SHARED, HOSTILE / "seed.py")
    assert res.exit_code == 1 and "\x1b[" in res.stdout  # Rich did colour its own words
    for attack in ATTACKS:
        assert attack not in res.output
    assert_shown_not_sent(SGR.sub("", res.output), FAKE, "\\x1b[1A", "(unverified)")


def test_eval_json_escapes_every_control_and_round_trips() -> None:
    res = cli("eval", SHARED, HOSTILE / "seed.py", "--json")
    assert res.stdout.isascii() and "\x1b" not in res.stdout
    data = json.loads(res.stdout)
    assert data["evidence"]["stdout"].startswith("\x1b[2J\x1b[H[bold green]valid[/]")
    assert "\x9b2J<script>" in data["evidence"]["stderr"]
    assert data["failure"]["message"].startswith("RuntimeError: \x1b[1A\x1b[2K")


def test_run_show_with_a_hostile_seed(tmp_path: Path) -> None:
    out = tmp_path / ("deep-" * 12)  # a long path: the error must still be one unbroken line
    res = cli("run", HOSTILE, "-q", "--proposer", "mutate", "--out", out, "--name", "hostile")
    assert res.exit_code == 2
    assert "seed program failed evaluation" in res.stderr
    assert res.stderr.count("\n") == 1, res.stderr
    assert_shown_not_sent(res.output, "[bold green]valid[/]", "\\x1b[1A")
    shown = cli("show", out / "hostile", "--all")
    assert shown.exit_code == 0
    assert_shown_not_sent(shown.stdout, "[bold green]valid[/]", "\\x1b[1A\\x1b[2K", "runtime")


def hostile_store(run_dir: Path) -> None:
    """A run whose texts are all hostile: operator, note, metric name, failure, and code that holds
    raw escape characters (an LLM's answer is as untrusted as a candidate's output)."""
    man = Manifest(
        syslab_version="0",
        run_id="hostile-run",
        task_name="t[red]",
        task_dir=str(run_dir),
        task_hash="0" * 64,
        seed=0,
        config={},
        platform={"python": "3"},
        isolation={"backend": "process"},
        created_at=time.time(),
    )
    store = RunStore.create(run_dir, man)
    code = "def f():\n    return 1\n"
    evil = "# \x1b[2J\x1b]0;pwned\x07 [bold green]valid[/]\r\n"
    store.add_node(
        Node(
            id=0,
            kind=NodeKind.seed,
            status=NodeStatus.evaluated,
            valid=True,
            score=1.0,
            metrics={"[blink]m[/]": 1.0},
            operator="seed",
            note="seed",
        ),
        code=code,
    )
    store.add_node(
        Node(
            id=1,
            parent_id=0,
            status=NodeStatus.evaluated,
            valid=True,
            score=2.0,
            metrics={"[blink]m[/]": 2.0},
            operator="llm:[bold]diff[/]",
            note="\x1b[2J[bold green]valid[/]",
        ),
        code=code + evil,
    )
    store.add_node(
        Node(
            id=2,
            parent_id=1,
            status=NodeStatus.failed,
            failure_kind="runtime",
            failure_message="\x1b[1A\x1b[2K[bold green]valid[/] score=99.9\r",
            operator="mutate",
        ),
        code=code + evil + "x = 1\n",
    )
    store.update_manifest(status="finished")
    store.close()


def test_show_lineage_diff_of_hostile_texts(tmp_path: Path) -> None:
    run = tmp_path / "run"
    hostile_store(run)
    shown = cli("show", run, "--all")
    assert shown.exit_code == 0
    assert_shown_not_sent(shown.stdout, "[blink]m[/]", "llm:[bold]diff[/]", "\\x1b[2J[bold green]valid[/]")
    assert "\\x1b[1A\\x1b[2K[bold green]valid[/] score=99.9\\x0d" in shown.stdout
    lin = cli("lineage", run, "2")
    assert lin.exit_code == 0 and "lineage of node 2" in lin.stdout
    assert_shown_not_sent(lin.stdout, "llm:[bold]diff[/]", "\\x1b[2J")
    diff = cli("diff", run, "1")
    assert diff.exit_code == 0
    assert_shown_not_sent(diff.stdout, "\\x1b[2J\\x1b]0;pwned\\x07 [bold green]valid[/]\\x0d")


@pytest.mark.usefixtures("coloured")
def test_diff_on_a_colour_terminal(tmp_path: Path) -> None:
    run = tmp_path / "run"
    hostile_store(run)
    out = cli("diff", run, "1").stdout
    assert "\x1b[" in out and all(a not in out for a in ATTACKS)
    assert_shown_not_sent(SGR.sub("", out), "\\x1b]0;pwned\\x07")


def test_doctor_shows_control_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    from syslab.cli import doctor

    bad = doctor.Check(
        name="docker engine", ok=False, detail="\x1b[2J\x1b]0;t\x07down\r[red]x[/]", hint="fix"
    )
    monkeypatch.setattr(doctor, "CHECKS", [lambda: bad])
    res = cli("doctor")
    assert_shown_not_sent(res.stdout, "\\x1b[2J\\x1b]0;t\\x07down\\x0d[red]x[/]", "-> fix")


def test_review_and_reproduce_printers() -> None:
    buf = io.StringIO()
    con = Console(file=buf, width=300)
    msg = "\x1b[2J[bold green]valid[/]\r"
    print_review(
        con, ReviewReport(run_dir="r", checks=[Check(name="graph acyclic", status="fail", details=msg)])
    )
    report = ReproductionReport(
        run_dir="r",
        task_dir="t",
        task_hash_recorded="a" * 64,
        task_hash_now="b" * 64,
        evaluator_changed=True,
        deterministic=True,
        tolerance="exact",
        nodes=[NodeReproduction(node_id=1, recorded={"[i]m[/]": 1.0}, recorded_valid=True, failure=msg)],
        claims=[
            ClaimReproduction(claim_id="C-best", previous_status="supported", status="refuted", reason=msg)
        ],
        started_at=0.0,
        wall_s=0.1,
    )
    print_reproduction(con, report)
    assert_shown_not_sent(buf.getvalue(), "\\x1b[2J[bold green]valid[/]\\x0d", "[i]m[/]=1")


def test_progress_lines_are_escaped() -> None:
    task = SimpleNamespace(name="t\x1b[2J[red]x[/]", primary_metric="m")
    progress = Progress(enabled=True, total=1, task=task)
    buf = io.StringIO()
    progress.console = Console(file=buf, width=200)
    progress.start(Path("runs/r"), "llm", "reason \x1b]0;t\x07")
    progress.close()
    assert_shown_not_sent(buf.getvalue(), "t\\x1b[2J[red]x[/]", "reason \\x1b]0;t\\x07")

"""Held-out evaluation: after the search, the top-k are scored on data the search never saw; an
overfit best is a refuted claim and a dead end; claims state their numbers and review checks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from syslab.artifacts.logic import load_logic
from syslab.artifacts.review import review_run
from syslab.artifacts.schema import NodeKind
from syslab.artifacts.store import RunStore
from syslab.config import RunConfig
from syslab.engine.run import resume_run, run_evolution
from syslab.errors import SpecError
from syslab.task import load_task

FIXTURES = Path(__file__).parent / "fixtures" / "heldout"
OVERFIT, GENERAL = FIXTURES / "overfit", FIXTURES / "general"


def _config(out: Path, evaluations: int = 6, **kw: object) -> RunConfig:
    base = {"out": str(out), "progress": False, "proposer": "mutate", "seed": 1}
    return RunConfig.model_validate({**base, "budget": {"evaluations": evaluations}, **kw})


def _syslab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "syslab.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def overfit_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_evolution(OVERFIT, _config(tmp_path_factory.mktemp("overfit"))).run_dir


def test_overfit_best_is_refuted_with_numbers_and_shown(overfit_run: Path) -> None:
    store = RunStore.open(overfit_run, readonly=True)
    best, records = store.best_node(), store.heldout()
    store.close()
    # The seed's lookup table is exact on the search point and wrong on the held-out points.
    seed_record = next(r for r in records if r.node_id == 0)
    assert seed_record.search_value == 98.0 and seed_record.heldout_value == -4.5
    assert seed_record.gap == pytest.approx((98.0 + 4.5) / 98.0) and seed_record.overfit
    claim = next(c for c in load_logic(overfit_run).claims if c.id == "C-best")
    assert claim.status == "refuted" and claim.subject == best.id
    assert claim.n == 1 and claim.mean == best.metrics["accuracy"] and claim.interval is None
    best_record = next(r for r in records if r.node_id == best.id)
    assert claim.heldout_value == best_record.heldout_value and claim.heldout_record == best_record.id
    assert claim.heldout_tolerance == 0.1 and "beyond tolerance" in claim.verified
    assert any(e.name.startswith("held-out raw_metrics") for e in claim.evidence)
    dead = {d.id for d in load_logic(overfit_run).dead_ends}
    assert f"D-heldout-{best.id}" in dead
    shown = _syslab("show", str(overfit_run))
    assert shown.returncode == 0, shown.stderr
    assert "held-out evaluation" in shown.stdout and "overfit" in shown.stdout
    assert "claim C-best: refuted" in shown.stdout
    assert review_run(overfit_run).ok  # refuted, and honestly so: the numbers match the store


def test_generalising_best_is_supported(tmp_path: Path) -> None:
    run_dir = run_evolution(GENERAL, _config(tmp_path)).run_dir
    claim = next(c for c in load_logic(run_dir).claims if c.id == "C-best")
    assert claim.status == "supported" and "within tolerance" in claim.verified
    assert claim.heldout_gap is not None and claim.heldout_gap <= 0.1


def test_top_k_and_seed_scored_heldout_never_as_nodes(overfit_run: Path) -> None:
    store = RunStore.open(overfit_run, readonly=True)
    nodes = [n for n in store.nodes() if n.kind != NodeKind.analysis]
    records = [r for r in store.heldout() if r.origin == "run"]
    ranked = sorted((n for n in nodes if n.valid and n.score is not None), key=lambda n: (-n.score, n.id))
    store.close()
    # top_k = 2 in the fixture's task.toml; the seed is scored too (every claim's baseline).
    assert [r.node_id for r in records if r.rank is not None] == [n.id for n in ranked[:2]]
    assert {r.rank for r in records} <= {0, 1, None} and any(r.node_id == 0 for r in records)
    # The six evaluations of the budget are the only evaluation nodes: held-out made none.
    assert sum(1 for n in nodes if n.wall_s is not None) == 6


def test_reproduce_rescores_heldout(tmp_path: Path) -> None:
    task = tmp_path / "task"
    shutil.copytree(OVERFIT, task)
    run_dir = run_evolution(task, _config(tmp_path / "runs", 4)).run_dir
    # The held-out points change: a re-evaluation (not a copy of the recorded rows) sees it.
    held = task / "heldout.py"
    held.write_text(held.read_text().replace("[2.0, 3.0]", "[1.0]"))
    out = _syslab("reproduce", str(run_dir))
    assert "held-out holds" in out.stdout, out.stdout + out.stderr
    store = RunStore.open(run_dir, readonly=True)
    again = [r for r in store.heldout() if r.origin == "reproduce"]
    store.close()
    assert again and all(r.heldout_value == r.search_value for r in again)
    claim = next(c for c in load_logic(run_dir).claims if c.id == "C-best")
    assert claim.heldout_record == max(r.id for r in again if r.node_id == claim.subject)
    assert claim.heldout_gap == 0.0 and claim.status == "supported"


def test_review_catches_a_wrong_number(overfit_run: Path, tmp_path: Path) -> None:
    for field, wrong in (("heldout_value", 97.5), ("n", 5), ("value", 99.0), ("heldout_gap", 0.01)):
        copy = tmp_path / field
        shutil.copytree(overfit_run, copy)
        path = copy / "logic.yaml"
        data = yaml.safe_load(path.read_text())
        data["claims"][0][field] = wrong
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        report = review_run(copy)
        check = next(c for c in report.checks if c.name == "claim numbers match the evidence")
        assert not report.ok and check.status == "fail" and f"states {field} = " in check.details, field


def test_review_catches_a_supported_claim_that_overfits(overfit_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(overfit_run, copy)
    data = yaml.safe_load((copy / "logic.yaml").read_text())
    data["claims"][0]["status"] = "supported"
    (copy / "logic.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    check = next(c for c in review_run(copy).checks if c.name == "claim numbers match the evidence")
    assert check.status == "fail" and "held-out it overfits" in check.details


def test_resume_keeps_heldout_out_of_the_budget(tmp_path: Path) -> None:
    first = run_evolution(OVERFIT, _config(tmp_path, 4))
    again = resume_run(first.run_dir, extra_evaluations=2, progress=False)
    assert again.evaluations == 6  # held-out evaluations never count against the budget
    store = RunStore.open(first.run_dir, readonly=True)
    assert sum(1 for n in store.nodes() if n.wall_s is not None) == 6
    # The resumed run's end scores its own top-k held-out again, beside the first run's rows.
    assert again.heldout and len(store.heldout()) == len(first.heldout) + len(again.heldout)
    store.close()


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ('entry = "missing.py:evaluate_heldout"', "heldout.entry"),
        ('entry = "heldout.py"', "heldout"),
        ('entry = "heldout.py:evaluate_heldout"\ntolerance = -1', "heldout.tolerance"),
        ('entry = "heldout.py:evaluate_heldout"\ntop_k = 0', "heldout.top_k"),
        ('entry = "heldout.py:evaluate_heldout"\nseeds = 3', "heldout.seeds"),
    ],
)
def test_bad_heldout_table_names_file_and_field(tmp_path: Path, table: str, field: str) -> None:
    task = tmp_path / "task"
    shutil.copytree(OVERFIT, task)
    text = (task / "task.toml").read_text()
    start = text.index("[heldout]")
    end = text.index("[sandbox]")
    (task / "task.toml").write_text(text[:start] + "[heldout]\n" + table + "\n\n" + text[end:])
    with pytest.raises(SpecError) as err:
        load_task(task)
    assert "task.toml" in str(err.value) and field in str(err.value)
    assert "\n" not in str(err.value)


def test_heldout_entry_must_share_the_evaluators_mode(tmp_path: Path) -> None:
    task = tmp_path / "task"
    shutil.copytree(OVERFIT, task)
    (task / "heldout.py").write_text("def evaluate_heldout(candidate):\n    return {}\n")
    with pytest.raises(SpecError, match="heldout.entry"):
        load_task(task)


def test_gap_against_the_seed_ignores_harder_heldout_data(tmp_path: Path) -> None:
    """With against = "seed" a held-out workload twice as hard for every program is no gap; a gain
    over the seed that vanishes held-out is."""
    from syslab.artifacts.heldout_rows import HeldoutRecord
    from syslab.artifacts.schema import Node
    from syslab.engine.heldout import judge

    task = tmp_path / "task"
    shutil.copytree(OVERFIT, task)
    text = (task / "task.toml").read_text().replace("tolerance = 0.1", 'tolerance = 0.1\nagainst = "seed"')
    (task / "task.toml").write_text(text)
    loaded = load_task(task)

    def record(node_id: int, held: float) -> HeldoutRecord:
        return HeldoutRecord(node_id=node_id, entry="h", valid=True, metrics={"accuracy": held})

    seed = judge(loaded, Node(id=0, kind=NodeKind.seed, metrics={"accuracy": 40.0}), record(0, 20.0))
    assert seed.gap == 0.0 and not seed.overfit
    harder = judge(loaded, Node(id=1, metrics={"accuracy": 80.0}), record(1, 40.0), seed)
    assert harder.gap == 0.0 and not harder.overfit  # twice the seed on both splits
    vanished = judge(loaded, Node(id=2, metrics={"accuracy": 80.0}), record(2, 20.0), seed)
    assert vanished.gap == pytest.approx(1.0) and vanished.overfit  # 2x the seed searched, 1x held-out
    assert "seed-relative" in vanished.describe()


def test_gap_as_share_of_the_gain_over_the_seed(tmp_path: Path) -> None:
    from syslab.artifacts.heldout_rows import HeldoutRecord
    from syslab.artifacts.schema import Node
    from syslab.engine.heldout import judge

    task = tmp_path / "task"
    shutil.copytree(OVERFIT, task)
    text = (task / "task.toml").read_text().replace("tolerance = 0.1", 'tolerance = 0.5\nagainst = "gain"')
    (task / "task.toml").write_text(text)
    loaded = load_task(task)

    def record(node_id: int, held: float) -> HeldoutRecord:
        return HeldoutRecord(node_id=node_id, entry="h", valid=True, metrics={"accuracy": held})

    seed = judge(loaded, Node(id=0, kind=NodeKind.seed, metrics={"accuracy": 30.0}), record(0, 2.0))
    assert seed.gap == 0.0 and not seed.overfit  # the seed has no gain to lose
    kept = judge(loaded, Node(id=1, metrics={"accuracy": 60.0}), record(1, 22.0), seed)
    assert kept.gap == pytest.approx(1 / 3) and not kept.overfit  # +30 searched, +20 held-out
    lost = judge(loaded, Node(id=2, metrics={"accuracy": 60.0}), record(2, 5.0), seed)
    assert lost.gap == pytest.approx(0.9) and lost.overfit  # +30 searched, +3 held-out


def test_claim_numbers_follow_repeated_measurements() -> None:
    """A node re-measured for noise (syslab.engine.contest's record) gives its claim n, mean and interval;
    review flags a claim whose interval is not the recorded one."""
    from syslab.artifacts.heldout_claims import attach_numbers
    from syslab.artifacts.logic import Claim
    from syslab.artifacts.review_numbers import claim_problems
    from syslab.artifacts.schema import Node

    summary = {"n": 3, "mean": 1.2, "ci95": [1.0, 1.4], "values": [1.1, 1.2, 1.3]}
    node = Node(id=4, metrics={"speed": 1.2}, data={"repeats": {"n": 3, "metrics": {"speed": summary}}})
    claim = Claim(id="C-best", statement="s", metric="speed", value=1.2, subject=4, node_ids=[4])
    attach_numbers(claim, node)
    assert (claim.n, claim.mean, claim.interval) == (3, 1.2, [1.0, 1.4])
    assert claim_problems(claim, {4: node}, {}) == []
    claim.interval = [0.9, 1.4]
    assert any("states interval" in p for p in claim_problems(claim, {4: node}, {}))

"""The pure noise-aware promotion rule (syslab.search.noise) and the [noise] table of task.toml."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from syslab.errors import SpecError
from syslab.search.noise import Measurements, beats, difference_lower_bound, margin, summarize, t_quantile
from syslab.search.population import Member, Population
from syslab.search.settings import SearchSettings
from syslab.task import NoiseSpec, load_task


def m(*values: float) -> Measurements:
    return Measurements.of(values)


NONE = NoiseSpec()


def test_single_measurements_without_tolerance_are_the_plain_rule() -> None:
    # n = 1 on a side: no variance to estimate, so the plain `score > best` decides (ties never win).
    assert beats(m(1.01), m(1.0), NONE)
    assert not beats(m(1.0), m(1.0), NONE)
    assert not beats(m(0.99), m(1.0), NONE)
    assert beats(m(1.0), m(), NONE)  # no incumbent: anything valid wins
    assert not beats(m(), m(1.0), NONE)


def test_tolerance_is_the_margin_to_beat() -> None:
    rel = NoiseSpec(rel_tol=0.02)
    assert margin(50.0, rel) == pytest.approx(1.0)
    assert margin(-50.0, rel) == pytest.approx(1.0)  # a minimised metric's score is negative
    assert not beats(m(51.0), m(50.0), rel)  # exactly the margin: not more than the noise
    assert beats(m(51.01), m(50.0), rel)
    absolute = NoiseSpec(abs_tol=0.5, rel_tol=0.001)
    assert margin(10.0, absolute) == 0.5  # the larger of the two
    assert not beats(m(10.4), m(10.0), absolute)
    assert beats(m(10.6), m(10.0), absolute)


def test_repeated_measurements_need_the_confidence_bound_above_the_margin() -> None:
    # A lucky first measurement: its mean is no better than the incumbent's.
    assert not beats(m(12.0, 9.1, 8.9), m(10.0, 10.1, 9.9), NONE)
    # A real improvement with tight repeats wins ...
    assert beats(m(11.0, 11.1, 10.9), m(10.0, 10.1, 9.9), NONE)
    # ... a higher mean with a wide spread does not.
    assert not beats(m(11.3, 9.8, 12.8), m(11.0, 11.1, 10.9), NONE)
    # Exact repeats on both sides: the difference itself is the bound.
    assert difference_lower_bound(m(2.0, 2.0), m(1.0, 1.0)) == 1.0
    assert not beats(m(2.0, 2.0), m(2.0, 2.0), NONE)


def test_welch_bound_matches_a_hand_computation() -> None:
    c, i = m(11.0, 11.1, 10.9), m(10.0, 10.1, 9.9)
    se = math.sqrt(0.01 / 3 + 0.01 / 3)
    # Welch-Satterthwaite df = 4 for equal variances and n = 3: t(0.95, 4) = 2.132
    assert difference_lower_bound(c, i) == pytest.approx(1.0 - 2.132 * se)


def test_t_quantiles() -> None:
    assert t_quantile(0.975, 1) == pytest.approx(12.706)
    assert t_quantile(0.95, 4.9) == t_quantile(0.95, 4)  # fractional df rounds down (wider)
    assert t_quantile(0.975, 1000) == pytest.approx(1.962, abs=1e-3)
    assert t_quantile(0.95, 40) == pytest.approx(1.684, abs=1e-3)
    with pytest.raises(ValueError):
        t_quantile(0.9, 3)


def test_summary_record() -> None:
    s = summarize([1.0, 2.0, 3.0])
    assert s["n"] == 3 and s["mean"] == 2.0 and s["values"] == [1.0, 2.0, 3.0]
    lo, hi = s["ci95"]
    assert lo == pytest.approx(2.0 - 4.303 * 1.0 / math.sqrt(3))
    assert hi == pytest.approx(2.0 + 4.303 * 1.0 / math.sqrt(3))
    one = summarize([5.0])
    assert one["n"] == 1 and one["mean"] == 5.0 and one["ci95"] is None


def test_default_noise_is_deterministic() -> None:
    assert not NoiseSpec().active
    assert NoiseSpec(repeats=3).active and NoiseSpec(rel_tol=0.01).active


def _task(tmp_path: Path, noise: str) -> Path:
    (tmp_path / "seed.py").write_text("# EVOLVE-BLOCK-START\nX = 1\n# EVOLVE-BLOCK-END\n")
    (tmp_path / "evaluate.py").write_text("def evaluate(program_path):\n    return {'score': 1.0}\n")
    (tmp_path / "task.toml").write_text(
        f'name = "t"\ndescription = "d"\n[metrics.score]\nprimary = true\n[noise]\n{noise}\n'
    )
    return tmp_path


def test_noise_table_loads(tmp_path: Path) -> None:
    spec = load_task(_task(tmp_path, "repeats = 3\nrel_tol = 0.01")).spec.noise
    assert (spec.repeats, spec.rel_tol, spec.abs_tol) == (3, 0.01, 0.0)


@pytest.mark.parametrize(
    ("body", "field"),
    [("repeats = 0", "noise.repeats"), ("rel_tol = -0.1", "noise.rel_tol"), ("abs_tol = nan", "noise.abs_tol"),
     ("repeat = 3", "noise.repeat")],
)  # fmt: skip
def test_bad_noise_is_one_line_naming_file_and_field(tmp_path: Path, body: str, field: str) -> None:
    with pytest.raises(SpecError) as err:
        load_task(_task(tmp_path, body))
    text = str(err.value)
    assert "task.toml" in text and field in text and "\n" not in text


# ------------------------------------------------------------------ the population's promotion hook
def _grid_pop() -> Population:
    # One metric dimension, so the test chooses each member's cell: x < 0.5 is cell 0, else cell 1.
    settings = SearchSettings(
        islands=1,
        migration_interval=0,
        feature_dimensions=["x"],
        feature_bins=2,
        feature_ranges={"x": (0, 1)},
    )
    return Population(settings, {"score": "maximize", "x": "maximize"})


def test_rivals_are_the_best_and_the_cell_elite_a_member_would_displace() -> None:
    pop = _grid_pop()
    pop.add(Member(0, 5.0, metrics={"x": 0.1}))
    pop.add(Member(1, 2.0, metrics={"x": 0.9}, parent_id=0))
    assert pop.rivals(Member(2, 6.0, metrics={"x": 0.9})) == [0, 1]  # the best, and cell 1's elite
    assert pop.rivals(Member(2, 3.0, metrics={"x": 0.9})) == [1]
    assert pop.rivals(Member(2, 6.0, metrics={"x": 0.2})) == [0]  # cell 0's elite is the best
    assert pop.rivals(Member(2, 1.0, metrics={"x": 0.9})) == []
    assert pop.rivals(Member(2, None, metrics={"x": 0.9})) == []
    assert pop.best_id == 0 and pop.grid == {(0,): 0, (1,): 1}  # asking changed nothing


def test_a_refused_promotion_keeps_the_best_and_the_cell() -> None:
    pop = _grid_pop()
    pop.add(Member(0, 5.0, metrics={"x": 0.1}))
    asked: list[tuple[int, int]] = []

    def refuse(challenger: int, incumbent: int) -> bool:
        asked.append((challenger, incumbent))
        return False

    pop.promotes = refuse
    res = pop.add(Member(1, 6.0, metrics={"x": 0.2}, parent_id=0))  # higher score, same cell
    assert (1, 0) in asked and not res.new_best and not res.cell_improved
    assert pop.best_id == 0 and pop.grid[(0,)] == 0
    assert 1 in pop.islands[0]  # it still joins its island (ranked by its score)
    pop.promotes = lambda challenger, incumbent: True
    res = pop.add(Member(2, 5.5, metrics={"x": 0.3}, parent_id=0))
    assert res.new_best and pop.grid[(0,)] == 2


def test_rescore_changes_the_rank_not_the_cell() -> None:
    pop = _grid_pop()
    pop.add(Member(0, 5.0, metrics={"x": 0.1}))
    pop.rescore(0, 4.0, {"x": 0.9})
    assert pop.members[0].score == 4.0 and pop.members[0].cell == (0,) and pop.grid == {(0,): 0}

"""SearchSettings validation and the MAP-Elites feature descriptors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from syslab.errors import SpecError
from syslab.search.features import bin_index, cell_of, describe, diversity, feature_values
from syslab.search.novelty import signature
from syslab.search.settings import SearchSettings, validate_for_task


def test_defaults_are_valid_and_documented():
    s = SearchSettings()
    assert s.islands >= 1 and s.selection == "power_law"
    assert s.exploration_ratio + s.exploitation_ratio <= 1.0
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "search.md"
    text = doc.read_text()
    missing = [name for name in SearchSettings.model_fields if f"`{name}`" not in text]
    assert missing == [], f"docs/search.md does not document {missing}"


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ({"exploration_ratio": 0.7, "exploitation_ratio": 0.5}, "at most 1"),
        ({"selection": "uniform_front"}, "pareto_metrics"),
        ({"feature_dimensions": ["throughput"]}, "range"),
        ({"feature_dimensions": ["code_length", "code_length"]}, "repeated"),
        ({"num_inspirations": 1, "num_top_inspirations": 2}, "num_top_inspirations"),
        ({"minhash_perms": 64, "minhash_bands": 5}, "multiple"),
        ({"feature_ranges": {"x": (1.0, 1.0)}}, "high"),
        ({"selection": "greedy"}, "selection"),
        ({"islands": 0}, "islands"),
        ({"unknown_knob": 1}, "unknown_knob"),
    ],
)
def test_bad_settings_rejected(bad, fragment):
    with pytest.raises(ValidationError, match=fragment):
        SearchSettings(**bad)


def test_validate_for_task_names_the_field():
    s = SearchSettings(pareto_metrics=["latency", "cost"], feature_dimensions=["code_length"])
    validate_for_task(s, {"latency": "minimize", "cost": "minimize"})
    with pytest.raises(SpecError, match=r"config.toml: search.pareto_metrics.1: 'cost'"):
        validate_for_task(s, {"latency": "minimize"}, "config.toml")
    s2 = SearchSettings(feature_dimensions=["tput"], feature_ranges={"tput": (0, 10)})
    with pytest.raises(SpecError, match=r"search.feature_dimensions.0"):
        validate_for_task(s2, {"latency": "minimize"})


def test_bin_index_clamps_and_splits_evenly():
    assert [bin_index(v, 0, 10, 5) for v in (-3, 0, 1.99, 2, 9.99, 10, 42)] == [0, 0, 0, 1, 4, 4, 4]
    assert bin_index(7.0, 0, 10, 1) == 0 and bin_index(float("nan"), 0, 1, 4) == 0


def test_feature_values_and_cells():
    s = SearchSettings(
        feature_dimensions=["code_length", "diversity", "tput"],
        feature_bins={"code_length": 4, "diversity": 2, "tput": 3},
        feature_ranges={"code_length": (0, 400), "tput": (0, 30)},
    )
    vals = feature_values(s.feature_dimensions, 250, 0.7, {"tput": 12.0})
    assert vals == {"code_length": 250.0, "diversity": 0.7, "tput": 12.0}
    assert cell_of(s, vals) == (2, 1, 1)
    assert feature_values(s.feature_dimensions, 250, 0.7, {}) is None
    assert describe(s, 250, {}, None) is None
    assert describe(SearchSettings(feature_dimensions=[]), 10, {}) is None


def test_diversity_is_mean_jaccard_distance():
    a = signature("def f(x): return x + 1")
    assert diversity(a, [a, a]) == 0.0
    far = signature("import os; os.listdir('/tmp')")
    assert diversity(a, [far]) > 0.9 and diversity(a, [a, far]) == pytest.approx(diversity(a, [far]) / 2)
    assert diversity(None, [a]) == 0.0 and diversity(a, []) == 0.0

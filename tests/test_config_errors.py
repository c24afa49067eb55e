"""Config and task mistakes: every one is named, unknown keys list the valid ones, nothing is dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from syslab.config import build_config
from syslab.errors import SpecError
from syslab.task import load_task


def error_of(overrides: list[str], path: Path | None = None) -> SpecError:
    with pytest.raises(SpecError) as caught:
        build_config(path, overrides)
    return caught.value


def test_a_key_under_a_value_is_refused_with_the_setting_meant() -> None:
    err = error_of(["proposer.analyst_every=5"])  # was accepted, then silently replaced by --proposer
    assert err.field == "proposer.analyst_every"
    assert (
        "'proposer' is a value, not a section" in err.message
        and "did you mean 'analyst_every'" in err.message
    )


def test_unknown_keys_list_the_valid_ones_with_the_closest() -> None:
    err = error_of(["search.islandz=3"])
    assert err.field == "search.islandz"
    assert "did you mean 'islands'" in err.message and "valid keys:" in err.message
    assert "tournament_size" in err.message  # the whole section's keys, not just the match


def test_a_nested_model_names_its_own_fields(tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text('[[llm.models]]\nname = "m"\nprice = 1.0\n')
    err = error_of([], cfg)
    assert err.path == str(cfg) and err.field == "llm.models.0.price"
    assert "valid keys: name, price_in_per_mtok, price_out_per_mtok, weight" in err.message


def test_every_error_is_reported_not_just_the_first() -> None:
    err = error_of(["seed=x", "budget.evaluations=0"])
    assert "seed" in str(err) and "budget.evaluations" in str(err)
    assert "more error" not in str(err)


def test_valid_overrides_still_apply() -> None:
    cfg = build_config(None, ["search.islands=2", "llm.timeout_s=3", "analyst_every=5"])
    assert cfg.search_settings().islands == 2 and cfg.llm_settings().timeout_s == 3
    assert cfg.analyst_every == 5


def test_task_toml_errors_name_every_field_and_the_valid_keys(tmp_path: Path) -> None:
    (tmp_path / "seed.py").write_text("x = 1\n")
    (tmp_path / "evaluate.py").write_text("def evaluate(path):\n    return {'s': 1.0}\n")
    (tmp_path / "task.toml").write_text(
        'name = "t"\ndescription = "d"\n[metrics.s]\ndirection = "up"\n[sandbox]\ntimeout = 5\n'
    )
    with pytest.raises(SpecError) as caught:
        load_task(tmp_path)
    text = str(caught.value)
    assert str(tmp_path / "task.toml") in text
    assert "metrics.s.direction" in text and "sandbox.timeout" in text
    assert "did you mean 'timeout_s'" in text

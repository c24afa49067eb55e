"""The ARA export's src/configs/ layer, from the run's manifest and task:

training.md     the search loop's settings (budget, population and selection, analyst cadence,
                executor, sandbox): what "training" is for an evolution run
model.md        the proposer: the offline mutator, or the language models and their settings
task.md         the task's task.toml as it is on disk, with whether it still matches the run
run_config.md   every recorded config value
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from syslab.artifacts.ara_solution import Write
from syslab.artifacts.schema import Manifest
from syslab.modeldoc import field_comments
from syslab.search.settings import SearchSettings

NO_MODEL_PROPOSERS = {
    "mutate": "syslab's offline proposer: AST mutations inside the EVOLVE-BLOCKs (numeric constants, "
    "comparisons, arithmetic operators, statement order) and crossover of two programs"
}


def _param(key: str, value: Any, why: str, source: str) -> str:
    return (
        f"## {key}\n- **Value**: `{json.dumps(value, sort_keys=True, default=str)}`\n"
        f"- **Rationale**: {why or 'not documented'}\n- **Source**: {source}\n"
    )


def _section(model: type[BaseModel], values: dict[str, Any], recorded: dict[str, Any], prefix: str) -> str:
    comments = field_comments(model)
    return "\n".join(
        _param(
            f"{prefix}.{name}",
            values.get(name),
            comments.get(name, ""),
            f"manifest.json config.{prefix}.{name}" if name in recorded else "syslab's default",
        )
        for name in model.model_fields
    )


def training_md(man: Manifest) -> str:
    from syslab.config import RunConfig

    cfg = man.config
    search = cfg.get("search") or {}
    try:
        settings = SearchSettings.model_validate(search).model_dump(mode="json")
    except ValidationError:
        settings = search
    run_comments = field_comments(RunConfig)
    parts = []
    for key in ("seed", "analyst_every", "budget", "executor", "pipeline", "sandbox"):
        if key not in cfg:
            continue
        sub = RunConfig.model_fields[key].annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel) and isinstance(cfg[key], dict):
            parts.append(_section(sub, cfg[key], cfg[key], key))
        else:
            parts.append(_param(key, cfg[key], run_comments.get(key, ""), f"manifest.json config.{key}"))
    return (
        "# Search configuration\n\n"
        "An evolution run has no training step; its counterpart is the search loop below: how many "
        "programs it may evaluate, how parents and inspirations are picked, and how often the analyst "
        f"reads the results. Stop reason of this run: {man.stop_reason or 'not recorded'}.\n\n"
        + "\n".join(parts)
        + "\n"
        + _section(SearchSettings, settings, search, "search")
    )


def model_md(man: Manifest) -> str:
    from syslab.agents.llm_config import LLMSettings

    llm = man.config.get("llm") or {}
    head = f"# Proposer model\n\nProposer of this run: `{man.proposer}`.\n\n"
    if man.proposer in NO_MODEL_PROPOSERS:
        return (
            head + f"It is {NO_MODEL_PROPOSERS[man.proposer]}: no language model proposed or analysed "
            "anything in this run; the analyst's notes come from syslab's rule-based (heuristic) analyst. "
            f"The recorded `llm` section (unused) is `{json.dumps(llm, sort_keys=True)}`.\n"
        )
    try:
        settings = LLMSettings.model_validate(llm)
    except ValidationError:
        return head + f"The recorded `llm` section does not validate: `{json.dumps(llm, sort_keys=True)}`.\n"
    models = "\n".join(
        f"| {m.name} | {m.weight:g} | {m.price_in_per_mtok:g} | {m.price_out_per_mtok:g} |"
        for m in settings.models
    )
    values = settings.model_dump(mode="json")
    values.pop("models")
    return (
        head
        + "| model | weight | USD per M prompt tokens | USD per M completion tokens |\n|---|---|---|---|\n"
        + models
        + "\n\n"
        + _section(LLMSettings, values, llm, "llm").replace(
            "## llm.models\n", "## llm.models (table above)\n"
        )
    )


def task_md(man: Manifest) -> str:
    from syslab.task import load_task

    toml = Path(man.task_dir) / "task.toml"
    if not toml.is_file():
        return f"# Task\n\n`{toml}` is no longer on disk; the run recorded content hash {man.task_hash}.\n"
    try:
        now = load_task(man.task_dir).content_hash()
    except Exception as e:  # noqa: BLE001 - any load failure is reported, not raised
        now = f"unreadable ({type(e).__name__})"
    same = now == man.task_hash
    return (
        f"# Task\n\nTask `{man.task_name}` at `{man.task_dir}`. Content hash at the run: {man.task_hash}; "
        f"now: {now} ({'the same files' if same else 'the task changed since the run'}).\n\n"
        f"## task.toml\n\n```toml\n{toml.read_text().rstrip()}\n```\n"
    )


def run_config_md(man: Manifest) -> str:
    return "# Run configuration\n\n" + "\n".join(
        _param(k, v, "run configuration", f"manifest.json config.{k}") for k, v in sorted(man.config.items())
    )


def write_configs(write: Write, man: Manifest) -> None:
    write("src/configs/training.md", training_md(man), "the search loop's settings")
    write("src/configs/model.md", model_md(man), "the proposer and its models")
    write("src/configs/task.md", task_md(man), "the task's task.toml and whether it still matches")
    write("src/configs/run_config.md", run_config_md(man), "every recorded config value")

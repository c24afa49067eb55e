"""The settings reference, generated from the pydantic models: docs/config.md, the task.toml
section of docs/tasks.md, and `syslab config --schema`.

A field's description is its `Field(description=...)` or else the comment on its line in the
model's source (the code documents its fields there), so the reference cannot drift from the
models: tests/test_reference.py regenerates it and compares. Rewrite the files with

    python -m syslab.cli.reference --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, create_model
from pydantic_core import PydanticUndefined

from syslab.errors import strip_optional
from syslab.modeldoc import field_comments

DOCS = Path(__file__).resolve().parents[2] / "docs"
BEGIN, END = "<!-- BEGIN GENERATED: syslab.cli.reference -->", "<!-- END GENERATED: syslab.cli.reference -->"

CONFIG_INTRO = """# Run configuration reference

How a run is carried out (not what the task is). Settings come from a config file
(`syslab run --config run.toml`, TOML or YAML), then `--set key.sub=value` overrides (also
`SYSLAB_SET='a.b=1;c=2'`), then the command's flags. Unknown keys are errors that list the valid
ones. `syslab config --schema` prints the JSON schema of all of it.

This page is generated from the models in `syslab/config.py`, `syslab/search/settings.py` and
`syslab/agents/llm_config.py` (`python -m syslab.cli.reference --write`); a test checks it is current.
"""


def _type_name(annotation: Any) -> str:
    annotation = strip_optional(annotation)
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return " \\| ".join(_type_name(a) for a in get_args(annotation))
    if origin is not None and str(origin).endswith("Literal"):
        return " \\| ".join(f"`{a}`" for a in get_args(annotation))
    if origin in (list, dict, tuple):
        inner = ", ".join(_type_name(a) for a in get_args(annotation))
        return f"{origin.__name__}[{inner}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _default(field: Any) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        try:
            value = field.default_factory()
        except TypeError:
            return "(computed)"
    else:
        return "**required**"
    if isinstance(value, BaseModel):
        return "(section)"
    text = json.dumps(value, default=str)
    return f"`{text}`" if len(text) <= 60 else "(see the model)"


def _section_model(model: type[BaseModel], name: str, overrides: dict[str, type[BaseModel]]) -> Any:
    if name in overrides:
        return overrides[name]
    annotation = strip_optional(model.model_fields[name].annotation)
    if get_origin(annotation) in (list, dict):
        annotation = get_args(annotation)[-1]
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def model_table(
    model: type[BaseModel],
    prefix: str,
    overrides: dict[str, type[BaseModel]] | None = None,
    level: int = 2,
    title: str | None = None,
) -> str:
    """A Markdown section per (sub)model: key, type, default, what it is."""
    overrides = overrides or {}
    comments = field_comments(model)
    rows, subsections = [], []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = _section_model(model, name, overrides)
        if sub is None:
            what = field.description or comments.get(name, "")
            rows.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {what} |")
            continue
        origin = get_origin(strip_optional(field.annotation)) if name not in overrides else None
        shape = {list: "[[{k}]]", dict: "[{k}.NAME]"}.get(origin, "[{k}]").format(k=key)  # type: ignore[call-overload]
        inner = f"{key}.NAME." if origin is dict else f"{key}."
        subsections.append(model_table(sub, inner, None, level + 1, f"`{shape}`"))
    doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    head = f"{'#' * (level + 1)} {title or doc or model.__name__}\n\n" + (
        f"{doc}\n\n" if title and doc else ""
    )
    table = (
        "| key | type | default | what it is |\n|---|---|---|---|\n" + "\n".join(rows) + "\n" if rows else ""
    )
    return head + table + "".join("\n" + s for s in subsections)


def _run_sections() -> dict[str, type[BaseModel]]:
    from syslab.config import _section_models

    return _section_models()


def config_reference() -> str:
    from syslab.config import RunConfig

    return CONFIG_INTRO + "\n" + model_table(RunConfig, "", _run_sections())


def task_reference() -> str:
    from syslab.task import TaskSpec

    return "## task.toml reference (generated)\n\n" + model_table(TaskSpec, "", level=2)


def schema(kind: str = "run") -> dict[str, Any]:
    """JSON schema of a run config (`search` and `llm` with their own models) or of task.toml."""
    if kind == "task":
        from syslab.task import TaskSpec

        return TaskSpec.model_json_schema()
    from syslab.config import RunConfig

    full = create_model(  # type: ignore[call-overload]
        "RunConfig", __base__=RunConfig, **{k: (m, m()) for k, m in _run_sections().items()}
    )
    return full.model_json_schema()


def _with_generated(text: str, generated: str) -> str:
    block = f"{BEGIN}\n{generated.rstrip()}\n{END}"
    if BEGIN in text and END in text:
        return text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    return text.rstrip() + "\n\n" + block + "\n"


def expected_files() -> dict[Path, str]:
    """Each generated doc file and the text it must hold."""
    tasks = DOCS / "tasks.md"
    current = tasks.read_text(encoding="utf-8") if tasks.is_file() else "# Writing a task\n"
    return {
        DOCS / "config.md": config_reference().rstrip() + "\n",
        tasks: _with_generated(current, task_reference()),
    }


def main(argv: list[str]) -> int:
    stale = [
        p for p, text in expected_files().items() if not p.is_file() or p.read_text(encoding="utf-8") != text
    ]
    if "--write" in argv:
        for path, text in expected_files().items():
            path.write_text(text, encoding="utf-8")
        return 0
    for path in stale:
        print(f"{path}: out of date (python -m syslab.cli.reference --write)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

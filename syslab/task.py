"""Task spec: a directory with task.toml, a seed program and an evaluator."""

from __future__ import annotations

import hashlib
from enum import Enum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from syslab.errors import SpecError, spec_error_from_validation

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

TASK_FILE = "task.toml"
EVOLVE_START = "EVOLVE-BLOCK-START"
EVOLVE_END = "EVOLVE-BLOCK-END"


class Direction(str, Enum):
    maximize = "maximize"
    minimize = "minimize"


class MetricSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direction: Direction = Direction.maximize
    primary: bool = False
    description: str = ""
    unit: str = ""


class StageSpec(BaseModel):
    """A cascade stage: a cheaper evaluator that can reject before the next runs.

    The stage passes when the evaluator reports a valid result and, if
    `threshold` is set, the primary metric is at least as good as it.
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    entry: str  # "file.py:function"
    threshold: float | None = None
    timeout_s: float | None = None


class SandboxSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout_s: float = Field(60.0, gt=0)
    memory_mb: int = Field(2048, ge=64)
    gpu: bool = False
    image: str | None = None  # docker image name
    dockerfile: str | None = None  # relative to the task dir
    max_output_bytes: int = Field(1_000_000, ge=1024)


class BudgetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    evaluations: int = Field(40, ge=1)
    wall_time_s: float | None = Field(None, gt=0)
    cost_usd: float | None = Field(None, ge=0)
    tokens: int | None = Field(None, ge=0)


class TaskSpec(BaseModel):
    """The contents of task.toml."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    seed: str = "seed.py"
    evaluator: str = "evaluate.py:evaluate"
    metrics: dict[str, MetricSpec] = Field(min_length=1)
    stages: list[StageSpec] = Field(default_factory=list)
    sandbox: SandboxSpec = Field(default_factory=SandboxSpec)
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    language: Literal["python"] = "python"
    family: str = "algorithm"  # algorithm | kernel | adrs
    tags: list[str] = Field(default_factory=list)
    data: list[str] = Field(default_factory=list)  # data files the evaluator needs (see syslab.data)

    @model_validator(mode="after")
    def _one_primary(self) -> TaskSpec:
        primaries = [k for k, m in self.metrics.items() if m.primary]
        if len(self.metrics) == 1 and not primaries:
            only = next(iter(self.metrics))
            self.metrics[only].primary = True
            primaries = [only]
        if len(primaries) != 1:
            raise ValueError(f"exactly one metric must have primary = true (found {len(primaries)})")
        for entry in [self.evaluator] + [s.entry for s in self.stages]:
            if ":" not in entry:
                raise ValueError(f"evaluator entry {entry!r} must look like 'file.py:function'")
        return self

    @property
    def primary_metric(self) -> str:
        return next(k for k, m in self.metrics.items() if m.primary)


class Task(BaseModel):
    """A loaded task: its spec plus where it lives and its seed code."""

    spec: TaskSpec
    root: Path
    seed_code: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def primary_metric(self) -> str:
        return self.spec.primary_metric

    @property
    def seed_path(self) -> Path:
        return self.root / self.spec.seed

    def score(self, metrics: dict[str, float]) -> float | None:
        """Primary metric, direction-normalised so that higher is always better."""
        value = metrics.get(self.primary_metric)
        if value is None:
            return None
        spec = self.spec.metrics[self.primary_metric]
        return float(value) if spec.direction == Direction.maximize else -float(value)

    def better(self, a: float | None, b: float | None) -> bool:
        """Is score a strictly better than score b (None is worst)."""
        if a is None:
            return False
        return b is None or a > b

    def content_hash(self) -> str:
        """sha256 over every regular file of the task dir (sorted), for the manifest."""
        h = hashlib.sha256()
        for p in sorted(self.root.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(self.root)).encode())
                h.update(p.read_bytes())
        return h.hexdigest()


def load_task(task_dir: str | Path) -> Task:
    """Load and validate a task directory; errors name the file and field."""
    root = Path(task_dir).resolve()
    toml_path = root / TASK_FILE
    if not root.is_dir():
        raise SpecError(root, "(task dir)", "not a directory")
    if not toml_path.is_file():
        raise SpecError(toml_path, "(file)", "missing: a task directory needs a task.toml")
    try:
        raw = tomllib.loads(toml_path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise SpecError(toml_path, "(syntax)", str(e)) from None
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as e:
        raise spec_error_from_validation(toml_path, e) from None
    seed_path = root / spec.seed
    if not seed_path.is_file():
        raise SpecError(toml_path, "seed", f"seed program {spec.seed!r} not found in {root}")
    for field, entry in [("evaluator", spec.evaluator)] + [
        (f"stages.{i}.entry", s.entry) for i, s in enumerate(spec.stages)
    ]:
        file_part = entry.split(":", 1)[0]
        if not (root / file_part).is_file() and not file_part.startswith("builtin"):
            raise SpecError(toml_path, field, f"evaluator file {file_part!r} not found in {root}")
    seed_code = seed_path.read_text()
    if EVOLVE_START not in seed_code or EVOLVE_END not in seed_code:
        raise SpecError(seed_path, "EVOLVE-BLOCK", f"seed has no {EVOLVE_START}/{EVOLVE_END} markers")
    return Task(spec=spec, root=root, seed_code=seed_code)

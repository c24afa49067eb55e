"""Task spec: a directory with task.toml, a seed program and an evaluator."""

from __future__ import annotations

import ast
import hashlib
import re
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
    # In `syslab run` a candidate whose value is above this is rejected (wrong_answer), though
    # `syslab eval` and reproductions score it: a lenient reading kept for published results
    # (deadline misses, undelivered partitions) that a search must not exploit.
    max_in_runs: float | None = None


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
    max_scratch_mb: int = Field(256, ge=1)  # all files of the candidate's scratch dir together
    max_message_mb: int = Field(64, ge=1)  # largest single reply from the candidate (split mode)
    cpus: int = Field(1, ge=1)  # CPUs the candidate may use (the process backend pins it to them)
    # Warm templates (process backend, as root, no GPU): the evaluator and these libraries are
    # imported once per task, and every evaluation forks fresh processes from them.
    warm: bool = True
    warm_imports: list[str] = Field(default_factory=lambda: ["numpy", "numpy.random"])  # candidate side
    template_uses: int = Field(500, ge=1)  # runs per template before it is replaced


class BudgetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    evaluations: int = Field(40, ge=1)
    wall_time_s: float | None = Field(None, gt=0)
    cost_usd: float | None = Field(None, ge=0)
    tokens: int | None = Field(None, ge=0)


class HeldoutSpec(BaseModel):
    """A held-out evaluation: data the search never sees, scored only after the search ends.

    `entry` has the evaluator's contract (split mode `evaluate(candidate)`, shared mode
    `evaluate(program_path)`) on other seeds, traces, workloads or tables than the search
    evaluator's. It is never shown to the agents and never used for selection.

    `tolerance`: the largest allowed shortfall of the held-out primary metric against the
    search value, in the metric's own direction (a held-out result that is better is never a
    gap). With `relative = true` (default) the shortfall is divided by |search value|, so
    0.1 allows 10% worse; with `relative = false` it is in the metric's units. A larger gap
    marks the best candidate's claim refuted (overfit to the search data).
    `against = "seed"`: where the held-out data is harder or easier for every program (other
    traces, bursts, tables), each value is first divided by the seed's value on the same data,
    and the gap is the shortfall of the held-out ratio against the search ratio, in fractions
    of the seed's value (0.15: the gain over the seed may shrink by 15% of the seed's value);
    `relative` then does not apply.
    `against = "gain"`: the gap is the share of the candidate's gain over the seed on the search
    data that it loses on the held-out data, (search gain - held-out gain) / search gain, with
    gains in the metric's units (0.5: half the improvement may vanish; a candidate that does not
    beat the seed on the search data has no gain to lose). For scores whose seed value differs
    between the splits by an offset (0-100 scores anchored on the search data).
    `top_k`: how many of the best candidates by search score are evaluated on it.
    """

    model_config = ConfigDict(extra="forbid")
    entry: str  # "file.py:function"
    tolerance: float = Field(0.1, ge=0)  # the largest gap that is not overfitting (see against)
    relative: bool = True  # against = "search": the gap as a fraction of the search value
    against: Literal["search", "seed", "gain"] = "search"  # what the held-out value is compared with
    top_k: int = Field(3, ge=1)  # the best candidates by search score scored held-out (and the seed)
    timeout_s: float | None = Field(None, gt=0)  # the held-out evaluation's limit (default sandbox.timeout_s)
    description: str = ""  # which data the split holds (shown in reports, never to agents)


class NoiseSpec(BaseModel):
    """How noisy the primary metric's measurement is ([noise] in task.toml; see syslab.search.noise).

    A candidate that would become the new best, or take a MAP-Elites cell from its occupant, is
    measured `repeats` times (and so is the incumbent) and wins only if the challenger's mean beats
    the incumbent's by more than the noise: the one-sided 95% Student t lower bound of the difference
    (Welch) above max(abs_tol, rel_tol x |incumbent mean|). Tolerances are in the primary metric's
    units. The defaults (1, 0, 0) are a deterministic task: no extra evaluation, today's rule.
    """

    model_config = ConfigDict(extra="forbid")
    repeats: int = Field(1, ge=1, le=50)  # measurements per contested program (k)
    rel_tol: float = Field(0.0, ge=0.0, allow_inf_nan=False)  # relative to the incumbent's mean
    abs_tol: float = Field(0.0, ge=0.0, allow_inf_nan=False)

    @property
    def active(self) -> bool:
        """Does promotion differ from a plain `score > best` (re-measurement or a tolerance)?"""
        return self.repeats > 1 or self.rel_tol > 0 or self.abs_tol > 0


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
    noise: NoiseSpec = Field(default_factory=NoiseSpec)
    language: Literal["python"] = "python"
    family: str = "algorithm"  # algorithm | kernel | adrs
    tags: list[str] = Field(default_factory=list)
    data: list[str] = Field(default_factory=list)  # data files the evaluator needs (see syslab.data)
    # split: the evaluator takes a Candidate handle and never runs candidate code (trusted scores);
    # shared: an OpenEvolve-style evaluate(program_path) imports the program (unverified scores);
    # auto: split when the evaluator's first parameter is `candidate` or annotated `Candidate`.
    mode: Literal["auto", "split", "shared"] = "auto"
    adapter: str | None = None  # candidate-side module mapping plain data to the program's interface
    allow_nonfinite: bool = False  # may the candidate's replies hold inf / nan
    heldout: HeldoutSpec | None = None  # scored after the search only (see HeldoutSpec)

    @model_validator(mode="after")
    def _one_primary(self) -> TaskSpec:
        primaries = [k for k, m in self.metrics.items() if m.primary]
        if len(self.metrics) == 1 and not primaries:
            only = next(iter(self.metrics))
            self.metrics[only].primary = True
            primaries = [only]
        if len(primaries) != 1:
            raise ValueError(f"exactly one metric must have primary = true (found {len(primaries)})")
        held = [self.heldout.entry] if self.heldout is not None else []
        for entry in [self.evaluator] + [s.entry for s in self.stages] + held:
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

    def run_limit_breach(self, metrics: dict[str, float]) -> str | None:
        """Why an evaluation is rejected in a run by a metric's `max_in_runs`, or None if it is not."""
        for name, spec in self.spec.metrics.items():
            value = metrics.get(name)
            if spec.max_in_runs is not None and value is not None and not value <= spec.max_in_runs:
                return (
                    f"{name} = {value:g} is above {spec.max_in_runs:g}, the most a run accepts "
                    f"([metrics.{name}] max_in_runs in task.toml; `syslab eval` scores it)"
                )
        return None

    def better(self, a: float | None, b: float | None) -> bool:
        """Is score a strictly better than score b (None is worst)."""
        if a is None:
            return False
        return b is None or a > b

    @property
    def evaluation_mode(self) -> str:
        """ "split" or "shared" (see TaskSpec.mode); "auto" is resolved from the evaluator's source."""
        if self.spec.mode != "auto":
            return self.spec.mode
        return _detect_mode(self.root, self.spec.evaluator)

    @property
    def verified(self) -> bool:
        """Are this task's scores trusted (the candidate never shared the scorer's process)?"""
        return self.evaluation_mode == "split"

    def content_hash(self) -> str:
        """sha256 over every regular file of the task dir (sorted), for the manifest."""
        h = hashlib.sha256()
        for p in sorted(self.root.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(self.root)).encode())
                h.update(p.read_bytes())
        return h.hexdigest()


UNVERIFIED_NOTE = "unverified: the candidate shared the scorer's process (OpenEvolve-style evaluator)"


def takes_candidate(root: Path, entry: str) -> bool | None:
    """Does the entry's function take a Candidate handle? None if the file cannot be read/parsed."""
    file_part, name = entry.split(":", 1)
    try:
        source = (root / file_part).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:  # reported when it runs; the signature may still be readable
        sig = re.search(rf"^def\s+{re.escape(name)}\s*\(\s*(\w+)\s*(?::\s*([\w.]+))?", source, re.M)
        return None if sig is None else (sig[1] == "candidate" or (sig[2] or "").endswith("Candidate"))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            params = node.args.posonlyargs + node.args.args
            if not params:
                return False
            first = params[0]
            hint = ast.unparse(first.annotation) if first.annotation is not None else ""
            return first.arg == "candidate" or hint.split(".")[-1].strip("'\"") == "Candidate"
    return None


def _detect_mode(root: Path, entry: str) -> str:
    return "split" if takes_candidate(root, entry) else "shared"


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
        raise spec_error_from_validation(toml_path, e, TaskSpec) from None
    seed_path = root / spec.seed
    if not seed_path.is_file():
        raise SpecError(toml_path, "seed", f"seed program {spec.seed!r} not found in {root}")
    held = [("heldout.entry", spec.heldout.entry)] if spec.heldout is not None else []
    for field, entry in (
        [("evaluator", spec.evaluator)]
        + [(f"stages.{i}.entry", s.entry) for i, s in enumerate(spec.stages)]
        + held
    ):
        file_part = entry.split(":", 1)[0]
        if not (root / file_part).is_file() and not file_part.startswith("builtin"):
            raise SpecError(toml_path, field, f"evaluator file {file_part!r} not found in {root}")
    if spec.adapter is not None and not (root / spec.adapter).is_file():
        raise SpecError(toml_path, "adapter", f"adapter file {spec.adapter!r} not found in {root}")
    if spec.mode == "auto":
        kinds = {e: takes_candidate(root, e) for e in [spec.evaluator] + [s.entry for s in spec.stages]}
        if len({k for k in kinds.values() if k is not None}) > 1:
            shown = ", ".join(f"{e} {'takes a candidate' if k else 'takes a path'}" for e, k in kinds.items())
            raise SpecError(toml_path, "stages", f"every stage must use one evaluation mode ({shown})")
    if spec.heldout is not None and spec.mode == "auto":
        main, held_kind = takes_candidate(root, spec.evaluator), takes_candidate(root, spec.heldout.entry)
        if main is not None and held_kind is not None and main != held_kind:
            want = "a candidate" if main else "a program path"
            raise SpecError(toml_path, "heldout.entry", f"must take {want}, like the evaluator")
    seed_code = seed_path.read_text()
    if EVOLVE_START not in seed_code or EVOLVE_END not in seed_code:
        raise SpecError(seed_path, "EVOLVE-BLOCK", f"seed has no {EVOLVE_START}/{EVOLVE_END} markers")
    return Task(spec=spec, root=root, seed_code=seed_code)

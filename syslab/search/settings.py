"""SearchSettings: every knob of the population and search policies, with documented defaults.

docs/search.md explains each field; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from syslab.errors import SpecError

BUILTIN_FEATURES = ("code_length", "diversity")
# Built-in feature ranges: code length in characters, diversity as a Jaccard distance in [0, 1].
DEFAULT_FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "code_length": (0.0, 10_000.0),
    "diversity": (0.0, 1.0),
}

Selection = Literal["power_law", "sigmoid", "tournament", "uniform_front"]


class SearchSettings(BaseModel):
    """How parents and inspirations are chosen and what the population keeps."""

    model_config = ConfigDict(extra="forbid")

    # Islands: separate sub-populations that only exchange their best members by migration.
    islands: int = Field(2, ge=1, le=256)
    island_capacity: int = Field(50, ge=1)  # members per island; the worst (never the best) is evicted
    migration_interval: int = Field(20, ge=0)  # evaluations between ring migrations; 0 = never
    migration_count: int = Field(1, ge=0)  # best members copied from island i to island i+1 mod n

    # Elite archive: the best members overall, kept diverse (a near-duplicate replaces its twin).
    archive_size: int = Field(20, ge=1)
    archive_similarity: float = Field(0.8, gt=0.0, le=1.0)  # estimated Jaccard at which two are twins

    # Parent selection.
    selection: Selection = "power_law"
    power_law_alpha: float = Field(1.0, ge=0.0)  # weight of rank r (1 = best) is r ** -alpha
    sigmoid_lambda: float = Field(6.0, gt=0.0)  # steepness over the pool's normalised score range
    sigmoid_midpoint: float | None = None  # raw score at weight 0.5; None = median of the pool
    tournament_size: int = Field(3, ge=1)  # members per tournament (selection = tournament)
    exploration_ratio: float = Field(0.2, ge=0.0, le=1.0)  # parent uniform from the island
    exploitation_ratio: float = Field(0.3, ge=0.0, le=1.0)  # parent from the island's elites
    # The rest (1 - exploration - exploitation): configured selection over the whole island.

    # Inspirations shown to the proposer beside the parent.
    num_inspirations: int = Field(4, ge=0)
    num_top_inspirations: int = Field(2, ge=0)  # the best ones; the rest are the most different

    # MAP-Elites grid: built-ins "code_length", "diversity", or any evaluator metric name.
    feature_dimensions: list[str] = Field(default_factory=lambda: ["code_length", "diversity"])
    feature_bins: int | dict[str, int] = 10  # bins per dimension (one number, or per name)
    feature_ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)  # fixed (lo, hi) per metric

    # Multi-objective: metric names whose directions come from the task; [] = no Pareto front.
    pareto_metrics: list[str] = Field(default_factory=list)
    pareto_capacity: int = Field(64, ge=2)  # the most crowded front member goes when exceeded

    # Duplicates and novelty.
    dedup_exact: bool = True  # reject a candidate whose normalised code hash was seen before
    # Estimated Jaccard at or above which a candidate counts as a near-duplicate; 1.0 = off (default:
    # minimal edits, which mutation and SEARCH/REPLACE diffs make by design, would be rejected).
    near_duplicate_threshold: float = Field(1.0, gt=0.0, le=1.0)
    novelty_backend: Literal["minhash", "embedding"] = "minhash"  # how similarity is estimated
    embedding_model: str = "text-embedding-3-small"  # novelty_backend = embedding: the model
    max_duplicate_retries: int = Field(2, ge=0)  # re-asks of the proposer before recording a duplicate
    minhash_perms: int = Field(64, ge=8)  # MinHash permutations per signature
    minhash_bands: int = Field(16, ge=1)  # LSH bands (a divisor of minhash_perms)
    shingle_size: int = Field(3, ge=1)  # tokens per shingle
    novelty_index_size: int = Field(20_000, ge=1)  # signatures kept for near-duplicate lookup (oldest go)

    @model_validator(mode="after")
    def _consistent(self) -> SearchSettings:
        if self.exploration_ratio + self.exploitation_ratio > 1.0 + 1e-9:
            raise ValueError("exploration_ratio + exploitation_ratio must be at most 1")
        if self.num_top_inspirations > self.num_inspirations:
            raise ValueError("num_top_inspirations must not exceed num_inspirations")
        if self.minhash_perms % self.minhash_bands:
            raise ValueError("minhash_perms must be a multiple of minhash_bands")
        if self.selection == "uniform_front" and not self.pareto_metrics:
            raise ValueError("selection 'uniform_front' needs pareto_metrics")
        if len(set(self.feature_dimensions)) != len(self.feature_dimensions):
            raise ValueError("feature_dimensions has a repeated name")
        for name, (lo, hi) in self.feature_ranges.items():
            if not hi > lo:
                raise ValueError(f"feature_ranges.{name}: high must exceed low")
        for name in self.feature_dimensions:
            if name not in BUILTIN_FEATURES and name not in self.feature_ranges:
                raise ValueError(f"feature dimension {name!r} needs a [low, high] range in feature_ranges")
            if self.bins(name) < 1:
                raise ValueError(f"feature_bins.{name} must be at least 1")
        return self

    def bins(self, name: str) -> int:
        if isinstance(self.feature_bins, int):
            return self.feature_bins
        return self.feature_bins.get(name, 10)

    def feature_range(self, name: str) -> tuple[float, float]:
        if name in self.feature_ranges:
            return self.feature_ranges[name]
        return DEFAULT_FEATURE_RANGES[name]


def validate_for_task(
    settings: SearchSettings, directions: Mapping[str, str], path: str | Path = "config"
) -> None:
    """Check the metric names the settings use against the task's metrics (name -> direction)."""
    for i, name in enumerate(settings.pareto_metrics):
        if name not in directions:
            raise SpecError(path, f"search.pareto_metrics.{i}", f"{name!r} is not a metric of the task")
    for i, name in enumerate(settings.feature_dimensions):
        if name not in BUILTIN_FEATURES and name not in directions:
            raise SpecError(
                path, f"search.feature_dimensions.{i}", f"{name!r} is neither a built-in nor a task metric"
            )

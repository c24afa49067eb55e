"""MAP-Elites feature descriptors: where a candidate sits in the behaviour grid.

A dimension is a built-in ("code_length": characters of the program; "diversity": mean
MinHash Jaccard distance to the elite archive) or the name of an evaluator metric. Each
value is clamped into its configured [low, high] range and cut into equal-width bins.
Ranges are fixed (not learned) so that a member's cell never changes after it is placed:
re-binning would need a scan of the whole grid.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from syslab.search.novelty import Signature, jaccard_estimate
from syslab.search.settings import SearchSettings

Cell = tuple[int, ...]


def bin_index(value: float, low: float, high: float, bins: int) -> int:
    """Equal-width bin of value in [low, high]; values outside are clamped to the end bins."""
    if bins <= 1 or math.isnan(value):
        return 0
    frac = (value - low) / (high - low)
    return max(0, min(bins - 1, int(frac * bins)))


def diversity(sig: Signature | None, references: Iterable[Signature]) -> float:
    """Mean estimated Jaccard distance from sig to the references (0.0 with none to compare)."""
    if sig is None:
        return 0.0
    dists = [1.0 - jaccard_estimate(sig, ref) for ref in references]
    return sum(dists) / len(dists) if dists else 0.0


def feature_values(
    dimensions: Iterable[str], code_length: int, diversity_value: float, metrics: Mapping[str, float]
) -> dict[str, float] | None:
    """The raw value of every dimension, or None when a metric dimension is missing."""
    out: dict[str, float] = {}
    for name in dimensions:
        if name == "code_length":
            out[name] = float(code_length)
        elif name == "diversity":
            out[name] = float(diversity_value)
        elif name in metrics:
            out[name] = float(metrics[name])
        else:
            return None
    return out


def cell_of(settings: SearchSettings, values: Mapping[str, float]) -> Cell:
    """Grid cell of a feature-value mapping, in the order of settings.feature_dimensions."""
    return tuple(
        bin_index(values[name], *settings.feature_range(name), settings.bins(name))
        for name in settings.feature_dimensions
    )


def describe(
    settings: SearchSettings,
    code_length: int,
    metrics: Mapping[str, float],
    sig: Signature | None = None,
    references: Iterable[Signature] = (),
    diversity_value: float | None = None,
) -> Cell | None:
    """The candidate's cell, or None when it has no place in the grid (missing metric, no dims).

    Diversity is `diversity_value` when given (callers that already compared the signature
    with the archive pass it), else computed from sig and references.
    """
    if not settings.feature_dimensions:
        return None
    div = diversity_value
    if div is None:
        div = diversity(sig, references) if "diversity" in settings.feature_dimensions else 0.0
    values = feature_values(settings.feature_dimensions, code_length, div, metrics)
    return None if values is None else cell_of(settings, values)

"""Noise-aware promotion: does a challenger beat an incumbent by more than the measurement noise?

A noisy score (one that includes a running time, a kernel timing, a latency) lets one lucky
measurement become the best and the parent of everything after it. The rule here decides on
repeated measurements instead:

- the margin is the task's declared tolerance, max(abs_tol, rel_tol x |incumbent mean|);
- with two or more measurements on both sides, the challenger wins when the one-sided 95% lower
  confidence bound of the difference of means (Welch's t, Student t quantile at the
  Welch-Satterthwaite degrees of freedom, rounded down: the conservative side) exceeds the margin;
- with a single measurement on either side there is no variance to estimate, so the challenger
  wins when its mean exceeds the incumbent's by more than the margin (with no tolerance that is
  the plain `score > best` rule, so a deterministic task behaves as it always did).

Values are direction-normalised scores (higher is better). Everything here is pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# Student t quantiles for 1..30 degrees of freedom: t(0.95) for the one-sided decision bound and
# t(0.975) for the two-sided 95% interval recorded as evidence. Beyond 30 the Cornish-Fisher
# expansion around the normal quantile is accurate to about 1e-3.
_T95 = (6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761, 1.753,
        1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697)  # fmt: skip
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)  # fmt: skip
_Z = {0.95: 1.6448536, 0.975: 1.9599640}


class Tolerance(Protocol):
    """What the rule needs of a task's [noise] table (syslab.task.NoiseSpec)."""

    rel_tol: float
    abs_tol: float


def t_quantile(level: float, df: float) -> float:
    """Student t quantile at `level` (0.95 or 0.975) for `df` degrees of freedom (floored, >= 1)."""
    if level not in _Z:
        raise ValueError(f"t_quantile: level {level} not supported (0.95 or 0.975)")
    k = max(1, int(math.floor(df)))
    if k <= 30:
        return (_T95 if level == 0.95 else _T975)[k - 1]
    z = _Z[level]
    return z + (z**3 + z) / (4 * k) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * k**2)


@dataclass(frozen=True)
class Measurements:
    """Repeated measurements of one program's score (direction-normalised, higher is better)."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> Measurements:
        return cls(tuple(float(v) for v in values))

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / self.n if self.values else math.nan

    @property
    def variance(self) -> float:
        """Sample variance (n - 1 in the denominator); 0.0 with fewer than two values."""
        if self.n < 2:
            return 0.0
        m = self.mean
        return math.fsum((v - m) ** 2 for v in self.values) / (self.n - 1)

    @property
    def ci95(self) -> tuple[float, float] | None:
        """Two-sided 95% Student t interval of the mean; None with fewer than two values."""
        if self.n < 2:
            return None
        half = t_quantile(0.975, self.n - 1) * math.sqrt(self.variance / self.n)
        return (self.mean - half, self.mean + half)


def margin(incumbent_mean: float, tol: Tolerance) -> float:
    """How much better than the incumbent a challenger must be: the declared noise."""
    return max(tol.abs_tol, tol.rel_tol * abs(incumbent_mean))


def difference_lower_bound(challenger: Measurements, incumbent: Measurements) -> float:
    """One-sided 95% lower bound of mean(challenger) - mean(incumbent) (Welch); the plain
    difference when either side has a single value (no variance to estimate)."""
    diff = challenger.mean - incumbent.mean
    if challenger.n < 2 or incumbent.n < 2:
        return diff
    a, b = challenger.variance / challenger.n, incumbent.variance / incumbent.n
    if a + b == 0.0:  # identical repeats on both sides: the measurement is exact
        return diff
    df = (a + b) ** 2 / (a**2 / (challenger.n - 1) + b**2 / (incumbent.n - 1))
    return diff - t_quantile(0.95, df) * math.sqrt(a + b)


def beats(challenger: Measurements, incumbent: Measurements, tol: Tolerance) -> bool:
    """Does the challenger beat the incumbent by more than the noise? (A tie never does.)"""
    if challenger.n == 0:
        return False
    if incumbent.n == 0:
        return True
    return difference_lower_bound(challenger, incumbent) > margin(incumbent.mean, tol)


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """The JSON record of one metric's measurements: n, mean, ci95 ([lo, hi] or None), values."""
    m = Measurements.of(values)
    ci = m.ci95
    return {
        "n": m.n,
        "mean": m.mean if m.n else None,
        "ci95": None if ci is None else [ci[0], ci[1]],
        "values": list(m.values),
    }

"""How a metric (and a one-line note) is shown to people and to agents: in its own units and
direction, not as the direction-normalised score the search ranks by (a minimised metric's score
is its negation); notes shortened at a word, never mid-word.
"""

from __future__ import annotations

import math


def fmt(value: float | None, unit: str = "", digits: int = 4) -> str:
    """`4.076 %`, `64.58 $/h`, `1.234e+06 req/s`; "none" for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "none"
    text = f"{value:.{digits}g}"
    if not unit:
        return text
    return text + unit if unit == "%" else f"{text} {unit}"


def better(direction: str) -> str:
    """What 'better' means for a metric, in words."""
    return "lower is better" if direction == "minimize" else "higher is better"


def from_score(score: float | None, direction: str) -> float | None:
    """The metric's own value behind a direction-normalised score."""
    if score is None:
        return None
    return -score if direction == "minimize" else score


def change(new_score: float, old_score: float, direction: str, unit: str = "", digits: int = 4) -> str:
    """`4.2 % -> 4.076 %` for a move between two scores, in the metric's own terms."""
    return f"{fmt(from_score(old_score, direction), unit, digits)} -> {fmt(from_score(new_score, direction), unit, digits)}"


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut at a word boundary with an ellipsis (never mid-word)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"

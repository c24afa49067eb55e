"""How metrics and notes are written for people and agents (syslab.metric_text)."""

from __future__ import annotations

from syslab.metric_text import better, change, fmt, from_score, shorten


def test_values_in_their_units_and_directions() -> None:
    assert fmt(4.075601754803425, "%") == "4.076%"
    assert fmt(64.58, "$/h") == "64.58 $/h" and fmt(2093.4) == "2093" and fmt(None, "ms") == "none"
    assert from_score(-4.0756, "minimize") == 4.0756 and from_score(3.0, "maximize") == 3.0
    assert better("minimize") == "lower is better" and better("maximize") == "higher is better"
    assert change(-10.0, -12.0, "minimize", "s") == "12 s -> 10 s"


def test_notes_are_shortened_at_a_word() -> None:
    note = "Build on node 7 (best distance 0.5); avoid edits that fail with IndexError in the loop"
    short = shorten(note, 40)
    assert len(short) <= 40 and short.endswith("…")
    assert note.startswith(short[:-1]) and note[len(short) - 1] in " ;,:"  # cut where a word ends
    assert shorten("short note", 40) == "short note"
    assert shorten("x" * 100, 20) == "x" * 19 + "…"  # one long word: cut, still within the limit

"""Neutralise untrusted text before it reaches the operator's terminal.

Candidate programs (and LLM answers, and imported runs) control much of what the CLI prints:
stdout, stderr, tracebacks, failure messages, notes, code, metric names. A terminal interprets
escape sequences (colours, cursor moves, screen clears, window titles, hyperlinks) and carriage
returns, and Rich interprets `[style]` markup, so such text could paint a fake "valid score=99.9"
line or overwrite earlier output. Every piece of it is passed through `clean` (for plain writers)
or `safe` (for text embedded in a Rich markup string, which includes Rich table cells) first:
newlines and tabs are kept, every other control character is shown as a visible escape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.markup import escape

# C0 controls except tab and newline, DEL, C1 controls (0x80-0x9f: 0x9b is a one-byte CSI), and
# the bidirectional overrides/isolates, which can reorder what a line appears to say.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: Any) -> str:
    """`text` (made a str) with control characters other than newline and tab shown, not sent:
    ESC becomes the four characters `\\x1b`, a carriage return `\\x0d`."""
    return _UNSAFE.sub(_visible, str(text))


def safe(text: Any) -> str:
    """`clean(text)` with Rich markup escaped, for embedding in a string that Rich will parse.
    Truncate before calling this, not after (a cut could split an escape)."""
    return escape(clean(text))


def json_text(value: Any) -> str:
    """Indented JSON with every non-ASCII and control character as a \\u escape: a machine reads
    the same value, a terminal shows it as text."""
    return json.dumps(value, indent=2, ensure_ascii=True)

"""EVOLVE-BLOCK utilities: find, extract and replace the evolvable regions of a program.

A program marks each evolvable region with a comment line containing
`EVOLVE-BLOCK-START` and a later one containing `EVOLVE-BLOCK-END`.
Everything outside the blocks (the marker lines included) is fixed: a
proposal may change only the lines between the markers, and
`replace_evolve_blocks` guarantees the rest stays byte-identical.
"""

from __future__ import annotations

import functools
import hashlib
import io
import tokenize

from syslab.task import EVOLVE_END, EVOLVE_START


class PatchError(Exception):
    """A program or an edit does not fit the EVOLVE-BLOCK structure."""


def _is_marker(line: str, marker: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("#") and marker in stripped


def find_evolve_blocks(code: str) -> list[tuple[int, int]]:
    """Line spans of the blocks' contents, as 0-based half-open [start, end) line indices.

    `start` is the line after the START marker, `end` is the END marker's line,
    so `code.splitlines(keepends=True)[start:end]` is the block's text.
    Returns [] when the program has no markers; raises PatchError when they are
    unbalanced or nested.
    """
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    for i, line in enumerate(code.splitlines(keepends=True)):
        if _is_marker(line, EVOLVE_START):
            if open_at is not None:
                raise PatchError(f"line {i + 1}: {EVOLVE_START} inside a block opened at line {open_at}")
            open_at = i + 1
        elif _is_marker(line, EVOLVE_END):
            if open_at is None:
                raise PatchError(f"line {i + 1}: {EVOLVE_END} without a matching {EVOLVE_START}")
            spans.append((open_at, i))
            open_at = None
    if open_at is not None:
        raise PatchError(f"line {open_at}: {EVOLVE_START} is never closed by {EVOLVE_END}")
    return spans


def evolve_blocks(code: str) -> list[str]:
    """The text of each block (the lines between its markers, with their newlines)."""
    lines = code.splitlines(keepends=True)
    return ["".join(lines[s:e]) for s, e in find_evolve_blocks(code)]


def replace_evolve_blocks(code: str, new_blocks: list[str]) -> str:
    """Put new text into each block; every byte outside the blocks is kept as it is."""
    spans = find_evolve_blocks(code)
    if not spans:
        raise PatchError(f"program has no {EVOLVE_START}/{EVOLVE_END} markers")
    if len(new_blocks) != len(spans):
        raise PatchError(f"program has {len(spans)} evolve block(s) but {len(new_blocks)} replacement(s)")
    lines = code.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for (start, end), text in zip(spans, new_blocks, strict=True):
        out.extend(lines[pos:start])
        if text and not text.endswith(("\n", "\r")):
            text += "\n"  # the END marker must stay on its own line
        out.append(text)
        pos = end
    out.extend(lines[pos:])
    return "".join(out)


_STRING_TYPES = {tokenize.STRING} | {
    t for t in (getattr(tokenize, "FSTRING_MIDDLE", None), getattr(tokenize, "TSTRING_MIDDLE", None)) if t
}


@functools.lru_cache(maxsize=4096)  # the loop and crossover normalise the same texts repeatedly
def normalise_code(code: str) -> str:
    """The program without comments, blank lines and trailing whitespace.

    Lines inside multi-line strings are kept verbatim, since they are data.
    Falls back to a plain line filter when the program does not tokenize.
    """
    lines = code.splitlines()
    comment_at: dict[int, int] = {}  # 1-based row -> column where its comment starts
    in_string: set[int] = set()  # rows that continue a multi-line string
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.COMMENT:
                comment_at[tok.start[0]] = tok.start[1]
            elif tok.type in _STRING_TYPES and tok.end[0] > tok.start[0]:
                in_string.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        comment_at, in_string = {}, set()
    out: list[str] = []
    for row, line in enumerate(lines, start=1):
        if row in comment_at:
            line = line[: comment_at[row]].rstrip()
        elif row not in in_string:
            line = line.rstrip()
        if row in in_string or line.strip():
            out.append(line)
    return "\n".join(out) + "\n"


@functools.lru_cache(maxsize=4096)
def code_hash(code: str) -> str:
    """sha256 of the normalised program: equal for programs differing only in comments/blank space."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()

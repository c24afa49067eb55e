"""Parse an LLM answer into an edit of the program and apply it strictly inside EVOLVE-BLOCKs.

Two answer forms are understood:

* SEARCH/REPLACE diffs::

      <<<<<<< SEARCH
      old lines (must occur exactly once, whole lines, inside an evolve block)
      =======
      new lines
      >>>>>>> REPLACE

* a full rewrite of the block (or of the whole program) in a ```python fence.

Strict means: nothing outside the EVOLVE-BLOCK regions may change, a
SEARCH must match whole lines exactly once, and a response with neither
form is malformed. Failures raise `DiffError` with the failure kind the
run records (`patch_failed` or `malformed_response`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syslab.task import EVOLVE_END, EVOLVE_START

MALFORMED = "malformed_response"
PATCH_FAILED = "patch_failed"

_DIFF_RE = re.compile(
    r"^[ \t]*<{5,9} ?SEARCH[^\n]*\n(.*?)^[ \t]*={5,9}[ \t]*\n(.*?)^[ \t]*>{5,9} ?REPLACE[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
_FENCE_RE = re.compile(
    r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^[ \t]*```[ \t]*$", re.DOTALL | re.MULTILINE
)
_MARKERS_RE = re.compile(r"<{5,9} ?SEARCH|>{5,9} ?REPLACE")


class DiffError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class SearchReplace:
    search: str
    replace: str


@dataclass(frozen=True)
class Edit:
    """A parsed answer: either diffs or rewrite code (never both)."""

    mode: str  # "diff" | "rewrite"
    diffs: tuple[SearchReplace, ...] = ()
    code: str = ""


def block_spans(code: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of the editable interiors: the lines between marker lines."""
    spans: list[tuple[int, int]] = []
    pos = 0
    start: int | None = None
    for line in code.splitlines(keepends=True):
        if EVOLVE_START in line:
            if start is not None:
                raise DiffError(PATCH_FAILED, f"nested {EVOLVE_START} in the parent program")
            start = pos + len(line)
        elif EVOLVE_END in line:
            if start is None:
                raise DiffError(PATCH_FAILED, f"{EVOLVE_END} without {EVOLVE_START} in the parent program")
            spans.append((start, pos))
            start = None
        pos += len(line)
    if start is not None:
        raise DiffError(PATCH_FAILED, f"unterminated {EVOLVE_START} in the parent program")
    if not spans:
        raise DiffError(PATCH_FAILED, "the parent program has no EVOLVE-BLOCK")
    return spans


def parse_diffs(text: str) -> list[SearchReplace]:
    return [SearchReplace(m.group(1).rstrip("\n"), m.group(2).rstrip("\n")) for m in _DIFF_RE.finditer(text)]


def extract_code(text: str) -> str | None:
    """The longest fenced code block (python or unlabelled), or None."""
    blocks = [
        m.group(2) for m in _FENCE_RE.finditer(text) if m.group(1).lower() in ("", "python", "py", "python3")
    ]
    if not blocks:
        return None
    return max(blocks, key=len)


def parse_edit(text: str) -> Edit:
    """Diffs if the answer has SEARCH/REPLACE blocks, else fenced code; else malformed."""
    diffs = parse_diffs(text)
    if diffs:
        return Edit(mode="diff", diffs=tuple(diffs))
    if _MARKERS_RE.search(text):
        raise DiffError(
            PATCH_FAILED, "SEARCH/REPLACE markers present but no complete SEARCH/=======/REPLACE block"
        )
    code = extract_code(text)
    if code is not None and code.strip():
        return Edit(mode="rewrite", code=code)
    raise DiffError(MALFORMED, "no SEARCH/REPLACE diff and no fenced code block in the response")


def _line_aligned_hits(code: str, needle: str) -> list[int]:
    hits, i = [], code.find(needle)
    while i != -1:
        end = i + len(needle)
        if (i == 0 or code[i - 1] == "\n") and (end == len(code) or code[end] in "\r\n"):
            hits.append(i)
        i = code.find(needle, i + 1)
    return hits


def apply_diffs(code: str, diffs: list[SearchReplace] | tuple[SearchReplace, ...]) -> str:
    """Apply each diff in order; each SEARCH must match whole lines exactly once inside a block."""
    for n, d in enumerate(diffs, 1):
        if not d.search.strip():
            raise DiffError(PATCH_FAILED, f"diff {n}: empty SEARCH section")
        if EVOLVE_START in d.replace or EVOLVE_END in d.replace:
            raise DiffError(PATCH_FAILED, f"diff {n}: REPLACE must not add or move EVOLVE-BLOCK markers")
        spans = block_spans(code)
        hits = _line_aligned_hits(code, d.search)
        inside = [h for h in hits if any(s <= h and h + len(d.search) <= e for s, e in spans)]
        first = d.search.strip().splitlines()[0][:80]
        if len(hits) > len(inside):
            raise DiffError(
                PATCH_FAILED, f"diff {n}: SEARCH touches code outside the EVOLVE-BLOCK ({first!r})"
            )
        if not inside:
            raise DiffError(PATCH_FAILED, f"diff {n}: SEARCH text not found in the EVOLVE-BLOCK ({first!r})")
        if len(inside) > 1:
            raise DiffError(
                PATCH_FAILED, f"diff {n}: SEARCH text matches {len(inside)} places; it must be unique"
            )
        at = inside[0]
        code = code[:at] + d.replace + code[at + len(d.search) :]
    return code


def _outside(code: str, spans: list[tuple[int, int]]) -> list[str]:
    parts, pos = [], 0
    for s, e in spans:
        parts.append(code[pos:s])
        pos = e
    parts.append(code[pos:])
    return parts


def _fixed_parts(code: str, spans: list[tuple[int, int]]) -> list[str]:
    """The code outside the blocks, marker lines dropped and ends stripped, for comparison."""

    def keep(part: str) -> str:
        return "".join(
            ln for ln in part.splitlines(keepends=True) if EVOLVE_START not in ln and EVOLVE_END not in ln
        )

    return [keep(p).strip() for p in _outside(code, spans)]


def apply_rewrite(code: str, new: str) -> str:
    """Replace the block: `new` is either the whole program (same fixed parts) or the block's body."""
    spans = block_spans(code)
    if EVOLVE_START in new or EVOLVE_END in new:
        try:
            new_spans = block_spans(new)
        except DiffError as e:
            raise DiffError(
                PATCH_FAILED, f"rewrite: {e.message.replace('parent program', 'rewritten program')}"
            ) from None
        if len(new_spans) != len(spans):
            raise DiffError(
                PATCH_FAILED, f"rewrite has {len(new_spans)} EVOLVE-BLOCKs, the program has {len(spans)}"
            )
        old_fixed = _fixed_parts(code, spans)
        new_fixed = _fixed_parts(new, new_spans)
        if old_fixed != new_fixed:
            if len(new_spans) == 1 and new_fixed == ["", ""]:
                # Only the block (with its markers) was rewritten: splice its body in.
                body = new[new_spans[0][0] : new_spans[0][1]]
                return code[: spans[0][0]] + _ensure_nl(body) + code[spans[0][1] :]
            raise DiffError(PATCH_FAILED, "rewrite changes code outside the EVOLVE-BLOCK")
        out, pos = [], 0
        for (s, e), (ns, ne) in zip(spans, new_spans, strict=True):
            out.append(code[pos:s])
            out.append(_ensure_nl(new[ns:ne]))
            pos = e
        out.append(code[pos:])
        return "".join(out)
    fixed = [p.strip() for p in _outside(code, spans) if len(p.strip()) > 40]
    if fixed and all(p in new for p in fixed):
        raise DiffError(PATCH_FAILED, "rewrite is a whole program without its EVOLVE-BLOCK markers")
    if len(spans) != 1:
        raise DiffError(
            PATCH_FAILED, f"rewrite without markers is ambiguous: the program has {len(spans)} EVOLVE-BLOCKs"
        )
    return code[: spans[0][0]] + _ensure_nl(new) + code[spans[0][1] :]


def _ensure_nl(body: str) -> str:
    return body if body == "" or body.endswith("\n") else body + "\n"


def apply_edit(code: str, edit: Edit) -> str:
    return apply_diffs(code, edit.diffs) if edit.mode == "diff" else apply_rewrite(code, edit.code)


def apply_response(code: str, text: str) -> tuple[str, Edit]:
    """Parse an LLM answer and apply it to `code`; raises DiffError with the failure kind."""
    edit = parse_edit(text)
    return apply_edit(code, edit), edit

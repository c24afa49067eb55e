"""Errors that reach the user as one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class SyslabError(Exception):
    """A user-facing error: printed as one line, no traceback."""


class SpecError(SyslabError):
    """Bad input in a user file (task, config, evaluator output, LLM answer)."""

    def __init__(self, path: str | Path, field: str, message: str):
        self.path = str(path)
        self.field = field
        self.message = message
        super().__init__(f"{self.path}: {field}: {message}")


def spec_error_from_validation(path: str | Path, err: ValidationError) -> SpecError:
    """Turn the first pydantic error into a one-line SpecError naming the field."""
    first = err.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "(root)"
    msg = first.get("msg", "invalid value")
    more = len(err.errors()) - 1
    if more:
        msg += f" (and {more} more error{'s' if more > 1 else ''})"
    return SpecError(path, field, msg)

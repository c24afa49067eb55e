"""Errors that reach the user as one line naming the file and the field."""

from __future__ import annotations

import difflib
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError


class SyslabError(Exception):
    """A user-facing error: printed as one line, no traceback."""


class SpecError(SyslabError):
    """Bad input in a user file (task, config, evaluator output, LLM answer)."""

    def __init__(self, path: str | Path, field: str, message: str):
        self.path = str(path)
        self.field = field
        self.message = message
        super().__init__(f"{self.path}: {field}: {message}")


def spec_error_from_validation(
    path: str | Path, err: ValidationError, model: type[BaseModel] | None = None
) -> SpecError:
    """One line naming every invalid field; an unknown key lists the valid ones of its section
    (with the closest match) when `model` (the validated model class) is given."""
    found = [_describe(e, model) for e in err.errors()]
    field, message = found[0]
    message += "".join(f"; {f}: {m}" for f, m in found[1:])
    return SpecError(path, field, message)


def unknown_key(name: str, valid: list[str]) -> str:
    """'unknown key; valid keys: a, b (did you mean "b"?)'."""
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key{hint}; valid keys: {', '.join(sorted(valid)) or '(none)'}"


def model_at(model: Any, loc: tuple | list) -> type[BaseModel] | None:
    """The pydantic model class found at `loc` inside `model` (through optional, list and dict
    fields), or None where that place holds no model."""
    cur: Any = model
    for part in loc:
        cur = strip_optional(cur)
        origin = get_origin(cur)
        if origin in (list, tuple):
            cur = get_args(cur)[0] if get_args(cur) else Any
        elif origin is dict:
            cur = get_args(cur)[1] if get_args(cur) else Any
        elif isinstance(cur, type) and issubclass(cur, BaseModel) and part in cur.model_fields:
            cur = cur.model_fields[part].annotation
        else:
            return None
    cur = strip_optional(cur)
    return cur if isinstance(cur, type) and issubclass(cur, BaseModel) else None


def strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _describe(error: Any, model: type[BaseModel] | None) -> tuple[str, str]:
    loc = tuple(error.get("loc", ()))
    field = ".".join(str(p) for p in loc) or "(root)"
    if error.get("type") == "extra_forbidden" and model is not None and loc:
        section = model_at(model, loc[:-1])
        if section is not None:
            return field, unknown_key(str(loc[-1]), list(section.model_fields))
    return field, error.get("msg", "invalid value")

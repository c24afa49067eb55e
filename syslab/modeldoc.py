"""What a pydantic model's fields mean, read from the code that defines them: the comment on a
field's line (or the comment block right above it), the way this codebase documents its settings.
Used by the settings reference (syslab.cli.reference) and by exports that describe a run's settings.
"""

from __future__ import annotations

import ast
import inspect
import io
import tokenize

from pydantic import BaseModel


def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """field name -> the comment on its line in the class body (empty when none)."""
    try:
        source = inspect.getsource(model)
    except (OSError, TypeError):
        return {}
    by_line = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    out, lines = {}, source.splitlines()
    body = ast.parse(source.lstrip() if source[:1].isspace() else source).body[0]
    for node in getattr(body, "body", []):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            text = by_line.get(node.end_lineno or node.lineno) or by_line.get(node.lineno, "")
            above, line = [], node.lineno - 1
            while not text and line in by_line and lines[line - 1].lstrip().startswith("#"):
                above.insert(0, by_line[line])  # a comment block right above the field
                line -= 1
            out[node.target.id] = text or " ".join(above)
    return out

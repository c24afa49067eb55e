"""What a program of the run is made of, read from its source: the top-level definitions (with
their lines, whether they sit inside an EVOLVE-BLOCK, and whether the best candidate changed them
from the seed), and a summary of the best candidate's diff against the seed. The ARA export's
logic/solution/architecture.md and algorithm.md are written from these facts.
"""

from __future__ import annotations

import ast
import difflib
from typing import Literal

from pydantic import BaseModel

from syslab.agents.patch import PatchError, evolve_blocks, find_evolve_blocks

Change = Literal["unchanged", "changed", "new", "unknown"]


class Component(BaseModel):
    """One top-level function or class of a program."""

    name: str
    kind: Literal["function", "class"]
    signature: str
    first_line: int  # 1-based, inclusive
    last_line: int
    evolvable: bool  # wholly inside an EVOLVE-BLOCK
    evolvable_lines: list[tuple[int, int]]  # its line ranges that lie in an EVOLVE-BLOCK
    change: Change  # against the same-named definition of the seed
    doc: str  # first line of its docstring
    calls: list[str]  # other top-level definitions it calls


class ConstantChange(BaseModel):
    component: str
    old: str
    new: str


class DiffSummary(BaseModel):
    lines_added: int
    lines_removed: int
    changed: list[str]  # top-level definitions whose code differs from the seed's
    added: list[str]  # definitions the seed does not have
    removed: list[str]  # seed definitions the best candidate dropped
    constants_only: list[str]  # changed definitions whose only difference is numeric literals
    constants: list[ConstantChange]


def _parse(code: str | None) -> ast.Module | None:
    if not code:
        return None
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


def _defs(tree: ast.Module | None) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    if tree is None:
        return {}
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {n.name: n for n in tree.body if isinstance(n, kinds)}


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in node.bases)
        return f"class {node.name}({bases})" if bases else f"class {node.name}"
    ret = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"def {node.name}({ast.unparse(node.args)}){ret}"


def _blocks(code: str) -> list[tuple[int, int]]:
    """EVOLVE-BLOCK contents as 1-based inclusive line ranges."""
    try:
        return [(start + 1, end) for start, end in find_evolve_blocks(code)]
    except PatchError:
        return []


def _without_numbers(node: ast.AST) -> str:
    """The node's AST with every numeric literal blanked: equal dumps differ only in constants."""
    copy = ast.parse(ast.unparse(node))
    for sub in ast.walk(copy):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, int | float | complex):
            if not isinstance(sub.value, bool):
                sub.value = 0
    return ast.dump(copy)


def _numbers(node: ast.AST) -> list[str]:
    return [
        repr(sub.value)
        for sub in ast.walk(ast.parse(ast.unparse(node)))
        if isinstance(sub, ast.Constant)
        and isinstance(sub.value, int | float | complex)
        and not isinstance(sub.value, bool)
    ]


def components(code: str, seed_code: str | None) -> list[Component]:
    """The program's top-level functions and classes, in source order ([] if it does not parse)."""
    tree = _parse(code)
    defs = _defs(tree)
    seed_defs = _defs(_parse(seed_code))
    blocks = _blocks(code)
    out = []
    for name, node in defs.items():
        first, last = node.lineno, node.end_lineno or node.lineno
        if seed_code is None or _parse(seed_code) is None:
            change: Change = "unknown"
        elif name not in seed_defs:
            change = "new"
        else:
            change = "unchanged" if ast.dump(seed_defs[name]) == ast.dump(node) else "changed"
        called = {
            sub.func.id
            for sub in ast.walk(node)
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)
        }
        out.append(
            Component(
                name=name,
                kind="class" if isinstance(node, ast.ClassDef) else "function",
                signature=_signature(node),
                first_line=first,
                last_line=last,
                evolvable=any(lo <= first and last <= hi for lo, hi in blocks),
                evolvable_lines=[
                    (max(lo, first), min(hi, last)) for lo, hi in blocks if lo <= last and first <= hi
                ],
                change=change,
                doc=(ast.get_docstring(node) or "").split("\n")[0],
                calls=sorted(c for c in called if c in defs and c != name),
            )
        )
    return out


def module_names(code: str) -> list[tuple[str, int, bool]]:
    """Names assigned at module level: (name, line, inside an EVOLVE-BLOCK); [] if it does not parse."""
    tree = _parse(code)
    if tree is None:
        return []
    blocks = _blocks(code)
    out = []
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        for target in targets:
            for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                out.append((name, node.lineno, any(lo <= node.lineno <= hi for lo, hi in blocks)))
    return out


def diff_summary(seed_code: str, best_code: str) -> DiffSummary:
    """How the best candidate differs from the seed, line- and definition-wise."""
    added = removed = 0
    for line in difflib.unified_diff(seed_code.splitlines(), best_code.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    seed_defs, best_defs = _defs(_parse(seed_code)), _defs(_parse(best_code))
    changed = [n for n in best_defs if n in seed_defs and ast.dump(best_defs[n]) != ast.dump(seed_defs[n])]
    constants_only, constants = [], []
    for name in changed:
        old, new = seed_defs[name], best_defs[name]
        if _without_numbers(old) == _without_numbers(new):
            constants_only.append(name)
            constants += [
                ConstantChange(component=name, old=a, new=b)
                for a, b in zip(_numbers(old), _numbers(new), strict=True)
                if a != b
            ]
    return DiffSummary(
        lines_added=added,
        lines_removed=removed,
        changed=changed,
        added=[n for n in best_defs if n not in seed_defs],
        removed=[n for n in seed_defs if n not in best_defs],
        constants_only=constants_only,
        constants=constants,
    )


def evolvable_text(code: str) -> list[str]:
    """The text of each EVOLVE-BLOCK ([] when the markers are missing or unbalanced)."""
    try:
        return evolve_blocks(code)
    except PatchError:
        return []

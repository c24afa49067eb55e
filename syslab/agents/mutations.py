"""AST-located mutation operators over a program's EVOLVE-BLOCKs.

Each operator finds its sites with `ast` (only nodes lying wholly inside
an evolve block), picks one with the given RNG and edits the *source text*
at that node's position, so comments and formatting elsewhere survive and
the diff a human reads is the change itself. An operator returns None when
the program offers it no site.
"""

from __future__ import annotations

import ast
import random
import textwrap
from dataclasses import dataclass, field

from syslab.agents.patch import find_evolve_blocks, normalise_code


@dataclass
class Mutation:
    kind: str  # constant | compare | arith | swap | crossover
    code: str  # the whole mutated program
    note: str  # short human description
    inspiration_ids: list[int] = field(default_factory=list)


class _Source:
    """Program text with (line, byte column) -> character offset conversion."""

    def __init__(self, code: str):
        self.code = code
        self.lines = code.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1] if lineno - 1 < len(self.lines) else ""
        chars = len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))  # ast columns are bytes
        return self.starts[lineno - 1] + chars

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def replace(self, start: int, end: int, text: str) -> str:
        return self.code[:start] + text + self.code[end:]


def _in_blocks(node: ast.AST, spans: list[tuple[int, int]]) -> bool:
    lineno, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    if lineno is None or end is None:
        return False
    return any(s <= lineno - 1 and end - 1 < e for s, e in spans)


def _block_nodes(tree: ast.AST, spans: list[tuple[int, int]]) -> list[ast.AST]:
    return [n for n in ast.walk(tree) if _in_blocks(n, spans)]


def _skip_to_op(code: str, start: int, end: int) -> int | None:
    """First position in code[start:end] that is not whitespace, a paren, a line continuation or a comment."""
    i = start
    while i < end:
        c = code[i]
        if c == "#":
            nl = code.find("\n", i, end)
            i = end if nl < 0 else nl + 1
        elif c in " \t\r\n()\\":
            i += 1
        else:
            return i
    return None


def _op_span(code: str, start: int, end: int, op_text: str) -> tuple[int, int] | None:
    """Where op_text stands in the gap between two operands, or None."""
    i = _skip_to_op(code, start, end)
    if i is None or not code.startswith(op_text, i):
        return None
    return i, i + len(op_text)


def _fmt(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    text = f"{value:.4g}"
    return text if any(c in text for c in ".en") else text + ".0"


def new_number(value: int | float, rng: random.Random) -> int | float:
    """A nearby different number of the same type: scale or perturb, keeping the sign most of the time."""
    if isinstance(value, int):
        if value == 0:
            return rng.choice([1, 1, 2, -1])
        if rng.random() < 0.5:
            new = value + rng.choice([-2, -1, 1, 2])
        else:
            new = round(value * rng.choice([0.5, 0.75, 1.5, 2.0]))
        return new if new != value else value + 1
    if value == 0:
        # A switched-off term: try it on at a log-uniform magnitude, mostly with a positive sign.
        new = (1 if rng.random() < 0.7 else -1) * 10 ** rng.uniform(-1.5, 1.0)
    else:
        r = rng.random()
        if r < 0.35:
            new = value * rng.choice([0.5, 0.8, 0.9, 1.1, 1.25, 2.0])
        elif r < 0.7:
            new = value + rng.gauss(0.0, 0.25 * abs(value))
        elif r < 0.9:  # an order-of-magnitude jump, for knobs far from their best value
            new = value * 10 ** rng.uniform(-1.0, 1.0)
        elif r < 0.95:
            new = -value
        else:
            new = 0.0
    new = float(f"{new:.4g}")
    return new if new != value else value * 1.1


def mutate_constant(
    code: str, tree: ast.AST, spans: list[tuple[int, int]], rng: random.Random
) -> Mutation | None:
    src = _Source(code)
    sites: list[tuple[ast.AST, int | float]] = []
    inner: set[int] = set()
    for node in _block_nodes(tree, spans):
        if isinstance(node, ast.JoinedStr):
            inner.update(id(n) for n in ast.walk(node))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _is_number(node.operand):
            sites.append((node, -node.operand.value))  # type: ignore[attr-defined]
            inner.add(id(node.operand))
    sites += [(n, n.value) for n in _block_nodes(tree, spans) if _is_number(n) and id(n) not in inner]
    sites = [s for s in sites if id(s[0]) not in inner]
    if not sites:
        return None
    node, value = rng.choice(sites)
    new = new_number(value, rng)
    text = _fmt(new)
    if new < 0 and not isinstance(node, ast.UnaryOp):
        text = f"({text})"  # a bare negative literal could rebind to a neighbouring operator
    start, end = src.span(node)
    note = f"const {_fmt(value)}→{_fmt(new)} at line {node.lineno}"  # type: ignore[attr-defined]
    return Mutation("constant", src.replace(start, end, text), note)


def _is_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


_CMP_TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_CMP_ALTS = {"<": ["<=", ">", ">="], "<=": ["<", ">=", ">"], ">": [">=", "<", "<="], ">=": [">", "<=", "<"]}
_CMP_ALTS |= {"==": ["!="], "!=": ["=="]}


def mutate_compare(
    code: str, tree: ast.AST, spans: list[tuple[int, int]], rng: random.Random
) -> Mutation | None:
    src = _Source(code)
    sites = []
    for node in _block_nodes(tree, spans):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for i, op in enumerate(node.ops):
                text = _CMP_TEXT.get(type(op))
                if text:
                    sites.append((operands[i], operands[i + 1], text))
    rng.shuffle(sites)
    for left, right, old in sites:
        where = _op_span(code, src.span(left)[1], src.span(right)[0], old)
        if where:
            alts = _CMP_ALTS[old]
            new = alts[0] if rng.random() < 0.5 else rng.choice(alts)  # the neighbour (< vs <=) is likeliest
            return Mutation("compare", src.replace(*where, new), f"{old}→{new} at line {left.end_lineno}")
    return None


_ARITH_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**"}
_ARITH_INVERSE = {"+": "-", "-": "+", "*": "/", "/": "*", "//": "/", "**": "*"}


def _new_arith(old: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return _ARITH_INVERSE[old]
    pool = [op for op in ("+", "-", "*", "/", "//", "**") if op != old]
    return rng.choices(pool, weights=[5 if op in "+-*/" else 1 for op in pool])[0]


def mutate_arith(
    code: str, tree: ast.AST, spans: list[tuple[int, int]], rng: random.Random
) -> Mutation | None:
    """Swap an arithmetic operator (+ - * / // **, also in a += b) or min <-> max."""
    src = _Source(code)
    sites: list[tuple[str, ast.AST, ast.AST | None, str]] = []
    for node in _block_nodes(tree, spans):
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH_TEXT:
            sites.append(("bin", node.left, node.right, _ARITH_TEXT[type(node.op)]))
        elif isinstance(node, ast.AugAssign) and type(node.op) in _ARITH_TEXT:
            sites.append(("aug", node.target, node.value, _ARITH_TEXT[type(node.op)] + "="))
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if name in ("min", "max", "minimum", "maximum", "argmin", "argmax"):
                sites.append(("call", func, None, name))
    rng.shuffle(sites)
    for kind, a, b, old in sites:
        if kind == "call":
            new = {"min": "max", "max": "min", "minimum": "maximum", "maximum": "minimum"}.get(old)
            new = new or {"argmin": "argmax", "argmax": "argmin"}[old]
            end = src.span(a)[1]
            if src.code[end - len(old) : end] != old:
                continue
            code2 = src.replace(end - len(old), end, new)
            return Mutation("arith", code2, f"{old}→{new} at line {a.end_lineno}")  # type: ignore[attr-defined]
        assert b is not None
        where = _op_span(code, src.span(a)[1], src.span(b)[0], old)
        if where:
            new = _new_arith(old.rstrip("="), rng) + ("=" if kind == "aug" else "")
            return Mutation("arith", src.replace(*where, new), f"{old}→{new} at line {a.end_lineno}")  # type: ignore[attr-defined]
    return None


def _stmt_lines(stmt: ast.stmt, src: _Source) -> tuple[int, int] | None:
    """1-based inclusive line range of a statement that owns its lines (nothing else on them), or None."""
    first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
    head = src.lines[first - 1][: src.offset(stmt.lineno, stmt.col_offset) - src.starts[stmt.lineno - 1]]
    if first == stmt.lineno and head.strip():
        return None
    end_line = stmt.end_lineno or stmt.lineno
    tail = src.code[src.offset(end_line, stmt.end_col_offset or 0) : src.starts[end_line]].strip()
    if tail and not tail.startswith("#"):
        return None
    return first, end_line


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)


def mutate_swap(
    code: str, tree: ast.AST, spans: list[tuple[int, int]], rng: random.Random
) -> Mutation | None:
    """Swap two adjacent statements of one body (order matters in imperative code)."""
    src = _Source(code)
    pairs = []
    for node in ast.walk(tree):
        for attr in ("body", "orelse", "finalbody"):
            body = getattr(node, attr, None)
            if not isinstance(body, list):
                continue
            for a, b in zip(body, body[1:], strict=False):
                if not (isinstance(a, ast.stmt) and isinstance(b, ast.stmt)):
                    continue
                if isinstance(a, _DEFS) and isinstance(b, _DEFS):
                    continue  # reordering definitions changes nothing
                if _in_blocks(a, spans) and _in_blocks(b, spans):
                    pairs.append((a, b))
    rng.shuffle(pairs)
    for a, b in pairs:
        la, lb = _stmt_lines(a, src), _stmt_lines(b, src)
        if not la or not lb or la[1] >= lb[0]:
            continue
        lines = src.lines
        new = (
            lines[: la[0] - 1]
            + lines[lb[0] - 1 : lb[1]]
            + lines[la[1] : lb[0] - 1]
            + lines[la[0] - 1 : la[1]]
            + lines[lb[1] :]
        )
        if lb[1] == len(lines) and not lines[-1].endswith("\n"):
            return None
        return Mutation("swap", "".join(new), f"swap statements at lines {a.lineno} and {b.lineno}")
    return None


def _named_defs(tree: ast.AST, spans: list[tuple[int, int]] | None) -> dict[str, ast.stmt]:
    """Functions and single-name assignments (module constants) in the blocks, by name."""
    found: dict[str, ast.stmt] = {}
    for node in ast.walk(tree):
        if spans is not None and not _in_blocks(node, spans):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, node)
        elif (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            found.setdefault(node.targets[0].id, node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found.setdefault(node.target.id, node)
    return found


def crossover(
    code: str,
    tree: ast.AST,
    spans: list[tuple[int, int]],
    rng: random.Random,
    donors: list[tuple[int, str]],
) -> Mutation | None:
    """Replace a function (or a named constant) in the parent's block with a donor's same-named one."""
    src = _Source(code)
    mine = _named_defs(tree, spans)
    options = []
    for donor_id, donor_code in donors:
        try:
            donor_tree = ast.parse(donor_code)
            donor_spans = find_evolve_blocks(donor_code) or None
        except Exception:  # noqa: BLE001 - a donor that does not parse simply offers nothing
            continue
        donor_src = _Source(donor_code)
        for name, theirs in _named_defs(donor_tree, donor_spans).items():
            ours = mine.get(name)
            if ours is None or type(ours) is not type(theirs):
                continue
            lo, lt = _stmt_lines(ours, src), _stmt_lines(theirs, donor_src)
            if not lo or not lt:
                continue
            our_text = "".join(src.lines[lo[0] - 1 : lo[1]])
            their_text = "".join(donor_src.lines[lt[0] - 1 : lt[1]])
            if not their_text.endswith("\n"):
                their_text += "\n"
            if normalise_code(textwrap.dedent(our_text)) == normalise_code(textwrap.dedent(their_text)):
                continue
            indent = our_text[: len(our_text) - len(our_text.lstrip())]
            their_text = textwrap.indent(textwrap.dedent(their_text), indent) if indent else their_text
            options.append((donor_id, name, lo, their_text))
    if not options:
        return None
    donor_id, name, (first, last), text = rng.choice(options)
    new = "".join(src.lines[: first - 1]) + text + "".join(src.lines[last:])
    what = "def " + name if isinstance(mine[name], (ast.FunctionDef, ast.AsyncFunctionDef)) else name
    return Mutation("crossover", new, f"{what} from #{donor_id}", [donor_id])


OPERATORS = {
    "constant": mutate_constant,
    "compare": mutate_compare,
    "arith": mutate_arith,
    "swap": mutate_swap,
}

"""The ARA export's logic/solution/ layer, written from the run:

architecture.md   the best program's structure: one `## Component:` per top-level definition
algorithm.md      the best program's EVOLVE-BLOCK, what changed from the seed, its lineage
heuristics.md     the analyst's hypotheses, guidance and dead ends, and the search's own rules
constraints.md    boundary conditions, assumptions, limitations
search.md         the search settings and the best candidate's diff against the seed
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from syslab.artifacts.ara_program import Component, components, diff_summary, evolvable_text, module_names
from syslab.artifacts.ara_trace import fmt_metrics
from syslab.artifacts.logic import LogicLayer
from syslab.artifacts.provenance import verification_note
from syslab.artifacts.schema import Manifest, Node
from syslab.modeldoc import field_comments
from syslab.search.settings import SearchSettings

Write = Callable[[str, str, str], str]  # (relative path, text, description) -> relative path
BEST_PROGRAM = "src/execution/best_program.py"
# The search settings whose rules shape which programs are tried (heuristics.md lists them).
SEARCH_RULES = (
    "selection",
    "exploration_ratio",
    "exploitation_ratio",
    "islands",
    "migration_interval",
    "num_inspirations",
    "dedup_exact",
    "near_duplicate_threshold",
)


class SolutionInputs(BaseModel):
    """What the solution layer is written from (read from the run's store by export_ara)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    man: Manifest
    logic: LogicLayer
    nodes: list[Node]
    best: Node | None
    seed: Node | None
    best_code: str | None
    seed_code: str | None
    diff: str
    metric: str


def _lineage(nodes: list[Node], best: Node | None) -> list[Node]:
    """The best node's ancestors along parent links, seed first."""
    by_id = {n.id: n for n in nodes}
    chain: list[Node] = []
    node = best
    while node is not None and node.id not in {c.id for c in chain}:
        chain.append(node)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    return chain[::-1]


def _evolvable(c: Component) -> str:
    if c.evolvable:
        return "yes (inside an EVOLVE-BLOCK)"
    if c.evolvable_lines:
        spans = ", ".join(f"{a}-{b}" for a, b in c.evolvable_lines)
        return f"partly (lines {spans} are in an EVOLVE-BLOCK, the rest is fixed by the task)"
    return "no (fixed by the task)"


def _score(node: Node) -> str:
    return "none" if node.score is None else f"{node.score:.6g}"


def architecture_md(inp: SolutionInputs) -> str:
    out = ["# Architecture", ""]
    if inp.best is None or inp.best_code is None:
        return "\n".join(out + ["No candidate of the run has stored code; there is no program to describe."])
    comps = components(inp.best_code, inp.seed_code)
    n_lines = len(inp.best_code.splitlines())
    evolvable = [c.name for c in comps if c.evolvable]
    out += [
        f"The best candidate (node {inp.best.id}) is one program, `{BEST_PROGRAM}` ({n_lines} lines), "
        f"with {len(comps)} top-level definition(s); {len(evolvable)} inside an EVOLVE-BLOCK "
        "(the only region the proposers may edit), the rest is fixed by the task. The task's evaluator "
        "imports the program and calls its entry point in a sandbox.",
        "",
    ]
    names = module_names(inp.best_code)
    if names:
        listed = ", ".join(f"`{n}` (line {line}{', evolvable' if ev else ''})" for n, line, ev in names)
        out += [f"Module-level names: {listed}.", ""]
    if not comps:
        out.append("The program is not Python that parses, so its definitions are not listed.")
    for c in comps:
        doc = c.doc or "no docstring"
        out += [
            f"## Component: `{c.name}`",
            f"- **Kind**: {c.kind}",
            f"- **Signature**: `{c.signature}`",
            f"- **Lines**: {c.first_line}-{c.last_line}",
            f"- **Evolvable**: {_evolvable(c)}",
            f"- **Versus the seed**: {c.change}",
            f"- **Purpose**: {doc}",
            f"- **Calls**: {', '.join(f'`{x}`' for x in c.calls) or 'no other top-level definition'}",
            f"- **Code ref**: [{BEST_PROGRAM}]",
            "",
        ]
    return "\n".join(out)


def algorithm_md(inp: SolutionInputs) -> str:
    best, seed = inp.best, inp.seed
    out = ["# Algorithm", ""]
    if best is None or inp.best_code is None:
        return "\n".join(out + ["No candidate of the run has stored code."])
    chain = _lineage(inp.nodes, best)
    out += [
        f"The algorithm is the EVOLVE-BLOCK of the best candidate, node {best.id} "
        f"({fmt_metrics(best.metrics)}; score {_score(best)}). "
        + (
            "It is the seed itself: no candidate beat it."
            if seed is not None and best.id == seed.id
            else f"It descends from the seed in {len(chain) - 1} step(s) (Lineage below)."
        ),
        "",
        "## Evolved region",
        "",
    ]
    blocks = evolvable_text(inp.best_code)
    for i, block in enumerate(blocks, 1):
        out += [f"Block {i} of {len(blocks)}:", "", "```python", block.rstrip("\n"), "```", ""]
    if not blocks:
        out += ["The program has no EVOLVE-BLOCK markers; the whole program is in " + BEST_PROGRAM, ""]
    out += ["## Changes from the seed", ""]
    if seed is None or inp.seed_code is None or best.id == seed.id:
        out += ["None: the best candidate is the seed.", ""]
    else:
        d = diff_summary(inp.seed_code, inp.best_code)
        out += [
            f"- **Lines**: +{d.lines_added} / -{d.lines_removed} (full diff in logic/solution/search.md)",
            f"- **Changed definitions**: {', '.join(d.changed) or 'none'}",
            f"- **New definitions**: {', '.join(d.added) or 'none'}",
            f"- **Removed definitions**: {', '.join(d.removed) or 'none'}",
            f"- **Only numeric constants changed in**: {', '.join(d.constants_only) or 'none'}",
        ]
        if d.constants:
            out += ["", "| definition | seed value | best value |", "|---|---|---|"]
            out += [f"| {c.component} | {c.old} | {c.new} |" for c in d.constants]
        out.append("")
    out += [
        "## Lineage",
        "",
        "| step | node | operator | score | metrics | note |",
        "|---|---|---|---|---|---|",
    ]
    for i, n in enumerate(chain):
        note = (n.note or "").replace("|", "/").replace("\n", " ")[:120]
        out.append(
            f"| {i} | {n.id} | {n.operator or 'seed'} | {_score(n)} | {fmt_metrics(n.metrics)} | {note} |"
        )
    return "\n".join(out)


def _bounds(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    parts = []
    for meta in field.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(meta, attr, None) is not None:
                parts.append(f"{sign} {getattr(meta, attr)}")
    args = getattr(field.annotation, "__args__", None)
    if args and all(isinstance(a, str) for a in args):
        parts.append("one of " + ", ".join(args))
    return "; ".join(parts) or "any value of its type"


def heuristics_md(inp: SolutionInputs) -> str:
    logic, man = inp.logic, inp.man
    where = f"task {man.task_name} (content hash {man.task_hash[:12]}), this run only"
    blocks: list[tuple[str, dict[str, str]]] = []
    for h in logic.hypotheses:
        blocks.append(
            (
                f"analyst hypothesis {h.id}",
                {
                    "Statement": h.statement,
                    "Rationale": f"raised by the analyst (node {h.source_node}) from the candidates "
                    "evaluated before it",
                    "Sensitivity": f"status `{h.status}`; nodes that tested it: "
                    f"{', '.join(map(str, h.node_ids)) or 'none recorded'}",
                    "Bounds": where,
                },
            )
        )
    for dec in (d for d in logic.decisions if d.kind == "decision"):
        blocks.append(
            (
                f"analyst guidance {dec.id}",
                {
                    "Statement": dec.statement,
                    "Rationale": f"the analyst's reading of the run up to node {dec.node_id}; it is "
                    "shown to later proposals",
                    "Sensitivity": "not measured: the run did not compare proposals with and without it",
                    "Bounds": f"proposals after node {dec.node_id}; {where}",
                },
            )
        )
    for dead in logic.dead_ends:
        blocks.append(
            (
                f"avoid: {dead.idea}",
                {
                    "Statement": f"edits of this kind did not pay off: {dead.idea}",
                    "Rationale": f"nodes {', '.join(map(str, dead.node_ids))} (recorded by "
                    f"{'the analyst at node ' + str(dead.source_node) if dead.source_node is not None else 'syslab'})",
                    "Sensitivity": f"based on {len(dead.node_ids)} node(s)",
                    "Bounds": where,
                },
            )
        )
    settings = SearchSettings.model_validate(man.config.get("search") or {})
    comments = field_comments(SearchSettings)
    recorded = man.config.get("search") or {}
    for name in SEARCH_RULES:
        value = json.dumps(getattr(settings, name))
        blocks.append(
            (
                f"search rule `{name}` = {value}",
                {
                    "Statement": comments.get(name) or name,
                    "Rationale": "set in the run's configuration"
                    if name in recorded
                    else "syslab's default (the run's configuration does not set it)",
                    "Sensitivity": "not measured: the run used this one value",
                    "Bounds": _bounds(SearchSettings, name),
                },
            )
        )
    out = ["# Heuristics", ""]
    for i, (title, fields) in enumerate(blocks, 1):
        out += [f"## H{i}: {title}"] + [f"- **{k}**: {v}" for k, v in fields.items()] + [""]
    return "\n".join(out)


def constraints_md(man: Manifest) -> str:
    return (
        "# Constraints\n\n## Boundary conditions\n"
        f"- Results hold for the evaluator of task {man.task_name} with content hash {man.task_hash[:12]}.\n"
        f"- Budget: {json.dumps(man.config.get('budget', {}), sort_keys=True)}\n\n"
        "## Assumptions\n- Candidates are independent: each ran in a fresh sandbox.\n\n"
        "## Known limitations\n- One run with one seed; variance across seeds is not measured here.\n"
        f"- Scores {verification_note(man)}.\n"
    )


def search_md(man: Manifest, diff: str) -> str:
    settings: dict[str, Any] = man.config.get("search", {})
    return (
        "# Search\n\n"
        f"Proposer `{man.proposer}`, seed {man.seed}. Search settings:\n\n```json\n"
        f"{json.dumps(settings, indent=2, sort_keys=True)}\n```\n\n"
        f"## Best candidate versus the seed\n\n```diff\n{diff or '(the seed is the best)'}\n```\n"
    )


def write_solution(write: Write, inp: SolutionInputs) -> None:
    """Write logic/solution/*.md through `write` (the export's file writer)."""
    write("logic/solution/architecture.md", architecture_md(inp), "the best program's components")
    write("logic/solution/algorithm.md", algorithm_md(inp), "the evolved region, its changes, its lineage")
    write("logic/solution/heuristics.md", heuristics_md(inp), "analyst hypotheses, guidance, search rules")
    write(
        "logic/solution/constraints.md",
        constraints_md(inp.man),
        "boundary conditions, assumptions, limitations",
    )
    write("logic/solution/search.md", search_md(inp.man, inp.diff), "how the best was found, its diff")

"""Structural checks of an Agent-Native Research Artifact directory (our reading of ARA Seal Level 1).

Written from the ARA compiler skill's validation checklist and schema reference: mandatory
directories and files, PAPER.md frontmatter and Layer Index, the field markers each logic file
must carry, the exploration tree's node types and type-specific fields, and the cross-layer
bindings (claim Proof -> experiments, experiment Verifies -> claims, evidence paths -> files,
tree evidence -> claims, also_depends_on -> nodes, no cycles). Semantic checks that need a
reader (is a Statement a mechanism, does a quote say what it claims) are out of scope.

Checked against the ARA project's own Level 1 validator (seal.py, read for its semantics): the
mandatory layout includes src/configs/{training,model}.md and logic/solution/{architecture,
algorithm,heuristics}.md; heuristics are `## H<n>` blocks with Rationale, Sensitivity and Bounds,
and their `**Code ref**: [src/...]` must resolve; pivots carry `from`/`to`/`trigger` (exports
also write the ara-cli parser's `prior_direction`/`new_direction`/`reason`); src/execution holds
at least one program and evidence/ at least one table or figure. Our own addition: each
"## Component: `name`" of architecture.md must be defined in a src/execution program.
`check_ara(root, exploration=True)` adds seal's demands on how much was explored (>= 8 tree nodes,
a dead end, a decision), which a run of a few candidates cannot meet.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel

MANDATORY_DIRS = ("logic", "logic/solution", "src", "src/configs", "trace", "evidence")
MANDATORY_FILES = (
    "PAPER.md",
    "logic/problem.md",
    "logic/claims.md",
    "logic/concepts.md",
    "logic/experiments.md",
    "logic/solution/architecture.md",
    "logic/solution/algorithm.md",
    "logic/solution/constraints.md",
    "logic/solution/heuristics.md",
    "logic/related_work.md",
    "src/configs/training.md",
    "src/configs/model.md",
    "src/environment.md",
    "trace/exploration_tree.yaml",
    "evidence/README.md",
)
NODE_TYPES = {"question", "decision", "experiment", "dead_end", "pivot"}
TYPE_FIELDS = {
    "question": [("description",)],
    "experiment": [("result",)],
    "dead_end": [("hypothesis",), ("failure_mode",), ("lesson",)],
    "decision": [("choice",), ("alternatives",)],
}
PIVOT_FIELDS = ("from", "to", "trigger")
MIN_TREE_NODES = 8  # seal.py's floor for an exploration tree (checked with exploration=True)
_COMPONENT = re.compile(r"^## Component: `([A-Za-z_]\w*)`", re.M)
FILE_MARKERS = {
    "logic/claims.md": [
        "**Statement**",
        "**Conditions**",
        "**Status**",
        "**Falsification criteria**",
        "**Proof**",
        "**Evidence basis**",
        "**Sources**",
    ],
    "logic/experiments.md": ["**Verifies**", "**Evidence**", "**Run**", "**Setup**", "**Procedure**"],
    "logic/related_work.md": ["**Type**", "**Delta**"],
    "logic/concepts.md": ["**Definition**"],
}
_CLAIM = re.compile(r"^## (C\d+)\s*[:\u2013\u2014-]\s*\S", re.M)
_EXP = re.compile(r"^## (E\d+)\s*[:\u2013\u2014-]\s*\S", re.M)
_TABLE = re.compile(r"^\|.*\|.*\|\s*$", re.M)


class AraIssue(BaseModel):
    check: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.path}: {self.message}"


def _sections(text: str, pattern: re.Pattern[str]) -> dict[str, str]:
    """Heading id -> its section text (up to the next level-2 heading)."""
    out: dict[str, str] = {}
    matches = list(pattern.finditer(text))
    for m in matches:
        end = len(text)
        nxt = re.search(r"^## ", text[m.end() :], re.M)
        if nxt:
            end = m.end() + nxt.start()
        out.setdefault(m.group(1), text[m.start() : end])
    return out


def _field(section: str, name: str) -> str:
    m = re.search(rf"\*\*{re.escape(name)}\*\*:?\s*(.*)", section)
    return m.group(1).strip() if m else ""


def _read(root: Path, rel: str) -> str:
    try:
        return (root / rel).read_text(encoding="utf-8")
    except OSError:
        return ""


def _walk(nodes: list, parent: str | None, out: list[tuple[dict, str | None]]) -> None:
    for n in nodes or []:
        if isinstance(n, dict):
            out.append((n, parent))
            _walk(n.get("children") or [], str(n.get("id")), out)


def check_tree(root: Path, claim_ids: set[str], exploration: bool = False) -> list[AraIssue]:
    rel = "trace/exploration_tree.yaml"
    issues: list[AraIssue] = []

    def bad(msg: str) -> None:
        issues.append(AraIssue(check="exploration tree", path=rel, message=msg))

    try:
        doc = yaml.safe_load(_read(root, rel))
    except yaml.YAMLError as e:
        return [AraIssue(check="exploration tree", path=rel, message=f"invalid YAML: {e}")]
    if not isinstance(doc, dict) or not isinstance(doc.get("tree"), list):
        return [AraIssue(check="exploration tree", path=rel, message="no top-level `tree` list")]
    flat: list[tuple[dict, str | None]] = []
    _walk(doc["tree"], None, flat)
    ids: dict[str, dict] = {}
    for node, _ in flat:
        nid, ntype = node.get("id"), node.get("type")
        if not nid or not ntype:
            bad(f"node {nid or node.get('title', '?')}: needs `id` and `type`")
            continue
        nid = str(nid)
        if nid in ids:
            bad(f"duplicate node id {nid}")
        ids[nid] = node
        if ntype not in NODE_TYPES:
            bad(f"node {nid}: type {ntype!r} not in {sorted(NODE_TYPES)}")
        if node.get("support_level") not in ("explicit", "inferred"):
            bad(f"node {nid}: support_level must be explicit or inferred")
        if node.get("support_level") == "explicit" and not node.get("source_refs"):
            bad(f"node {nid}: explicit node without source_refs")
        for (name,) in TYPE_FIELDS.get(ntype, []):
            if not node.get(name):
                bad(f"node {nid} ({ntype}): missing `{name}`")
        if ntype == "pivot":
            for name in PIVOT_FIELDS:
                if not node.get(name):
                    bad(f"node {nid} (pivot): needs from/to/trigger, `{name}` is missing")
        ev = node.get("evidence")
        for ref in [ev] if isinstance(ev, str) else ev or []:
            for cid in re.findall(r"\bC\d+\b", str(ref)):
                if cid not in claim_ids:
                    bad(f"node {nid}: evidence names claim {cid}, not in logic/claims.md")
    if exploration:
        types = {str(n.get("type")) for n, _ in flat}
        if len(ids) < MIN_TREE_NODES:
            bad(f"{len(ids)} nodes, expected >= {MIN_TREE_NODES}")
        for needed in ("dead_end", "decision"):
            if needed not in types:
                bad(f"no {needed} node")
    edges: dict[str, list[str]] = {i: [] for i in ids}
    for node, parent in flat:
        nid = str(node.get("id"))
        if parent is not None and parent in edges:
            edges[parent].append(nid)
        for dep in node.get("also_depends_on") or []:
            if str(dep) not in ids:
                bad(f"node {nid}: also_depends_on names unknown node {dep}")
            else:
                edges[nid].append(str(dep))
    # Cycle check over children + also_depends_on (iterative DFS, colours).
    colour: dict[str, int] = {}
    for start in ids:
        if colour.get(start):
            continue
        stack = [(start, iter(edges[start]))]
        colour[start] = 1
        while stack:
            node_id, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node_id] = 2
                stack.pop()
            elif colour.get(nxt) == 1:
                bad(f"cycle through {node_id} -> {nxt}")
                colour[nxt] = 2
            elif not colour.get(nxt):
                colour[nxt] = 1
                stack.append((nxt, iter(edges[nxt])))
    return issues


def check_ara(root: str | Path, exploration: bool = False) -> list[AraIssue]:
    """Every structural problem of the ARA at `root`; empty when it passes. `exploration` adds
    seal.py's demands on the exploration tree's size and kinds (see the module docstring)."""
    root = Path(root)
    issues: list[AraIssue] = []

    def bad(check: str, path: str, msg: str) -> None:
        issues.append(AraIssue(check=check, path=path, message=msg))

    for d in MANDATORY_DIRS:
        if not (root / d).is_dir():
            bad("directories", d, "missing")
    for f in MANDATORY_FILES:
        p = root / f
        if not p.is_file() or p.stat().st_size <= 10:
            bad("mandatory files", f, "missing or under 11 bytes")

    paper = _read(root, "PAPER.md")
    if not paper.startswith("---"):
        bad("PAPER.md", "PAPER.md", "does not start with YAML frontmatter")
        front: dict = {}
    else:
        parts = paper.split("---", 2)
        try:
            front = yaml.safe_load(parts[1]) if len(parts) == 3 else None
        except yaml.YAMLError:
            front = None
        if not isinstance(front, dict):
            bad("PAPER.md", "PAPER.md", "frontmatter is not a YAML mapping")
            front = {}
    for key in ("title", "authors", "year"):
        if key not in front:
            bad("PAPER.md", "PAPER.md", f"frontmatter lacks `{key}`")
    if "Layer Index" not in paper:
        bad("PAPER.md", "PAPER.md", "no Layer Index section")
    for link in re.findall(r"\]\(([^)#\s]+)\)", paper):
        if not link.startswith(("http://", "https://")) and not (root / link).exists():
            bad("PAPER.md", "PAPER.md", f"Layer Index links {link}, which does not exist")

    for rel, markers in FILE_MARKERS.items():
        text = _read(root, rel)
        for m in markers:
            if text and m not in text:
                bad("fields", rel, f"no {m}")
    claims_md = _read(root, "logic/claims.md")
    claims = _sections(claims_md, _CLAIM)
    if not claims:
        bad("fields", "logic/claims.md", "no `## C<n>:` claim blocks")
    exps_md = _read(root, "logic/experiments.md")
    exps = _sections(exps_md, _EXP)
    if len(exps) < 3:
        bad("counts", "logic/experiments.md", f"{len(exps)} experiment blocks, expected >= 3")
    if "**Expected outcome**" not in exps_md and "**Expected results**" not in exps_md:
        bad("fields", "logic/experiments.md", "no **Expected outcome**")
    problem = _read(root, "logic/problem.md")
    if not re.search(r"^### O\d+", problem, re.M):
        bad("fields", "logic/problem.md", "no `### O<n>` observations")
    if not re.search(r"^### G\d+", problem, re.M):
        bad("fields", "logic/problem.md", "no `### G<n>` gaps")
    if "## Key Insight" not in problem and "**Insight**" not in problem:
        bad("fields", "logic/problem.md", "no Key Insight")
    if not re.search(r"^## RW\d+", _read(root, "logic/related_work.md"), re.M):
        bad("fields", "logic/related_work.md", "no `## RW<n>` blocks")
    n_concepts = len(re.findall(r"^## ", _read(root, "logic/concepts.md"), re.M))
    if n_concepts < 5:
        bad("counts", "logic/concepts.md", f"{n_concepts} concepts, expected >= 5")
    issues += _check_solution(root)

    for cid, sec in claims.items():
        status = _field(sec, "Status").lower()
        if status not in ("hypothesis", "supported", "refuted"):
            bad("claims", "logic/claims.md", f"{cid}: status {status!r} is not hypothesis|supported|refuted")
        for eid in re.findall(r"\bE\d+\b", _field(sec, "Proof")):
            if eid not in exps:
                bad("binding", "logic/claims.md", f"{cid}: Proof names {eid}, not in experiments.md")
        for dep in re.findall(r"\bC\d+\b", _field(sec, "Dependencies")):
            if dep not in claims:
                bad("binding", "logic/claims.md", f"{cid}: depends on unknown claim {dep}")
    for eid, sec in exps.items():
        for cid in re.findall(r"\bC\d+\b", _field(sec, "Verifies")):
            if cid not in claims:
                bad("binding", "logic/experiments.md", f"{eid}: Verifies {cid}, not in claims.md")
        for path in re.findall(r"evidence/[^\s,;)\]`]+", _field(sec, "Evidence")):
            if not (root / path).is_file():
                bad("binding", "logic/experiments.md", f"{eid}: evidence file {path} does not exist")
        run = _field(sec, "Run")
        if not run:
            bad("binding", "logic/experiments.md", f"{eid}: no Run reference")
        for path in re.findall(r"src/[^\s,;)\]`]+", run):
            if not (root / path).is_file():
                bad("binding", "logic/experiments.md", f"{eid}: Run file {path} does not exist")

    if not _TABLE.search(_read(root, "evidence/README.md")):
        bad("evidence", "evidence/README.md", "no Markdown table index")
    for md in sorted((root / "evidence").glob("tables/*.md")) + sorted(
        (root / "evidence").glob("figures/*.md")
    ):
        text = md.read_text(encoding="utf-8")
        rel = str(md.relative_to(root))
        if "**Source**" not in text:
            bad("evidence", rel, "no **Source** field")
        if "tables" in md.parts and not _TABLE.search(text):
            bad("evidence", rel, "table file without a Markdown table")
    for py in sorted((root / "src").glob("execution/*.py")):
        first = py.read_text(encoding="utf-8").split("\n", 1)[0]
        if not re.match(r"#\s*Grounding:\s*(transcribed|reconstructed)", first):
            bad("code grounding", str(py.relative_to(root)), "first line lacks `# Grounding:` tag")

    summary = front.get("claims_summary")
    if isinstance(summary, list) and len(summary) != len(claims):
        bad(
            "self-consistency",
            "PAPER.md",
            f"claims_summary has {len(summary)} entries, claims.md {len(claims)}",
        )
    issues += check_tree(root, set(claims), exploration)
    return issues


def _check_solution(root: Path) -> list[AraIssue]:
    """heuristics.md blocks and code refs, architecture components, programs and evidence data."""
    issues: list[AraIssue] = []
    heur_rel = "logic/solution/heuristics.md"
    heur = _read(root, heur_rel)
    if heur:
        if not re.search(r"^## H\d+", heur, re.M):
            issues.append(AraIssue(check="fields", path=heur_rel, message="no `## H<n>` heuristic blocks"))
        for m in ("**Rationale**", "**Sensitivity**", "**Bounds**"):
            if m not in heur:
                issues.append(AraIssue(check="fields", path=heur_rel, message=f"no {m}"))
        for ref in re.findall(r"\*\*Code ref\*\*:\s*\[([^\]]+)\]", heur):
            path = re.split(r"[→#]", ref.strip().lstrip("/"))[0].strip()
            if path.startswith("src/") and not (root / path).exists():
                issues.append(
                    AraIssue(check="binding", path=heur_rel, message=f"Code ref {path} does not exist")
                )
    programs = sorted((root / "src").glob("execution/*.py"))
    if not programs:
        issues.append(AraIssue(check="code", path="src/execution", message="no program (*.py)"))
    defined = {
        m
        for py in programs
        for m in re.findall(r"^\s*(?:async\s+)?(?:def|class)\s+(\w+)", py.read_text(), re.M)
    }
    arch_rel = "logic/solution/architecture.md"
    for name in _COMPONENT.findall(_read(root, arch_rel)):
        if name not in defined:
            issues.append(
                AraIssue(
                    check="binding",
                    path=arch_rel,
                    message=f"component {name} is not defined in src/execution",
                )
            )
    data = list((root / "evidence").glob("tables/*.md")) + list((root / "evidence").glob("figures/*.md"))
    if not data:
        issues.append(AraIssue(check="evidence", path="evidence", message="no tables/*.md or figures/*.md"))
    return issues

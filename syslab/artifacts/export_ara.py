"""Export a run as an Agent-Native Research Artifact (ARA) directory.

The four layers map onto the run as follows:

    PAPER.md                      frontmatter (title, authors, year, claims_summary, ...) + Layer Index
    logic/problem.md              observations (seed, failures) -> gap -> key insight; analyst hypotheses
    logic/claims.md               the run's claims (logic.yaml), C01.. with status and falsification
    logic/concepts.md             the task's metrics and syslab's terms
    logic/experiments.md          E01 seed evaluation, E02 best evaluation, E03 the search, E04 reproduction
    logic/solution/               architecture.md (the best program's components), algorithm.md (its
                                  EVOLVE-BLOCK, changes from the seed, lineage), heuristics.md (analyst
                                  hypotheses, guidance, dead ends, search rules), constraints.md, search.md
                                  (syslab.artifacts.ara_solution)
    logic/related_work.md         the task's seed program as the baseline
    src/                          environment.md, configs/ (training.md: the search loop, model.md: the
                                  proposer, task.md, run_config.md; syslab.artifacts.ara_configs),
                                  execution/ (seed, best, run ledger)
    trace/exploration_tree.yaml   question -> experiment tree along parent links; dead_end, decision, pivot
    evidence/                     README.md index, tables/candidates.md, raw/ (evidence blobs, by name)

Every node of the tree is `support_level: explicit` with `source_refs` into the run database,
because each is a recorded event, not a reconstruction. `syslab.artifacts.ara_checks` holds the
structural checks an export must pass. Whether the scores are verified (split mode) is in the
PAPER.md frontmatter and overview, each claim's conditions, the environment and the limitations.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from syslab.artifacts.ara_claims import claim_ids, claims_md, heldout_cells
from syslab.artifacts.ara_configs import write_configs
from syslab.artifacts.ara_solution import SolutionInputs, write_solution
from syslab.artifacts.ara_trace import count_tree_nodes, exploration_tree, fmt_metrics
from syslab.artifacts.heldout_rows import latest_heldout
from syslab.artifacts.logic import LogicLayer, load_logic
from syslab.artifacts.provenance import verification_note
from syslab.artifacts.schema import NodeKind
from syslab.artifacts.store import RunStore


class _Writer:
    def __init__(self, root: Path):
        self.root = root
        self.files: list[tuple[str, str]] = []  # (relative path, description)

    def write(self, rel: str, text: str, description: str) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.endswith("\n") else text + "\n")
        self.files.append((rel, description))
        return rel


def export_ara(run_dir: str | Path, out: str | Path) -> Path:
    """Write the ARA directory for the run at `run_dir` into `out`; returns `out`."""
    run_dir, out = Path(run_dir), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    w = _Writer(out)
    with RunStore.open(run_dir, readonly=True) as store:
        man = store.manifest
        nodes = store.nodes()
        best = store.best_node()
        seeds = [n for n in nodes if n.kind == NodeKind.seed]
        seed = seeds[0] if seeds else None
        seed_code = store.get_code(seed.id) if seed and seed.commit else None
        best_code = store.get_code(best.id) if best and best.commit else None
        diff = store.diff(best.id, seed.id) if best and seed and best.id != seed.id else ""
        blobs = {}
        for n in nodes:
            for name, sha in n.evidence.items():
                if (seed and n.id == seed.id) or (best and n.id == best.id) or name == "raw_metrics":
                    p = store.blob_path(sha)
                    if p.is_file():
                        blobs[sha] = (f"{name} of node {n.id}", p.read_bytes())
        heldout = latest_heldout(store.heldout())
        for record in heldout.values():  # held-out evidence backs the claims that cite it
            for name, sha in record.evidence.items():
                p = store.blob_path(sha)
                if p.is_file():
                    blobs[sha] = (f"held-out {name} of node {record.node_id}", p.read_bytes())
    logic = load_logic(run_dir) or LogicLayer(question=man.task_name, task=man.task_name)
    ids = claim_ids(logic)
    claim_of: dict[int, list[str]] = {}
    for c in logic.claims:
        for nid in c.node_ids:
            claim_of.setdefault(nid, []).append(ids[c.id])
        for r in c.evidence:
            p = run_dir / "evidence" / r.sha256[:2] / r.sha256[2:]
            if p.is_file():
                blobs[r.sha256] = (r.name, p.read_bytes())
    cands = [n for n in nodes if n.kind != NodeKind.analysis]
    failures: dict[str, int] = {}
    for n in cands:
        if n.failure_kind:
            failures[n.failure_kind] = failures.get(n.failure_kind, 0) + 1
    metric = (
        logic.claims[0].metric if logic.claims else next(iter(best.metrics), "score") if best else "score"
    )
    year = time.gmtime(man.created_at).tm_year

    # -- evidence ------------------------------------------------------------------------------
    raw_rows = []
    for sha, (name, data) in sorted(blobs.items(), key=lambda x: x[1][0]):
        rel = w.write(
            f"evidence/raw/{sha[:12]}.txt", data.decode("utf-8", "replace"), f"raw evidence: {name}"
        )
        raw_rows.append((rel, name, sha))
    top = sorted(
        (n for n in cands if n.valid and n.score is not None), key=lambda n: (-(n.score or 0), n.id)
    )[:20]
    metric_names = sorted({k for n in top for k in n.metrics})
    held_head = " held-out | gap |" if heldout else ""
    table = ["| node | parent | operator | score | " + " | ".join(metric_names) + " |" + held_head]
    table.append("|" + "---|" * (4 + len(metric_names) + (2 if heldout else 0)))
    for n in top:
        vals = " | ".join(f"{n.metrics[k]:.6g}" if k in n.metrics else "" for k in metric_names)
        held = heldout_cells(heldout.get(n.id)) if heldout else ""
        table.append(f"| {n.id} | {n.parent_id} | {n.operator} | {n.score:.6g} | {vals} |{held}")
    w.write(
        "evidence/tables/candidates.md",
        "# Best candidates of the run\n\n"
        f"**Source**: syslab.db of run {man.run_id} (nodes table, valid evaluated candidates by score)\n"
        f"**Caption**: the {len(top)} best of {len(cands)} candidates; score is the primary metric, "
        "higher is better\n**Extraction type**: derived_subset\n**Derived from**: syslab.db nodes\n\n"
        + "\n".join(table),
        "the best candidates with their metrics",
    )
    all_claims = ", ".join(ids.values()) or "none"
    ev_index = [
        "# Evidence Index",
        "",
        "| File | Source | Claims | Description |",
        "|------|--------|--------|-------------|",
        f"| [tables/candidates.md](tables/candidates.md) | syslab.db nodes | {all_claims} | best candidates |",
    ]
    for rel, name, sha in raw_rows:
        ev_index.append(f"| [{rel[9:]}]({rel[9:]}) | evidence blob sha256:{sha} | {all_claims} | {name} |")
    w.write("evidence/README.md", "\n".join(ev_index), "index of every evidence file")

    # -- src -----------------------------------------------------------------------------------
    w.write(
        "src/environment.md",
        "# Environment\n"
        f"- **Language/runtime**: Python {man.platform.get('python', '?')}\n"
        f"- **Framework**: syslab {man.syslab_version}\n"
        f"- **Hardware**: {man.platform.get('machine', '?')}, {man.platform.get('cpus', '?')} CPUs, "
        f"{man.platform.get('system', '')} {man.platform.get('release', '')}\n"
        f"- **Data sources**: the evaluator of task {man.task_name} at {man.task_dir} "
        f"(content sha256 {man.task_hash})\n"
        f"- **Key dependencies**: see the syslab {man.syslab_version} package requirements\n"
        f"- **Protocols**: sandbox isolation {json.dumps(man.isolation, sort_keys=True)}; "
        f"evaluation mode {man.evaluation_mode}, scores {verification_note(man)}\n"
        f"- **Random seeds**: {man.seed}\n",
        "runtime, hardware, isolation, seeds",
    )
    write_configs(w.write, man)
    ledger = [
        "# Run ledger",
        "",
        "| node | kind | status | operator | result | source |",
        "|---|---|---|---|---|---|",
    ]
    for n in cands:
        res = f"failed: {n.failure_kind}" if n.failure_kind else fmt_metrics(n.metrics)
        ledger.append(
            f"| {n.id} | {n.kind.value} | {n.status.value} | {n.operator} | {res} | "
            f"syslab.db:nodes/{n.id} code.git:{(n.commit or '-')[:12]} |"
        )
    w.write("src/execution/artifacts.md", "\n".join(ledger), "one entry per candidate of the run")
    if seed_code is not None and seed is not None:
        w.write(
            "src/execution/seed_program.py",
            f"# Grounding: transcribed — code.git commit {seed.commit} (node {seed.id}, the task's seed)\n"
            + seed_code,
            "the task's seed program",
        )
    if best_code is not None and best is not None:
        w.write(
            "src/execution/best_program.py",
            f"# Grounding: transcribed — code.git commit {best.commit} (node {best.id}, the best candidate)\n"
            + best_code,
            "the best candidate",
        )

    # -- logic ---------------------------------------------------------------------------------
    claim_md = claims_md(logic, ids, best, seed, man)
    w.write("logic/claims.md", claim_md, f"{len(logic.claims)} falsifiable claims")
    seed_line = fmt_metrics(seed.metrics) if seed else "seed not evaluated"
    fail_line = ", ".join(f"{k}={v}" for k, v in sorted(failures.items())) or "none"
    hyps = "\n".join(f"- {h.id} ({h.status}): {h.statement}" for h in logic.hypotheses) or "- none recorded"
    insight = (
        f"node {best.id} ({best.operator}: {best.note})" if best and seed and best.id != seed.id else "none"
    )
    w.write(
        "logic/problem.md",
        "# Problem Specification\n\n## Observations\n\n"
        f"### O1: The seed program's performance\n- **Statement**: the seed reaches {seed_line}\n"
        "- **Evidence**: evidence/tables/candidates.md, E01\n"
        f"- **Implication**: it is the baseline every candidate is compared with\n\n"
        f"### O2: How candidates failed\n- **Statement**: {len(cands)} candidates; failures by kind: {fail_line}\n"
        "- **Evidence**: src/execution/artifacts.md\n- **Implication**: dead ends in trace/exploration_tree.yaml\n\n"
        "## Gaps\n\n### G1: A better program is not known\n"
        f"- **Statement**: {logic.question}\n- **Caused by**: O1\n"
        "- **Existing attempts**: the task's seed program\n"
        "- **Why they fail**: the seed is a starting point, not tuned to the workload\n\n"
        f"## Key Insight\n- **Insight**: the best line of the search is {insight}\n"
        "- **Derived from**: O1, O2\n- **Enables**: the claims in claims.md\n\n"
        "## Assumptions\n- A1: the evaluator measures what the task describes\n"
        "- A2: candidates run in the recorded sandbox, isolated from one another\n\n"
        f"## Hypotheses (from the analyst)\n{hyps}\n",
        "observations -> gap -> key insight",
    )
    concepts = [
        (
            "Seed program",
            "The task's starting program; node 0 of the exploration graph.",
            "Only the EVOLVE-BLOCK region changes.",
        ),
        (
            "EVOLVE-BLOCK",
            "The region between EVOLVE-BLOCK-START and EVOLVE-BLOCK-END comments that proposers may edit.",
            "Code outside it is fixed.",
        ),
        (
            "Candidate",
            "A program proposed from a parent (and inspirations), committed to code.git and evaluated.",
            "Includes failed, rejected and duplicate attempts.",
        ),
        (
            "Score",
            f"The primary metric ({metric}) normalised so that higher is better.",
            "Undefined for invalid candidates.",
        ),
        (
            "Dead end",
            "A kind of edit that repeatedly failed or did not improve, recorded with the nodes that show it.",
            "From the analyst's notes or failure clusters of >= 3 nodes.",
        ),
        (
            "Pivot",
            "A change of the best line to a node that does not descend from the previous best.",
            "Computed from the order in which candidates were recorded.",
        ),
    ]
    conc = ["# Concepts", ""]
    for term, definition, bounds in concepts:
        conc += [
            f"## {term}",
            "- **Notation**: —",
            f"- **Definition**: {definition}",
            f"- **Boundary conditions**: {bounds}",
            "- **Related concepts**: Candidate, Score",
            "",
        ]
    w.write("logic/concepts.md", "\n".join(conc), f"{len(concepts)} concepts")
    raw_best = [r for r, name, _ in raw_rows if best and name.endswith(f"node {best.id}")]
    raw_seed = [r for r, name, _ in raw_rows if seed and name.endswith(f"node {seed.id}")]
    setup = (
        f"  - Model: proposer {man.proposer}\n  - Hardware: {man.platform.get('machine', '?')}, "
        f"{man.platform.get('cpus', '?')} CPUs\n  - Dataset: the workload of task {man.task_name}\n"
        f"  - System: sandbox {man.isolation.get('backend', '?')}\n"
    )
    verifies = ", ".join(ids.values()) or "none"
    exps = [
        ("E01", "Evaluate the seed program", raw_seed, "src/execution/seed_program.py", "the seed", "none"),
        ("E02", "Evaluate the best candidate", raw_best, "src/execution/best_program.py", "the seed", "E01"),
        (
            "E03",
            "Evolutionary search",
            ["evidence/tables/candidates.md"],
            "src/execution/artifacts.md",
            "the seed",
            "E01",
        ),
    ]
    if (run_dir / "reproduction.json").is_file():
        w.write(
            "evidence/reproduction.json",
            (run_dir / "reproduction.json").read_text(),
            "syslab reproduce report",
        )
        exps.append(
            (
                "E04",
                "Re-evaluate the claimed candidates",
                ["evidence/reproduction.json"],
                "src/execution/artifacts.md",
                "the recorded metrics",
                "E02",
            )
        )
    ex_md = ["# Experiments", ""]
    for eid, title, evidence, run, baseline, deps in exps:
        ex_md += [
            f"## {eid}: {title}",
            f"- **Verifies**: {verifies}",
            f"- **Evidence**: {', '.join(evidence) if evidence else 'pending'}",
            f"- **Run**: {run}",
            "- **Setup**:\n" + setup.rstrip(),
            "- **Procedure**:\n  1. run the program in a fresh sandbox\n  2. collect the evaluator's metrics",
            f"- **Metrics**: {metric} and the task's other metrics",
            f"- **Expected outcome**:\n  - the best candidate is at least as good as {baseline} on {metric}",
            f"- **Baselines**: {baseline}",
            f"- **Dependencies**: {deps}",
            "",
        ]
    w.write("logic/experiments.md", "\n".join(ex_md), f"{len(exps)} experiments")
    inputs = SolutionInputs(
        man=man,
        logic=logic,
        nodes=nodes,
        best=best,
        seed=seed,
        best_code=best_code,
        seed_code=seed_code,
        diff=diff,
        metric=metric,
    )
    write_solution(w.write, inputs)
    w.write(
        "logic/related_work.md",
        "# Related Work\n\n## RW01: the task's seed program\n- **DOI**: n/a\n- **Type**: baseline\n"
        "- **Delta**:\n  - What changed: the evolved EVOLVE-BLOCK (logic/solution/search.md)\n"
        f"  - Why: to improve {metric}\n- **Claims affected**: {verifies}\n"
        "- **Adopted elements**: everything outside the EVOLVE-BLOCK\n",
        "the baseline this run builds on",
    )
    tree = exploration_tree(nodes, logic, ids, claim_of)
    n_tree = count_tree_nodes(tree["tree"])
    w.write(
        "trace/exploration_tree.yaml",
        yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=100),
        f"{n_tree}-node exploration tree",
    )

    # -- PAPER.md ------------------------------------------------------------------------------
    title = f"syslab run {man.run_id}: {man.task_name}"
    front = {
        "title": title,
        "authors": ["syslab (automated research run)"],
        "year": year,
        "venue": "syslab run artifact",
        "doi": "n/a",
        "ara_version": "1.0",
        "domain": "systems research",
        "keywords": ["syslab", "program evolution", man.task_name, metric, "research artifact"],
        "claims_summary": [c.statement for c in logic.claims],
        "abstract": f"{logic.question} An automated evolution run ({len(cands)} candidates).",
        "scores_verified": man.verified,
        "evaluation_mode": man.evaluation_mode,
        "verification_note": verification_note(man),
    }
    layers = {
        "logic": "Cognitive Layer (`/logic`)",
        "src": "Physical Layer (`/src`)",
        "trace": "Exploration Graph (`/trace`)",
        "evidence": "Evidence (`/evidence`)",
    }
    scores = f"**Scores**: {verification_note(man)}"
    body = [f"# {title}", "", "## Overview", "", f"{logic.question}", "", scores, "", "## Layer Index", ""]
    for layer, heading in layers.items():
        body += [f"### {heading}", "| File | Description |", "|------|-------------|"]
        body += [f"| [{rel}]({rel}) | {desc} |" for rel, desc in w.files if rel.startswith(layer + "/")]
        body.append("")
    paper = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n\n" + "\n".join(body)
    (out / "PAPER.md").write_text(paper)
    return out

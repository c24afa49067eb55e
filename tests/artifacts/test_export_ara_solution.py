"""ARA export: the layout the ARA project's Level 1 validator (seal.py) asks for, with content read
from the run: logic/solution/{architecture,algorithm,heuristics}.md, src/configs/{training,model,
task}.md, and pivots with from/to/trigger. ara_checks mirrors seal's checks; these tests check both
that the checks pass and that the content is the run's.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from syslab.agents.patch import evolve_blocks
from syslab.artifacts.ara_checks import check_ara
from syslab.artifacts.ara_program import components, diff_summary, module_names
from syslab.artifacts.ara_solution import SEARCH_RULES
from syslab.artifacts.export_ara import export_ara
from syslab.artifacts.logic import Decision, load_logic, save_logic
from syslab.artifacts.store import RunStore

SEED = '''"""doc"""
import math


# EVOLVE-BLOCK-START
def helper(x):
    return x * 2.0


def solve():
    """Return the answer."""
    return helper(1.5) + 3
# EVOLVE-BLOCK-END


def run():
    return solve()
'''


@pytest.fixture(scope="module")
def ara(finished_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_ara(finished_run, tmp_path_factory.mktemp("ara") / "ara")


def _tree_nodes(out: Path) -> list[dict]:
    flat: list[dict] = []

    def walk(nodes: list) -> None:
        for n in nodes:
            flat.append(n)
            walk(n.get("children", []))

    walk(yaml.safe_load((out / "trace/exploration_tree.yaml").read_text())["tree"])
    return flat


def test_export_passes_the_seal_layout_and_exploration_checks(ara: Path) -> None:
    assert [str(i) for i in check_ara(ara, exploration=True)] == []
    for rel in (
        "logic/solution/architecture.md",
        "logic/solution/algorithm.md",
        "logic/solution/heuristics.md",
    ):
        assert rel in (ara / "PAPER.md").read_text()  # listed in the Layer Index
    for rel in ("src/configs/training.md", "src/configs/model.md", "src/configs/task.md"):
        assert (ara / rel).stat().st_size > 10


def test_architecture_lists_the_best_programs_definitions(ara: Path, finished_run: Path) -> None:
    with RunStore.open(finished_run, readonly=True) as store:
        best_code = store.get_code(store.best_node().id)
    names = [n.name for n in ast.parse(best_code).body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    text = (ara / "logic/solution/architecture.md").read_text()
    assert re.findall(r"^## Component: `(\w+)`", text, re.M) == names
    assert "- **Evolvable**: yes" in text  # the quadratic's solve() sits in its EVOLVE-BLOCK


def test_algorithm_is_the_evolved_block_its_changes_and_lineage(ara: Path, finished_run: Path) -> None:
    with RunStore.open(finished_run, readonly=True) as store:
        best = store.best_node()
        nodes = {n.id: n for n in store.nodes()}
        best_code, seed_code = store.get_code(best.id), store.get_code(0)
    text = (ara / "logic/solution/algorithm.md").read_text()
    for block in evolve_blocks(best_code):
        assert block.rstrip("\n") in text
    chain, node = [], best
    while node is not None:
        chain.append(node.id)
        node = nodes.get(node.parent_id) if node.parent_id is not None else None
    lineage = text.split("## Lineage", 1)[1]
    assert [int(m) for m in re.findall(r"^\| \d+ \| (\d+) \|", lineage, re.M)] == chain[::-1]
    if best.id != 0:
        d = diff_summary(seed_code, best_code)
        assert f"+{d.lines_added} / -{d.lines_removed}" in text
        for change in d.constants:
            assert f"| {change.component} | {change.old} | {change.new} |" in text


def test_heuristics_carry_the_analysts_notes_and_search_rules(ara: Path, finished_run: Path) -> None:
    logic = load_logic(finished_run)
    assert logic is not None and logic.hypotheses and logic.dead_ends  # the fixture run has them
    text = (ara / "logic/solution/heuristics.md").read_text()
    guidance = [d for d in logic.decisions if d.kind == "decision"]
    expected = len(logic.hypotheses) + len(guidance) + len(logic.dead_ends) + len(SEARCH_RULES)
    assert len(re.findall(r"^## H\d+:", text, re.M)) == expected
    for note in [h.statement for h in logic.hypotheses] + [d.statement for d in guidance]:
        assert note in text
    for dead in logic.dead_ends:
        assert dead.idea in text
    assert 'search rule `selection` = "power_law"' in text  # the default, as the run used it


def test_pivots_name_both_lines_and_the_score_that_moved(run_copy: Path, tmp_path: Path) -> None:
    with RunStore.open(run_copy, readonly=True) as store:
        scored = sorted((n for n in store.nodes() if n.score is not None), key=lambda n: n.id)
    old, new = scored[1], scored[-1]
    logic = load_logic(run_copy)
    assert logic is not None
    # A pivot as syslab.artifacts.logic records it when the best line changes.
    statement = f"The best line moved from node {old.id} to node {new.id}, which does not descend from it"
    logic.decisions.append(Decision(id="P9", kind="pivot", statement=statement, node_id=new.id))
    save_logic(run_copy, logic)
    out = export_ara(run_copy, tmp_path / "ara")
    assert [str(i) for i in check_ara(out)] == []
    pivot = next(n for n in _tree_nodes(out) if n["type"] == "pivot")
    assert pivot["from"] == f"the line of node {old.id} ({old.operator or 'seed'}, score {old.score:.6g})"
    assert pivot["to"] == f"the line of node {new.id} ({new.operator or 'seed'}, score {new.score:.6g})"
    assert f"score {new.score:.6g} over node {old.id}'s {old.score:.6g}" in pivot["trigger"]
    assert pivot["reason"] == statement and pivot["prior_direction"] == pivot["from"]


def test_configs_are_the_runs(ara: Path, finished_run: Path) -> None:
    with RunStore.open(finished_run, readonly=True) as store:
        man = store.manifest
    training = (ara / "src/configs/training.md").read_text()
    assert f"## budget.evaluations\n- **Value**: `{man.config['budget']['evaluations']}`" in training
    assert "## search.islands\n- **Value**: `2`" in training
    assert f"Proposer of this run: `{man.proposer}`" in (ara / "src/configs/model.md").read_text()
    task = (ara / "src/configs/task.md").read_text()
    assert (Path(man.task_dir) / "task.toml").read_text().strip() in task
    assert "(the same files)" in task


def test_checks_catch_what_seal_would(ara: Path, tmp_path: Path) -> None:
    import shutil

    out = Path(shutil.copytree(ara, tmp_path / "broken"))
    (out / "src/configs/model.md").unlink()
    heur = out / "logic/solution/heuristics.md"
    heur.write_text(heur.read_text() + "\n## H99: x\n- **Code ref**: [src/execution/nowhere.py]\n")
    arch = out / "logic/solution/architecture.md"
    arch.write_text(arch.read_text() + "\n## Component: `not_in_any_program`\n")
    tree_path = out / "trace/exploration_tree.yaml"
    tree = yaml.safe_load(tree_path.read_text())
    tree["tree"][0]["children"] = [n for n in tree["tree"][0]["children"] if n["type"] != "dead_end"]
    pivot = {"id": "N998", "type": "pivot", "support_level": "inferred", "from": "line a", "to": "line b"}
    tree["tree"][0]["children"].append(pivot)  # no trigger
    tree_path.write_text(yaml.safe_dump(tree))
    issues = "\n".join(str(i) for i in check_ara(out, exploration=True))
    assert "src/configs/model.md: missing" in issues
    assert "Code ref src/execution/nowhere.py does not exist" in issues
    assert "component not_in_any_program is not defined" in issues
    assert "`trigger` is missing" in issues
    assert "no dead_end node" in issues
    assert "no dead_end node" not in "\n".join(str(i) for i in check_ara(out))  # only with exploration


def test_components_and_diff_summary_on_a_small_program() -> None:
    best = (
        SEED.replace("x * 2.0", "x * 2.5")
        .replace("+ 3\n", "+ helper(4)\n")
        .replace("# EVOLVE-BLOCK-END", "def extra():\n    return 1\n# EVOLVE-BLOCK-END")
    )
    comps = {c.name: c for c in components(best, SEED)}
    assert list(comps) == ["helper", "solve", "extra", "run"]
    assert [comps[n].evolvable for n in comps] == [True, True, True, False]
    assert [comps[n].change for n in comps] == ["changed", "changed", "new", "unchanged"]
    assert comps["solve"].calls == ["helper"] and comps["solve"].doc == "Return the answer."
    assert comps["run"].signature == "def run()"
    d = diff_summary(SEED, best)
    assert d.changed == ["helper", "solve"] and d.added == ["extra"] and d.removed == []
    assert d.constants_only == ["helper"]  # solve() also gained a call, not only a constant
    assert [(c.old, c.new) for c in d.constants] == [("2.0", "2.5")]
    assert (d.lines_added, d.lines_removed) == (4, 2)
    assert components("def broken(:\n", SEED) == []
    assert module_names("A = 1\n# EVOLVE-BLOCK-START\nb: int = 2\n# EVOLVE-BLOCK-END\n") == [
        ("A", 1, False),
        ("b", 3, True),
    ]
    inner = "def outer():\n    x = 1\n    # EVOLVE-BLOCK-START\n    y = 2\n    # EVOLVE-BLOCK-END\n    return x + y\n"
    (outer,) = components(inner, inner)
    assert not outer.evolvable and outer.evolvable_lines == [(4, 4)] and outer.change == "unchanged"

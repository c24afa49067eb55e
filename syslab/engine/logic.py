"""The logic layer hooks the run loop calls: question at start, notes during, claims at the end.

The schema and the full logic (claims with evidence, dead ends, pivots)
live in syslab.artifacts.logic; this module only adapts a running Run.
"""

from __future__ import annotations

from typing import Any

from syslab.agents.base import AnalysisNotes
from syslab.artifacts.schema import Node


def init_logic(run: Any) -> None:
    from syslab.artifacts.logic import start_logic

    start_logic(run.store, run.task)


def update_logic_from_analysis(run: Any, node: Node, notes: AnalysisNotes) -> None:
    from syslab.artifacts.logic import add_analysis

    add_analysis(run.store, node, notes)


def finalize_logic(run: Any) -> None:
    from syslab.artifacts.logic import conclude

    conclude(run.store, run.task)

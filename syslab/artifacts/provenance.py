"""Are a run's scores verified? One wording for every surface (CLI, browse, exports, review).

A score is verified only when the task ran in split mode: the evaluator in a trusted process, the
candidate in its own sandbox, plain data between them. A shared-mode run (OpenEvolve-style
`evaluate(program_path)`), a run imported from another framework, and a run recorded before the
manifest said how it was evaluated all had the candidate in the scorer's process, so a candidate
could have written its own score.
"""

from __future__ import annotations

from typing import Any

from syslab.artifacts.schema import Manifest
from syslab.task import UNVERIFIED_NOTE

VERIFIED_NOTE = "verified: the evaluator ran in a trusted process, the candidate in its own sandbox"
_WHY = {
    "imported": "scores imported from another framework",
    "unknown": "recorded before syslab kept the evaluation mode",
}


def verification_note(man: Manifest) -> str:
    """One line saying whether the run's scores are verified and, if not, why."""
    if man.verified:
        return VERIFIED_NOTE
    why = _WHY.get(man.evaluation_mode)
    return f"{UNVERIFIED_NOTE}; {why}" if why else UNVERIFIED_NOTE


def provenance(man: Manifest) -> dict[str, Any]:
    """The JSON form: verified, evaluation_mode and the note, for APIs and exports."""
    return {
        "verified": man.verified,
        "evaluation_mode": man.evaluation_mode,
        "verification_note": verification_note(man),
    }

"""LLMProposer: asks a model of the ensemble for an edit of the parent's EVOLVE-BLOCK.

Never raises for a bad answer: an unreachable endpoint, an answer with no
diff or code, or a diff that does not apply becomes a Proposal with
`failure` set (llm_error / malformed_response / patch_failed) and the raw
answer attached, which the run records as a failure node and goes on.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from syslab import metric_text
from syslab.agents.base import CandidateView, Proposal, ProposalRequest
from syslab.agents.diffs import DiffError, apply_response
from syslab.agents.ensemble import Ensemble
from syslab.agents.llm import ChatClient, LLMError, Messages
from syslab.agents.llm_config import LLMSettings
from syslab.evaluators.base import Failure, FailureKind

PROMPTS_DIR = Path(__file__).parent / "prompts"
STDERR_TAIL_CHARS = 2000


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPTS_DIR)),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Metrics in their own units and direction (a minimised metric's score is its negation).
    env.filters["metric"] = lambda value, unit="": metric_text.fmt(value, unit, digits=6)
    env.globals["from_score"] = metric_text.from_score
    env.globals["better"] = metric_text.better
    return env


def render_prompt(template: str, **context: Any) -> str:
    """Render prompts/<template> (a jinja2 file). Code is shown verbatim (SEARCH text is copied from it)."""
    return _env().get_template(template).render(**context).strip() + "\n"


def _tail(text: str, limit: int = STDERR_TAIL_CHARS) -> str:
    text = (text or "").rstrip()
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _clip(code: str, limit: int) -> str:
    return code if len(code) <= limit else code[:limit] + f"\n# ... ({len(code) - limit} more characters)\n"


def _view(c: CandidateView, code_limit: int | None = None) -> CandidateView:
    update: dict[str, Any] = {"stderr_tail": _tail(c.stderr_tail)}
    if code_limit is not None:
        update["code"] = _clip(c.code, code_limit)
    return c.model_copy(update=update)


def build_messages(request: ProposalRequest, settings: LLMSettings) -> Messages:
    """The system + user messages for one proposal."""
    system = render_prompt("proposer_system.j2", diff_mode=settings.diff_mode)
    user = render_prompt(
        "proposer_user.j2",
        task_name=request.task_name,
        task_description=request.task_description.strip(),
        primary_metric=request.primary_metric,
        metric_directions=request.metric_directions,
        units=request.metric_units,
        parent=_view(request.parent),
        parent_code=request.parent.code.rstrip("\n"),  # shown whole: SEARCH text is copied from it
        recent_failures=[_view(f) for f in request.recent_failures],
        inspirations=[
            _view(c, settings.max_code_chars) for c in request.inspirations[: settings.max_inspirations]
        ],
        notes=request.notes.strip(),
        attempt=request.attempt,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def change_note(text: str) -> str:
    """The one-line summary the model was asked to start with (or its first prose line)."""
    m = re.search(r"^\s*\**change\**\s*:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
    if m:
        return m.group(1).strip()[:200]
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("```", "<<<<<<<", "=======", ">>>>>>>")):
            return line[:200]
    return ""


class LLMProposer:
    """Proposer backed by an OpenAI-compatible endpoint (or a ReplayClient)."""

    def __init__(
        self,
        client: ChatClient,
        settings: LLMSettings,
        ensemble: Ensemble | None = None,
        name: str = "llm",
    ) -> None:
        self.client = client
        self.settings = settings
        self.ensemble = ensemble or Ensemble(settings.models, c=settings.ucb_c)
        self.name = name

    def propose(self, request: ProposalRequest) -> Proposal:
        rng = random.Random(request.seed)
        model = self.ensemble.choose(rng)
        messages = build_messages(request, self.settings)
        inspiration_ids = [c.node_id for c in request.inspirations[: self.settings.max_inspirations]]
        base: dict[str, Any] = {"model": model, "inspiration_ids": inspiration_ids}
        try:
            result = self.client.chat(messages, model, role="proposer", seed=request.seed)
        except LLMError as e:
            ids = [e.call_id] if e.call_id is not None else []
            failure = Failure(kind=FailureKind.llm_error, message=e.message[:500])
            return Proposal(operator="llm", failure=failure, llm_call_ids=ids, **base)
        base.update(
            model=result.model,  # a replayed exchange reports the model that answered originally
            llm_call_ids=[result.call_id] if result.call_id is not None else [],
            raw_response=result.text,
            cost_usd=result.cost_usd,
            tokens=result.prompt_tokens + result.completion_tokens,
            note=change_note(result.text),
        )
        try:
            code, edit = apply_response(request.parent.code, result.text)
        except DiffError as e:
            return Proposal(
                operator="llm", failure=Failure(kind=FailureKind(e.kind), message=e.message), **base
            )
        return Proposal(code=code, operator=f"llm:{edit.mode}", **base)

    def observe(self, proposal: Proposal, improvement: float) -> None:
        """Feed an evaluated proposal's outcome back to the model bandit (improvement: child - parent score)."""
        if proposal.model:
            self.ensemble.update(proposal.model, improvement, proposal.cost_usd)

    def state(self) -> dict[str, Any]:
        return {"ensemble": self.ensemble.to_state()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.ensemble = Ensemble.from_state(
            self.settings.models, state.get("ensemble", {}), c=self.settings.ucb_c
        )

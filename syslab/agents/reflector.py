"""The analyst (reflection node): structured notes on what the last candidates showed.

HeuristicAnalyst derives the notes from the records alone (no LLM): which
candidates improved or regressed on their parent, how failures cluster,
which ideas keep failing (dead ends, with node ids as evidence), and
guidance for the proposer. It states only what the records show.

LLMAnalyst gives the model those computed facts plus the candidates and
asks for JSON notes (hypotheses, dead ends, guidance). The facts
(improvements, regressions, failure clusters) always come from the
records; if the model's JSON is unusable the heuristic notes are used
and the reason is kept in `notes.error` (the exchange itself is recorded
by the client).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from syslab import metric_text
from syslab.agents.base import AnalysisNotes, AnalysisRequest, CandidateView
from syslab.agents.llm import ChatClient, LLMError
from syslab.agents.llm_config import LLMSettings
from syslab.agents.proposer import render_prompt

DEAD_END_MIN = 2  # the same failure this many times is a dead end, not bad luck


def failure_signature(kind: str, message: str | None) -> str:
    """A failure's kind plus its message's first line with numbers and quoted names blurred."""
    first = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    first = re.sub(r"0x[0-9a-fA-F]+|\d+(\.\d+)?", "N", first)
    first = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", first)
    return f"{kind}: {first[:100]}".rstrip(": ")


class HeuristicAnalyst:
    name = "heuristic"

    def analyse(self, request: AnalysisRequest) -> AnalysisNotes:
        improvements: list[int] = []
        regressions: list[int] = []
        gains: dict[int, float] = {}
        clusters: dict[str, list[int]] = defaultdict(list)
        signatures: dict[str, list[CandidateView]] = defaultdict(list)
        by_operator: dict[str, list[CandidateView]] = defaultdict(list)
        running_best: float | None = None
        for c in request.recent:
            by_operator[c.operator or "(unknown)"].append(c)
            if c.failure_kind:
                clusters[c.failure_kind].append(c.node_id)
                signatures[failure_signature(c.failure_kind, c.failure_message)].append(c)
            elif c.valid and c.score is not None:
                # Compare with the parent when known, else with the best earlier in this window.
                ref = c.parent_score if c.parent_id is not None else running_best
                if ref is None and c.parent_id is not None:
                    improvements.append(c.node_id)  # first valid program in a failing lineage
                elif ref is not None and c.score > ref:
                    improvements.append(c.node_id)
                    gains[c.node_id] = c.score - ref
                elif ref is not None and c.score < ref:
                    regressions.append(c.node_id)
            if c.valid and c.score is not None:
                running_best = c.score if running_best is None else max(running_best, c.score)

        dead_ends: list[dict[str, Any]] = []
        for sig, cands in signatures.items():
            if len(cands) >= DEAD_END_MIN:
                ops = sorted({c.operator for c in cands if c.operator})
                via = f" ({', '.join(ops)})" if ops else ""
                dead_ends.append(
                    {"idea": f"edits{via} that fail with {sig}", "node_ids": [c.node_id for c in cands]}
                )
        for op, cands in by_operator.items():
            ids = [c.node_id for c in cands]
            if len(cands) >= 3 and not set(ids) & set(improvements):
                dead_ends.append(
                    {"idea": f"operator {op}: {len(cands)} attempts, none improved", "node_ids": ids}
                )

        n = len(request.recent)
        n_failed = sum(len(v) for v in clusters.values())
        hypotheses: list[str] = []
        direction = request.metric_directions.get(request.primary_metric, "maximize")
        unit = request.metric_units.get(request.primary_metric, "")
        if gains:
            best_gain = max(gains, key=lambda i: gains[i])
            new = next(c.score for c in request.recent if c.node_id == best_gain)
            moved = metric_text.change(new, new - gains[best_gain], direction, unit, digits=6)  # type: ignore[operator]
            hypotheses.append(
                f"The change in node {best_gain} improves {request.primary_metric} over its reference ({moved}; "
                f"{metric_text.better(direction)}); refining it further may help."
            )
        if n and n_failed * 2 > n:
            top = max(clusters, key=lambda k: len(clusters[k]))
            hypotheses.append(
                f"Most recent candidates fail ({n_failed}/{n}), mostly with {top}: the edits are breaking "
                "correctness or the program's interface more often than they change performance."
            )
        if n and not improvements and not n_failed * 2 > n:
            hypotheses.append(
                f"No candidate in the last {n} improved: the search may be stuck near node "
                f"{request.best.node_id if request.best else '?'}; larger or different changes are needed."
            )

        guidance: list[str] = []
        if request.best is not None and request.best.score is not None:
            best_value = metric_text.fmt(
                metric_text.from_score(request.best.score, direction), unit, digits=6
            )
            guidance.append(
                f"Build on node {request.best.node_id} (best {request.primary_metric} {best_value})."
            )
        for d in dead_ends[:5]:
            guidance.append(f"Avoid {d['idea']} (nodes {d['node_ids'][:6]}).")
        if clusters:
            top = max(clusters, key=lambda k: len(clusters[k]))
            example = next(c for c in request.recent if c.failure_kind == top)
            msg = (example.failure_message or "").strip().splitlines()
            guidance.append(
                f"Most common failure: {top} ({len(clusters[top])}x), e.g. node {example.node_id}: {msg[0][:160] if msg else '(no message)'}."
            )
        return AnalysisNotes(
            hypotheses=hypotheses,
            dead_ends=dead_ends,
            improvements=improvements,
            regressions=regressions,
            failure_clusters=dict(clusters),
            guidance=" ".join(guidance),
        )


def parse_notes_json(text: str, known_ids: set[int]) -> dict[str, Any]:
    """Pull {hypotheses, dead_ends, guidance} out of a model's answer; raises ValueError if unusable."""
    body = text.strip()
    fence = re.search(r"```(?:json)?\s*\n(.*?)```", body, re.DOTALL)
    if fence:
        body = fence.group(1)
    start, end = body.find("{"), body.rfind("}")
    if start == -1 or end <= start:
        raise ValueError("no JSON object in the analyst's answer")
    try:
        data = json.loads(body[start : end + 1])
    except json.JSONDecodeError as e:
        raise ValueError(f"analyst JSON does not parse: {e.msg} at char {e.pos}") from None
    if not isinstance(data, dict):
        raise ValueError("analyst JSON is not an object")
    hyps = data.get("hypotheses", [])
    if isinstance(hyps, str):
        hyps = [hyps]
    hypotheses = (
        [str(h).strip() for h in hyps if isinstance(h, str | int | float) and str(h).strip()]
        if isinstance(hyps, list)
        else []
    )
    dead_ends = []
    for d in data.get("dead_ends", []) if isinstance(data.get("dead_ends"), list) else []:
        if isinstance(d, dict) and str(d.get("idea", "")).strip():
            ids = d.get("node_ids", [])
            ids = (
                [
                    int(i)
                    for i in ids
                    if isinstance(i, int | float | str) and str(i).strip().lstrip("-").isdigit()
                ]
                if isinstance(ids, list)
                else []
            )
            # Keep only ids that exist: a note's evidence must point at real nodes.
            dead_ends.append({"idea": str(d["idea"]).strip(), "node_ids": [i for i in ids if i in known_ids]})
    guidance = data.get("guidance", "")
    guidance = (
        " ".join(str(g) for g in guidance) if isinstance(guidance, list) else str(guidance or "").strip()
    )
    if not hypotheses and not dead_ends and not guidance:
        raise ValueError("analyst JSON has no hypotheses, dead_ends or guidance")
    return {"hypotheses": hypotheses, "dead_ends": dead_ends, "guidance": guidance}


class LLMAnalyst:
    name = "llm-analyst"

    def __init__(self, client: ChatClient, settings: LLMSettings, model: str | None = None) -> None:
        self.client = client
        self.settings = settings
        self.model = model or settings.analyst_model or settings.models[0].name
        self.fallback = HeuristicAnalyst()

    def build_messages(self, request: AnalysisRequest, facts: AnalysisNotes) -> list[dict[str, str]]:
        best = request.best
        if best is not None:
            best = best.model_copy(update={"code": best.code[: self.settings.max_code_chars]})
        user = render_prompt(
            "analyst_user.j2",
            task_name=request.task_name,
            task_description=request.task_description.strip(),
            primary_metric=request.primary_metric,
            direction=request.metric_directions.get(request.primary_metric, "maximize"),
            unit=request.metric_units.get(request.primary_metric, ""),
            best=best,
            recent=request.recent,
            facts=facts,
            failure_counts=request.failure_counts,
            previous_notes=request.previous_notes.strip(),
        )
        return [
            {"role": "system", "content": render_prompt("analyst_system.j2")},
            {"role": "user", "content": user},
        ]

    def analyse(self, request: AnalysisRequest) -> AnalysisNotes:
        facts = self.fallback.analyse(request)
        messages = self.build_messages(request, facts)
        try:
            result = self.client.chat(messages, self.model, role="analyst", seed=request.seed)
        except LLMError as e:
            ids = [e.call_id] if e.call_id is not None else []
            return facts.model_copy(
                update={"model": self.model, "llm_call_ids": ids, "error": f"llm_error: {e.message[:300]}"}
            )
        ids = [result.call_id] if result.call_id is not None else []
        known = {c.node_id for c in request.recent} | ({request.best.node_id} if request.best else set())
        try:
            parsed = parse_notes_json(result.text, known)
        except ValueError as e:
            return facts.model_copy(
                update={"model": self.model, "llm_call_ids": ids, "error": f"malformed_response: {e}"}
            )
        # The model's reading plus the record-derived dead ends it did not already cover.
        covered = {tuple(sorted(d["node_ids"])) for d in parsed["dead_ends"]}
        extra = [d for d in facts.dead_ends if tuple(sorted(d["node_ids"])) not in covered]
        return facts.model_copy(
            update={
                "hypotheses": parsed["hypotheses"] or facts.hypotheses,
                "dead_ends": parsed["dead_ends"] + extra,
                "guidance": parsed["guidance"] or facts.guidance,
                "model": self.model,
                "llm_call_ids": ids,
            }
        )

"""LLMProposer end to end through the openai SDK and the scripted server."""

from __future__ import annotations

import pytest
from llm_support import PROGRAM

from syslab.agents.base import CandidateView, ProposalRequest
from syslab.agents.llm import LLMClient, MemoryRecorder
from syslab.agents.proposer import LLMProposer, build_messages

GOOD_DIFF = (
    "Change: schedule longest jobs first\n"
    "<<<<<<< SEARCH\n    order = sorted(jobs)\n=======\n    order = sorted(jobs, reverse=True)\n>>>>>>> REPLACE\n"
)


def request(**kw) -> ProposalRequest:
    base = dict(
        task_name="toy-scheduler",
        task_description="Order jobs to minimise mean completion time.",
        primary_metric="mean_completion",
        metric_directions={"mean_completion": "minimize"},
        parent=CandidateView(
            node_id=5, code=PROGRAM, score=-12.5, metrics={"mean_completion": 12.5}, valid=True
        ),
        seed=42,
    )
    base.update(kw)
    return ProposalRequest(**base)


def proposer(settings, rec=None) -> LLMProposer:
    return LLMProposer(LLMClient(settings, rec or MemoryRecorder()), settings)


def test_good_diff_becomes_a_candidate(server, make_settings):
    server.push({"text": GOOD_DIFF, "usage": {"prompt_tokens": 2000, "completion_tokens": 100}})
    rec = MemoryRecorder()
    p = proposer(make_settings(), rec).propose(
        request(inspirations=[CandidateView(node_id=3, code=PROGRAM, score=-13.0)])
    )
    assert p.failure is None and p.operator == "llm:diff"
    assert "sorted(jobs, reverse=True)" in p.code and "def main(jobs)" in p.code
    assert p.note == "schedule longest jobs first" and p.model == "model-a"
    assert p.llm_call_ids == [1] and p.inspiration_ids == [3] and p.raw_response == GOOD_DIFF
    assert p.cost_usd == pytest.approx((2000 + 400) / 1e6) and p.tokens == 2100
    assert rec.entries[0][0].role == "proposer"


def test_rewrite_answer_becomes_a_candidate(server, make_settings):
    server.push({"text": "Change: identity\n```python\ndef schedule(jobs):\n    return list(jobs)\n```\n"})
    p = proposer(make_settings()).propose(request())
    assert p.failure is None and p.operator == "llm:rewrite" and "return list(jobs)" in p.code


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("Sure! I would make it faster by using a heap. Hope this helps.", "malformed_response"),
        ("<<<<<<< SEARCH\n    order = sorted(\n", "patch_failed"),  # unparsable diff
        (
            "<<<<<<< SEARCH\n    order = jobs.sort()\n=======\n    pass\n>>>>>>> REPLACE",
            "patch_failed",
        ),  # no match
        ("<<<<<<< SEARCH\nimport math\n=======\nimport os\n>>>>>>> REPLACE", "patch_failed"),  # outside block
    ],
)
def test_bad_answers_are_recorded_failures_with_raw_text(server, make_settings, answer, kind):
    server.push({"text": answer})
    rec = MemoryRecorder()
    p = proposer(make_settings(), rec).propose(request())
    assert p.code is None and p.failure is not None and p.failure.kind.value == kind
    assert p.raw_response == answer and p.llm_call_ids == [1]
    call, _, response = rec.entries[0]
    assert response == answer and call.error is None  # the exchange itself succeeded


def test_endpoint_failure_is_an_llm_error_proposal(server, make_settings):
    server.push({"status": 500}, {"status": 502}, {"status": 503})
    rec = MemoryRecorder()
    p = proposer(make_settings(max_retries=2), rec).propose(request())
    assert p.failure.kind.value == "llm_error" and "attempt 3: HTTP 503" in p.failure.message
    assert p.llm_call_ids == [1] and rec.entries[0][0].attempts == 3 and rec.entries[0][2] is None


def test_prompt_includes_parent_feedback_failures_inspirations_and_notes(make_settings):
    failing_parent = CandidateView(
        node_id=9,
        code=PROGRAM,
        failure_kind="runtime",
        failure_message="IndexError: list index out of range",
        stderr_tail='Traceback (most recent call last):\n  File "program.py", line 5\nIndexError: list index out of range',
    )
    recent = [
        CandidateView(
            node_id=8,
            code="",
            failure_kind="timeout",
            failure_message="exceeded 10s",
            stderr_tail="killed after 10.0s",
        )
    ]
    insp = [
        CandidateView(node_id=4, code=PROGRAM.replace("sorted(jobs)", "sorted(jobs, key=len)"), score=-11.0)
    ]
    req = request(
        parent=failing_parent,
        recent_failures=recent,
        inspirations=insp,
        notes="Avoid recursion; nodes 6, 7 overflowed.",
        attempt=1,
    )
    system, user = (m["content"] for m in build_messages(req, make_settings()))
    assert "<<<<<<< SEARCH" in system and "```python" in system  # auto mode offers both forms
    for expected in (
        "Order jobs to minimise mean completion time.",
        "mean_completion: minimize",
        "FAILED: runtime: IndexError: list index out of range",
        'File "program.py", line 5',
        "node 8",
        "killed after 10.0s",
        "sorted(jobs, key=len)",
        "Avoid recursion; nodes 6, 7 overflowed.",
        "duplicated an existing candidate",
        PROGRAM.rstrip(),
    ):
        assert expected in user, expected
    rewrite_system = build_messages(req, make_settings(diff_mode="rewrite"))[0]["content"]
    assert "<<<<<<< SEARCH" not in rewrite_system and "```python" in rewrite_system


def test_same_seed_same_model_choice_and_bandit_observe(server, make_settings):
    from syslab.agents.llm_config import ModelSpec

    server.responder = lambda body: {"text": GOOD_DIFF}
    settings = make_settings(models=[ModelSpec(name="a"), ModelSpec(name="b")])
    prop = proposer(settings)
    p1 = prop.propose(request(seed=1))
    prop.observe(p1, improvement=2.0)
    assert prop.state()["ensemble"]["plays"][p1.model] == 1
    clone = proposer(settings)
    clone.load_state(prop.state())
    assert clone.propose(request(seed=2)).model == prop.propose(request(seed=2)).model


def test_prompt_shows_a_minimised_metric_in_its_own_units(make_settings):
    """The LLM is told 'mean_completion: 12.5 s (lower is better)', never the negated score -12.5."""
    req = request(
        metric_units={"mean_completion": "s"},
        inspirations=[CandidateView(node_id=3, code=PROGRAM, score=-13.0, metrics={"mean_completion": 13.0})],
    )
    user = build_messages(req, make_settings())[1]["content"]
    assert "- mean_completion: minimize (lower is better), in s" in user
    assert "mean_completion: 12.5 s (lower is better)" in user
    assert "Metrics: mean_completion=12.5 s" in user
    assert "## node 3, mean_completion 13 s" in user
    assert "-12.5" not in user and "-13" not in user and "Score:" not in user

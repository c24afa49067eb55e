"""Analysts: heuristic notes from the records, LLM notes with a robust fallback."""

from __future__ import annotations

from syslab.agents.base import AnalysisRequest, CandidateView
from syslab.agents.llm import LLMClient, MemoryRecorder
from syslab.agents.reflector import HeuristicAnalyst, LLMAnalyst, failure_signature


def cv(node_id, score=None, parent_id=None, parent_score=None, fail=None, msg=None, op="llm:diff"):
    return CandidateView(
        node_id=node_id,
        code="x = 1\n",
        score=score,
        valid=fail is None and score is not None,
        parent_id=parent_id,
        parent_score=parent_score,
        failure_kind=fail,
        failure_message=msg,
        operator=op,
    )


def analysis_request() -> AnalysisRequest:
    recent = [
        cv(2, score=-10.0, parent_id=1, parent_score=-12.0),  # improved
        cv(3, score=-14.0, parent_id=1, parent_score=-12.0),  # regressed
        cv(4, fail="runtime", msg="IndexError: list index out of range at line 12"),
        cv(5, fail="runtime", msg="IndexError: list index out of range at line 40"),
        cv(6, fail="timeout", msg="exceeded 10.0s"),
        cv(7, score=-9.0, parent_id=2, parent_score=-10.0, op="llm:rewrite"),  # improved
    ]
    return AnalysisRequest(
        task_name="toy",
        task_description="Order jobs.",
        primary_metric="mean_completion",
        metric_directions={"mean_completion": "minimize"},
        metric_units={"mean_completion": "s"},
        recent=recent,
        best=cv(7, score=-9.0),
        failure_counts={"runtime": 2, "timeout": 1},
    )


def test_heuristic_notes_follow_the_records():
    notes = HeuristicAnalyst().analyse(analysis_request())
    assert notes.improvements == [2, 7] and notes.regressions == [3]
    assert notes.failure_clusters == {"runtime": [4, 5], "timeout": [6]}
    # The repeated IndexError is a dead end with both nodes as evidence; the single timeout is not.
    ideas = {d["idea"]: d["node_ids"] for d in notes.dead_ends}
    assert any(ids == [4, 5] and "IndexError" in idea for idea, ids in ideas.items())
    assert not any(6 in ids for ids in ideas.values())
    # In the metric's own terms: a minimised time that fell from 12 s to 10 s, not "+2" in score.
    assert "node 2" in notes.hypotheses[0] and "12 s -> 10 s" in notes.hypotheses[0]
    assert "lower is better" in notes.hypotheses[0] and "-1" not in notes.hypotheses[0]
    assert "Build on node 7 (best mean_completion 9 s)" in notes.guidance and "runtime (2x)" in notes.guidance


def test_heuristic_without_parent_info_uses_running_best_and_flags_failing_majority():
    req = analysis_request().model_copy(
        update={
            "recent": [
                cv(2, score=1.0),
                cv(3, score=3.0),
                cv(4, fail="syntax", msg="bad"),
                cv(5, fail="syntax", msg="bad"),
                cv(6, fail="syntax", msg="bad"),
            ]
        }
    )
    notes = HeuristicAnalyst().analyse(req)
    assert notes.improvements == [3]
    assert any("3/5" in h and "syntax" in h for h in notes.hypotheses)
    assert {
        "node_ids": [2, 3, 4, 5, 6],
        "idea": "operator llm:diff: 5 attempts, none improved",
    } not in notes.dead_ends


def test_failure_signature_blurs_numbers_and_names():
    a = failure_signature("runtime", "KeyError: 'job_17' at line 3")
    b = failure_signature("runtime", "KeyError: 'job_9' at line 44")
    assert a == b and a.startswith("runtime: KeyError")


def test_llm_analyst_uses_model_notes_and_filters_unknown_ids(server, make_settings):
    answer = (
        "Here are my notes:\n```json\n"
        '{"hypotheses": ["Sorting descending helps"], '
        '"dead_ends": [{"idea": "index arithmetic", "node_ids": [4, 5, 999]}], '
        '"guidance": "Refine node 7."}\n```'
    )
    server.push({"text": answer})
    rec = MemoryRecorder()
    notes = LLMAnalyst(LLMClient(make_settings(), rec), make_settings()).analyse(analysis_request())
    assert notes.error is None and notes.model == "model-a" and notes.llm_call_ids == [1]
    assert notes.hypotheses == ["Sorting descending helps"] and notes.guidance == "Refine node 7."
    assert notes.dead_ends[0] == {"idea": "index arithmetic", "node_ids": [4, 5]}  # 999 is not a node
    assert notes.improvements == [2, 7]  # facts always come from the records
    assert rec.entries[0][0].role == "analyst"
    prompt = rec.entries[0][1]
    assert "FAILED runtime: IndexError" in prompt and "Improved on their parent: [2, 7]" in prompt


def test_llm_analyst_bad_json_falls_back_with_recorded_error(server, make_settings):
    server.push({"text": "{hypotheses: [unquoted"}, {"text": "no json at all"})
    settings = make_settings()
    analyst = LLMAnalyst(LLMClient(settings), settings)
    heuristic = HeuristicAnalyst().analyse(analysis_request())
    for _ in range(2):
        notes = analyst.analyse(analysis_request())
        assert notes.error.startswith("malformed_response")
        assert notes.guidance == heuristic.guidance and notes.dead_ends == heuristic.dead_ends
        assert notes.llm_call_ids  # the bad exchange is still evidence


def test_llm_analyst_endpoint_down(server, make_settings):
    server.push({"status": 500}, {"status": 500}, {"status": 500})
    settings = make_settings()
    notes = LLMAnalyst(LLMClient(settings), settings).analyse(analysis_request())
    assert notes.error.startswith("llm_error") and notes.improvements == [2, 7]

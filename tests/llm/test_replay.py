"""Replay: a recorded run's LLM exchanges answer the same requests without any endpoint."""

from __future__ import annotations

import time

import pytest
from llm_support import PROGRAM
from test_proposer import GOOD_DIFF, request

from syslab.agents.llm import LLMClient, MemoryRecorder, StoreRecorder
from syslab.agents.llm_config import ModelSpec
from syslab.agents.proposer import LLMProposer
from syslab.agents.replay import ReplayClient, ReplayMismatch
from syslab.artifacts.schema import Manifest
from syslab.artifacts.store import RunStore

ANSWERS = [
    {"text": GOOD_DIFF},
    {"text": "no idea"},
    {"status": 500},
    {"status": 500},
    {"status": 500},
    {"text": "Change: copy\n```python\ndef schedule(jobs):\n    return list(jobs)\n```"},
]


def record_session(settings, client):
    prop = LLMProposer(client, settings)
    out = []
    for seed in (11, 12, 13, 14):
        p = prop.propose(request(seed=seed))
        prop.observe(p, 1.0 if p.failure is None else 0.0)
        out.append(p)
    return out


def comparable(p):
    return (p.code, p.operator, p.note, p.model, p.failure, p.raw_response, p.cost_usd, p.tokens)


def test_replay_returns_identical_proposals(server, make_settings):
    server.push(*ANSWERS)
    settings = make_settings(models=[ModelSpec(name="a", price_in_per_mtok=3.0), ModelSpec(name="b")])
    rec = MemoryRecorder()
    live = LLMClient(settings, rec)
    original = record_session(settings, live)
    assert [p.failure.kind.value if p.failure else "ok" for p in original] == [
        "ok",
        "malformed_response",
        "llm_error",
        "ok",
    ]
    n_requests = len(server.chat_requests())
    replay_rec = MemoryRecorder()
    client = ReplayClient(rec.entries, replay_rec)
    replayed = record_session(settings, client)
    assert [comparable(p) for p in replayed] == [comparable(p) for p in original]
    assert len(server.chat_requests()) == n_requests  # nothing went to the endpoint
    assert client.remaining() == 0
    assert client.usage_by_model() == live.usage_by_model()  # spend is replayed from the records
    assert [c.error for c, _, _ in replay_rec.entries] == [c.error for c, _, _ in rec.entries]


def test_replay_in_a_different_order_matches_by_prompt(server, make_settings):
    server.responder = lambda body: {
        "text": f"Change: seed {body['seed']}\n```python\nX = {body['seed']}\n```"
    }
    settings = make_settings()
    rec = MemoryRecorder()
    prop = LLMProposer(LLMClient(settings, rec), settings)
    first = {s: prop.propose(request(seed=s)).code for s in (1, 2, 3)}
    replay = LLMProposer(ReplayClient(rec.entries), settings)
    assert {s: replay.propose(request(seed=s)).code for s in (3, 1, 2)} == first


def test_replay_mismatch_names_the_request(server, make_settings):
    server.push({"text": GOOD_DIFF})
    settings = make_settings()
    rec = MemoryRecorder()
    LLMProposer(LLMClient(settings, rec), settings).propose(request(seed=1))
    replay = LLMProposer(ReplayClient(rec.entries), settings)
    with pytest.raises(
        ReplayMismatch, match=r"request #0 \(proposer\) matches no recorded exchange.*call id 1"
    ):
        replay.propose(request(seed=2))
    replay.propose(request(seed=1))
    with pytest.raises(ReplayMismatch, match=r"request #2 .*used up"):
        replay.propose(request(seed=1))


def test_replay_from_a_run_store(server, make_settings, tmp_path):
    server.push({"text": GOOD_DIFF}, {"text": "garbage"})
    settings = make_settings()
    man = Manifest(
        syslab_version="0", run_id="r", task_name="toy", task_dir=str(tmp_path), task_hash="0", seed=0,
        config={}, platform={}, isolation={}, created_at=time.time(),
    )  # fmt: skip
    store = RunStore.create(tmp_path / "run", man)
    original = [
        LLMProposer(LLMClient(settings, StoreRecorder(store)), settings).propose(request(seed=s))
        for s in (5, 6)
    ]
    calls = store.llm_calls()
    assert [c.id for c in calls] == [1, 2] and store.get_blob(calls[1].response_sha).decode() == "garbage"
    assert original[0].llm_call_ids == [1]
    store.close()
    src = RunStore.open(tmp_path / "run", readonly=True)
    client = ReplayClient.from_store(src)
    src.close()
    replay = LLMProposer(client, settings)
    assert [comparable(replay.propose(request(seed=s))) for s in (5, 6)] == [comparable(p) for p in original]
    assert original[0].code is not None and PROGRAM != original[0].code

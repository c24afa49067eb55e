"""LLMClient against a real OpenAI-protocol HTTP server on 127.0.0.1, through the openai SDK."""

from __future__ import annotations

import json
import threading
import time

import pytest

from syslab.agents.llm import (
    LLMClient,
    LLMError,
    MemoryRecorder,
    retry_after_seconds,
    sha256_text,
    total_usage,
)
from syslab.agents.llm_config import ModelSpec

MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "say hi"}]


def test_success_records_prompt_response_usage_and_cost(server, make_settings):
    server.push({"text": "hi there", "usage": {"prompt_tokens": 1000, "completion_tokens": 500}})
    rec = MemoryRecorder()
    client = LLMClient(make_settings(), rec)
    result = client.chat(MSGS, "model-a", seed=7)
    assert result.text == "hi there"
    assert (result.prompt_tokens, result.completion_tokens, result.attempts) == (1000, 500, 1)
    assert result.cost_usd == pytest.approx((1000 * 1.0 + 500 * 4.0) / 1e6)
    call, prompt, response = rec.entries[0]
    assert result.call_id == call.id == 1
    assert response == "hi there" and call.error is None
    assert json.loads(prompt)["messages"] == MSGS and json.loads(prompt)["seed"] == 7
    assert call.prompt_sha == sha256_text(prompt) and call.response_sha == sha256_text("hi there")
    sent = server.chat_requests()[0]["body"]
    assert sent["messages"] == MSGS and sent["model"] == "model-a" and sent["seed"] == 7
    usage = client.usage_by_model()["model-a"]
    assert usage["tokens"] == 1500 and usage["calls"] == 1 and usage["errors"] == 0
    assert total_usage(client.usage_by_model()) == (1500, pytest.approx(0.003))


def test_429_retry_after_is_honoured(server, make_settings):
    server.push({"status": 429, "headers": {"Retry-After": "1"}}, {"text": "ok"})
    rec = MemoryRecorder()
    client = LLMClient(make_settings(), rec)
    result = client.chat(MSGS, "model-a")
    reqs = server.chat_requests()
    assert result.text == "ok" and result.attempts == 2 and len(reqs) == 2
    gap = reqs[1]["t"] - reqs[0]["t"]
    assert 0.95 <= gap < 3.0, f"waited {gap:.2f}s, server asked for 1s"
    call = rec.entries[0][0]
    assert call.attempts == 2 and call.error is None
    # The call succeeded, and the 429 before it is still on record.
    assert len(call.attempt_errors) == 1 and "429" in call.attempt_errors[0]


def test_500_then_success(server, make_settings):
    server.push({"status": 500}, {"status": 503}, {"text": "recovered"})
    client = LLMClient(make_settings(max_retries=3))
    result = client.chat(MSGS, "model-a")
    assert result.text == "recovered" and result.attempts == 3


def test_hung_response_hits_timeout_and_is_recorded(server, make_settings):
    server.push({"delay": 3.0, "text": "late"}, {"delay": 3.0, "text": "late"})
    rec = MemoryRecorder()
    client = LLMClient(make_settings(timeout_s=0.5, max_retries=1), rec)
    t0 = time.monotonic()
    with pytest.raises(LLMError) as err:
        client.chat(MSGS, "model-a")
    assert time.monotonic() - t0 < 2.5
    call, _, response = rec.entries[0]
    assert err.value.call_id == call.id and response is None
    assert call.attempts == 2 and call.error.count("timeout") == 2
    assert client.usage_by_model()["model-a"]["errors"] == 1


def test_retries_exhausted_and_non_retryable(server, make_settings):
    server.push({"status": 500}, {"status": 500}, {"status": 500}, {"status": 401, "message": "bad key"})
    client = LLMClient(make_settings(max_retries=2))
    with pytest.raises(LLMError, match="attempt 3: HTTP 500"):
        client.chat(MSGS, "model-a")
    with pytest.raises(LLMError, match="HTTP 401") as err:
        client.chat(MSGS, "model-a")
    assert "attempt 2" not in err.value.message  # 401 is not retried
    assert len(server.chat_requests()) == 4


def test_connection_drop_is_retried(server, make_settings):
    server.push({"close": True}, {"text": "after drop"})
    result = LLMClient(make_settings()).chat(MSGS, "model-a")
    assert result.text == "after drop" and result.attempts == 2


def test_concurrency_is_bounded(server, make_settings):
    server.responder = lambda body: {"delay": 0.2, "text": "x"}
    client = LLMClient(make_settings(concurrency=2))
    threads = [threading.Thread(target=client.chat, args=(MSGS, "model-a")) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.max_in_flight == 2
    assert client.usage_by_model()["model-a"]["calls"] == 6


def test_usage_by_model_and_price_table(server, make_settings):
    server.responder = lambda body: {"text": "x", "usage": {"prompt_tokens": 100, "completion_tokens": 10}}
    models = [
        ModelSpec(name="cheap", price_in_per_mtok=0.1),
        ModelSpec(name="dear", price_out_per_mtok=100.0),
    ]
    client = LLMClient(make_settings(models=models))
    client.chat(MSGS, "cheap")
    client.chat(MSGS, "dear")
    client.chat(MSGS, "dear")
    usage = client.usage_by_model()
    assert usage["cheap"]["cost_usd"] == pytest.approx(100 * 0.1 / 1e6)
    assert usage["dear"]["cost_usd"] == pytest.approx(2 * 10 * 100.0 / 1e6)
    assert usage["dear"]["calls"] == 2 and usage["dear"]["tokens"] == 220


def test_retry_after_header_forms():
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= retry_after_seconds({"retry-after": date}) <= 31
    assert retry_after_seconds({}) is None


def test_embeddings_through_the_same_client(server, make_settings):
    client = LLMClient(make_settings())
    vecs = client.embed(["abc", "xyz xyz"], "model-a")
    assert len(vecs) == 2 and len(vecs[0]) == 8 and vecs[0] != vecs[1]
    assert server.requests[-1]["path"].endswith("/embeddings")

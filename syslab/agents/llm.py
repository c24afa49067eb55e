"""OpenAI-compatible chat client: timeouts, recorded retries, bounded concurrency, usage and cost.

The SDK's own retries are switched off (`max_retries=0`) so that every
retry, its reason and its wait are ours and end up in the recorded
`LLMCall` (attempts, latency, error). Every call - successful or not - is
handed to a `Recorder` with the full request (messages JSON) and the raw
response text, which the run stores as evidence blobs.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import openai
from pydantic import BaseModel

from syslab.agents.llm_config import LLMSettings
from syslab.artifacts.schema import LLMCall

Messages = list[dict[str, str]]


class Recorder(Protocol):
    """Stores one LLM exchange; returns the recorded call id."""

    def record(self, call: LLMCall, prompt: str, response: str | None) -> int: ...


class MemoryRecorder:
    """Keeps exchanges in memory (tests, and runs without a store)."""

    def __init__(self) -> None:
        self.entries: list[tuple[LLMCall, str, str | None]] = []
        self._lock = threading.Lock()

    def record(self, call: LLMCall, prompt: str, response: str | None) -> int:
        with self._lock:
            call = call.model_copy(update={"id": len(self.entries) + 1})
            self.entries.append((call, prompt, response))
            return call.id  # type: ignore[return-value]


class StoreRecorder:
    """Adapter onto the run store: prompt/response become evidence blobs, the call a row."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def record(self, call: LLMCall, prompt: str, response: str | None) -> int:
        prompt_sha = self.store.put_blob(prompt)
        response_sha = self.store.put_blob(response) if response is not None else None
        call = call.model_copy(update={"prompt_sha": prompt_sha, "response_sha": response_sha})
        return int(self.store.add_llm_call(call))


class LLMResult(BaseModel):
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    attempts: int = 1
    call_id: int | None = None


class LLMError(Exception):
    """The endpoint could not answer (after retries, or a non-retryable error)."""

    def __init__(self, message: str, call_id: int | None = None, model: str | None = None):
        super().__init__(message)
        self.message = message
        self.call_id = call_id
        self.model = model


class ChatClient(Protocol):
    """What the agents need from a client: LLMClient and ReplayClient both provide it."""

    def chat(
        self,
        messages: Messages,
        model: str,
        *,
        role: str = "proposer",
        node_id: int | None = None,
        seed: int | None = None,
    ) -> LLMResult: ...

    def usage_by_model(self) -> dict[str, dict[str, float]]: ...


def prompt_text(model: str, messages: Messages, temperature: float, max_tokens: int, seed: int | None) -> str:
    """The canonical request text stored as evidence; its sha256 identifies the prompt on replay."""
    body = {
        "model": model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "seed": seed,
    }
    return json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` / `Retry-After` (seconds or an HTTP date), if present."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


def _classify(err: Exception) -> tuple[bool, str, float | None]:
    """(retryable, short reason, server-requested wait) for an SDK exception."""
    if isinstance(err, openai.APITimeoutError):
        return True, "timeout", None
    if isinstance(err, openai.APIConnectionError):
        return True, f"connection error: {err}", None
    if isinstance(err, openai.APIStatusError):
        status = err.status_code
        wait = retry_after_seconds(getattr(err.response, "headers", None))
        retryable = status in (408, 409, 429) or status >= 500
        body = str(err.message)[:200]
        return retryable, f"HTTP {status}: {body}", wait
    return False, f"{type(err).__name__}: {err}", None


class UsageMeter:
    def __init__(self) -> None:
        self.by_model: dict[str, dict[str, float]] = {}
        self.lock = threading.Lock()

    def add(self, model: str, prompt_tokens: int, completion_tokens: int, cost: float, ok: bool) -> None:
        with self.lock:
            row = self.by_model.setdefault(
                model,
                {"calls": 0, "errors": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0},
            )
            row["calls"] += 1
            row["errors"] += 0 if ok else 1
            row["prompt_tokens"] += prompt_tokens
            row["completion_tokens"] += completion_tokens
            row["cost_usd"] += cost

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self.lock:
            return {
                m: {**row, "tokens": row["prompt_tokens"] + row["completion_tokens"]}
                for m, row in self.by_model.items()
            }


def total_usage(usage: dict[str, dict[str, float]]) -> tuple[int, float]:
    """(tokens, usd) summed over models, for budget checks."""
    return int(sum(r.get("tokens", 0) for r in usage.values())), float(
        sum(r.get("cost_usd", 0.0) for r in usage.values())
    )


class LLMClient:
    """Chat completions against any OpenAI-compatible endpoint."""

    def __init__(
        self,
        settings: LLMSettings,
        recorder: Recorder | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        sdk_client: Any = None,
    ) -> None:
        self.settings = settings
        self.recorder = recorder or MemoryRecorder()
        self._sleep = sleep
        self._rng = rng or random.Random(0)  # jitter only; does not affect results
        self._sem = threading.BoundedSemaphore(settings.concurrency)
        self._usage = UsageMeter()
        self._sdk = sdk_client or openai.OpenAI(
            base_url=settings.resolved_base_url(),
            # Local servers need no key, but the SDK insists on one.
            api_key=settings.resolved_api_key() or "sk-no-key",
            timeout=settings.timeout_s,
            max_retries=0,
        )

    def usage_by_model(self) -> dict[str, dict[str, float]]:
        """{model: {calls, errors, prompt_tokens, completion_tokens, tokens, cost_usd}}."""
        return self._usage.snapshot()

    def _backoff(self, retry_index: int, server_wait: float | None) -> float:
        s = self.settings
        if server_wait is not None:
            return min(server_wait, s.retry_after_max_s)
        base = min(s.backoff_max_s, s.backoff_s * (2**retry_index))
        return base * (0.5 + 0.5 * self._rng.random())  # jitter spreads retries of parallel callers

    def _with_retries(self, fn: Callable[[], Any]) -> tuple[Any, int, list[str]]:
        """(fn's value or None, attempts made, one reason per failed attempt), inside the concurrency bound."""
        attempts, reasons = 0, []
        with self._sem:
            while True:
                attempts += 1
                try:
                    return fn(), attempts, reasons
                except Exception as e:  # noqa: BLE001 - every failure is classified and recorded
                    retryable, reason, wait = _classify(e)
                    reasons.append(f"attempt {attempts}: {reason}")
                    if not retryable or attempts > self.settings.max_retries:
                        return None, attempts, reasons
                    delay = self._backoff(attempts - 1, wait)
                    reasons[-1] += f" (retry in {delay:.2f}s)"
                    self._sleep(delay)

    def embed(self, texts: list[str], model: str) -> list[list[float]]:
        """Embedding vectors (e.g. for novelty search), with the same retries; usage is counted."""
        resp, _, reasons = self._with_retries(lambda: self._sdk.embeddings.create(model=model, input=texts))
        if resp is None:
            self._usage.add(model, 0, 0, 0.0, ok=False)
            raise LLMError(f"{model}: {'; '.join(reasons)}", model=model)
        tokens = int(getattr(getattr(resp, "usage", None), "prompt_tokens", 0) or 0)
        spec = self.settings.model_spec(model)
        self._usage.add(model, tokens, 0, spec.cost(tokens, 0) if spec else 0.0, ok=True)
        return [list(d.embedding) for d in sorted(resp.data, key=lambda d: d.index)]

    def chat(
        self,
        messages: Messages,
        model: str,
        *,
        role: str = "proposer",
        node_id: int | None = None,
        seed: int | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> LLMResult:
        """One chat completion, retried on transient errors; raises LLMError when it gives up."""
        s = self.settings
        temp = s.temperature if temperature is None else temperature
        mtok = s.max_tokens if max_tokens is None else max_tokens
        prompt = prompt_text(model, messages, temp, mtok, seed)
        started = time.time()
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "temperature": temp,
            "max_tokens": mtok,
        }
        if seed is not None:
            kwargs["seed"] = seed
        value, attempts, reasons = self._with_retries(
            lambda: _response_text(self._sdk.chat.completions.create(**kwargs))
        )
        text, usage = value if value is not None else (None, (0, 0))
        latency = time.time() - started
        spec = s.model_spec(model)
        cost = spec.cost(*usage) if spec else 0.0
        error = None if text is not None else "; ".join(reasons)
        call = LLMCall(
            node_id=node_id,
            role=role,
            model=model,
            prompt_sha=sha256_text(prompt),
            response_sha=sha256_text(text) if text is not None else None,
            prompt_tokens=usage[0],
            completion_tokens=usage[1],
            cost_usd=cost,
            latency_s=latency,
            error=error,
            attempts=attempts,
            attempt_errors=reasons,
            created_at=started,
        )
        call_id = self.recorder.record(call, prompt, text)
        self._usage.add(model, usage[0], usage[1], cost, ok=text is not None)
        if text is None:
            raise LLMError(f"{model}: {error}", call_id=call_id, model=model)
        return LLMResult(
            text=text,
            model=model,
            prompt_tokens=usage[0],
            completion_tokens=usage[1],
            cost_usd=cost,
            latency_s=latency,
            attempts=attempts,
            call_id=call_id,
        )


def _response_text(resp: Any) -> tuple[str, tuple[int, int]]:
    """Text of the first choice and (prompt, completion) tokens; a response without choices is an error."""
    choices = getattr(resp, "choices", None) or []
    if not choices:
        raise ValueError("response has no choices")
    content = choices[0].message.content or ""
    u = getattr(resp, "usage", None)
    tokens = (
        (int(getattr(u, "prompt_tokens", 0) or 0), int(getattr(u, "completion_tokens", 0) or 0))
        if u
        else (0, 0)
    )
    return content, tokens

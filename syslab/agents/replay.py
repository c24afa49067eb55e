"""ReplayClient: answers a run's LLM requests from a finished run's recorded exchanges.

Same seed + same recorded responses = same run. Requests are matched to
recordings by a key over the messages and the request seed (not the
model: the proposal threads may choose models in a different order, and
the answer reports the model that was recorded). Each recording is used
once, earliest first. A recording whose prompt blob is missing falls back
to order (the next unused call of the same role). A request with no
recording is a clear error naming the request index: the task, config or
code changed since the run was recorded.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from syslab.agents.llm import LLMError, LLMResult, MemoryRecorder, Messages, Recorder, UsageMeter, prompt_text
from syslab.artifacts.schema import LLMCall
from syslab.errors import SyslabError


class ReplayMismatch(SyslabError):
    """The replayed run asked for something the recorded run never asked."""


def replay_key(messages: Any, seed: Any) -> str:
    return hashlib.sha256(
        json.dumps({"messages": messages, "seed": seed}, sort_keys=True).encode()
    ).hexdigest()


@dataclass
class ReplayEntry:
    call: LLMCall
    prompt: str | None  # the recorded request JSON (None if its blob is missing)
    response: str | None
    key: str | None = None
    used: bool = False


class ReplayClient:
    """Drop-in for LLMClient (`chat`, `usage_by_model`) that never touches the network."""

    def __init__(
        self, entries: list[tuple[LLMCall, str | None, str | None]], recorder: Recorder | None = None
    ):
        self.entries: list[ReplayEntry] = []
        for call, prompt, response in entries:
            key = None
            if prompt is not None:
                try:
                    body = json.loads(prompt)
                    key = replay_key(body["messages"], body.get("seed"))
                except (ValueError, KeyError, TypeError):
                    key = None
            self.entries.append(ReplayEntry(call, prompt, response, key))
        self.recorder = recorder or MemoryRecorder()
        self._lock = threading.Lock()
        self._usage = UsageMeter()
        self.requests = 0

    @classmethod
    def from_store(cls, store: Any, recorder: Recorder | None = None) -> ReplayClient:
        """Build from a RunStore (its llm_calls in id order, prompts/responses from its blobs)."""
        rows: list[tuple[LLMCall, str | None, str | None]] = []
        for call in store.llm_calls():
            rows.append((call, _blob_text(store, call.prompt_sha), _blob_text(store, call.response_sha)))
        return cls(rows, recorder)

    def usage_by_model(self) -> dict[str, dict[str, float]]:
        return self._usage.snapshot()

    def remaining(self) -> int:
        return sum(1 for e in self.entries if not e.used)

    def _take(self, key: str, role: str) -> tuple[int, ReplayEntry]:
        with self._lock:
            index = self.requests
            self.requests += 1
            for e in self.entries:
                if not e.used and e.key == key:
                    e.used = True
                    return index, e
            nxt = next((e for e in self.entries if not e.used and e.call.role == role), None)
            if nxt is not None and nxt.key is None:
                nxt.used = True
                return index, nxt
        expected = (
            f"the next unused recording is call id {nxt.call.id} ({nxt.call.model}, {nxt.call.role})"
            if nxt is not None
            else f"all {len(self.entries)} recorded {role} calls are used up"
        )
        raise ReplayMismatch(
            f"replay: request #{index} ({role}) matches no recorded exchange; {expected}. "
            "The task, config or syslab version differs from the recorded run."
        )

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
        _, entry = self._take(replay_key(messages, seed), role)
        rec = entry.call
        prompt = entry.prompt or prompt_text(rec.model, messages, temperature or 0.0, max_tokens or 0, seed)
        call = rec.model_copy(update={"id": None, "node_id": node_id})  # same tokens, cost, error, attempts
        call_id = self.recorder.record(call, prompt, entry.response)
        self._usage.add(
            rec.model, rec.prompt_tokens, rec.completion_tokens, rec.cost_usd, ok=entry.response is not None
        )
        if entry.response is None:
            raise LLMError(f"{rec.model}: {rec.error or 'no response'}", call_id=call_id, model=rec.model)
        return LLMResult(
            text=entry.response,
            model=rec.model,
            prompt_tokens=rec.prompt_tokens,
            completion_tokens=rec.completion_tokens,
            cost_usd=rec.cost_usd,
            latency_s=rec.latency_s,
            attempts=rec.attempts,
            call_id=call_id,
        )


def _blob_text(store: Any, sha: str | None) -> str | None:
    if not sha:
        return None
    try:
        data = store.get_blob(sha)
    except (OSError, KeyError, ValueError, SyslabError):
        return None
    return data.decode("utf-8") if isinstance(data, bytes) else str(data)


# What a replay takes from the recorded run, never from today's flags: they shape the requests.
RECORDED_FLAGS = ("seed", "budget", "wall_time", "config", "set", "proposer", "llm", "adrs_problem")


def recorded_setup(replay_dir: Any, task_dir: Any, given: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(task dir, config data) of the run to replay: the recorded run's task, seed and config.

    `given` holds the flags the user passed (None / empty when not): one that would change what
    the replay asks for is an error naming it, not silently overridden."""
    from pathlib import Path

    from syslab.artifacts.store import RunStore

    with RunStore.open(replay_dir, readonly=True) as src:
        man = src.manifest
    for flag in RECORDED_FLAGS:
        if given.get(flag):
            raise SyslabError(
                f"--replay takes the seed, budget and config from the recorded run ({man.run_id}): "
                f"drop --{flag.replace('_', '-')}"
            )
    recorded = Path(man.task_dir)
    if task_dir is not None and Path(task_dir).resolve() != recorded.resolve():
        raise SyslabError(
            f"--replay: the recorded run evaluated {recorded}; omit TASK or pass that directory"
        )
    if not (recorded / "task.toml").is_file():
        raise SyslabError(
            f"{recorded}: the recorded run's task dir has no task.toml (moved?): pass it as TASK"
        )
    data = {k: v for k, v in man.config.items() if k not in ("out", "run_name", "progress", "replay")}
    return recorded, data

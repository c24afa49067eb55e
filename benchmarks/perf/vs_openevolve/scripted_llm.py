"""The benchmark's LLM: an OpenAI-compatible endpoint on 127.0.0.1 that answers at once, from a script.

It serves both frameworks (it reuses tests/llm/scripted_server.py for the HTTP side). Every
proposal request gets a valid SEARCH/REPLACE edit of the parent program shown in the
prompt: the line holding the task's knob constant, with the constant set to a value taken
from a counter, so every answer yields a distinct, valid candidate and neither framework
short-circuits (syslab rejects duplicates; OpenEvolve rejects a diff that changes nothing).
syslab's analyst requests get a small valid JSON note.

Both frameworks show the parent under a "# Current program" heading followed by a fenced
code block (syslab: "# Current program (node N)"; OpenEvolve: "# Current Program"), which
is where the knob line is read from; other programs in the prompt hold other values.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[3]
SERVER_FILE = ROOT / "tests" / "llm" / "scripted_server.py"

PARENT_HEADING = re.compile(r"^# Current [Pp]rogram(?: \(node \d+\))?[ \t]*$", re.MULTILINE)
FENCE = re.compile(r"^```[\w+-]*[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# One pattern per benchmark task: the line whose constant the answers change.
KNOBS = (
    # examples/bin_packing/seed.py: the awkward-gap weight (0.0 in the seed: plain best fit)
    re.compile(
        r"^(?P<pre>[ \t]*score = score - )(?P<val>[-+0-9.eE]+)(?P<post> \* item \* awkward_gap)[ \t]*$", re.M
    ),
    # vs_openevolve/trivial/seed.py
    re.compile(r"^(?P<pre>K = )(?P<val>[-+0-9.eE]+)(?P<post>)[ \t]*$", re.MULTILINE),
)
ANALYST_NOTE = {
    "hypotheses": ["scripted benchmark run: the knob value barely matters"],
    "dead_ends": [],
    "guidance": "Keep changing the knob.",
}


class LLMStats(BaseModel):
    """What the endpoint answered during one run."""

    proposals: int = 0
    analyst: int = 0
    unparsed: int = 0  # requests with no parent program or no knob line (should stay 0)
    answer_ms_max: float = 0.0  # time the server spent building an answer (not the HTTP round trip)


def _load_server_class() -> Any:
    spec = importlib.util.spec_from_file_location("syslab_bench_scripted_server", SERVER_FILE)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {SERVER_FILE}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ScriptedServer


def parent_program(prompt: str) -> str | None:
    """The code block under the last "# Current program" heading of a prompt."""
    headings = list(PARENT_HEADING.finditer(prompt))
    if not headings:
        return None
    fence = FENCE.search(prompt, headings[-1].end())
    return fence.group(1) if fence else None


def knob_edit(parent: str, value: str) -> str | None:
    """A SEARCH/REPLACE answer setting the parent's knob to `value`, or None if it has no knob."""
    for pattern in KNOBS:
        m = pattern.search(parent)
        if m:
            old = m.group(0)
            new = f"{m.group('pre')}{value}{m.group('post')}"
            return (
                f"Change: set the knob to {value} (scripted benchmark answer).\n\n"
                f"<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n"
            )
    return None


class Responder:
    """Builds each answer from the request; thread-safe (the server answers on several threads)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)  # 0 would print as the seed's own value
        self._lock = threading.Lock()
        self.stats = LLMStats()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        messages = body.get("messages") or []
        system = next((str(m.get("content", "")) for m in messages if m.get("role") == "system"), "")
        prompt = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") != "system")
        if system.startswith("You are the analyst"):
            text, kind = json.dumps(ANALYST_NOTE), "analyst"
        else:
            with self._lock:
                n = next(self._counter)
            parent = parent_program(prompt)
            answer = knob_edit(parent, f"{n / 10000:.4f}") if parent is not None else None
            text, kind = (answer, "proposals") if answer else ("no parent program found", "unparsed")
        ms = (time.perf_counter() - t0) * 1000
        with self._lock:
            setattr(self.stats, kind, getattr(self.stats, kind) + 1)
            self.stats.answer_ms_max = max(self.stats.answer_ms_max, ms)
        return {"text": text}


class ScriptedLLM:
    """Context manager: a fresh scripted endpoint for one run; `base_url` and `stats` while it is up."""

    def __init__(self) -> None:
        self.responder = Responder()
        self._server = _load_server_class()(responder=self.responder)

    def __enter__(self) -> ScriptedLLM:
        self._server.__enter__()
        # Headers and body go out in two writes; with Nagle on, the body waits for the client's
        # delayed ACK (~40 ms a call), which would be the LLM latency of every proposal.
        self._server._httpd.RequestHandlerClass.disable_nagle_algorithm = True
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def stats(self) -> LLMStats:
        return self.responder.stats.model_copy()

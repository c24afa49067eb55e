"""The trusted side's handle to a candidate running in its own sandboxed process.

An evaluator written for split evaluation takes a `Candidate` instead of a path:

    def evaluate(candidate: Candidate) -> dict:
        priority = candidate.function("priority")      # a remote function
        scores = priority(item, bins)                   # plain data in, plain data out
        strategy = candidate.new("make_strategy", 48.0) # a remote object (stateful policy)
        decision = strategy.step(observation)

Every reply is decoded from bytes into fresh builtin objects (or numpy
arrays); non-finite numbers are refused unless the task allows them. A
candidate fault becomes a `CandidateError` (a `CandidateRejected`, so an
evaluator that does not catch it fails the candidate with the right kind).
Time spent waiting for the candidate is measured here, on the trusted clock.
"""

from __future__ import annotations

import time
from typing import Any

from syslab.evaluators.channel import Channel, ChannelClosed, ChannelTimeout, MessageTooLarge
from syslab.evaluators.codec import DecodeError, EncodeError, decode, encode
from syslab.evaluators.failures import CandidateRejected, FailureKind

CANDIDATE_KINDS = {
    "syntax",
    "import",
    "runtime",
    "timeout",
    "memory",
    "invalid_output",
    "wrong_answer",
    "sandbox_violation",
}


class CandidateError(CandidateRejected):
    """The candidate failed a call (raised, returned something that is not allowed, or died)."""

    def __init__(self, kind: str, message: str, traceback: str = "", gone: bool = False):
        super().__init__(message)
        self.kind = FailureKind(kind if kind in CANDIDATE_KINDS else "runtime")
        self.message = message
        self.traceback = traceback
        self.gone = gone  # the candidate process ended: the host knows why (memory, CPU, signal)


class Candidate:
    """A connection to the candidate process; see the module docstring."""

    def __init__(self, channel: Channel, source: str, *, allow_nonfinite: bool = False):
        self.source = source  # the program's code, as evaluated (a trusted copy)
        self._chan = channel
        self._finite = not allow_nonfinite
        self._generation = 0  # bumped by reload(): bound functions re-bind
        self.calls = 0
        self.elapsed_s = 0.0  # trusted-clock time spent waiting for the candidate
        self.timeout_s: float | None = None  # per-call limit, if the evaluator wants one
        self.gone = False

    # -- the raw request -------------------------------------------------------------------

    def _request(self, msg: tuple) -> Any:
        if self.gone:
            raise CandidateError("runtime", "the candidate process has ended", gone=True)
        try:
            payload = encode(msg)
        except EncodeError as e:
            raise TypeError(f"evaluator tried to send something that is not plain data: {e}") from None
        start = time.perf_counter()
        try:
            self._chan.send(payload)
            data = self._chan.recv(self.timeout_s)
        except ChannelClosed:
            self.gone = True
            raise CandidateError("runtime", "the candidate process ended during a call", gone=True) from None
        except ChannelTimeout:
            self.gone = True  # the reply may still come; the channel is out of step from here on
            raise CandidateError("timeout", f"no reply within {self.timeout_s:g} s") from None
        except MessageTooLarge as e:
            self.gone = True
            raise CandidateError("invalid_output", f"candidate reply too large: {e}") from None
        finally:
            self.elapsed_s += time.perf_counter() - start
            self.calls += 1
        try:
            reply = decode(data, allow_nonfinite=not self._finite)
        except DecodeError as e:
            raise CandidateError("invalid_output", f"candidate returned a value that is not allowed: {e}") from None
        if type(reply) is tuple and len(reply) == 2 and reply[0] == "ok":
            return reply[1]
        if type(reply) is tuple and len(reply) == 4 and reply[0] == "err" and type(reply[1]) is str:
            message = reply[2] if type(reply[2]) is str else "(no message)"
            trace = reply[3] if type(reply[3]) is str else ""
            raise CandidateError(reply[1], message, trace)
        raise CandidateError("invalid_output", "malformed reply from the candidate process")

    def _ready(self, adapter: str | None) -> None:
        """Send the program (and the task's adapter); raise CandidateError if it does not load."""
        self._request(("init", self.source, adapter))

    # -- what evaluators use ---------------------------------------------------------------

    def function(self, name: str) -> RemoteFunction:
        """A callable for the program's (or the task adapter's) function `name`; InvalidOutput-kind
        CandidateError if there is none."""
        return RemoteFunction(self, name)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.function(name)(*args, **kwargs)

    def new(self, name: str, *args: Any, **kwargs: Any) -> RemoteObject:
        """Call factory `name` and keep its result in the candidate process as a remote object."""
        fid = self._request(("bind", name))
        return RemoteObject(self, self._request(("new", fid, args, kwargs)), self._generation)

    def has(self, name: str) -> bool:
        return bool(self._request(("has", name)))

    def get(self, name: str) -> Any:
        """A module-level value of the program (plain data), e.g. a NAME constant."""
        return self._request(("get", name))

    def reload(self) -> None:
        """Fresh module state: run the program (and adapter) again; remote objects are dropped."""
        self._request(("reload",))
        self._generation += 1

    def close(self) -> None:
        if not self.gone:
            try:
                self._chan.send(encode(("bye",)))
            except (ChannelClosed, OSError):
                pass
        self.gone = True


class RemoteFunction:
    """A function in the candidate process; calling it sends plain data and returns plain data."""

    __slots__ = ("_cand", "name", "_fid", "_gen")

    def __init__(self, cand: Candidate, name: str):
        self._cand, self.name = cand, name
        self._fid = cand._request(("bind", name))
        self._gen = cand._generation

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        cand = self._cand
        if self._gen != cand._generation:
            self._fid = cand._request(("bind", self.name))
            self._gen = cand._generation
        return cand._request((self._fid, args, kwargs) if kwargs else (self._fid, args))

    def __repr__(self) -> str:
        return f"<remote function {self.name}>"


class RemoteObject:
    """An object kept in the candidate process (a strategy, a policy with state); methods by name."""

    def __init__(self, cand: Candidate, oid: int, generation: int):
        self._cand, self._oid, self._gen = cand, oid, generation
        self._methods: dict[str, int] = {}

    def method(self, name: str) -> RemoteMethod:
        return RemoteMethod(self, name)

    def _bound(self, name: str) -> int:
        if self._gen != self._cand._generation:
            raise CandidateError("runtime", "remote object used after the candidate was reloaded")
        fid = self._methods.get(name)
        if fid is None:
            fid = self._methods[name] = self._cand._request(("bindm", self._oid, name))
        return fid

    def __getattr__(self, name: str) -> RemoteMethod:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteMethod(self, name)

    def drop(self) -> None:
        self._cand._request(("drop", self._oid))


class RemoteMethod:
    __slots__ = ("_obj", "_fid")

    def __init__(self, obj: RemoteObject, name: str):
        self._obj = obj
        self._fid = obj._bound(name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        cand = self._obj._cand
        if self._obj._gen != cand._generation:
            raise CandidateError("runtime", "remote object used after the candidate was reloaded")
        return cand._request((self._fid, args, kwargs) if kwargs else (self._fid, args))

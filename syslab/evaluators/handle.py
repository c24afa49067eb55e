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

import os
import time
from collections.abc import Callable
from typing import Any

from syslab.evaluators import protocol
from syslab.evaluators.channel import Channel, ChannelClosed, ChannelTimeout, MessageTooLarge
from syslab.evaluators.codec import DecodeError, EncodeError
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


MAX_MESSAGE, MAX_TRACEBACK = 2000, 20_000
ID_LIMIT = 1 << 32  # function and object ids the candidate hands out are u32s on the wire


def _id(value: object, what: str) -> int:
    """An id the candidate process handed out, checked (it is the candidate's to forge)."""
    if type(value) is not int or not 0 <= value < ID_LIMIT:
        raise CandidateError("invalid_output", f"the candidate process answered {what} with {value!r:.60}")
    return value


class CandidateError(CandidateRejected):
    """The candidate failed a call (raised, returned something that is not allowed, or died)."""

    def __init__(self, kind: str, message: str, traceback: str = "", gone: bool = False):
        # The candidate writes these: keep what a person reads, not what it chose to send.
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + f" ... [{len(message) - MAX_MESSAGE} more characters]"
        if len(traceback) > MAX_TRACEBACK:
            traceback = "[...]\n" + traceback[-MAX_TRACEBACK:]
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
        # Wall-clock seconds the host allows the running stage (None where it is not told): an
        # evaluator that limits a call itself can give it more when the stage is allowed more.
        self.stage_timeout_s: float | None = None
        self.gone = False
        self._tokens, self._next = b"", 0  # request tokens: from os.urandom, drawn in batches
        self._adapter: str | None = None
        # Set by whoever owns the candidate's process (the trusted evaluator process, local.py):
        # start a fresh candidate process and return the channel to it.
        self._respawn: Callable[[], Channel] | None = None

    # -- the raw request -------------------------------------------------------------------

    def _op(self, *fields: Any) -> Any:
        token = self._token()
        return self._request(token, protocol.op(token, *fields), None)

    def _call(self, fid: int, args: tuple, kwargs: dict) -> Any:
        return self._request(self._token(), None, (fid, args, kwargs))

    def _token(self) -> bytes:
        """8 unpredictable bytes per request (a PRNG would not do: its state can be learned from the
        tokens the candidate sees, and then future requests' tokens predicted)."""
        i = self._next
        if i >= len(self._tokens):
            self._tokens, i = os.urandom(8 * 1024), 0
        self._next = i + 8
        return self._tokens[i : i + 8]

    def _request(self, token: bytes, payload: bytes | None, call: tuple | None) -> Any:
        if self.gone:
            raise CandidateError("runtime", "the candidate process has ended", gone=True)
        if payload is None:
            try:
                payload = protocol.call(token, *call)  # type: ignore[misc]
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
            good, value = protocol.read_reply(data, token, not self._finite)
        except DecodeError as e:
            if "does not answer" in str(e):
                self.gone = True  # a reply written ahead, or out of turn: the channel is out of step
            raise CandidateError(
                "invalid_output", f"candidate returned a value that is not allowed: {e}"
            ) from None
        if good:
            return value
        raise CandidateError(value[0], value[1], value[2])

    def _ready(self, adapter: str | None) -> None:
        """Send the program (and the task's adapter); raise CandidateError if it does not load."""
        self._adapter = adapter
        self._op("init", self.source, adapter)

    # -- what evaluators use ---------------------------------------------------------------

    def function(self, name: str) -> RemoteFunction:
        """A callable for the program's (or the task adapter's) function `name`; InvalidOutput-kind
        CandidateError if there is none."""
        return RemoteFunction(self, name)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.function(name)(*args, **kwargs)

    def new(self, name: str, *args: Any, **kwargs: Any) -> RemoteObject:
        """Call factory `name` and keep its result in the candidate process as a remote object."""
        fid = _id(self._op("bind", name), "a bind")
        return RemoteObject(self, _id(self._op("new", fid, args, kwargs), "a new object"), self._generation)

    def has(self, name: str) -> bool:
        return bool(self._op("has", name))

    def get(self, name: str) -> Any:
        """A module-level value of the program (plain data), e.g. a NAME constant."""
        return self._op("get", name)

    def reload(self) -> None:
        """Fresh module state: run the program (and adapter) again; remote objects are dropped."""
        self._op("reload")
        self._generation += 1

    def _map(self, fid: int, calls: Any) -> list:
        batch = [tuple(args) for args in calls]
        arity = len(batch[0]) if batch else 0
        if len(batch) > 1 and arity and all(len(args) == arity for args in batch):
            # Sent by argument position: a column of arrays crosses as one (codec T_ARRAYS).
            out = self._op("mapc", fid, [list(column) for column in zip(*batch, strict=True)])
        else:
            out = self._op("map", fid, batch)
        if type(out) is not list or len(out) != len(batch):
            raise CandidateError(
                "invalid_output", f"the candidate answered {len(batch)} calls with {out!r:.60}"
            )
        return out

    def restart(self) -> None:
        """A fresh candidate process with the program loaded again: nothing the old process saw or
        kept (module state, files, memory) reaches the new one. Use it before showing the
        candidate an input it has seen before in this evaluation (a trace replayed under another
        setting): a process that remembers it would know its future. Remote functions re-bind;
        remote objects of the old process are gone."""
        if self._respawn is None:
            raise RuntimeError("this candidate's process cannot be restarted here")
        self.close()
        self._chan.close()
        self._chan = self._respawn()
        self.gone = False
        self._generation += 1
        self._ready(self._adapter)

    def close(self) -> None:
        if not self.gone:
            try:
                self._chan.send(protocol.op(self._token(), "bye"))
            except (ChannelClosed, OSError):
                pass
        self.gone = True


class RemoteFunction:
    """A function in the candidate process; calling it sends plain data and returns plain data."""

    __slots__ = ("_cand", "name", "_fid", "_gen")

    def __init__(self, cand: Candidate, name: str):
        self._cand, self.name = cand, name
        self._fid = _id(cand._op("bind", name), "a bind")
        self._gen = cand._generation

    def _current(self) -> int:
        """The function's id in the candidate's current program (bound again after a reload)."""
        cand = self._cand
        if self._gen != cand._generation:
            self._fid = _id(cand._op("bind", self.name), "a bind")
            self._gen = cand._generation
        return self._fid

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._cand._call(self._current(), args, kwargs)

    def map(self, calls: Any) -> list:
        """One result per argument tuple in `calls`, in one round trip: for calls that do not
        depend on each other's results (each is still a call of the program's function)."""
        return self._cand._map(self._current(), calls)

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
            fid = self._methods[name] = _id(self._cand._op("bindm", self._oid, name), "a method bind")
        return fid

    def __getattr__(self, name: str) -> RemoteMethod:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteMethod(self, name)

    def drop(self) -> None:
        self._cand._op("drop", self._oid)


class RemoteMethod:
    __slots__ = ("_obj", "_fid")

    def __init__(self, obj: RemoteObject, name: str):
        self._obj = obj
        self._fid = obj._bound(name)

    def _live(self) -> Candidate:
        cand = self._obj._cand
        if self._obj._gen != cand._generation:
            raise CandidateError("runtime", "remote object used after the candidate was reloaded")
        return cand

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._live()._call(self._fid, args, kwargs)

    def map(self, calls: Any) -> list:
        """As RemoteFunction.map, for a method."""
        return self._live()._map(self._fid, calls)

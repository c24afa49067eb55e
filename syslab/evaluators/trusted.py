"""The trusted evaluator process: loads the task's evaluator, scores the candidate through a handle.

Started by the harness (host) once per evaluation:

    python -B -m syslab.evaluators.trusted     (SYSLAB_CONTROL_FD, SYSLAB_CHANNEL_FD or
                                                 SYSLAB_CHANNEL_LISTEN_FD in the environment)

It never imports or executes candidate code. The control channel to the host
(a socket the host created; the candidate has no way to it) carries JSON:

    host -> {"op": "init", "program": code, "adapter": code|null, "allow_nonfinite": bool,
             "task_dir": path, "connect_timeout_s": s}
    host -> {"op": "stage", "name": ..., "entry": "evaluate.py:evaluate", "fresh": bool}
    self -> {"kind": "ok", "raw": <evaluator's return value>, "channel": {...}}
          | {"kind": <failure kind>, "message": ..., "traceback": ..., "gone": bool}
    host -> {"op": "done"}

The init reply comes once the candidate has loaded the program (or failed
to); "fresh" reloads it before a later stage, so every stage starts from a
fresh module.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import socket
import sys
import traceback
from pathlib import Path
from typing import Any

from syslab.evaluators.channel import Channel, ChannelClosed
from syslab.evaluators.failures import CandidateRejected
from syslab.evaluators.handle import Candidate, CandidateError


def jsonable(value: Any) -> Any:
    """The evaluator's return value as JSON-able data (numpy scalars to floats; others described)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    try:
        return float(value)  # numpy scalars and other numbers
    except (TypeError, ValueError):
        return {"__unserializable__": f"{type(value).__name__}: {str(value)[:200]}"}


def _dumps(doc: dict) -> bytes:
    def fix(v: Any) -> Any:  # JSON has no inf/nan: send them as strings the host re-reads
        if isinstance(v, float) and not math.isfinite(v):
            return {"__float__": repr(v)}
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    return json.dumps(fix(doc)).encode()


class Evaluator:
    """One evaluation's trusted side: the candidate handle and the loaded evaluator modules."""

    def __init__(
        self,
        channel_spec: str | None,
        listen_fd: int | None,
        modules: dict[str, Any] | None = None,
        control: Channel | None = None,
    ):
        self.channel_spec, self.listen_fd, self.control = channel_spec, listen_fd, control
        self.init_doc: dict = {}
        self.candidate: Candidate | None = None
        self.load_error: CandidateError | None = None
        self.modules: dict[str, Any] = dict(modules or {})  # path -> module (a warm template's)
        self.task_dir = ""

    def init(self, doc: dict) -> None:
        self.task_dir = doc["task_dir"]
        if self.task_dir not in sys.path:
            sys.path.insert(0, self.task_dir)
        if self.listen_fd is not None:
            chan = Channel.accept(self.listen_fd, float(doc.get("connect_timeout_s", 60)))
        else:
            chan = Channel.from_spec(self.channel_spec or "")
        chan.max_bytes = int(doc.get("max_message_bytes") or chan.max_bytes)
        self.init_doc = doc
        self.candidate = Candidate(chan, doc["program"], allow_nonfinite=bool(doc.get("allow_nonfinite")))
        if self.control is not None:
            self.candidate._respawn = self._respawn
        self.candidate._ready(doc.get("adapter"))  # the program (and adapter) load, or CandidateError

    def _respawn(self) -> Channel:
        """Ask the host for a fresh candidate process; its channel's descriptors come back with the
        answer (SCM_RIGHTS on the control socket, the one message that is not a Channel frame)."""
        assert self.control is not None
        self.control.send(_dumps({"kind": "respawn"}))
        sock = socket.socket(fileno=os.dup(self.control.fd))
        try:
            msg, fds, _flags, _addr = socket.recv_fds(sock, 65536, 4)
        finally:
            sock.close()
        answer = json.loads(msg or b"{}")
        if "error" in answer or not fds:
            for fd in fds:
                os.close(fd)
            raise RuntimeError(f"the host could not start a fresh candidate process: {answer.get('error')}")
        timeout = float(self.init_doc.get("connect_timeout_s", 60))
        chan = (
            Channel.accept(fds[0], timeout)
            if answer.get("listening")
            else Channel.from_spec(",".join(map(str, fds)))
        )
        chan.max_bytes = int(self.init_doc.get("max_message_bytes") or chan.max_bytes)
        return chan

    def _function(self, entry: str) -> Any:
        file_part, name = entry.split(":", 1)
        path = str(Path(self.task_dir) / file_part)
        module = self.modules.get(path)
        if module is None:
            module = self.modules[path] = _load_module(path, len(self.modules))
        fn = getattr(module, name, None)
        if not callable(fn):
            raise LookupError(f"{file_part} has no function {name!r}")
        return fn

    def stage(self, doc: dict) -> dict:
        entry = doc["entry"]
        name = Path(entry.split(":", 1)[0]).name
        try:
            fn = self._function(entry)
        except SyntaxError as e:
            return _failure("evaluator_error", f"{name} line {e.lineno}: syntax error: {e.msg}")
        except LookupError as e:
            return _failure("evaluator_error", str(e))
        except BaseException as e:  # noqa: BLE001 - any failure to load the evaluator is its own
            return _failure("evaluator_error", f"{name}: cannot load: {type(e).__name__}: {e}")
        cand = self.candidate
        assert cand is not None
        calls0, elapsed0 = cand.calls, cand.elapsed_s
        timeout = doc.get("timeout_s")
        cand.stage_timeout_s = float(timeout) if isinstance(timeout, (int, float)) else None
        try:
            if doc.get("fresh"):
                cand.reload()
            raw = fn(cand)
        except CandidateError as e:
            return _failure(e.kind.value, e.message, e.traceback, gone=e.gone)
        except CandidateRejected as e:  # InvalidOutput / WrongAnswer raised by the evaluator itself
            kind = getattr(e.kind, "value", e.kind)
            return _failure(str(kind), str(e) or type(e).__name__, traceback.format_exc())
        except BaseException as e:  # noqa: BLE001 - the evaluator's own bug
            return _failure(
                "evaluator_error", f"evaluator raised {type(e).__name__}: {e}", traceback.format_exc()
            )
        channel = {"calls": cand.calls - calls0, "candidate_s": round(cand.elapsed_s - elapsed0, 6)}
        return {"kind": "ok", "raw": jsonable(raw), "channel": channel}


def _load_module(path: str, index: int) -> Any:
    spec = importlib.util.spec_from_file_location(f"syslab_task_{index}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def preload(task_dir: str, entries: list[str]) -> dict[str, Any]:
    """The evaluator modules of `entries`, imported now (a warm template's, shared by its forks);
    one that fails to import is left out, so the evaluation reports it as the cold path does.
    A module's `warm()`, if it has one, runs here once: what it caches (its data, parsed) is then
    every forked evaluation's from the start. A `warm()` that fails only leaves the work to them."""
    modules: dict[str, Any] = {}
    for entry in entries:
        path = str(Path(task_dir) / entry.split(":", 1)[0])
        if path in modules:
            continue
        try:
            modules[path] = _load_module(path, len(modules))
        except BaseException:  # noqa: BLE001 - reported per evaluation, by the child that retries
            sys.modules.pop(f"syslab_task_{len(modules)}", None)
            continue
        warm = getattr(modules[path], "warm", None)
        if callable(warm):
            try:
                warm()
            except Exception:  # noqa: BLE001 - an evaluation that needs the data loads it itself
                pass
    return modules


def _failure(kind: str, message: str, trace: str = "", gone: bool = False) -> dict:
    return {"kind": kind, "message": message[:4000], "traceback": trace[-40_000:], "gone": gone}


def _not_dumpable() -> None:
    """No ptrace and no /proc/<pid>/{mem,environ,fd} for other processes of our uid (the candidate's,
    when the host is not root and the kernel has no Landlock to stop it)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
    except (OSError, AttributeError):
        pass


def main(modules: dict[str, Any] | None = None) -> None:
    _not_dumpable()
    control = Channel(int(os.environ.pop("SYSLAB_CONTROL_FD")))
    channel_spec = os.environ.pop("SYSLAB_CHANNEL_FD", None)
    listen_fd = os.environ.pop("SYSLAB_CHANNEL_LISTEN_FD", None)
    ev = Evaluator(channel_spec, int(listen_fd) if listen_fd else None, modules, control)
    try:
        while True:
            doc = json.loads(control.recv())
            op = doc.get("op")
            if op == "init":
                try:
                    ev.init(doc)
                    control.send(_dumps({"kind": "ok"}))
                except CandidateError as e:  # the program does not load (syntax, import, crash)
                    control.send(_dumps(_failure(e.kind.value, e.message, e.traceback, gone=e.gone)))
                except Exception as e:  # noqa: BLE001 - e.g. the candidate never connected
                    control.send(_dumps(_failure("runtime", f"candidate channel: {e}", gone=True)))
            elif op == "stage":
                control.send(_dumps(ev.stage(doc)))
            else:
                break
    except ChannelClosed:
        pass
    finally:
        if ev.candidate is not None:
            ev.candidate.close()
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

"""The candidate process: load the program, then answer the trusted evaluator's calls.

Runs inside the sandbox, started by the harness as

    python -B candidate_runtime.py        (SYSLAB_CHANNEL_FD=n or SYSLAB_CHANNEL_PATH=/socket)

and never holds anything the scorer needs: no key, no result file, no metric.
The first message is ("init", program source, adapter source or None).
The runtime writes both to its scratch dir (tools such as Triton and inspect
read source files; a program that came with files of its own, `MANIFEST`
from evaluators/program_files.py, is written where the manifest says, its
files around it, their directories first on sys.path), runs the task's
adapter first (task code that maps plain data to the objects the program's
interface promises), then the program, and replies ("ok", None) or an error. Then, until "bye" or end of file, each
request gets one reply:

    ("bind", name)             -> fid      adapter function (called with the program
                                           module first) or program callable
    ("bindm", obj, method)     -> fid      a method of a stored object
    call fid args [kwargs]     -> value    (protocol.py) value must be plain data
    ("new", fid, args, kwargs) -> obj      call and keep the result (a remote object)
    ("map", fid, [args, ...])  -> [value]  independent calls in one request
    ("mapc", fid, [column, ...]) -> [value] the same, the arguments by position
    ("get", name)              -> value    a module-level value of the program
    ("has", name)              -> bool
    ("drop", obj) / ("reload",)
    failures                   -> (kind, message, traceback) as an error reply

Everything here runs in the candidate's process, so the candidate can change
any of it; that is harmless by design: the trusted side decodes replies as
hostile bytes and computes every metric itself.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
import types

if (
    __name__ == "__main__"
    and sys.path
    and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__))
):
    sys.path.pop(0)  # never shadow top-level modules with syslab/evaluators/*.py

from syslab.evaluators import protocol  # noqa: E402
from syslab.evaluators.channel import Channel, ChannelClosed  # noqa: E402
from syslab.evaluators.codec import EncodeError  # noqa: E402
from syslab.evaluators.failures import VIOLATION_ERRNOS, CandidateRejected  # noqa: E402

PROGRAM_FILE = "program.py"
ADAPTER_FILE = "_syslab_adapter.py"
MAX_TRACEBACK = 20_000
# Files that came with the program (evaluators/program_files.py writes it, unpack_files reads it).
MANIFEST = "_syslab_program_files.json"


def relative_path(path: str) -> str:
    """`path` as a normalised relative POSIX path that stays inside the scratch dir, or ValueError."""
    parts = path.replace("\\", "/").split("/") if isinstance(path, str) else []
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{path!r} is not a relative path inside the scratch dir")
    return "/".join(parts)


def unpack_files(manifest: str = MANIFEST) -> tuple[str, list[str]]:
    """Write the files that came with the program under the cwd (the scratch dir).

    Returns (the program's path, directories to put first on sys.path): ("program.py", [])
    without a manifest. Only the standard library: this runs before the program loads."""
    if not os.path.isfile(manifest):
        return os.path.abspath(PROGRAM_FILE), []
    import base64
    import json

    with open(manifest, encoding="utf-8") as f:
        doc = json.load(f)
    here = os.getcwd()
    for rel, data in doc.get("files", {}).items():
        path = os.path.join(here, relative_path(rel))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))
    os.remove(manifest)
    program = os.path.join(here, relative_path(doc.get("program") or PROGRAM_FILE))
    return program, [os.path.join(here, relative_path(d)) for d in doc.get("import_dirs", [])]


def classify(exc: BaseException, loading: bool = False) -> tuple[str, str]:
    """(failure kind, one-line message) for an exception raised by candidate (or adapter) code."""
    message = f"{type(exc).__name__}: {exc}".strip()
    if isinstance(exc, CandidateRejected):
        kind = exc.kind
        return str(getattr(kind, "value", kind)), str(exc) or type(exc).__name__
    if isinstance(exc, MemoryError):
        return "memory", message
    if isinstance(exc, SyntaxError) and loading:
        return "syntax", f"line {exc.lineno}: {exc.msg}"
    if isinstance(exc, ImportError) and loading:
        return "import", message
    if isinstance(exc, OSError) and exc.errno in VIOLATION_ERRNOS:
        return "sandbox_violation", f"blocked by the sandbox: {message}"
    if isinstance(exc, OSError) and exc.errno == errno.EAGAIN and "thread" not in message:
        return "sandbox_violation", f"blocked by the sandbox (process limit): {message}"
    if isinstance(exc, (SystemExit, KeyboardInterrupt, GeneratorExit)):
        return "runtime", f"candidate raised {message}"
    return "runtime", message


def _error(token: bytes, exc: BaseException, loading: bool = False) -> bytes:
    kind, message = classify(exc, loading)
    return protocol.err(token, kind, message[:2000], traceback.format_exc()[-MAX_TRACEBACK:])


class Rejected(Exception):
    """A request the runtime refuses (no such function or method): an invalid_output error."""


class Runtime:
    """The program module, the adapter and the tables of bound callables and remote objects."""

    def __init__(self, source: str, adapter: str | None):
        self.source, self.adapter_source = source, adapter
        self.program: types.ModuleType | None = None
        self.adapter: types.ModuleType | None = None
        self.fns: list = []
        self.objs: dict[int, object] = {}
        self._next_obj = 1
        self.program_path: str | None = None  # set by the first load (the manifest is unpacked once)

    def load(self) -> None:
        self.fns, self.objs = [], {}
        if self.program_path is None:
            self.program_path, dirs = unpack_files()
            for d in reversed(dirs):  # first on sys.path, as the program's own helpers
                if d not in sys.path:
                    sys.path.insert(0, d)
        if self.adapter_source is not None:
            self.adapter = self._exec(ADAPTER_FILE, "syslab_adapter", self.adapter_source)
        self.program = self._exec(self.program_path, "program", self.source)

    @staticmethod
    def _exec(filename: str, name: str, source: str) -> types.ModuleType:
        path = os.path.abspath(filename)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module  # dataclasses and pickling-free introspection look modules up here
        exec(compile(source, path, "exec"), module.__dict__)
        return module

    def _resolve(self, name: str):  # noqa: ANN202 - a callable
        if type(name) is not str:
            raise TypeError("function name must be a str")
        fn = getattr(self.adapter, name, None) if self.adapter is not None else None
        if callable(fn):
            program = self.program
            return lambda *args, **kwargs: fn(program, *args, **kwargs)
        fn = getattr(self.program, name, None)
        if not callable(fn):
            raise LookupError(name)
        return fn

    def call(self, fid: int, args: tuple, kwargs: dict | None) -> object:
        fn = self.fns[fid]
        return fn(*args, **kwargs) if kwargs else fn(*args)

    def op(self, msg: tuple) -> object:  # noqa: C901 - one dispatch
        op = msg[0]
        if op == "bind":
            try:
                fn = self._resolve(msg[1])
            except LookupError:
                raise Rejected(f"the program defines no function {msg[1]!r}") from None
            self.fns.append(fn)
            return len(self.fns) - 1
        if op == "bindm":
            method = getattr(self.objs[msg[1]], msg[2], None)
            if not callable(method):
                raise Rejected(f"the object has no method {msg[2]!r}")
            self.fns.append(method)
            return len(self.fns) - 1
        if op == "new":
            obj = self.fns[msg[1]](*msg[2], **msg[3])
            oid = self._next_obj
            self._next_obj += 1
            self.objs[oid] = obj
            return oid
        if op == "map":  # one request, many independent calls: one round trip for all of them
            fn = self.fns[msg[1]]
            return [fn(*args) for args in msg[2]]
        if op == "mapc":  # the same, its arguments sent by position (one column per parameter)
            fn = self.fns[msg[1]]
            return [fn(*args) for args in zip(*msg[2], strict=True)]
        if op == "get":
            if not hasattr(self.program, msg[1]):
                raise Rejected(f"the program defines no {msg[1]!r}")
            return getattr(self.program, msg[1])
        if op == "has":
            try:
                self._resolve(msg[1])
                return True
            except LookupError:
                return False
        if op == "drop":
            self.objs.pop(msg[1], None)
            return None
        if op == "reload":
            self.load()
            return None
        raise ValueError(f"unknown request {op!r}")


def _connect() -> Channel:
    fd = os.environ.pop("SYSLAB_CHANNEL_FD", None)
    path = os.environ.pop("SYSLAB_CHANNEL_PATH", None)
    limit = int(os.environ.pop("SYSLAB_CHANNEL_MAX_BYTES", "0") or 0) or None
    if fd is not None:
        chan = Channel.from_spec(fd)
    elif path is not None:
        import socket

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        chan = Channel(sock.detach())
    else:
        sys.stderr.write("candidate runtime: no channel (SYSLAB_CHANNEL_FD or SYSLAB_CHANNEL_PATH)\n")
        os._exit(2)
    if limit:
        chan.max_bytes = limit
    return chan


def _reply(token: bytes, value: object) -> bytes:
    try:
        return protocol.ok(token, value)
    except EncodeError as e:
        return protocol.err(
            token, "invalid_output", f"the candidate returned something that is not plain data: {e}"
        )
    except BaseException as e:  # noqa: BLE001 - e.g. a numpy scalar whose .item() was patched
        return _error(token, e)


def serve(chan: Channel) -> None:
    token, init = protocol.read_request(chan.recv())
    runtime = Runtime(init[1], init[2])
    me = os.getpid()
    try:
        runtime.load()
        reply = protocol.ok(token, None)
    except BaseException as e:  # noqa: BLE001 - everything the program does at import is its fault
        reply = _error(token, e, loading=True)
    while True:
        if os.getpid() != me:  # a forked copy of the candidate unwound into this loop
            os._exit(1)
        chan.send(reply)
        try:
            token, msg = protocol.read_request(chan.recv())
        except ChannelClosed:
            return
        try:
            if len(msg) == 3 and type(msg[0]) is int:
                reply = _reply(token, runtime.call(*msg))
            elif msg[0] == "bye":
                return
            else:
                reply = _reply(token, runtime.op(msg))
        except Rejected as e:
            reply = protocol.err(token, "invalid_output", str(e))
        except BaseException as e:  # noqa: BLE001 - every candidate failure is reported, never raised
            reply = _error(token, e, loading=msg[0] == "reload")


def main() -> None:
    chan = _connect()
    try:
        serve(chan)
    except ChannelClosed:
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # never run the candidate's atexit hooks or wait for its threads


if __name__ == "__main__":
    main()

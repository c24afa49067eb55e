"""In-sandbox runner of shared (unverified) mode: one OpenEvolve-style evaluator call.

    python _child.py <program.py> <evaluator.py> <function> [adapter.py] [candidate|path]
                                                          (SYSLAB_CHANNEL_FD or _PATH set)

The evaluator takes the program's path (OpenEvolve style) or, written for split mode, a
candidate handle: it then gets an `InProcessCandidate` over the program loaded right here.

Two processes, so that the evaluation never holds the host's channel:

- the *reporter* (this process; PID 1 of the sandbox's PID namespace under the
  root backend) takes the channel to the host, marks itself non-dumpable (no
  ptrace or /proc/<pid>/fd by the same uid), forks the worker, reads the
  worker's outcome from a pipe (size-capped), and sends it to the host;
- the *worker* closes its copy of the channel, imports the evaluator by file
  path, calls it (the evaluator imports the candidate), classifies any
  exception and writes the outcome to the pipe.

The candidate shares the worker's interpreter with the evaluator, so it can
tamper with the outcome: that is what "unverified" means. It cannot reach the
host's channel or make the host read anything but that one size-capped message.

Failure attribution (documented rule): the innermost traceback frame that
belongs to the candidate file or to a file in the task directory decides.
Candidate frame: ImportError -> import; OSError with EACCES/EPERM/EROFS
(blocked by uid/Landlock), ENETUNREACH/ENETDOWN (no network) or EAGAIN
(process limit) or EFBIG/ENOSPC (file size / scratch size cap) -> sandbox_violation; anything else -> runtime. Task frame
(or no attributable frame) -> evaluator_error. MemoryError anywhere -> memory.
InvalidOutput / WrongAnswer -> their kind, wherever raised.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import traceback

from syslab.evaluators.failures import VIOLATION_ERRNOS as _REFUSED

VIOLATION_ERRNOS = _REFUSED | {errno.EAGAIN}  # shared mode: EAGAIN from fork is the process limit


def _frames(tb: object) -> list[str]:
    files = []
    while tb is not None:
        files.append(os.path.realpath(tb.tb_frame.f_code.co_filename))  # type: ignore[attr-defined]
        tb = tb.tb_next  # type: ignore[attr-defined]
    return files


def _rejection_kind(exc: BaseException) -> str | None:
    for cls in type(exc).__mro__:
        if cls.__name__ == "CandidateRejected" and cls.__module__ in (
            "syslab.evaluators.failures",
            "syslab.evaluators.base",
        ):
            kind = getattr(exc, "kind", "invalid_output")
            return str(getattr(kind, "value", kind))
    return None


def classify(exc: BaseException, program: str, task_dir: str) -> tuple[str, str]:
    """(failure kind, one-line message) for an exception raised during evaluation."""
    message = f"{type(exc).__name__}: {exc}".strip()
    kind = _rejection_kind(exc)
    if kind is not None:
        return kind, str(exc) or type(exc).__name__
    if isinstance(exc, MemoryError):
        return "memory", message
    owner = None
    for path in reversed(_frames(exc.__traceback__)):
        if path == program:
            owner = "candidate"
            break
        if path.startswith(task_dir + os.sep):
            owner = "evaluator"
            break
    if owner != "candidate":
        return "evaluator_error", f"evaluator raised {message}"
    if isinstance(exc, ImportError):
        return "import", message
    if isinstance(exc, OSError) and exc.errno in VIOLATION_ERRNOS:
        return "sandbox_violation", f"blocked by the sandbox: {message}"
    if isinstance(exc, (SystemExit, KeyboardInterrupt)):
        return "runtime", f"candidate raised {message}"
    return "runtime", message


def _jsonable(value: object) -> object:
    try:
        json.dumps(value, allow_nan=True)
        return value
    except (TypeError, ValueError):
        pass
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    try:
        return float(value)  # numpy scalars and other numbers
    except (TypeError, ValueError):
        return {"__unserializable__": f"{type(value).__name__}: {str(value)[:200]}"}


def worker(program: str, evaluator: str, function: str, adapter: str = "", handle: bool = False) -> dict:
    """Run the evaluation; never raises."""
    task_dir = os.path.dirname(evaluator)
    try:
        with open(program, encoding="utf-8") as f:
            compile(f.read(), program, "exec")
    except SyntaxError as e:
        return {"kind": "syntax", "message": f"line {e.lineno}: {e.msg}", "traceback": traceback.format_exc()}
    name = os.path.basename(evaluator)
    try:
        import importlib.util

        sys.path.insert(0, task_dir)
        spec = importlib.util.spec_from_file_location("syslab_task_evaluator", evaluator)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        fn = getattr(module, function)
    except SyntaxError as e:
        msg = f"{name} line {e.lineno}: syntax error: {e.msg}"
        return {"kind": "evaluator_error", "message": msg, "traceback": traceback.format_exc()}
    except AttributeError:
        return {"kind": "evaluator_error", "message": f"{name} has no function {function!r}", "traceback": ""}
    except BaseException as e:  # noqa: BLE001 - any failure to load the evaluator is its own fault
        return {
            "kind": "evaluator_error",
            "message": f"{name}: cannot load: {type(e).__name__}: {e}",
            "traceback": traceback.format_exc(),
        }
    try:
        if handle:  # a split-style evaluator, run shared: the program in this process
            from syslab.evaluators.inprocess import InProcessCandidate

            raw = fn(InProcessCandidate(program, adapter or None))
        else:
            raw = fn(program)
    except BaseException as e:  # noqa: BLE001 - classify everything, including SystemExit
        kind, message = classify(e, program, task_dir)
        return {"kind": kind, "message": message, "traceback": traceback.format_exc()}
    return {"kind": "ok", "message": "", "traceback": "", "raw": _jsonable(raw)}


MAX_OUTCOME = 8 * 1024 * 1024


def _channel_fds() -> list[int]:
    """The host's channel: inherited fds ("n" or "r,w"; only the last is written) or a socket path."""
    spec = os.environ.pop("SYSLAB_CHANNEL_FD", None)
    path = os.environ.pop("SYSLAB_CHANNEL_PATH", None)
    if spec is not None:
        return [int(x) for x in spec.split(",")]
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path or "")
    return [sock.detach()]


def _read_capped(fd: int) -> bytes:
    chunks, total = [], 0
    while total <= MAX_OUTCOME:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _worker_outcome(status: int, data: bytes) -> dict:
    if data:
        try:
            outcome = json.loads(data)
            if isinstance(outcome, dict) and isinstance(outcome.get("kind"), str):
                return outcome
        except ValueError:
            pass
        return {"kind": "runtime", "message": "malformed hand-off from the evaluation process"}
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == 24:  # SIGXCPU: CPU-time rlimit
            return {"kind": "timeout", "message": "CPU time limit exceeded"}
        return {"kind": "runtime", "message": f"evaluation process killed by signal {sig}"}
    code = os.waitstatus_to_exitcode(status)
    return {"kind": "runtime", "message": f"evaluation process exited with code {code} before reporting"}


def main(argv: list[str]) -> None:
    program, evaluator, function = argv[1:4]
    adapter = os.path.realpath(argv[4]) if len(argv) > 4 and argv[4] else ""
    handle = len(argv) > 5 and argv[5] == "candidate"  # the host read the evaluator's signature
    program, evaluator = os.path.realpath(program), os.path.realpath(evaluator)
    fds = _channel_fds()
    chan = fds[-1]
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
    except (OSError, AttributeError):
        pass
    hand_r, hand_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # worker
        for fd in fds:
            os.close(fd)
        os.close(hand_r)
        me = os.getpid()
        outcome = worker(program, evaluator, function, adapter, handle)
        if os.getpid() != me:  # a forked copy of the candidate unwound into our code
            os._exit(1)
        sys.stdout.flush()
        sys.stderr.flush()
        data = json.dumps(outcome, allow_nan=True).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(hand_w, view) :]
        os._exit(0)
    os.close(hand_w)
    data = _read_capped(hand_r)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    body = json.dumps(_worker_outcome(status, data[: MAX_OUTCOME + 1]), allow_nan=True).encode()
    message = len(body).to_bytes(4, "little") + body
    view = memoryview(message)
    while view:
        view = view[os.write(chan, view) :]
    os._exit(0)


if __name__ == "__main__":
    if sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
        sys.path.pop(0)  # do not shadow top-level modules with syslab/evaluators/*
    main(sys.argv)

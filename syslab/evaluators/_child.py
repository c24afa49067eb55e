"""In-sandbox runner: evaluate one candidate with one evaluator, report a signed result.

    python _child.py <key-file> <program.py> <evaluator.py> <function> <result-file>

Two processes, so that candidate code never shares memory with the result key:

- the *reporter* (this process; PID 1 of the sandbox's PID namespace under the
  root backend, so the candidate cannot even signal it) reads the one-time
  key from <key-file>, deletes the file, marks itself non-dumpable (no
  ptrace or /proc/<pid>/mem by the same uid), waits for the worker, and
  writes <result-file> as {"payload": ..., "mac": HMAC-SHA256(key, payload)};
- the *worker* (forked before the key is read) compiles the candidate,
  imports the evaluator by file path, calls it, classifies any exception and
  hands the outcome to the reporter in a plain file.

The host trusts only a result whose MAC verifies, so fake JSON on stdout or a
fake result file written by the candidate is ignored. The worker's outcome is
as trustworthy as the evaluator's own return value: a candidate running in the
evaluator's process can tamper with both (evaluators that need integrity
should run the candidate in a subprocess).

Failure attribution (documented rule): the innermost traceback frame that
belongs to the candidate file or to a file in the task directory decides.
Candidate frame: ImportError -> import; OSError with EACCES/EPERM/EROFS
(blocked by uid/Landlock), ENETUNREACH/ENETDOWN (no network) or EAGAIN
(process limit) or EFBIG (file size limit) -> sandbox_violation; anything else -> runtime. Task frame
(or no attributable frame) -> evaluator_error. MemoryError anywhere -> memory.
InvalidOutput / WrongAnswer -> their kind, wherever raised.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import sys
import traceback

VIOLATION_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENETUNREACH,
    errno.ENETDOWN,
    errno.EAGAIN,
    errno.EFBIG,
}


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


def worker(program: str, evaluator: str, function: str) -> dict:
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
        raw = fn(program)
    except BaseException as e:  # noqa: BLE001 - classify everything, including SystemExit
        kind, message = classify(e, program, task_dir)
        return {"kind": kind, "message": message, "traceback": traceback.format_exc()}
    return {"kind": "ok", "message": "", "traceback": "", "raw": _jsonable(raw)}


def _report(key: bytes, result_file: str, payload: dict) -> None:
    body = json.dumps(payload, allow_nan=True)
    mac = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    tmp = result_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"payload": body, "mac": mac}, f)
    os.replace(tmp, result_file)


def _worker_outcome(status: int, handoff: str) -> dict:
    try:
        with open(handoff, encoding="utf-8") as f:
            outcome = json.load(f)
        os.unlink(handoff)
        if isinstance(outcome, dict) and isinstance(outcome.get("kind"), str):
            return outcome
        return {"kind": "runtime", "message": "malformed hand-off from the evaluation process"}
    except (OSError, ValueError):
        pass
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == 24:  # SIGXCPU: CPU-time rlimit
            return {"kind": "timeout", "message": "CPU time limit exceeded"}
        return {"kind": "runtime", "message": f"evaluation process killed by signal {sig}"}
    code = os.waitstatus_to_exitcode(status)
    return {"kind": "runtime", "message": f"evaluation process exited with code {code} before reporting"}


def main(argv: list[str]) -> None:
    key_file, program, evaluator, function, result_file = argv[1:6]
    program, evaluator = os.path.realpath(program), os.path.realpath(evaluator)
    handoff = os.path.join(os.path.dirname(result_file), f".syslab-handoff-{os.getpid()}.json")
    gate_r, gate_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # worker: wait until the reporter has consumed the key, then evaluate
        os.close(gate_w)
        os.read(gate_r, 1)
        os.close(gate_r)
        me = os.getpid()
        outcome = worker(program, evaluator, function)
        if os.getpid() != me:  # a forked copy of the candidate unwound into our code
            os._exit(1)
        sys.stdout.flush()
        sys.stderr.flush()
        with open(handoff, "w", encoding="utf-8") as f:
            json.dump(outcome, f, allow_nan=True)
        os._exit(0)
    os.close(gate_r)
    with open(key_file, "rb") as f:
        key = f.read()
    os.unlink(key_file)
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
    except (OSError, AttributeError):
        pass
    os.write(gate_w, b"g")
    os.close(gate_w)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    _report(key, result_file, _worker_outcome(status, handoff))
    os._exit(0)


if __name__ == "__main__":
    if sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
        sys.path.pop(0)  # do not shadow top-level modules with syslab/evaluators/*
    main(sys.argv)

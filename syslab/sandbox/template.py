"""A warm template process: libraries imported once, a fresh forked child per evaluation.

Started by the host (warm.py) as

    python -B -m syslab.sandbox.template candidate|trusted '<json setup>'   (SYSLAB_TEMPLATE_FD=n)

- candidate: imports the candidate runtime and the task's declared libraries
  (e.g. numpy). It never loads a program: every candidate is loaded by a
  child, after that child is confined.
- trusted: imports the trusted evaluator and the task's evaluator modules
  (their data and libraries with them).

Each request (JSON on a SOCK_SEQPACKET socket, with the run's descriptors
attached: stdout, stderr, status, then the payload's) makes the template fork
a waiter W, which sets up what is per run and forks the child that runs the
payload. For a candidate W is the jail's launcher (`_jail.enter`: cgroup,
CPUs, namespaces) and the child confines itself (`_jail.confine`: mounts,
uid, rlimits, seccomp, Landlock) before it runs the runtime; the same layers,
in the same order, as the cold path's exec. W writes one JSON line with the
child's pid to the status pipe, waits, and writes its status and CPU time.

So nothing carries from one evaluation to the next: each child is a fresh
copy of a process that never ran candidate code, and dies with its run. The
template refuses to fork while it has more than one thread (a forked copy of
a threaded process can deadlock); the host then falls back to a cold start.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys
import tempfile

MAX_REQUEST = 1 << 20


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _place(fds: list[int], targets: list[int]) -> None:
    """Give fds[i] the number targets[i], then close every other descriptor above 2."""
    import fcntl

    base = max(fds + targets) + 1  # where descriptors wait while being renumbered
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, base) for fd in fds]
    for fd, target in zip(high, targets, strict=True):
        os.dup2(fd, target, inheritable=True)
    keep = sorted(set(t for t in targets if t > 2))
    lo = 3
    for fd in keep:
        os.closerange(lo, fd)
        lo = fd + 1
    os.closerange(lo, os.sysconf("SC_OPEN_MAX"))


def _child_setup(req: dict, fds: list[int]) -> None:
    """In the payload's process: stdio and payload descriptors at the host's numbers, its env."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    out, err, _status, *payload = fds
    _place([out, err, *payload], [1, 2, *req["fd_numbers"]])
    os.environ.clear()
    os.environ.update(req["env"])
    tempfile.tempdir = None  # re-read TMPDIR
    sys.argv = [req.get("argv0", "")]
    _fresh_entropy()


def _fresh_entropy() -> None:
    """Random state of its own per child, as a fresh process has: `random` reseeds itself after
    fork; numpy's global generator does not, so every fork would draw the same numbers."""
    import random

    random.seed()
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        np_random.seed()


def _run_candidate(req: dict, fds: list[int]) -> None:
    from syslab.sandbox import _jail

    cfg = req["jail"]
    try:
        _jail.enter(cfg)
    except (_jail.JailError, OSError) as e:
        os.write(fds[1], f"syslab-jail: {e}\n".encode())
        _finish(fds[2], _jail.JAIL_EXIT << 8, 0.0)
    pid = os.fork()
    if pid == 0:
        try:
            _child_setup(req, fds)
            limits = cfg.get("rlimits", {})
            if "RLIMIT_AS" in limits:  # the same room as a cold start: the template's mappings on top
                limits["RLIMIT_AS"] += _vm_bytes()
            _jail.confine(cfg)
        except (_jail.JailError, OSError, ValueError) as e:
            os.write(2, f"syslab-jail: {e}\n".encode())
            os._exit(_jail.JAIL_EXIT)
        from syslab.evaluators import candidate_runtime

        sys.modules["__main__"] = candidate_runtime  # as when it runs as a script (the cold path)
        candidate_runtime.main()  # ends with os._exit
        os._exit(0)
    _report(fds, pid, cfg.get("uid") is not None)


def _vm_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _run_trusted(req: dict, fds: list[int]) -> None:
    pid = os.fork()
    if pid == 0:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: dies with its waiter
        _child_setup(req, fds)
        if req.get("cgroup_procs"):
            with open(req["cgroup_procs"], "w") as f:
                f.write(str(os.getpid()))
        os.chdir(req["cwd"])
        sys.path[0] = req["cwd"]
        from syslab.evaluators import trusted

        trusted.main(PRELOADED)  # ends with os._exit
        os._exit(0)
    _report(fds, pid, True)


def _report(fds: list[int], pid: int, root: bool) -> None:
    """The waiter: the child's pid, then its status and CPU time, on the status pipe."""
    from syslab.sandbox import _jail

    status_fd = fds[2]
    for fd in fds:
        if fd != status_fd:
            os.close(fd)
    os.write(status_fd, (json.dumps({"pid": pid}) + "\n").encode())
    status, usage = _jail.wait_child(pid, root)
    _finish(status_fd, status, usage.ru_utime + usage.ru_stime)


def _finish(status_fd: int, status: int, cpu_s: float) -> None:
    os.write(status_fd, (json.dumps({"status": status, "cpu_s": cpu_s}) + "\n").encode())
    os._exit(0)


PRELOADED: dict = {}


def _preload(kind: str, setup: dict) -> list[str]:
    """Import what every evaluation of this task needs; what fails to import is left to the child."""
    done = []
    if kind == "candidate":
        from syslab.evaluators import candidate_runtime  # noqa: F401
        from syslab.sandbox import _jail  # noqa: F401
    else:
        from syslab.evaluators import trusted

        PRELOADED.update(trusted.preload(setup["task_dir"], setup.get("entries", [])))
        done += list(PRELOADED)
    for name in setup.get("imports", []):
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception:  # noqa: BLE001 - the candidate's own import will report it
            pass
    return done


def unforkable(own: set[int], generators: bool = True) -> str | None:
    """Why forking this template would not give each child what a fresh process has, or None.

    - threads: a forked copy of a threaded process can deadlock;
    - open files (an evaluator that opened one at import): the child's descriptors are
      renumbered to the host's, so such a file would be closed or, worse, become the channel;
    - random generators of the task's (or a library's) own made at import: every child would
      draw the same numbers, where fresh processes each draw new ones. The global ones of
      `random` and numpy are reseeded per child; any other makes the task start cold.
    """
    n = threads()
    if n > 1:
        return f"{n} threads"
    extra = [int(f) for f in os.listdir("/proc/self/fd") if int(f) > 2 and int(f) not in own]
    extra = [f for f in extra if _is_open(f)]
    if extra:
        return f"{len(extra)} files left open at import"
    if not generators:  # checked once, after the imports: nothing runs in the template since
        return None
    import gc
    import random

    np_random = sys.modules.get("numpy.random")
    kinds: tuple[type, ...] = (random.Random,)
    known: list[object] = [random._inst]  # type: ignore[attr-defined]
    if np_random is not None:
        kinds += (np_random.Generator, np_random.RandomState, np_random.BitGenerator)
        legacy = np_random.mtrand._rand
        known += [legacy, legacy._bit_generator]  # noqa: SLF001 - numpy's own legacy generator
    for obj in gc.get_objects():
        if isinstance(obj, kinds) and not isinstance(obj, random.SystemRandom):
            if not any(obj is k for k in known):
                return f"a {type(obj).__name__} made at import (its draws would repeat in every evaluation)"
    return None


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False  # the descriptor listdir itself used


def _receive(ctl: socket.socket, buf: bytearray, last: int) -> tuple[int, list[int]]:
    """One request into `buf` (its bytes past the new length zeroed: a child never holds an earlier
    run's request), and the descriptors that came with it. Parsed only after the fork, so the
    template's own heap never holds a request's strings."""
    import array

    fds = array.array("i")
    n, ancdata, _flags, _addr = ctl.recvmsg_into([buf], socket.CMSG_SPACE(64 * fds.itemsize))
    for level, type_, data in ancdata:
        if level == socket.SOL_SOCKET and type_ == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if last > n:
        buf[n:last] = bytes(last - n)
    return n, list(fds)


def serve(ctl: socket.socket, kind: str) -> None:
    run = _run_candidate if kind == "candidate" else _run_trusted
    buf, last = bytearray(MAX_REQUEST), 0
    while True:
        try:
            n, fds = _receive(ctl, buf, last)
        except OSError:
            return
        last = n
        if not n:
            return  # the host closed its end (or died): the template ends with it
        why = unforkable({ctl.fileno(), *fds}, generators=False)  # the run's fds are to pass on
        pid = -1
        if why is None:
            sys.stdout.flush()
            sys.stderr.flush()
            try:
                pid = os.fork()
            except OSError as e:
                why = str(e)
        if pid < 0:  # reported to the host, which starts the run cold
            for fd in fds:
                os.close(fd)
            ctl.send(json.dumps({"error": f"not forked: {why}"}).encode())
            continue
        if pid == 0:
            os.close(ctl.detach())  # the waiter keeps nothing of the template's
            os.setsid()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                run(json.loads(bytes(buf[:n])), fds)
            finally:
                os._exit(_EXIT_BUG)
        for fd in fds:
            os.close(fd)
        ctl.send(json.dumps({"pid": pid}).encode())


_EXIT_BUG = 126


def main() -> None:
    kind, setup = sys.argv[1], json.loads(sys.argv[2])
    if sys.path and os.path.realpath(sys.path[0]) == os.path.realpath(os.getcwd()):
        sys.path.pop(0)  # as the cold runtime: no cwd entry (the trusted child puts its own back)
        if kind == "trusted":
            sys.path.insert(0, os.getcwd())
    ctl = socket.socket(fileno=int(os.environ.pop("SYSLAB_TEMPLATE_FD")))
    import ctypes

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no ptrace or /proc/<pid>/mem
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # waiters are reaped by the kernel
    preloaded = _preload(kind, setup)
    why = unforkable({ctl.fileno()})
    import gc

    gc.freeze()  # the children's collections leave the template's objects (and their pages) alone
    ctl.send(json.dumps({"ready": why is None, "why": why, "preloaded": preloaded}).encode())
    if why is None:
        serve(ctl, kind)
    os._exit(0)


if __name__ == "__main__":
    main()

"""Warm templates, host side: start them, fork runs from them, rebuild them when stale.

A template (template.py) is a long-lived process that imported what every
evaluation of a task needs and never runs candidate code. `Template.spawn()`
sends it one request with the run's descriptors; the template forks a waiter,
which forks the run's child. The host holds a `WarmChild`: the waiter's pid (a
pidfd, so a signal never reaches a reused pid), the child's stdout and stderr
pipes, and a status pipe on which the waiter reports the child's pid, then its
exit status and CPU time.

`TemplatePool` keeps one template per key (kind, what it preloads, a
fingerprint of the task dir) and replaces it when it died, when the task dir
changed, or after `max_uses` runs. A template's start is never part of any
run's time: it happens before the run's clock starts.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from syslab.errors import SyslabError
from syslab.sandbox.envscrub import SYSLAB_ROOT, scrubbed_env
from syslab.sandbox.scratch import remove_tree

if TYPE_CHECKING:
    from syslab.sandbox.base import Sandbox
    from syslab.task import Task

READY_TIMEOUT_S = 300.0  # a trusted template imports the evaluator, which may load its data
REPLY_TIMEOUT_S = 10.0
# Templates outlive any one evaluation's temp dir: their own dirs live apart (root only, as they).
TEMPLATE_ROOT = Path("/run/syslab-templates") if os.path.isdir("/run") else Path(tempfile.gettempdir())


class TemplateError(SyslabError):
    """The template could not start a run (the caller starts it cold instead)."""


class TemplateUnforkable(TemplateError):
    """The template has threads after its imports: forking it is unsafe, for good."""


class WarmChild:
    """A run forked from a template: see the module docstring."""

    def __init__(self, waiter_pid: int, stdout: int, stderr: int, status: int):
        self.pid = waiter_pid
        try:
            self.pidfd: int | None = os.pidfd_open(waiter_pid)
        except ProcessLookupError:
            self.pidfd = None  # already ended: the status pipe holds its report
        self.stdout = os.fdopen(stdout, "rb", buffering=0)
        self.stderr = os.fdopen(stderr, "rb", buffering=0)
        self._status = status
        self._buf = b""
        self._eof = False
        self._child_pid: int | None = None
        self._report: dict | None = None
        self.returncode: int | None = None  # a wait status, once the waiter reported or ended
        self.cpu_s = 0.0

    def _read(self, timeout_s: float, until_pid: bool) -> None:
        """Read the waiter's report lines, until the pid is known (until_pid), the pipe ends or
        `timeout_s` passes."""
        deadline = time.monotonic() + timeout_s
        while not self._eof and not (until_pid and self._child_pid is not None):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._status], [], [], left)[0]:
                return
            chunk = os.read(self._status, 65536)
            if not chunk:
                self._eof = True
                os.close(self._status)
                return
            self._buf += chunk
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                doc = json.loads(line)  # written by the waiter, which never runs candidate code
                self._child_pid = int(doc.get("pid", self._child_pid or 0)) or None
                if "status" in doc:
                    self._report = doc

    def child_pid(self, timeout_s: float = REPLY_TIMEOUT_S) -> int | None:
        """The pid of the run's process (the waiter's child), once the waiter has reported it."""
        self._read(timeout_s, until_pid=True)
        return self._child_pid

    def result(self, timeout_s: float = 5.0) -> tuple[int, float]:
        """(wait status, CPU seconds) once the waiter ended; a waiter killed before it could report
        reads as a child killed by SIGKILL."""
        if self.returncode is None:
            self._read(timeout_s, until_pid=False)
            rep = self._report or {"status": int(signal.SIGKILL), "cpu_s": 0.0}
            self.returncode, self.cpu_s = int(rep["status"]), float(rep["cpu_s"])
            if not self._eof:
                os.close(self._status)
                self._eof = True
            self._close_pidfd()
        return self.returncode, self.cpu_s

    def wait(self, timeout: float | None = None) -> int:
        """Like Popen.wait: the child's exit code (negative: killed by that signal)."""
        if self.returncode is None:
            if self.pidfd is not None and not select.select([self.pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("warm child", timeout or 0.0)
            self.result()
        return os.waitstatus_to_exitcode(self.returncode)  # type: ignore[arg-type]

    def kill(self) -> None:
        """SIGKILL the waiter; its child has a death signal (and, as a sandbox, is PID 1 of its
        namespace), so the whole run goes."""
        if self.pidfd is not None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _close_pidfd(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class Template:
    """One template process; `spawn()` is thread-safe (requests are answered one at a time)."""

    def __init__(self, kind: str, setup: dict, env: dict[str, str], cwd: Path):
        self.kind, self.cwd = kind, cwd  # cwd: the template's own dir, removed with it
        self.uses = 0
        self._lock = threading.Lock()
        host, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**env, "SYSLAB_TEMPLATE_FD": str(child.fileno())}
        # One thread per numeric library: a forked copy of a threaded process can deadlock.
        env.update({k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")})
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-B", "-m", "syslab.sandbox.template", kind, json.dumps(setup)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                pass_fds=(child.fileno(),),
                start_new_session=True,
            )
        finally:
            child.close()
        self.ctl = host
        try:
            ready = self._reply(READY_TIMEOUT_S)
        except TemplateError:
            self.close()
            raise
        self.preloaded = ready.get("preloaded", [])
        if not ready.get("ready"):
            self.close()
            raise TemplateUnforkable(f"{kind} template not forkable: {ready.get('why')}")

    def _reply(self, timeout_s: float) -> dict:
        if not select.select([self.ctl], [], [], timeout_s)[0]:
            raise TemplateError(f"{self.kind} template did not answer within {timeout_s:g} s")
        data = self.ctl.recv(65536)
        if not data:
            raise TemplateError(f"{self.kind} template ended")
        return json.loads(data)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def spawn(self, req: dict, payload_fds: list[int]) -> WarmChild:
        """Fork a run: `req` says what it is (template.py); `payload_fds` reach the child at the
        numbers in req["fd_numbers"]. The caller keeps (and closes) its own payload_fds."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        st_r, st_w = os.pipe()
        mine = [out_w, err_w, st_w]
        try:
            with self._lock:
                try:
                    socket.send_fds(self.ctl, [json.dumps(req).encode()], mine + list(payload_fds))
                    reply = self._reply(REPLY_TIMEOUT_S)
                except OSError as e:
                    raise TemplateError(f"{self.kind} template: {e}") from None
                self.uses += 1
            if "pid" not in reply:
                raise TemplateError(f"{self.kind} template: {reply.get('error', reply)}")
        except BaseException:
            for fd in (out_r, err_r, st_r):
                os.close(fd)
            raise
        finally:
            for fd in mine:
                os.close(fd)
        return WarmChild(int(reply["pid"]), out_r, err_r, st_r)

    def close(self) -> None:
        self.ctl.close()  # the template ends when its socket does
        try:
            self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        remove_tree(self.cwd)


def tree_fingerprint(root: Path) -> tuple:
    """What changes when any file below `root` is added, removed or rewritten (names, sizes, mtimes)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            try:
                st = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            out.append((dirpath, name, st.st_size, st.st_mtime_ns))
    return tuple(out)


class TemplatePool:
    """Templates by key, rebuilt when dead, stale (fingerprint changed) or used `max_uses` times;
    at most `max_live` at once (the least recently used goes: a host that evaluates many tasks
    keeps a bounded number of processes)."""

    def __init__(self, max_live: int = 8) -> None:
        self.max_live = max_live
        self._lock = threading.Lock()
        self._templates: OrderedDict[tuple, tuple[tuple, Template]] = OrderedDict()
        self._refused: dict[tuple, str] = {}

    def get(
        self, key: tuple, fingerprint: tuple, max_uses: int, make: tuple[str, dict, dict[str, str]]
    ) -> Template | None:
        """The live template for `key`, started (kind, setup, env) if needed; None when this key's
        template cannot fork (threads after its imports): the caller starts runs cold."""
        with self._lock:
            if key in self._refused:
                return None
            old = self._templates.get(key)
            if old is not None:
                fp, tpl = old
                if fp == fingerprint and tpl.alive() and tpl.uses < max_uses:
                    self._templates.move_to_end(key)
                    return tpl
                del self._templates[key]
                tpl.close()
            while len(self._templates) >= self.max_live:
                self._templates.popitem(last=False)[1][1].close()
            kind, setup, env = make
            TEMPLATE_ROOT.mkdir(mode=0o700, exist_ok=True)
            cwd = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=TEMPLATE_ROOT))
            try:
                tpl = Template(kind, setup, {**env, "HOME": str(cwd), "TMPDIR": str(cwd)}, cwd)
            except TemplateUnforkable as e:
                self._refused[key] = str(e)
                return None
            except (TemplateError, OSError):
                remove_tree(cwd)
                return None  # this run starts cold; the next one tries again
            self._templates[key] = (fingerprint, tpl)
            return tpl

    def live(self) -> dict[tuple, tuple[int, int]]:
        """Each template by key: (its pid, runs forked from it so far)."""
        with self._lock:
            return {k: (t.proc.pid, t.uses) for k, (_, t) in self._templates.items()}

    def discard(self, key: tuple) -> None:
        with self._lock:
            old = self._templates.pop(key, None)
        if old is not None:
            old[1].close()

    def close(self) -> None:
        with self._lock:
            templates = list(self._templates.values())
            self._templates.clear()
        for _, tpl in templates:
            tpl.close()


POOL = TemplatePool()
atexit.register(POOL.close)


def enabled(task: Task, sandbox: Sandbox | str) -> bool:
    """Whether this evaluation forks from warm templates: the process backend (a Sandbox or its
    name) as root (every layer applies to a forked child as to an exec'd one), no GPU (CUDA does
    not survive fork), and the task not opting out."""
    spec = task.spec.sandbox
    if os.environ.get("SYSLAB_WARM", "1") == "0":  # off for this host (debugging, measuring)
        return False
    name = sandbox if isinstance(sandbox, str) else sandbox.name
    return name == "process" and os.geteuid() == 0 and not spec.gpu and spec.warm


def prestart(task: Task, backend: str) -> threading.Thread | None:
    """Start a split task's two templates in a background thread, so that a run's first
    evaluation finds them ready: they import on the other core while this process is still
    importing its agent stack. Best effort: a template that fails here is started (or refused)
    again by the evaluation that needs it, which reports why."""
    if task.evaluation_mode != "split" or not enabled(task, backend):
        return None

    def start() -> None:
        from syslab.evaluators.split_session import data_env

        try:
            env_data = data_env(task)
        except (OSError, SyslabError):
            return  # the first evaluation says which data file is missing
        for make in (lambda: candidate_template(task), lambda: trusted_template(task, env_data)):
            try:
                make()
            except Exception:  # noqa: BLE001 - see the docstring: the evaluation tries again
                pass

    thread = threading.Thread(target=start, name="syslab-template-prestart", daemon=True)
    thread.start()
    return thread


def candidate_template(task: Task) -> tuple[tuple, Template | None]:
    """(key, template) of the candidate side: the runtime and the task's warm_imports."""
    from syslab.sandbox.sitedir import candidate_site

    spec = task.spec.sandbox
    imports = spec.warm_imports if spec.cpus == 1 else []  # a template's numpy has 1 BLAS thread
    key = ("candidate", sys.executable, tuple(imports))
    env = scrubbed_env(Path(tempfile.gettempdir()))
    env["PYTHONPATH"] = str(candidate_site())
    return key, POOL.get(key, (), spec.template_uses, ("candidate", {"imports": imports}, env))


def trusted_template(task: Task, env_data: dict[str, str]) -> tuple[tuple, Template | None]:
    """(key, template) of the trusted side: the task's evaluator modules, its data env."""
    from syslab.evaluators.harness import stage_entries

    entries = stage_entries(task)
    key = ("trusted", sys.executable, str(task.root), tuple(entries), tuple(sorted(env_data.items())))
    env = scrubbed_env(Path(tempfile.gettempdir()), gpu=task.spec.sandbox.gpu)
    env.update(env_data)
    env["PYTHONPATH"] = os.pathsep.join([str(SYSLAB_ROOT), str(task.root)])
    setup = {"task_dir": str(task.root), "entries": entries}
    fingerprint = tree_fingerprint(task.root)
    return key, POOL.get(key, fingerprint, task.spec.sandbox.template_uses, ("trusted", setup, env))

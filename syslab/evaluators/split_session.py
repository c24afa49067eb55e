"""Split evaluation, host side: a trusted evaluator process and a sandboxed candidate process.

Per evaluation the host makes

- the candidate channel, from the sandbox backend (a socketpair, or a socket
  path a container connects to), and a control socket to the trusted side;
- the candidate process: `candidate_runtime.py` in the sandbox, holding only
  its end of the candidate channel;
- the trusted process: `python -m syslab.evaluators.trusted`, unsandboxed
  but with a scrubbed environment and its own temp dir as cwd, holding the
  other end and the control socket.

The host sends the program (and the task's adapter) to the trusted side,
then one request per cascade stage, and waits for each reply on the control
socket with the stage's timeout; nothing is ever read from the candidate's
scratch dir. When the trusted side reports that the candidate process ended,
the sandbox's record (killed for memory, CPU time, a signal) names the failure.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from syslab.evaluators.channel import Channel, ChannelClosed, ChannelTimeout
from syslab.evaluators.harness import SessionOutput, StageOutcome, stage_timeouts
from syslab.evaluators.program_files import ProgramFiles
from syslab.sandbox import cpus, warm
from syslab.sandbox.base import ChannelEnds, Limits, Sandbox, SandboxResult
from syslab.sandbox.cgroup import MemoryCgroup
from syslab.sandbox.envscrub import SYSLAB_ROOT, scrubbed_env
from syslab.sandbox.scratch import remove_tree
from syslab.sandbox.streams import CappedReader
from syslab.sandbox.warm import POOL, Template, TemplateError, WarmChild
from syslab.task import Task

RUNTIME = Path(__file__).with_name("candidate_runtime.py")
STARTUP_S = 30.0  # allowance for both processes to start, on top of the stage timeouts
SIGXCPU = 24


def data_env(task: Task) -> dict[str, str]:
    """$SYSLAB_DATA for the trusted side: the data root that holds the task's data files."""
    if not task.spec.data:
        return {}
    from syslab.data import data_path

    first = task.spec.data[0].strip("/")
    path = data_path(first)
    return {"SYSLAB_DATA": str(path)[: -len(first)].rstrip("/")}


def trusted_memory_mb(task: Task) -> int:
    """The trusted process's memory cap: its evaluator's needs are its own, so a generous one."""
    return max(4096, 2 * task.spec.sandbox.memory_mb)


def candidate_limits(task: Task, total_s: float, cpus: list[int] | None = None) -> Limits:
    spec = task.spec.sandbox
    return Limits(
        cpus=cpus,
        timeout_s=total_s + STARTUP_S,
        cpu_s=total_s + 1,
        memory_mb=spec.memory_mb,
        max_output_bytes=spec.max_output_bytes,
        max_scratch_mb=spec.max_scratch_mb,
        gpu=spec.gpu,
    )


def _died(res: SandboxResult | None) -> tuple[str, str] | None:
    """(kind, message) when the sandbox record explains why the candidate process ended."""
    if res is None:
        return None
    if res.oom_killed or "MemoryError" in res.stderr[-4000:]:
        return "memory", "candidate process ran out of memory (limit reached for its whole process tree)"
    if res.signal == SIGXCPU:
        return "timeout", "candidate process used up its CPU time limit"
    if res.timed_out:
        return "timeout", "candidate process ran past its wall-clock limit"
    if res.signal is not None:
        return "runtime", f"candidate process was killed by signal {res.signal}"
    if res.exit_code not in (None, 0):
        return "runtime", f"candidate process exited with code {res.exit_code} during the evaluation"
    return None


class SplitSession:
    """One split evaluation; `stage()` per cascade stage, then `finish()`."""

    def __init__(
        self, task: Task, code: str, sandbox: Sandbox, scratch: Path, files: ProgramFiles | None = None
    ):
        self.task, self.sandbox = task, sandbox
        self.files = files  # the program's own files: in every scratch dir a candidate starts in
        self.start = time.monotonic()
        self.first = True
        self.candidate_result: SandboxResult | None = None
        self.init_reply: dict | None = None
        self._past: list[SandboxResult] = []  # candidate processes replaced by a restart
        self._scratches: list[Path] = []
        self._cleanups: list = []
        env_data = data_env(task)  # raises FileNotFoundError (a missing data file) before anything starts
        spec = task.spec
        adapter = (task.root / spec.adapter).read_text(encoding="utf-8") if spec.adapter else None
        self.tdir = Path(tempfile.mkdtemp(prefix="syslab-trusted-"))
        self.trusted_cgroup: MemoryCgroup | None = None
        self.run = None
        ends = sandbox.channel()
        self._cleanup_channel = ends.cleanup
        # Same CPU for both once they run (they take turns): each hand-over is a same-core wakeup.
        # The candidate is pinned from its start, the trusted process after the program loaded, so
        # the two interpreters start in parallel.
        self.cpus = cpus.lease(spec.sandbox.cpus) if sandbox.name == "process" else []
        self.warm = warm.enabled(task, sandbox)
        try:
            self._start_candidate(scratch, ends)
            self._start_trusted(ends, env_data)
        except BaseException:
            if self.run is not None:
                self.run.kill()
                self.run.wait(grace_s=1.0)
            self._release()
            raise
        self._send(
            {
                "op": "init",
                "program": code,
                "adapter": adapter,
                "allow_nonfinite": spec.allow_nonfinite,
                "task_dir": str(task.root),
                "connect_timeout_s": STARTUP_S,
                "max_message_bytes": spec.sandbox.max_message_mb << 20,
            }
        )

    def _start_candidate(self, scratch: Path, ends: ChannelEnds) -> None:
        spec = self.task.spec
        python = sys.executable if self.sandbox.name == "process" else "python3"
        if self.files is not None:  # unpacked by the candidate's runtime (candidate_runtime.unpack_files)
            self.files.write_manifest(scratch)
        key, template = warm.candidate_template(self.task) if self.warm else (None, None)

        def start(template: Template | None) -> None:
            self.run = self.sandbox.start(
                [python, "-B", str(RUNTIME)],
                scratch,
                candidate_limits(self.task, sum(stage_timeouts(self.task)), self.cpus or None),
                mounts=ends.candidate_mounts,
                env={
                    **ends.candidate_env,
                    "SYSLAB_CHANNEL_MAX_BYTES": str(spec.sandbox.max_message_mb << 20),
                },
                pass_fds=tuple(ends.candidate_fds),
                **({"template": template} if template is not None else {}),
            )

        try:
            try:
                start(template)
            except TemplateError:
                POOL.discard(key)
                start(None)  # cold: the same sandbox, started by exec
        finally:
            ends.close_candidate_side()

    def _start_trusted(self, ends: ChannelEnds, env_data: dict[str, str]) -> None:
        spec = self.task.spec
        host_ctl, trusted_ctl = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        tfd = trusted_ctl.detach()
        env = scrubbed_env(self.tdir, gpu=spec.sandbox.gpu)
        env.update(env_data)
        env["PYTHONPATH"] = os.pathsep.join([str(SYSLAB_ROOT), str(self.task.root)])
        env["SYSLAB_CONTROL_FD"] = str(tfd)
        env["SYSLAB_CHANNEL_LISTEN_FD" if ends.listening else "SYSLAB_CHANNEL_FD"] = ends.trusted_spec
        if os.geteuid() == 0:  # created first: a warm child joins it itself, before it runs
            self.trusted_cgroup = MemoryCgroup.create(trusted_memory_mb(self.task) << 20)
        fds = [tfd, *ends.trusted_fds]
        try:
            self.trusted = self._spawn_trusted(env, fds, env_data)
        except BaseException:
            host_ctl.close()
            raise
        finally:
            for fd in fds:
                os.close(fd)
        # The trusted process decodes hostile replies: its memory is bounded too, so a reply that
        # decodes big (or an evaluator bug) cannot take the host down with it.
        if self.trusted_cgroup is not None and isinstance(self.trusted, subprocess.Popen):
            self.trusted_cgroup.add(self.trusted.pid)
        cap = spec.sandbox.max_output_bytes
        self.readers = [CappedReader(self.trusted.stdout, cap), CappedReader(self.trusted.stderr, cap)]  # type: ignore[arg-type]
        for r in self.readers:
            r.start()
        self.ctl = Channel(host_ctl.detach())

    def _respawn(self) -> None:
        """A fresh candidate process for the trusted side (`Candidate.restart`). The old one has been
        told to end: its record is kept for the totals. The new one gets its own scratch dir and
        channel, whose trusted ends go to the trusted process with the answer."""
        self._past.append(self.run.wait(grace_s=2.0))
        self.run.kill()
        scratch = Path(tempfile.mkdtemp(prefix="syslab-eval-"))
        self._scratches.append(scratch)
        ends = self.sandbox.channel()
        self._cleanups.append(ends.cleanup)
        sock = socket.socket(fileno=os.dup(self.ctl.fd))
        try:
            try:
                self._start_candidate(scratch, ends)
                answer, fds = {"listening": ends.listening}, ends.trusted_fds
            except Exception as e:  # noqa: BLE001 - reported to the evaluator, which fails the stage
                answer, fds = {"error": f"{type(e).__name__}: {e}"[:500]}, []
            socket.send_fds(sock, [json.dumps(answer).encode()], fds)
        finally:
            sock.close()
            for fd in ends.trusted_fds:
                os.close(fd)

    def _spawn_trusted(
        self, env: dict[str, str], fds: list[int], env_data: dict[str, str]
    ) -> subprocess.Popen | WarmChild:
        if self.warm:
            key, template = warm.trusted_template(self.task, env_data)
            if template is not None:
                req = {
                    "env": env,
                    "fd_numbers": fds,
                    "cwd": str(self.tdir),
                    "cgroup_procs": self.trusted_cgroup.procs if self.trusted_cgroup else None,
                }
                try:
                    return template.spawn(req, fds)
                except TemplateError:
                    POOL.discard(key)
        return subprocess.Popen(
            [sys.executable, "-B", "-m", "syslab.evaluators.trusted"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=self.tdir,
            pass_fds=tuple(fds),
            start_new_session=True,
        )

    def _trusted_pid(self) -> int | None:
        if isinstance(self.trusted, WarmChild):
            return self.trusted.child_pid()
        return self.trusted.pid

    def _release(self) -> None:
        """What this session holds on the host: channel dirs, CPU lease, cgroup, temp dirs."""
        self._cleanup_channel()
        for cleanup in self._cleanups:
            cleanup()
        for scratch in self._scratches:
            remove_tree(scratch)
        cpus.release(self.cpus)
        self.cpus = []
        if self.trusted_cgroup is not None:
            self.trusted_cgroup.remove()
        remove_tree(self.tdir)

    def _send(self, doc: dict) -> None:
        try:
            self.ctl.send(json.dumps(doc).encode())
        except ChannelClosed:
            pass  # the trusted process died; the next recv reports it

    def _recv(self, timeout_s: float) -> dict:
        data = self.ctl.recv(timeout_s)
        try:
            doc = json.loads(data)
        except RecursionError:
            raise ValueError("reply from the trusted evaluator nested too deeply") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str):
            raise ValueError("malformed reply from the trusted evaluator")
        return doc

    def stage(self, name: str, entry: str, timeout_s: float) -> StageOutcome:
        try:
            if self.init_reply is None:  # both processes start and the program loads: STARTUP_S
                try:
                    self.init_reply = self._recv(STARTUP_S)
                except ChannelTimeout:
                    self._kill()
                    return StageOutcome("timeout", f"the program did not load within {STARTUP_S:g} s")
                if self.init_reply["kind"] != "ok":
                    return self._outcome(self.init_reply)
                pid = self._trusted_pid() if self.cpus else None
                if pid:  # both started in parallel; from now on they take turns on one CPU
                    try:
                        os.sched_setaffinity(pid, self.cpus[:1])
                    except OSError:
                        pass
            self._send(
                {"op": "stage", "name": name, "entry": entry, "fresh": not self.first, "timeout_s": timeout_s}
            )
            self.first = False
            deadline = time.monotonic() + timeout_s
            reply = self._recv(timeout_s)
            while reply["kind"] == "respawn":  # the evaluator asked for a fresh candidate process
                self._respawn()
                reply = self._recv(max(0.0, deadline - time.monotonic()))
        except ChannelTimeout:
            self._kill()
            return StageOutcome("timeout", f"no result within {timeout_s:g} s (wall clock)")
        except (ChannelClosed, ValueError) as e:  # ValueError: MessageTooLarge, malformed JSON
            try:
                code = self.trusted.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._kill()
                code = self.trusted.wait()
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            if self.trusted_cgroup is not None and self.trusted_cgroup.oom_killed():
                how = f"out of memory, limit {trusted_memory_mb(self.task)} MB"
            tail = self.readers[1].text()[-300:].strip().replace("\n", " | ")
            return StageOutcome(
                "evaluator_error", f"trusted evaluator process ended ({how}): {e} {tail}".strip()
            )
        return self._outcome(reply)

    def _outcome(self, reply: dict) -> StageOutcome:
        kind = reply["kind"]
        if kind != "ok" and reply.get("gone"):
            self.candidate_result = self.run.wait(grace_s=2.0)
            why = _died(self.candidate_result)
            if why is not None:
                return StageOutcome(why[0], why[1], str(reply.get("traceback", "")))
        return StageOutcome(
            kind,
            str(reply.get("message", "")),
            str(reply.get("traceback", "")),
            reply.get("raw"),
            reply.get("channel"),
        )

    def _kill(self) -> None:
        if isinstance(self.trusted, WarmChild):
            self.trusted.kill()
        else:
            try:
                os.killpg(self.trusted.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.run.kill()

    def finish(self) -> SessionOutput:
        self._send({"op": "done"})
        try:
            self.trusted.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill()
            self.trusted.wait()
        res = self.candidate_result or self.run.wait(grace_s=2.0)
        self.run.kill()  # anything the candidate left behind
        for r in self.readers:
            r.join(timeout=2.0)
        self.ctl.close()
        self._release()
        runs = [*self._past, res]
        out = SessionOutput(
            stdout="".join(r.stdout + ("\n[stdout truncated]" if r.stdout_truncated else "") for r in runs),
            stderr="".join(r.stderr + ("\n[stderr truncated]" if r.stderr_truncated else "") for r in runs),
            evaluator_stdout=self.readers[0].text(),
            evaluator_stderr=self.readers[1].text(),
            wall_s=time.monotonic() - self.start,
            cpu_s=sum(r.cpu_s for r in runs),
            peak_rss_mb=max(r.peak_rss_mb for r in runs),
            start="warm"
            if getattr(self.run, "warm", None) and isinstance(self.trusted, WarmChild)
            else "cold",
        )
        return out

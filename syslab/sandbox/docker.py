"""Docker sandbox: one fresh container per run, no network, read-only, unprivileged, capped.

Each `run` creates a container from the task's image (built locally, see
images.py) and removes it afterwards. Inside it:

- no network (`network_mode="none"`) unless `Limits.network`;
- a read-only root filesystem; writable are only the scratch dir (a bind of
  `workdir`, at the same path as on the host, so commands need no rewriting)
  and a size-capped tmpfs /tmp; the syslab package and each `Mount` are bound
  read-only at their host paths;
- a non-root user (65534 when the host runs as root, else the caller's uid),
  every capability dropped, `no-new-privileges`;
- memory (no swap), one CPU, a pids limit, and rlimits (address space, CPU
  time, file size, open files) matching the process backend, so a memory
  bomb fails with MemoryError the same way;
- a PID namespace: the command is PID 1 (the harness's reporter relies on
  that), and killing the container at the timeout kills every descendant,
  detached or not;
- stdout/stderr streamed over an attach (the log driver is off, so a flood
  never reaches the host disk) and capped per stream.

Peak memory and CPU time are read from the container's cgroup while it runs
(best effort: 0 when the engine is remote or the cgroup layout is unknown).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import threading
import time
from pathlib import Path

from syslab.errors import SyslabError
from syslab.sandbox.base import Limits, Mount, SandboxResult
from syslab.sandbox.envscrub import SYSLAB_ROOT, scrubbed_env
from syslab.sandbox.images import BASE_TAG

NOBODY = 65534
TMPFS_MB = 64
LABEL = "org.syslab.sandbox"
DEADLINE_LABEL = "org.syslab.deadline"  # epoch seconds after which a leftover container is reaped
MB = 1024 * 1024


REAP_EVERY_S = 60.0
_last_reap = -1e9


@functools.lru_cache(maxsize=1)
def _engine():  # noqa: ANN202 - (docker.DockerClient, engine version)
    """One client per process: a sandbox is made per evaluation job, the connection pool is reused."""
    import docker

    client = docker.from_env(timeout=30, max_pool_size=32)
    return client, client.version().get("Version", "?")


class DockerSandboxError(SyslabError):
    """The engine or the image is unusable (not a candidate fault)."""


class _Drain(threading.Thread):
    """Read a demultiplexed attach stream to its end, keeping at most `cap` bytes per stream."""

    def __init__(self, stream, cap: int):  # noqa: ANN001 - a docker SDK generator
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.parts: tuple[list[bytes], list[bytes]] = ([], [])
        self.kept = [0, 0]
        self.truncated = [False, False]

    def run(self) -> None:
        try:
            for pair in self.stream:
                for i, data in enumerate(pair):
                    if not data:
                        continue
                    room = self.cap - self.kept[i]
                    if room > 0:
                        self.parts[i].append(data[:room])
                        self.kept[i] += min(room, len(data))
                    if len(data) > room:
                        self.truncated[i] = True
        except Exception:  # noqa: BLE001 - the socket closes under us when the container is killed
            pass

    def text(self, i: int) -> str:
        return b"".join(self.parts[i]).decode("utf-8", errors="replace")


class _CgroupProbe(threading.Thread):
    """Poll the container's cgroup for peak memory and CPU time until stopped."""

    def __init__(self, cid: str, interval_s: float = 0.05):
        super().__init__(daemon=True)
        self.cid, self.interval_s = cid, interval_s
        self.peak_bytes = 0
        self.cpu_ns = 0
        self.stop = threading.Event()

    def _paths(self) -> tuple[str | None, str | None]:
        c = self.cid
        mem = [
            f"/sys/fs/cgroup/memory/docker/{c}/memory.max_usage_in_bytes",
            f"/sys/fs/cgroup/memory/system.slice/docker-{c}.scope/memory.max_usage_in_bytes",
            f"/sys/fs/cgroup/docker/{c}/memory.peak",
            f"/sys/fs/cgroup/system.slice/docker-{c}.scope/memory.peak",
        ]
        cpu = [
            f"/sys/fs/cgroup/cpuacct/docker/{c}/cpuacct.usage",
            f"/sys/fs/cgroup/cpu,cpuacct/docker/{c}/cpuacct.usage",
            f"/sys/fs/cgroup/cpuacct/system.slice/docker-{c}.scope/cpuacct.usage",
            f"/sys/fs/cgroup/docker/{c}/cpu.stat",
            f"/sys/fs/cgroup/system.slice/docker-{c}.scope/cpu.stat",
        ]
        return next((p for p in mem if os.path.exists(p)), None), next(
            (p for p in cpu if os.path.exists(p)), None
        )

    def run(self) -> None:
        mem, cpu = self._paths()
        while mem or cpu:
            try:
                if mem:
                    self.peak_bytes = max(self.peak_bytes, int(Path(mem).read_text().split()[0]))
                if cpu:
                    text = Path(cpu).read_text()
                    if cpu.endswith("cpu.stat"):  # cgroup v2: "usage_usec N" on the first line
                        self.cpu_ns = int(text.split()[1]) * 1000
                    else:
                        self.cpu_ns = int(text.strip())
            except (OSError, ValueError, IndexError):
                break  # the cgroup is gone: the container has exited
            if self.stop.wait(self.interval_s):
                break


class DockerSandbox:
    """Runs each command in a fresh, locked-down container. See the module docstring."""

    name = "docker"

    def __init__(self, image: str | None = None, cpus: float = 1.0):
        self.image = image or BASE_TAG
        self.cpus = cpus
        try:
            self.client, self._version = _engine()
        except Exception as e:  # noqa: BLE001 - the SDK raises many types for "no engine"
            raise DockerSandboxError(
                f"docker sandbox: no Docker engine reachable ({type(e).__name__})"
            ) from None
        self.user = f"{NOBODY}:{NOBODY}" if os.geteuid() == 0 else f"{os.getuid()}:{os.getgid()}"
        global _last_reap
        if time.monotonic() - _last_reap > REAP_EVERY_S:  # one sandbox per job: do not list every time
            _last_reap = time.monotonic()
            self._reap_leftovers()

    def isolation(self) -> dict[str, bool | str]:
        return {
            "backend": "docker",
            "engine": self._version,
            "image": self.image,
            "user": self.user,
            "netns": True,
            "pidns": True,
            "mountns": True,
            "read_only_root": True,
            "cap_drop_all": True,
            "no_new_privileges": True,
            "memory_cgroup": True,
            "pids_limit": True,
            "rlimits": True,
            "env_scrub": True,
            "orphan_kill": "container",
        }

    def _reap_leftovers(self) -> None:
        """Remove sandbox containers whose owner died before removing them (past their deadline)."""
        try:
            for c in self.client.api.containers(all=True, filters={"label": LABEL}):
                deadline = float((c.get("Labels") or {}).get(DEADLINE_LABEL, "0") or 0)
                if deadline < time.time():
                    self.client.api.remove_container(c["Id"], force=True)
        except Exception:  # noqa: BLE001 - housekeeping must never fail a run
            pass

    def _host_config(self, workdir: Path, limits: Limits, mounts: list[Mount]) -> dict:
        from docker.types import DeviceRequest, LogConfig, Ulimit
        from docker.types import Mount as DMount

        binds = [DMount(str(workdir), str(workdir), type="bind", read_only=False)]
        binds.append(
            DMount(str(SYSLAB_ROOT / "syslab"), str(SYSLAB_ROOT / "syslab"), type="bind", read_only=True)
        )
        binds += [DMount(str(m.host), str(m.host), type="bind", read_only=not m.writable) for m in mounts]
        cpu_s = int(limits.cpu_s if limits.cpu_s is not None else limits.timeout_s + 1) + 1
        ulimits = [
            Ulimit(name="cpu", soft=cpu_s, hard=cpu_s),
            Ulimit(name="fsize", soft=limits.max_file_mb * MB, hard=limits.max_file_mb * MB),
            Ulimit(name="nofile", soft=limits.max_open_files, hard=limits.max_open_files),
            Ulimit(name="core", soft=0, hard=0),
        ]
        return self.client.api.create_host_config(
            mounts=binds,
            network_mode="bridge" if limits.network else "none",
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            nano_cpus=int(self.cpus * 1e9),
            pids_limit=limits.max_processes,
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={TMPFS_MB}m,mode=1777"},
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            ulimits=ulimits,
            log_config=LogConfig(type="none"),
            device_requests=[DeviceRequest(count=-1, capabilities=[["gpu"]])] if limits.gpu else None,
        )

    def _env(self, workdir: Path, limits: Limits, env: dict[str, str] | None) -> dict[str, str]:
        child = scrubbed_env(workdir, env, gpu=limits.gpu)
        child["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # the image's interpreter, not the host's
        return child

    @staticmethod
    def _command(cmd: list[str], limits: Limits) -> list[str]:
        """Set the address-space limit from inside, then exec cmd (keeping PID 1).

        Not a docker ulimit: that one also binds runc's own init, which then cannot
        allocate its seccomp filter under small limits. CUDA maps huge virtual
        ranges, so GPU runs rely on the memory cgroup alone.
        """
        if limits.gpu:
            return list(cmd)
        kb = limits.memory_mb * 1024
        return ["/bin/sh", "-c", f'ulimit -v {kb} && exec "$@"', "syslab-sandbox", *cmd]

    def _prepare_scratch(self, workdir: Path) -> None:
        """Give the scratch tree to the container user (never following a symlink)."""
        if os.geteuid() != 0:
            return
        for dirpath, dirnames, filenames in os.walk(workdir):
            for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                os.chown(name, NOBODY, NOBODY, follow_symlinks=False)

    def run(
        self,
        cmd: list[str],
        workdir: Path,
        limits: Limits,
        mounts: list[Mount] | None = None,
        env: dict[str, str] | None = None,
    ) -> SandboxResult:
        import docker.errors

        workdir = Path(workdir).resolve()
        mounts = [Mount(host=Path(m.host).resolve(), writable=m.writable) for m in mounts or []]
        child_env = self._env(workdir, limits, env)
        self._prepare_scratch(workdir)
        try:
            cid = self.client.api.create_container(
                self.image,
                command=self._command(cmd, limits),
                user=self.user,
                working_dir=str(workdir),
                environment=child_env,
                host_config=self._host_config(workdir, limits, mounts),
                labels={LABEL: "1", DEADLINE_LABEL: str(time.time() + limits.timeout_s + 60)},
                network_disabled=not limits.network,
                stdin_open=False,
                tty=False,
            )["Id"]
        except docker.errors.ImageNotFound:
            raise DockerSandboxError(
                f"docker sandbox: image {self.image!r} not found; build it with `syslab image build`"
            ) from None
        except docker.errors.APIError as e:
            raise DockerSandboxError(
                f"docker sandbox: cannot create container: {e.explanation or e}"
            ) from None
        try:
            return self._run(cid, limits)
        finally:
            try:
                self.client.api.remove_container(cid, force=True)
            except docker.errors.APIError:
                pass  # already gone; a leftover is reaped by the next sandbox (deadline label)

    def _run(self, cid: str, limits: Limits) -> SandboxResult:
        import requests

        stream = self.client.api.attach(cid, stdout=True, stderr=True, stream=True, logs=False, demux=True)
        drain = _Drain(stream, limits.max_output_bytes)
        drain.start()
        start = time.monotonic()
        self.client.api.start(cid)
        probe = _CgroupProbe(cid)
        probe.start()
        timed_out = False
        status: int | None = None
        try:
            status = int(self.client.api.wait(cid, timeout=max(limits.timeout_s, 0.001))["StatusCode"])
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            timed_out = True
            try:
                self.client.api.kill(cid)  # SIGKILL to PID 1: the PID namespace goes with it
            except Exception:  # noqa: BLE001 - it may have exited just now
                pass
            status = int(self.client.api.wait(cid, timeout=30)["StatusCode"])
        wall = time.monotonic() - start
        probe.stop.set()
        probe.join(timeout=1.0)
        drain.join(timeout=5.0)
        state = self.client.api.inspect_container(cid).get("State", {})
        oom = bool(state.get("OOMKilled"))
        exit_code: int | None = status
        signum: int | None = None
        if timed_out or (status is not None and 128 < status <= 128 + 64):
            exit_code, signum = None, (status - 128 if status and status > 128 else 9)
        peak_mb = probe.peak_bytes / MB
        if oom:  # the cgroup hit its limit: report it so the failure is classified as memory
            peak_mb = max(peak_mb, float(limits.memory_mb))
        return SandboxResult(
            exit_code=exit_code,
            signal=signum,
            stdout=drain.text(0),
            stderr=drain.text(1),
            stdout_truncated=drain.truncated[0],
            stderr_truncated=drain.truncated[1],
            timed_out=timed_out,
            wall_s=wall,
            cpu_s=probe.cpu_ns / 1e9,
            peak_rss_mb=peak_mb,
            isolation=self.isolation(),
        )


def available_images(pattern: str = "syslab-*") -> list[str]:
    """Local syslab image tags (for `syslab doctor`)."""
    import docker

    tags: list[str] = []
    for image in docker.from_env(timeout=10).images.list():
        tags += [t for t in image.tags if fnmatch.fnmatch(t, pattern)]
    return sorted(tags)

"""Docker sandbox: one fresh container per run, no network, read-only, unprivileged, capped.

Each `run` creates a container from the task's image (built locally, see
images.py) and removes it afterwards. Inside it:

- no network (`network_mode="none"`) unless `Limits.network`;
- a read-only root filesystem; writable are only the scratch dir (a
  size-capped tmpfs at `workdir`'s path, so commands need no rewriting; the
  files the host put in `workdir` are bound read-only at /syslab-in and copied
  in at start) and a size-capped tmpfs /tmp; nothing the candidate writes
  reaches the host's disk; the syslab package and each `Mount` are bound
  read-only at their host paths;
- a non-root user (65534 when the host runs as root, else the caller's uid),
  every capability dropped, `no-new-privileges`;
- memory (no swap), one CPU, a pids limit, and rlimits (address space, CPU
  time, file size, open files) matching the process backend, so a memory
  bomb fails with MemoryError the same way;
- a PID namespace: the command is PID 1 (the harness's reporter relies on
  that), and killing the container at the timeout kills every descendant,
  detached or not;
- its own IPC namespace (Docker's default), so SysV objects die with it;
- stdout/stderr streamed over an attach (the log driver is off, so a flood
  never reaches the host disk) and capped per stream;
- the candidate channel is a unix socket in a host directory bound read-only
  into the container (`channel()`): the trusted side accepts one connection.

Peak memory and CPU time are read from the container's cgroup while it runs
(best effort: 0 when the engine is remote or the cgroup layout is unknown).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import socket
import tempfile
import time
from pathlib import Path

from syslab.errors import SyslabError
from syslab.sandbox.base import ChannelEnds, Limits, Mount, SandboxResult
from syslab.sandbox.docker_run import DockerRun
from syslab.sandbox.envscrub import SYSLAB_ROOT, scrubbed_env
from syslab.sandbox.images import BASE_TAG
from syslab.sandbox.scratch import remove_tree

NOBODY = 65534
TMPFS_MB = 64
INPUTS = "/syslab-in"  # where the host's workdir files are bound read-only, to be copied into the tmpfs
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
            "ipcns": True,
            "scratch": "tmpfs (size-capped)",
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

        binds = [DMount(INPUTS, str(workdir), type="bind", read_only=True)]
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
            tmpfs={
                "/tmp": f"rw,nosuid,nodev,size={TMPFS_MB}m,mode=1777",
                str(workdir): f"rw,nosuid,nodev,size={limits.max_scratch_mb}m,mode=0700,{self._owner()}",
            },
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

    def _owner(self) -> str:
        uid, gid = self.user.split(":")
        return f"uid={uid},gid={gid}"

    @staticmethod
    def _command(cmd: list[str], limits: Limits) -> list[str]:
        """Copy the host's files into the tmpfs scratch, set the address-space limit, exec cmd (PID 1).

        Not a docker ulimit: that one also binds runc's own init, which then cannot
        allocate its seccomp filter under small limits. CUDA maps huge virtual
        ranges, so GPU runs rely on the memory cgroup alone.
        """
        copy = f'for f in {INPUTS}/* {INPUTS}/.[!.]*; do [ -f "$f" ] && [ ! -L "$f" ] && cp "$f" .; done'
        limit = "" if limits.gpu else f"ulimit -v {limits.memory_mb * 1024} && "
        return ["/bin/sh", "-c", f'{copy}; {limit}exec "$@"', "syslab-sandbox", *cmd]

    def channel(self) -> ChannelEnds:
        """A listening unix socket in a fresh host dir that is bound read-only into the container."""
        folder = Path(tempfile.mkdtemp(prefix="syslab-chan-"))  # 0700
        path = folder / "sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen(1)
        # Only the container user may reach the socket: a process-sandbox candidate on this host
        # (another uid) must not connect first and take over the channel.
        uid, gid = (int(x) for x in self.user.split(":"))
        if os.geteuid() == 0:
            os.chown(folder, uid, gid)
            os.chown(path, uid, gid)
        lfd = listener.detach()
        return ChannelEnds(
            trusted_fds=[lfd],
            trusted_spec=str(lfd),
            listening=True,
            candidate_env={"SYSLAB_CHANNEL_PATH": str(path)},
            candidate_mounts=[Mount(host=folder)],
            cleanup=lambda: remove_tree(folder),
        )

    def run(
        self,
        cmd: list[str],
        workdir: Path,
        limits: Limits,
        mounts: list[Mount] | None = None,
        env: dict[str, str] | None = None,
    ) -> SandboxResult:
        return self.start(cmd, workdir, limits, mounts, env).wait()

    def start(
        self,
        cmd: list[str],
        workdir: Path,
        limits: Limits,
        mounts: list[Mount] | None = None,
        env: dict[str, str] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> DockerRun:
        """Create and start the container; `pass_fds` cannot cross into a container (use channel())."""
        import docker.errors

        workdir = Path(workdir).resolve()
        os.chmod(workdir, 0o755)  # bound read-only at /syslab-in: the container user reads the inputs
        mounts = [Mount(host=Path(m.host).resolve(), writable=m.writable) for m in mounts or []]
        child_env = self._env(workdir, limits, env)
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
            return DockerRun(self, cid, limits)
        except BaseException:
            self._remove(cid)
            raise

    def _remove(self, cid: str) -> None:
        import docker.errors

        try:
            self.client.api.remove_container(cid, force=True)
        except docker.errors.APIError:
            pass  # already gone; a leftover is reaped by the next sandbox (deadline label)


def available_images(pattern: str = "syslab-*") -> list[str]:
    """Local syslab image tags (for `syslab doctor`)."""
    import docker

    tags: list[str] = []
    for image in docker.from_env(timeout=10).images.list():
        tags += [t for t in image.tags if fnmatch.fnmatch(t, pattern)]
    return sorted(tags)

"""The process sandbox's host protections, unit by unit: the memory limit over the whole tree (cgroup,
and the RSS watchdog where there is none), the private tmpfs scratch and its cap, the IPC namespace,
the narrowed read allowlist, and a cleanup that copes with any depth."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from syslab.sandbox import process as process_mod
from syslab.sandbox.base import Limits
from syslab.sandbox.cgroup import memory_parent
from syslab.sandbox.process import ProcessSandbox
from syslab.sandbox.scratch import remove_tree

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="namespaces, uid drop and cgroups are set up only as root")
REPO = Path(__file__).resolve().parents[2]

# Three forked children that each hold 300 MB: 900 MB for the tree, under a 512 MB limit per process.
FORK_HOG = """
import os, time
kids = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        block = bytearray(300 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(2)
        os._exit(0)
    kids.append(pid)
ok = sum(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 for pid in kids)
print("kids that kept 300 MB:", ok)
"""


def run_py(tmp_path: Path, code: str, **limits: object):  # noqa: ANN201 - a SandboxResult
    return ProcessSandbox().run([sys.executable, "-c", code], tmp_path, Limits(timeout_s=20, **limits))


@needs_root
@pytest.mark.skipif(memory_parent() is None, reason="no writable memory cgroup on this host")
def test_cgroup_limits_the_whole_tree(tmp_path: Path) -> None:
    res = run_py(tmp_path, FORK_HOG, memory_mb=512)
    assert "kids that kept 300 MB: 3" not in res.stdout
    assert res.oom_killed, (res.exit_code, res.signal, res.stderr[-300:])
    assert not list(memory_parent()[1].glob(f"syslab-{os.getpid()}-*"))  # the run's group is removed


def test_watchdog_limits_the_tree_without_a_cgroup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_mod.MemoryCgroup, "create", classmethod(lambda cls, limit: None))
    res = run_py(tmp_path, FORK_HOG, memory_mb=512)
    assert "kids that kept 300 MB: 3" not in res.stdout
    assert res.oom_killed and res.peak_rss_mb > 512


@needs_root
def test_scratch_is_a_private_capped_tmpfs(tmp_path: Path) -> None:
    (tmp_path / "given.txt").write_text("from the host")
    code = (
        "import os\n"
        "print(open('given.txt').read())\n"
        "try:\n"
        "    for i in range(100):\n"
        "        open(f'f{i}', 'wb').write(b'x' * (1 << 20))\n"
        "except OSError as e:\n"
        "    print('stopped', e.errno, i)\n"
    )
    res = run_py(tmp_path, code, max_scratch_mb=16)
    assert "from the host" in res.stdout
    assert "stopped 28" in res.stdout  # ENOSPC at the 16 MB cap, long before 100 MB
    assert sorted(p.name for p in tmp_path.iterdir()) == ["given.txt"]  # nothing reached the host's dir


@needs_root
def test_sysv_ipc_dies_with_the_sandbox(tmp_path: Path) -> None:
    code = (
        "import ctypes\n"
        "libc = ctypes.CDLL(None)\n"
        "shmid = libc.shmget(0x5151AB, 1 << 20, 0o1666)\n"  # IPC_CREAT | 0666
        "print('shmid', shmid)\n"
    )
    before = Path("/proc/sysvipc/shm").read_text()
    res = run_py(tmp_path, code)
    assert "shmid" in res.stdout and "shmid -1" not in res.stdout
    assert Path("/proc/sysvipc/shm").read_text() == before
    assert "5151ab" not in Path("/proc/sysvipc/shm").read_text().lower()


def test_reads_are_limited_to_the_runtime_and_the_package(tmp_path: Path) -> None:
    code = (
        "import os, syslab\n"
        f"for p in [{str(REPO / 'pyproject.toml')!r}, {str(REPO / 'README.md')!r}]:\n"
        "    try:\n"
        "        open(p).read(10); print('READ', p)\n"
        "    except OSError as e:\n"
        "        print('denied', e.errno)\n"
        "print('package', os.path.isfile(os.path.join(os.path.dirname(syslab.__file__), 'task.py')))\n"
    )
    res = run_py(tmp_path, code)
    assert "READ" not in res.stdout, res.stdout
    assert res.stdout.count("denied") == 2
    assert "package True" in res.stdout, res.stderr[-500:]


def test_remove_tree_copes_with_depth_links_and_modes(tmp_path: Path) -> None:
    root = tmp_path / "scratch"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(3000):  # deeper than the recursion limit and than PATH_MAX
        os.mkdir("d", dir_fd=fd)
        os.symlink(str(outside), "link", dir_fd=fd)
        os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd))
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.fchmod(fd, 0o000)  # a directory the candidate made unreadable
    os.close(fd)
    remove_tree(root)
    assert not root.exists()
    assert outside.read_text() == "keep me"  # links are removed, never followed

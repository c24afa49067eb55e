"""Launcher that confines itself, then execs the untrusted command.

Run as ``python -I -S _jail.py <json-config> -- cmd ...`` by ProcessSandbox.
It is a separate program (not a preexec_fn) because the host is multithreaded.
It imports only the standard library and never imports syslab.

As root it joins the run's memory cgroup (if the host made one), unshares
mount, network, PID, IPC and UTS namespaces and forks: the child is PID 1 of
the new PID namespace, so when it exits (or is killed) the kernel kills every
process the candidate started, even ones that called setsid(). The child
mounts a private /proc and /dev/shm, mounts a size-capped tmpfs over the
scratch dir (copying in the files the host put there), re-exposes the
interpreter when it lives under a directory the unprivileged uid cannot
traverse (e.g. /root/.pyenv), sets rlimits, drops to the per-run uid, applies
Landlock and execs the command. The parent waits and mirrors the child's exit
status.

Not root: no namespaces or uid drop; Landlock + rlimits still apply, and the
launcher is a child subreaper that kills orphans left when the command exits.

Any setup failure exits with status 125 and a "syslab-jail:" line on stderr:
the sandbox fails closed rather than running the command unconfined.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys

JAIL_EXIT = 125

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38

SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
# Filesystem access rights, by the ABI version that introduced them.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 16, 32, 64, 128
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK, FS_MAKE_SYM = 256, 512, 1024, 2048, 4096
FS_REFER, FS_TRUNCATE = 1 << 13, 1 << 14  # ABI 2, ABI 3
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2  # ABI 6

FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE
READ_RIGHTS = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1  # the kernel struct is __attribute__((packed))
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class JailError(Exception):
    pass


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise JailError(f"{what}: {os.strerror(err)}")
    return ret


def landlock_abi() -> int:
    ret = _libc.syscall(
        SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION
    )
    return max(int(ret), 0)


def _fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # EXECUTE .. MAKE_SYM (ABI 1)
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    return rights


def build_landlock(cfg: dict) -> int | None:
    """Create the ruleset (as root, so every path can be opened); return its fd."""
    abi = landlock_abi()
    if abi < 1:
        return None
    handled = _fs_rights(abi)
    attr = _RulesetAttr(fs=handled, net=0, scoped=0)
    size = 8
    if abi >= 4 and not cfg.get("network"):
        attr.net = NET_BIND_TCP | NET_CONNECT_TCP  # handled, no port allowed: all TCP denied
        size = 16
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    fd = _check(
        _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0),
        "landlock_create_ruleset",
    )
    rules = [(p, READ_RIGHTS) for p in cfg.get("read", [])] + [(p, handled) for p in cfg.get("write", [])]
    for path, rights in rules:
        try:
            pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue  # an allowlisted path that does not exist here
        try:
            if not os.path.isdir(path):
                rights &= FILE_RIGHTS
            rule = _PathBeneath(allowed=rights & handled, parent_fd=pfd)
            _check(
                _libc.syscall(SYS_LANDLOCK_ADD_RULE, fd, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0),
                f"landlock_add_rule {path}",
            )
        finally:
            os.close(pfd)
    return fd


def _mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if s is None else s.encode() for s in (src, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def _traversable(path: str, uid: int) -> bool:
    st = os.stat(path)
    return bool(st.st_mode & 0o001) or (st.st_uid == uid and bool(st.st_mode & 0o100))


def expose(paths: list[str], uid: int) -> None:
    """Make paths reachable for uid when an ancestor (e.g. /root, mode 0700) blocks traversal.

    The blocking ancestor is covered by an empty tmpfs (hiding its other
    contents) and each needed path is bind-mounted back at the same place.
    """
    plan: dict[str, list[tuple[str, int]]] = {}
    for path in paths:
        if not os.path.exists(path):
            continue
        parts = os.path.realpath(path).split("/")[1:]
        cur = ""
        for part in parts[:-1]:
            cur += "/" + part
            if not _traversable(cur, uid):
                plan.setdefault(cur, []).append((path, os.open(path, os.O_PATH | os.O_CLOEXEC)))
                break
    for blocker in sorted(plan, key=len):
        _mount("tmpfs", blocker, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=64k")
        for path, fd in plan[blocker]:
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "a").close()
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            os.close(fd)


def private_scratch(workdir: str, size_mb: int, uid: int) -> None:
    """Mount a size-capped tmpfs over the scratch dir, owned by uid, with the host's files copied in.

    The files are read through a descriptor opened before the mount hides them; only regular
    files at the top level are copied (what the host put there: a program, a key), never a link.
    """
    below = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _mount(
            "tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=0700,uid={uid},gid={uid}"
        )
        for entry in os.scandir(below):
            if not entry.is_file(follow_symlinks=False):
                continue
            src = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=below)
            dst_path = os.path.join(workdir, entry.name)
            dst = os.open(dst_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                while True:
                    chunk = os.read(src, 1 << 20)
                    if not chunk:
                        break
                    os.write(dst, chunk)
                os.fchown(dst, uid, uid)
            finally:
                os.close(src)
                os.close(dst)
    finally:
        os.close(below)


# seccomp: a short deny list on top of everything else (Landlock, namespaces, rlimits).
# Kernel keyrings outlive the process and are keyed by uid (state for the next candidate with the
# same uid); CPU affinity is how the sandbox holds a candidate to its CPUs.
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# io_uring (setup, enter, register) goes too: its operations (IORING_OP_SOCKET, _CONNECT, ...) would
# do what the filtered syscalls do without making them, and its SQPOLL thread can run on any CPU.
DENIED_SYSCALLS = {  # add_key, request_key, keyctl, sched_setaffinity, io_uring_setup/enter/register
    "x86_64": (248, 249, 250, 203, 425, 426, 427),
    "aarch64": (217, 218, 219, 122, 425, 426, 427),
}
# socket(AF_UNIX, ...) is denied too: a pathname unix socket is reached by path, and Landlock does not
# govern connect(); a world-writable one of a host service (D-Bus, journald, ...) would be reachable.
# socketpair() stays allowed (multiprocessing, and the channel is inherited, not created).
SOCKET_SYSCALL = {"x86_64": 41, "aarch64": 198}
AF_UNIX = 1
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
ERRNO_EPERM, ERRNO_ENOSYS = 1, 38
BPF_LD_ABS_W, BPF_JEQ_K, BPF_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def install_seccomp() -> bool:
    """Deny DENIED_SYSCALLS and socket(AF_UNIX) with EPERM, and every syscall of a foreign ABI
    (x32, i386) with ENOSYS. Returns False on an architecture without a table."""
    machine = os.uname().machine
    if machine not in DENIED_SYSCALLS:
        return False
    x32 = machine == "x86_64"  # the x32 ABI shares the arch value: its numbers have bit 30 set
    # Assembled with symbolic jump targets, resolved below.
    prog: list[tuple[int, int | str, int | str, int]] = [
        (BPF_LD_ABS_W, 0, 0, 4),  # seccomp_data.arch
        (BPF_JEQ_K, 0, "nosys", AUDIT_ARCH[machine]),
        (BPF_LD_ABS_W, 0, 0, 0),  # seccomp_data.nr
    ]
    if x32:
        prog.append((BPF_JGE_K, "nosys", 0, 0x40000000))
    prog += [(BPF_JEQ_K, "eperm", 0, nr) for nr in DENIED_SYSCALLS[machine]]
    prog += [
        (BPF_JEQ_K, 0, "allow", SOCKET_SYSCALL[machine]),
        (BPF_LD_ABS_W, 0, 0, 16),  # seccomp_data.args[0], low 32 bits: the address family
        (BPF_JEQ_K, "eperm", "allow", AF_UNIX),
    ]
    labels = {"allow": len(prog), "eperm": len(prog) + 1, "nosys": len(prog) + 2}
    prog += [
        (BPF_RET_K, 0, 0, RET_ALLOW),
        (BPF_RET_K, 0, 0, RET_ERRNO | ERRNO_EPERM),
        (BPF_RET_K, 0, 0, RET_ERRNO | ERRNO_ENOSYS),
    ]

    def offset(at: int, target: int | str) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1

    code = [(op, offset(i, jt), offset(i, jf), k) for i, (op, jt, jf, k) in enumerate(prog)]
    filters = (_SockFilter * len(code))(*[_SockFilter(*ins) for ins in code])
    fprog = _SockFprog(len(code), filters)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")
    return True


def set_rlimits(limits: dict) -> None:
    for name, value in limits.items():
        res = getattr(resource, name)
        resource.setrlimit(res, (value, value))


def confine(cfg: dict) -> None:
    """In the forked child (PID 1 of the new namespace when root): every layer, ending unprivileged.

    Used before exec here, and by the warm template (template.py) before it runs the candidate
    runtime in the same process."""
    root = cfg.get("uid") is not None
    if root:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        if os.path.isdir("/dev/shm"):
            _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
        if cfg.get("scratch_mb"):
            private_scratch(cfg["workdir"], int(cfg["scratch_mb"]), cfg["uid"])
        expose(cfg.get("expose", []), cfg["uid"])
    ruleset = build_landlock(cfg) if cfg.get("landlock") else None
    os.chdir(cfg["workdir"])
    if root:
        os.setgroups([])
        os.setresgid(cfg["gid"], cfg["gid"], cfg["gid"])
        os.setresuid(cfg["uid"], cfg["uid"], cfg["uid"])
    set_rlimits(cfg.get("rlimits", {}))
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    if cfg.get("seccomp", True):
        install_seccomp()
    if ruleset is not None:
        _check(_libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
        os.close(ruleset)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after setuid, which clears it
    if os.getppid() == 1 and not root:
        os._exit(JAIL_EXIT)  # the launcher already died


def confine_child(cfg: dict, cmd: list[str]) -> None:
    confine(cfg)
    os.execvpe(cmd[0], cmd, os.environ)


def enter(cfg: dict) -> None:
    """The launcher's part, before it forks the confined child: CPUs, cgroup, namespaces (root),
    or subreaper and death signal (not root). Raises JailError or OSError."""
    if cfg.get("cpus"):
        os.sched_setaffinity(0, cfg["cpus"])
    if cfg.get("uid") is not None:
        if cfg.get("cgroup_procs"):  # before forking: every descendant is charged to the group
            with open(cfg["cgroup_procs"], "w") as f:
                f.write(str(os.getpid()))
        flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
        flags |= 0 if cfg.get("network") else CLONE_NEWNET
        _check(_libc.unshare(flags), "unshare")
        _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks to the host
    else:
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def wait_child(pid: int, root: bool) -> tuple[int, resource.struct_rusage]:
    """The launcher's wait: the child's status and rusage; orphans reaped when not root."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: os.kill(pid, signal.SIGKILL))
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    if not root:
        _reap_orphans()
    return status, usage


def _mirror(status: int) -> None:
    """Exit the way the child did, so the host sees its exit code or signal."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.waitstatus_to_exitcode(status))


def _reap_orphans() -> None:
    """Non-root fallback: kill and reap whatever was reparented to us (we are a subreaper)."""
    me = str(os.getpid())
    for _ in range(50):
        found = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = f.read().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if ppid == me:
                found = True
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        if not found:
            return


def main(argv: list[str]) -> None:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: _jail.py <json-config> -- cmd ...\n")
        os._exit(2)
    cfg = json.loads(argv[1])
    cmd = argv[3:]
    try:
        enter(cfg)
    except (JailError, OSError) as e:
        sys.stderr.write(f"syslab-jail: {e}\n")
        os._exit(JAIL_EXIT)
    pid = os.fork()
    if pid == 0:
        code = JAIL_EXIT
        try:
            confine_child(cfg, cmd)
        except FileNotFoundError as e:
            sys.stderr.write(f"syslab-jail: {e}\n")
            code = 127
        except (JailError, OSError, ValueError) as e:
            sys.stderr.write(f"syslab-jail: {e}\n")
        os._exit(code)
    status, _ = wait_child(pid, cfg.get("uid") is not None)
    _mirror(status)


if __name__ == "__main__":
    main(sys.argv)

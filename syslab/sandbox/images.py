"""Container images built without a registry: a debootstrap root filesystem, then task layers.

No image registry is assumed reachable. The base image is made from a Debian
root filesystem (`debootstrap --variant=minbase`) imported with `docker import`;
a task's Python requirements are installed on the host with `pip install
--target` (wheels only, for the image's Python) and copied into a layer on top,
so a build needs no network inside containers either.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from syslab.errors import SpecError, SyslabError
from syslab.task import Task

BASE_TAG = "syslab-base:py3"
# Debian packages every evaluation needs (numpy for the example evaluators).
BASE_PACKAGES = ["python3", "python3-numpy"]
# Python packages the in-container child runner imports (pydantic v2: Debian ships v1).
RUNTIME_PIP = ["pydantic>=2.6"]
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SUITE = "bookworm"
PY_LABEL = "org.syslab.python"


def engine_available() -> tuple[bool, str]:
    """Is a Docker engine reachable? Returns (ok, a one-line description or the reason it is not)."""
    try:
        import docker
    except ImportError:
        return False, "the docker Python package is not installed (pip install docker)"
    try:
        client = docker.from_env(timeout=5)
        version = client.version()
    except Exception as e:  # the SDK raises several unrelated types for "no engine"
        return False, f"no Docker engine reachable ({type(e).__name__}: {str(e).splitlines()[0][:160]})"
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return True, f"Docker {version.get('Version', '?')} at {host}"


def _client():
    import docker

    ok, why = engine_available()
    if not ok:
        raise SyslabError(why)
    return docker.from_env(timeout=600)


def image_exists(tag: str) -> bool:
    import docker.errors

    try:
        _client().images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def apt_mirror(sources: list[Path] | None = None) -> str:
    """The Debian mirror apt uses on this host (deb822 or one-line format), else deb.debian.org."""
    candidates = sources
    if candidates is None:
        candidates = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
        candidates += sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
        candidates += sorted(Path("/etc/apt/sources.list.d").glob("*.list"))
    for path in candidates:
        try:
            text = path.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            line = line.strip()
            m = re.match(r"URIs:\s*(\S+)", line) or re.match(r"deb\s+(?:\[[^\]]*\]\s+)?(\S+)", line)
            if m and "security" not in m.group(1) and "debian" in m.group(1):
                return m.group(1).rstrip("/")
    return DEFAULT_MIRROR


def _host_suite() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME=") and line.split("=", 1)[1].strip('"'):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return DEFAULT_SUITE


def _rootfs_python(root: Path) -> str:
    """The X.Y version of python3 inside a root filesystem."""
    versions = sorted(p.name[len("python") :] for p in (root / "usr/bin").glob("python3.*"))
    versions = [v for v in versions if re.fullmatch(r"3\.\d+", v)]
    if not versions:
        raise SyslabError(f"{root}: no python3 in the debootstrapped root filesystem")
    return versions[-1]


def _pip_into(target: Path, requirements: list[str], python: str) -> None:
    """Install wheels for the image's Python (not the host's) into target, on the host."""
    if not requirements:
        return
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    cmd += ["--target", str(target), "--only-binary=:all:", "--python-version", python]
    cmd += ["--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64"]
    cmd += ["--implementation", "cp", *requirements]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SyslabError(f"pip install into the image failed: {proc.stderr.strip().splitlines()[-1:]}")


def build_base_image(
    tag: str = BASE_TAG,
    extra_packages: list[str] | None = None,
    mirror: str | None = None,
    suite: str | None = None,
    force: bool = False,
) -> str:
    """Build (or reuse) the base image from a debootstrap root filesystem; returns the tag.

    Needs root, debootstrap and a Debian mirror (the one apt uses here by default).
    Skipped when the image already exists unless force.
    """
    client = _client()
    if not force and image_exists(tag):
        return tag
    with _build_lock():
        if not force and image_exists(tag):
            return tag  # another process built it while we waited
        return _build_base(client, tag, extra_packages, mirror, suite)


@contextlib.contextmanager
def _build_lock():  # noqa: ANN202
    """Serialise image builds across processes (parallel workers would each debootstrap)."""
    path = Path(tempfile.gettempdir()) / "syslab-image-build.lock"
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build_base(
    client: Any, tag: str, extra_packages: list[str] | None, mirror: str | None, suite: str | None
) -> str:
    print(f"syslab: building {tag} from a debootstrap root filesystem (1-3 min, once)", file=sys.stderr)
    if shutil.which("debootstrap") is None:
        raise SyslabError("debootstrap not found: apt-get install -y debootstrap (needed to build images)")
    if os.geteuid() != 0:
        raise SyslabError("building the base image needs root (debootstrap creates device nodes)")
    packages = BASE_PACKAGES + list(extra_packages or [])
    with tempfile.TemporaryDirectory(prefix="syslab-rootfs-") as tmp:
        root = Path(tmp) / "root"
        cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(packages)}"]
        cmd += [suite or _host_suite(), str(root), mirror or apt_mirror()]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
            raise SyslabError(f"debootstrap failed ({' | '.join(tail)})")
        python = _rootfs_python(root)
        _pip_into(root / f"usr/local/lib/python{python}/dist-packages", RUNTIME_PIP, python)
        # Slim the image: apt caches and docs are never used inside a sandbox.
        for junk in ["var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man"]:
            shutil.rmtree(root / junk, ignore_errors=True)
        changes = [
            "ENV PATH=/usr/local/bin:/usr/bin:/bin",
            "ENV LANG=C.UTF-8",
            f"LABEL {PY_LABEL}={python}",
            'CMD ["python3"]',
        ]
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        repo, _, tag_part = tag.rpartition(":") if ":" in tag else (tag, "", "latest")
        try:
            client.api.import_image_from_stream(tar.stdout, repository=repo, tag=tag_part, changes=changes)
        finally:
            tar.stdout.close()
            tar.wait()
    if not image_exists(tag):
        raise SyslabError(f"docker import did not produce {tag}")
    return tag


def _image_python(tag: str) -> str:
    labels = _client().images.get(tag).labels or {}
    return labels.get(PY_LABEL, "3.11")


def _requirements(task: Task) -> list[str]:
    req = task.root / "requirements.txt"
    if not req.is_file():
        return []
    lines = [ln.split("#", 1)[0].strip() for ln in req.read_text().splitlines()]
    return [ln for ln in lines if ln]


def _build(context: Path, tag: str, dockerfile: str = "Dockerfile") -> None:
    import docker.errors

    try:
        _client().images.build(
            path=str(context), dockerfile=dockerfile, tag=tag, rm=True, network_mode="none"
        )
    except docker.errors.BuildError as e:
        logs = "".join(str(c.get("stream", c.get("error", ""))) for c in e.build_log).strip().splitlines()
        raise SyslabError(f"docker build of {tag} failed: {' | '.join(logs[-3:])}") from None


@functools.lru_cache(maxsize=64)
def _ensure_cached(task_root: str, key: str) -> str:
    from syslab.task import load_task

    return _ensure(load_task(task_root))


def ensure_task_image(task: Task) -> str:
    """The image a task's candidates run in, built on first use and reused after.

    - `sandbox.image` in task.toml: that image, which must exist locally (no registry);
    - `sandbox.dockerfile`: built from the task dir (its FROM may name syslab-base:py3);
    - a `requirements.txt` in the task dir: the base image plus those wheels;
    - otherwise the base image.
    """
    spec = task.spec.sandbox
    key_src = "|".join([spec.image or "", spec.dockerfile or "", ",".join(_requirements(task))])
    if spec.dockerfile and (task.root / spec.dockerfile).is_file():
        key_src += (task.root / spec.dockerfile).read_text()
    return _ensure_cached(str(task.root), hashlib.sha256(key_src.encode()).hexdigest())


def _ensure(task: Task) -> str:
    spec = task.spec.sandbox
    toml = task.root / "task.toml"
    if spec.image:
        if not image_exists(spec.image):
            raise SpecError(
                toml, "sandbox.image", f"image {spec.image!r} is not present locally (no registry)"
            )
        return spec.image
    slug = re.sub(r"[^a-z0-9_.-]", "-", task.name.lower())[:60] or "task"
    if spec.dockerfile:
        dockerfile = task.root / spec.dockerfile
        if not dockerfile.is_file():
            raise SpecError(toml, "sandbox.dockerfile", f"{spec.dockerfile!r} not found in {task.root}")
        digest = hashlib.sha256(task.content_hash().encode()).hexdigest()[:12]
        tag = f"syslab-task-{slug}:{digest}"
        if not image_exists(tag):
            build_base_image()  # a task Dockerfile usually starts FROM the base image
            with _build_lock():
                if not image_exists(tag):
                    _build(task.root, tag, dockerfile=spec.dockerfile)
        return tag
    requirements = _requirements(task)
    base = build_base_image()
    if not requirements:
        return base
    digest = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:12]
    tag = f"syslab-task-{slug}:{digest}"
    with _build_lock(), tempfile.TemporaryDirectory(prefix="syslab-ctx-") as tmp:
        if image_exists(tag):
            return tag
        ctx = Path(tmp)
        python = _image_python(base)
        _pip_into(ctx / "site", requirements, python)
        (ctx / "Dockerfile").write_text(
            f"FROM {base}\nCOPY site/ /usr/local/lib/python{python}/dist-packages/\n"
        )
        _build(ctx, tag)
    return tag


@functools.lru_cache(maxsize=1)
def docker_ready(build: bool = True) -> tuple[bool, str]:
    """(True, base tag) when an engine is reachable and the base image exists (built if asked, once
    per process); else (False, why). Tests and `syslab doctor` use it to decide what can run."""
    ok, why = engine_available()
    if not ok:
        return False, why
    try:
        if image_exists(BASE_TAG):
            return True, BASE_TAG
        if not build:
            return False, f"base image {BASE_TAG} not built (run `syslab image build`)"
        return True, build_base_image()
    except SyslabError as e:
        return False, f"cannot build {BASE_TAG}: {e}"

"""`syslab doctor`: what this machine can do, one line per capability, with the fix for each gap.

Every check is cheap and never raises: a missing engine or package is a finding,
not an error.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from collections.abc import Callable

from pydantic import BaseModel


class Check(BaseModel):
    name: str
    ok: bool
    detail: str
    hint: str = ""  # what to do when not ok


def _python() -> Check:
    ok = sys.version_info >= (3, 10)
    return Check(
        name="python", ok=ok, detail=f"{platform.python_version()} ({sys.executable})", hint="need 3.10+"
    )


def _process_sandbox() -> Check:
    from syslab.sandbox.process import ProcessSandbox

    iso = ProcessSandbox().isolation()
    names = ("uid_drop", "netns", "pidns", "mountns", "ipcns", "landlock", "landlock_net", "seccomp")
    layers = [k for k in names if iso.get(k)]
    missing = [k for k in ("uid_drop", "netns", "pidns", "ipcns", "landlock", "seccomp") if not iso.get(k)]
    detail = "enforces " + ", ".join(layers or ["rlimits only"])
    detail += f"; memory limit: {iso.get('memory_limit')}; scratch: {iso.get('scratch')}"
    if missing:
        detail += f"; missing {', '.join(missing)}"
    warm = iso.get("uid_drop") and os.environ.get("SYSLAB_WARM", "1") != "0"
    detail += "; warm templates: " + ("on" if warm else "off (root only; SYSLAB_WARM=0 turns them off)")
    hint = "run as root for uid drop and namespaces; Landlock needs Linux 5.13+" if missing else ""
    return Check(name="process sandbox", ok=not missing, detail=detail, hint=hint)


def _docker() -> Check:
    from syslab.sandbox.images import BASE_TAG, engine_available, image_exists

    ok, detail = engine_available()
    if not ok:
        return Check(
            name="docker engine",
            ok=False,
            detail=detail,
            hint="apt-get install -y docker.io && scripts/start_dockerd.sh (or start your Docker service)",
        )
    return Check(
        name="docker engine",
        ok=True,
        detail=detail + f"; base image {BASE_TAG} " + ("present" if image_exists(BASE_TAG) else "not built"),
        hint="" if image_exists(BASE_TAG) else "syslab image build",
    )


def _ray() -> Check:
    spec = importlib.util.find_spec("ray")
    if spec is None:
        return Check(name="ray", ok=False, detail="not installed", hint="pip install 'syslab[ray]'")
    from importlib.metadata import version

    return Check(name="ray", ok=True, detail=f"{version('ray')} installed (--executor ray)")


def _gpu() -> Check:
    from syslab.evaluators.gpu import gpu_available

    if gpu_available():
        return Check(name="gpu", ok=True, detail="CUDA GPU usable")
    why = "no CUDA GPU visible"
    if importlib.util.find_spec("torch") is None:
        why += " (torch not installed)"
    return Check(
        name="gpu", ok=False, detail=why, hint="GPU kernel tasks run correctness-only (Triton interpreter)"
    )


def _local_model() -> Check:
    from syslab.agents.local_model import find_gguf, llama_server_installed

    server, gguf = llama_server_installed(), find_gguf()
    if server and gguf:
        return Check(name="local model", ok=True, detail=f"llama-cpp server + {gguf.name}")
    missing = [n for n, have in (("llama-cpp-python[server]", server), ("bundled GGUF", gguf)) if not have]
    return Check(
        name="local model",
        ok=False,
        detail="missing " + ", ".join(missing),
        hint="pip install 'syslab[local]'",
    )


def _llm_endpoint() -> Check:
    base = os.environ.get("OPENAI_BASE_URL")
    key = bool(os.environ.get("OPENAI_API_KEY"))
    if base or key:
        return Check(
            name="llm endpoint",
            ok=True,
            detail=f"{base or 'api.openai.com'} (key {'set' if key else 'unset'})",
        )
    from syslab.agents.local_model import local_model_available

    fallback = "the bundled local model" if local_model_available() else "the offline proposer"
    return Check(
        name="llm endpoint",
        ok=False,
        detail=f"none configured: `--proposer auto` runs use {fallback}",
        hint="set OPENAI_BASE_URL / OPENAI_API_KEY",
    )


CHECKS: list[Callable[[], Check]] = [
    _python,
    _process_sandbox,
    _docker,
    _ray,
    _gpu,
    _local_model,
    _llm_endpoint,
]


def run_checks() -> list[Check]:
    """Run every check; a check that crashes is reported as failed with the exception."""
    results = []
    for fn in CHECKS:
        name = fn.__name__.strip("_").replace("_", " ")
        try:
            results.append(fn())
        except Exception as e:  # noqa: BLE001 - the doctor reports, it does not fail
            results.append(Check(name=name, ok=False, detail=f"check failed: {type(e).__name__}: {e}"))
    return results


def format_report(checks: list[Check]) -> str:
    """One line per check. Details quote other programs (Docker's errors, exception text), so
    control characters in them are shown escaped rather than sent to the terminal."""
    from syslab.cli.terminal import clean

    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        line = f"{'ok ' if c.ok else 'no '} {c.name:<{width}}  {c.detail}"
        if not c.ok and c.hint:
            line += f"  -> {c.hint}"
        lines.append(line)
    return "\n".join(clean(line) for line in lines)

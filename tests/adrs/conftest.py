"""ADRS tests: evaluators are called in-process with SYSLAB_DATA pointing at the shared data."""

from __future__ import annotations

import pytest
from adrs_support import DATA


@pytest.fixture(autouse=True)
def adrs_data(monkeypatch, tmp_path):
    if not (DATA / "adrs").is_dir():
        pytest.skip(f"ADRS data not present at {DATA} (see syslab.data for where to get it)")
    monkeypatch.setenv("SYSLAB_DATA", str(DATA))
    monkeypatch.chdir(tmp_path)  # evaluators run with a scratch working dir

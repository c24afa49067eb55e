"""The browse app refuses anything outside a run's evidence and its own static files."""

from __future__ import annotations

import http.client
import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from syslab.web.app import STATIC_TYPES, create_app

SECRET = "TOP-SECRET-OUTSIDE-THE-RUN"


@pytest.fixture(scope="module")
def planted(finished_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A copy of the run with a secret file beside it and symlinks planted inside evidence/."""
    root = tmp_path_factory.mktemp("sec")
    run = root / "run"
    shutil.copytree(finished_run, run)
    (root / "secret.txt").write_text(SECRET)
    # A blob name whose file is a symlink to the secret, and a blob directory that is a symlink.
    sha_file = "ab" + "c" * 62
    (run / "evidence" / "ab").mkdir(exist_ok=True)
    os.symlink(root / "secret.txt", run / "evidence" / "ab" / ("c" * 62))
    sha_dir = "ff" + "e" * 62
    outside = root / "outside"
    outside.mkdir()
    (outside / ("e" * 62)).write_text(SECRET)
    os.symlink(outside, run / "evidence" / "ff")
    return run, sha_file, sha_dir


@pytest.fixture(scope="module")
def client(planted: tuple[Path, str, str]) -> TestClient:
    return TestClient(create_app([planted[0]]), base_url="http://127.0.0.1")


def _refused(r) -> None:  # noqa: ANN001
    assert r.status_code in (400, 404, 405), (r.status_code, r.text[:200])
    assert SECRET not in r.text and "CREATE TABLE" not in r.text and "import " not in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e/app.py",
        "/static/%2e%2e%2fapp.py",
        "/static/..%5capp.py",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
        "/static/app.py",
        "/static/__init__.py",
        "/static/",
        "/api/runs/run/evidence/../syslab.db",
        "/api/runs/run/evidence/..%2fsyslab.db",
        "/api/runs/run/evidence/%2e%2e%2fmanifest.json",
        "/api/runs/run/evidence/%2Fetc%2Fpasswd",
        "/api/runs/..%2frun/graph",
        "/api/runs/%2e%2e/graph",
        "/api/runs/nope/graph",
        "/etc/passwd",
        "/docs",
        "/openapi.json",
    ],
)
def test_paths_outside_are_refused(client: TestClient, path: str) -> None:
    _refused(client.get(path))


def test_evidence_needs_a_sha256_name(client: TestClient, finished_run: Path) -> None:
    assert client.get("/api/runs/run/evidence/" + "A" * 64).status_code == 400
    assert client.get("/api/runs/run/evidence/" + "a" * 63).status_code == 400
    assert client.get("/api/runs/run/evidence/" + "a" * 64).status_code == 404  # well-formed, absent


def test_symlinks_in_evidence_do_not_lead_out(client: TestClient, planted: tuple[Path, str, str]) -> None:
    _, sha_file, sha_dir = planted
    _refused(client.get(f"/api/runs/run/evidence/{sha_file}"))
    _refused(client.get(f"/api/runs/run/evidence/{sha_dir}"))


def test_read_only_and_headers(client: TestClient) -> None:
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/api/runs").status_code == 405
    r = client.get("/")
    assert r.status_code == 200 and '<canvas id="graph"' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    # The page loads nothing from elsewhere (works offline): no absolute URLs in its files.
    for name in ("index.html", "style.css", *(n for n in STATIC_TYPES if n.endswith(".js"))):
        text = client.get(f"/static/{name}").text if name != "index.html" else r.text
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name


def test_foreign_host_header_is_refused(client: TestClient) -> None:
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not read the runs.
    assert client.get("/api/runs", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/api/runs", headers={"host": "localhost:8765"}).status_code == 200


def test_raw_requests_over_http(planted: tuple[Path, str, str], make_server) -> None:  # noqa: ANN001
    """Paths sent byte for byte (no client-side normalisation) to a real server."""
    with make_server([planted[0]]) as s:
        for path in (
            "/static/../web/app.py",
            "/static/../../syslab.db",
            "/../../../../etc/passwd",
            "/api/runs/run/evidence/../../syslab.db",
            "/api/runs/run/evidence/%2e%2e%2f%2e%2e%2fsecret.txt",
        ):
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read().decode("utf-8", "replace")
            conn.close()
            assert resp.status in (400, 404), (path, resp.status)
            assert SECRET not in body and "CREATE TABLE" not in body and "import " not in body, path

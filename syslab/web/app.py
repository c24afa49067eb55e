"""`syslab browse`: a read-only FastAPI app over one or more run artifacts.

Safety, since run artifacts hold the output of hostile candidate code:
- runs are registered by id when the app is made; a URL never names a path;
- evidence is served only under a sha256 name, from that run's evidence/ directory, after the
  resolved path (symlinks followed) is checked to lie inside it, always as text/plain;
- static files come from a fixed allow-list of the package's own files;
- only GET routes; no docs/OpenAPI routes, no debug; a Host-header allow-list (DNS rebinding)
  and a Content-Security-Policy that keeps the page to its own origin (works offline).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from starlette.middleware.trustedhost import TrustedHostMiddleware

from syslab.artifacts.store import resolve_run_dir
from syslab.web import charts
from syslab.web.data import RunView

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "util.js": "text/javascript; charset=utf-8",
    "graph.js": "text/javascript; charset=utf-8",
    "exchange.js": "text/javascript; charset=utf-8",
    "panel.js": "text/javascript; charset=utf-8",
    "views.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
SHA256 = re.compile(r"[0-9a-f]{64}")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
LOCAL_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


def _run_id(run_dir: Path, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "_", run_dir.resolve().name) or "run"
    rid, n = base, 1
    while rid in taken:
        n += 1
        rid = f"{base}-{n}"
    return rid


def create_app(run_dirs: list[Path], host: str = "127.0.0.1") -> FastAPI:
    """The browse app over `run_dirs` (each must hold a syslab.db; else SyslabError)."""
    views: dict[str, RunView] = {}
    for d in run_dirs:
        d = resolve_run_dir(d)  # SyslabError unless it is a run, or holds exactly one
        rid = _run_id(d, set(views))
        views[rid] = RunView(rid, d)
        views[rid].graph()  # lay out now: the first page load should not wait for it
    static = {
        name: (STATIC_DIR / name).read_bytes() for name in STATIC_TYPES if (STATIC_DIR / name).is_file()
    }
    lock = threading.Lock()

    app = FastAPI(title="syslab browse", docs_url=None, redoc_url=None, openapi_url=None, debug=False)
    allowed = list(LOCAL_HOSTS) + ([host] if host not in LOCAL_HOSTS else [])
    if host in ("0.0.0.0", "::"):
        allowed = ["*"]  # the user asked for every interface; the CLI warned them
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed)
    app.state.views = views

    @app.middleware("http")
    async def headers(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    def view(run_id: str) -> RunView:
        v = views.get(run_id)
        if v is None:
            raise HTTPException(404, "no such run")
        return v

    def page(name: str) -> Response:
        if name not in static:
            raise HTTPException(404, "not found")
        return Response(static[name], media_type=STATIC_TYPES[name])

    @app.get("/")
    def index() -> Response:
        return page("index.html")

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/static/{name}")
    def static_file(name: str) -> Response:
        return page(name)

    @app.get("/api/runs")
    def runs() -> JSONResponse:
        return JSONResponse([v.manifest | {"nodes": len(v.nodes)} for v in views.values()])

    @app.get("/api/runs/{run_id}/graph")
    def graph(run_id: str) -> JSONResponse:
        v = view(run_id)
        with lock:
            v.refresh()
        return JSONResponse(v.graph())

    @app.get("/api/runs/{run_id}/delta")
    def delta(run_id: str, rev: int = Query(0, ge=0), edge_seq: int = Query(0, ge=0)) -> JSONResponse:
        """Nothing when the client is up to date, else the whole (re-laid-out) graph: a new node
        can move many others in a tidy layout, and the arrays are compact."""
        v = view(run_id)
        with lock:
            v.refresh()
        if v.rev == rev and v.edge_seq == edge_seq:
            return JSONResponse(
                {"changed": False, "rev": rev, "edge_seq": edge_seq, "status": v.store.manifest.status}
            )
        return JSONResponse({"changed": True, **v.graph()})

    @app.get("/api/runs/{run_id}/summary")
    def summary(run_id: str) -> JSONResponse:
        return JSONResponse(charts.summary(view(run_id)))

    @app.get("/api/runs/{run_id}/map_elites")
    def map_elites(run_id: str) -> JSONResponse:
        return JSONResponse(charts.map_elites(view(run_id)))

    @app.get("/api/runs/{run_id}/logic")
    def logic(run_id: str) -> JSONResponse:
        return JSONResponse(view(run_id).logic())

    @app.get("/api/runs/{run_id}/search")
    def search(run_id: str, q: str = Query("", max_length=200)) -> JSONResponse:
        return JSONResponse({"ids": view(run_id).search(q)})

    @app.get("/api/runs/{run_id}/nodes/{node_id}")
    def node(run_id: str, node_id: int) -> JSONResponse:
        detail = view(run_id).node_detail(node_id)
        if detail is None:
            raise HTTPException(404, "no such node")
        return JSONResponse(detail)

    @app.get("/api/runs/{run_id}/evidence/{sha}")
    def evidence(run_id: str, sha: str) -> Response:
        v = view(run_id)
        if not SHA256.fullmatch(sha):
            raise HTTPException(400, "evidence is addressed by its sha256 (64 lowercase hex digits)")
        path = (v.evidence_root / sha[:2] / sha[2:]).resolve()
        # A symlink planted in evidence/ must not lead out of it.
        if not path.is_relative_to(v.evidence_root) or not path.is_file():
            raise HTTPException(404, "no such evidence blob")
        return Response(path.read_bytes(), media_type="text/plain; charset=utf-8")

    @app.get("/api/compare")
    def compare() -> JSONResponse:
        return JSONResponse(charts.compare(list(views.values())))

    return app


def serve(
    run_dirs: list[Path],
    host: str = "127.0.0.1",
    port: int = 8765,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve the browse app until interrupted (uvicorn, no reload, no debug); `announce` gets the
    URL once the runs are open."""
    import uvicorn

    app = create_app(run_dirs, host=host)
    if announce:
        announce(f"http://{'[' + host + ']' if ':' in host else host}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)

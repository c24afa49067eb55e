"""End to end in Debian's headless Chromium (Playwright's Python package, no downloaded browser).

Screenshots go to test-artifacts/web/ (gitignored) for a person to look at. Waits poll with
page.evaluate: the page's Content-Security-Policy forbids the eval that wait_for_function uses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syslab.artifacts.store import RunStore

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None, reason="the playwright Python package is not installed"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Debian chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201
    pg = browser.new_page(viewport={"width": 1500, "height": 900})
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # A test's own server may stop before the page closes: the page's next poll then meets a
    # closed port, which is the test's teardown, not an error of the page.
    pg.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "ERR_CONNECTION_REFUSED" not in m.text else None
        ),
    )
    yield pg
    pg.close()
    assert not errors, f"errors in the page: {errors}"


def wait_js(page, expr: str, timeout: float = 20.0):  # noqa: ANN001, ANN201
    deadline = time.time() + timeout
    while True:
        value = page.evaluate(expr)
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {expr}")
        time.sleep(0.05)


def open_page(page, url: str) -> None:  # noqa: ANN001
    page.goto(url + "/")
    wait_js(page, "!!(window.syslab && window.syslab.interactive)")


def click_node(page, node_id: int) -> None:  # noqa: ANN001
    """A real mouse click where the node is drawn (exercises the page's hit testing)."""
    pos = page.evaluate(f"window.syslab.screenPos({node_id})")
    page.mouse.click(pos["x"], pos["y"])
    wait_js(
        page, f"(document.getElementById('panel-title') || {{}}).textContent?.startsWith('Node {node_id} ')"
    )


def test_finished_run_failed_node_traceback_and_good_node_diff(server, finished_run: Path, page) -> None:  # noqa: ANN001
    store = RunStore.open(finished_run, readonly=True)
    nodes = store.nodes()
    failed = next(n for n in nodes if n.failure_kind == "evaluator_error")
    best = store.best_node()
    diff = store.diff(best.id)
    store.close()

    open_page(page, server.url)
    assert page.text_content("#node-count") == f"{len(nodes)} nodes"
    page.screenshot(path=str(SHOTS / "01-graph.png"))

    click_node(page, failed.id)
    tb = page.locator("#panel-traceback")
    assert tb.evaluate("d => d.open") is True
    assert "ValueError: flaky evaluator refuses value" in tb.inner_text()
    assert "evaluator_error" in page.inner_text("#panel-failure")
    page.screenshot(path=str(SHOTS / "02-failed-node-traceback.png"))

    click_node(page, best.id)
    d = page.locator("#panel-diff")
    assert d.evaluate("d => d.open") is True
    added = [ln for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert added and page.locator("#panel-diff pre .add").first.inner_text() == added[0]
    panel = page.inner_text("#panel")
    assert "test-model-1" in panel and "120+30 tokens" in panel  # the LLM exchange that made it
    assert "C-best" in panel  # the claim it supports
    page.screenshot(path=str(SHOTS / "03-good-node-diff.png"))


def test_score_plot_and_run_views(server, finished_run: Path, page) -> None:  # noqa: ANN001
    store = RunStore.open(finished_run, readonly=True)
    valid = [n for n in store.nodes() if n.valid and n.score is not None and n.kind.value != "analysis"]
    store.close()
    open_page(page, server.url)
    page.click("#tabs button[data-tab=charts]")
    wait_js(page, "document.getElementById('score-plot').dataset.points !== undefined")
    assert page.get_attribute("#score-plot", "data-points") == str(len(valid))
    inked = page.evaluate(
        """() => { const c = document.getElementById('score-plot');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let blue = 0, orange = 0;
                   for (let i = 0; i < d.length; i += 4) {
                     if (d[i + 3] > 0 && d[i + 2] > 150 && d[i] < 120) blue++;       // candidate dots
                     if (d[i + 3] > 0 && d[i] > 200 && d[i + 1] > 110 && d[i + 2] < 80) orange++;  // best line
                   }
                   return [blue, orange]; }"""
    )
    assert inked[0] > 10 * len(valid) and inked[1] > 100, inked
    wait_js(page, "document.getElementById('map-plot').dataset.cells !== undefined")
    assert int(page.get_attribute("#map-plot", "data-cells")) >= 1
    assert "test-model-1" in page.inner_text("#cost-table")
    page.screenshot(path=str(SHOTS / "04-run-views.png"), full_page=True)

    page.click("#tabs button[data-tab=logic]")
    link = page.locator("a.evidence-link").first
    link.wait_for()
    href = link.get_attribute("href")
    assert href.startswith(f"/api/runs/{finished_run.name}/evidence/")
    assert page.evaluate(f"fetch('{href}').then(r => r.status)") == 200
    page.screenshot(path=str(SHOTS / "05-logic.png"), full_page=True)


def test_search_and_colour_by_failure(server, page) -> None:  # noqa: ANN001
    open_page(page, server.url)
    page.fill("#search", "evaluator_error")
    wait_js(page, "document.getElementById('search-count').textContent.includes('match')")
    n = int(page.text_content("#search-count").split()[0])
    assert n == page.evaluate("window.syslab.matches.size") and n >= 1
    page.select_option("#colour-mode", "failure")
    assert "evaluator_error" in page.inner_text("#legend")
    page.screenshot(path=str(SHOTS / "06-search-failure-colours.png"))


def test_compare_runs(server, finished_run: Path, second_run: Path, page) -> None:  # noqa: ANN001
    open_page(page, server.url)
    page.click("#tabs button[data-tab=compare]")
    wait_js(page, "document.querySelectorAll('#compare-table tr').length === 3")
    table = page.inner_text("#compare-table")
    assert finished_run.name in table and second_run.name in table
    assert int(page.get_attribute("#compare-plot", "data-points")) > 0
    page.screenshot(path=str(SHOTS / "07-compare.png"), full_page=True)


def test_live_run_adds_nodes_without_reload(live_run, make_server, page) -> None:  # noqa: ANN001
    run_dir = live_run.start()
    try:
        with make_server([run_dir]) as s:
            open_page(page, s.url)
            page.evaluate("window.__sameDocument = 42")
            first = int(page.get_attribute("#node-count", "data-count"))
            wait_js(page, "document.getElementById('live').textContent.includes('live')")
            page.screenshot(path=str(SHOTS / "08-live-start.png"))
            wait_js(page, f"+document.getElementById('node-count').dataset.count >= {first + 3}", timeout=60)
            assert page.evaluate("window.__sameDocument") == 42  # updated in place, not reloaded
            live_run.join()
            store = RunStore.open(run_dir, readonly=True)
            total = store.count_nodes()
            store.close()
            wait_js(page, f"+document.getElementById('node-count').dataset.count === {total}", timeout=30)
            wait_js(page, "document.getElementById('live').textContent === ''", timeout=30)
            assert page.evaluate("window.__sameDocument") == 42
            page.screenshot(path=str(SHOTS / "09-live-finished.png"))
    finally:
        live_run.join()


SHARED_WORDS = "shared the scorer's process"


def test_unverified_badge_on_run_and_node(server, finished_run: Path, page) -> None:  # noqa: ANN001
    """The fixture runs are shared mode (evaluate(program_path)): the page says their scores are
    unverified in the header and on every node panel."""
    open_page(page, server.url)
    badge = page.locator("#run-verified")
    assert badge.is_visible() and badge.inner_text() == "unverified scores"
    assert SHARED_WORDS in badge.get_attribute("title")
    store = RunStore.open(finished_run, readonly=True)
    best = store.best_node()
    store.close()
    click_node(page, best.id)
    assert page.inner_text("#panel-verified") == "unverified score"
    assert page.locator("#panel-unverified").is_visible()
    assert SHARED_WORDS in page.inner_text("#panel-unverified")
    page.click("#tabs button[data-tab=charts]")
    wait_js(page, "document.getElementById('run-table').textContent.includes('scores')")
    assert SHARED_WORDS in page.inner_text("#run-table")
    page.click("#tabs button[data-tab=graph]")
    page.screenshot(path=str(SHOTS / "10-unverified-badge.png"))


def test_verified_run_has_no_unverified_badge(split_run: Path, make_server, page) -> None:  # noqa: ANN001
    with make_server([split_run]) as s:
        open_page(page, s.url)
        assert page.inner_text("#run-verified") == "verified scores"
        assert "badge good" == page.get_attribute("#run-verified", "class")
        click_node(page, 0)
        assert page.inner_text("#panel-verified") == "verified score"
        assert page.locator("#panel-unverified").count() == 0


def test_hostile_candidate_text_is_shown_as_text(hostile_run: Path, make_server, page) -> None:  # noqa: ANN001
    """HTML, Rich markup and escape sequences from the candidate show as text: no element is made
    from them and no script of theirs runs (an <img> would also 404: a console error, failing `page`)."""
    with make_server([hostile_run]) as s:
        open_page(page, s.url)
        click_node(page, 0)
        failure = page.inner_text("#panel-failure")
        assert "[bold green]valid[/] score=99.9" in failure and "<b>x</b>" in failure
        assert '<img src=x onerror="window.__pwned=1">' in page.inner_text("#panel-stdout pre")
        assert "<script>window.__pwned=2</script>" in page.inner_text("#panel-stderr pre")
        assert page.locator("#panel img, #panel script, #panel b").count() == 0
        assert page.evaluate("window.__pwned === undefined")
        page.screenshot(path=str(SHOTS / "11-hostile-candidate.png"))

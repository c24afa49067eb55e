"""What a newcomer met in the browse page (issue 16), in headless Chromium over a run written
with those values (synthetic_run.py): one outlier among scores near -5, a minimised metric with a
unit, a cost metric, a cut analyst note, an LLM request stored as JSON, duplicate attempts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syslab.artifacts.store import RunStore
from syslab.metric_text import fmt

from . import synthetic_run as syn
from . import test_browser as tb
from .test_browser import SHOTS, click_node, open_page, wait_js

pytestmark = tb.pytestmark
browser = tb.browser  # the same Chromium and page fixtures as the other browser tests
page = tb.page

NORMAL = [i for i in range(len(syn.CANDIDATES) + 1) if i != syn.OUTLIER]
ANALYST = len(syn.CANDIDATES) + 1 + syn.DUPLICATES


@pytest.fixture(scope="module")
def outlier_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return syn.make_run(tmp_path_factory.mktemp("newcomer"))


@pytest.fixture(scope="module")
def site(outlier_run: Path, finished_run: Path, make_server) -> Iterator[object]:  # noqa: ANN001
    with make_server([outlier_run, finished_run]) as s:
        yield s


def distinct_fills(page, ids: list[int]) -> int:  # noqa: ANN001
    return page.evaluate(f"new Set({ids}.map((id) => window.syslab.fill(window.syslab.idx.get(id)))).size")


def set_scale(page, mode: str) -> None:  # noqa: ANN001
    page.click("#tabs button[data-tab=graph]")
    page.select_option("#colour-scale", mode)


def dot_rows(page) -> int:  # noqa: ANN001
    """Pixel rows holding candidate dots in the metric plot: dots spread over the height take many,
    dots squashed into a band by an outlier few."""
    return page.evaluate(
        """() => { const c = document.getElementById('score-plot');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   const rows = new Set();
                   for (let i = 0; i < d.length; i += 4)
                     if (d[i + 3] > 0 && d[i + 2] > 150 && d[i] < 120) rows.add(Math.floor(i / 4 / c.width));
                   return rows.size; }"""
    )


def test_one_outlier_does_not_flatten_colours_or_the_chart(site, page) -> None:  # noqa: ANN001
    open_page(page, site.url)
    # Robust (default): the twelve ordinary latencies get many colours, the outlier the worst one.
    assert distinct_fills(page, NORMAL) >= 8
    assert page.evaluate(f"window.syslab.fill(window.syslab.idx.get({syn.OUTLIER}))") == "rgb(68,1,84)"
    legend = page.inner_text("#legend")
    assert "latency, lower is better" in legend and "≥" in legend and "ms" in legend
    assert "1 outside the scale" in legend
    page.screenshot(path=str(SHOTS / "30-robust-colours.png"))
    set_scale(page, "rank")
    assert distinct_fills(page, NORMAL) >= 10
    set_scale(page, "linear")  # the old behaviour, still there on request: nearly one colour
    assert distinct_fills(page, NORMAL) <= 3
    set_scale(page, "log")
    assert "1 outside the scale" not in page.inner_text("#legend")

    set_scale(page, "robust")
    page.click("#tabs button[data-tab=charts]")
    wait_js(page, "document.getElementById('score-plot').dataset.clipped !== undefined")
    assert page.get_attribute("#score-plot", "data-clipped") == "1"
    robust = dot_rows(page)
    page.screenshot(path=str(SHOTS / "31-robust-chart.png"))
    set_scale(page, "linear")
    page.click("#tabs button[data-tab=charts]")
    wait_js(page, "document.getElementById('score-plot').dataset.clipped === '0'")
    linear = dot_rows(page)
    assert robust >= 2 * linear, (robust, linear)


def pareto_front(points: list[tuple[int, float, float]]) -> set[int]:
    """Both metrics minimised: the points no other point is at least as good on both and better on one."""
    return {
        i for i, a, b in points if not any(a2 <= a and b2 <= b and (a2 < a or b2 < b) for _, a2, b2 in points)
    }


def test_any_metric_for_colour_chart_and_scatter_with_its_pareto_front(site, outlier_run: Path, page) -> None:  # noqa: ANN001
    store = RunStore.open(outlier_run, readonly=True)
    valid = [n for n in store.nodes() if n.valid and n.kind.value != "analysis"]
    store.close()
    open_page(page, site.url)
    page.select_option("#colour-mode", "m:cost")
    legend = page.inner_text("#legend")
    assert "cost, lower is better" in legend and "$/h" in legend
    page.click("#tabs button[data-tab=charts]")
    wait_js(page, "document.getElementById('scatter-plot').dataset.front !== undefined")
    page.select_option("#chart-metric", "cost")
    assert page.get_attribute("#score-plot", "data-points") == str(len(valid))
    # The run's pareto_metrics pick the axes: latency against cost, both "lower is better".
    assert page.input_value("#scatter-x") == "latency" and page.input_value("#scatter-y") == "cost"
    shown = {int(i) for i in page.get_attribute("#scatter-plot", "data-front").split(",")}
    expected = pareto_front([(n.id, n.metrics["latency"], n.metrics["cost"]) for n in valid])
    assert shown == expected and 1 < len(expected) < len(valid)
    assert f"{len(expected)} on the Pareto front" in page.inner_text("#scatter-notes")
    page.screenshot(path=str(SHOTS / "32-metric-scatter.png"), full_page=True)


def test_side_by_side_code_of_two_nodes(site, outlier_run: Path, page) -> None:  # noqa: ANN001
    store = RunStore.open(outlier_run, readonly=True)
    code3, code9 = store.get_code(3), store.get_code(9)
    store.close()
    open_page(page, site.url)
    click_node(page, 3)
    page.fill("#sbs-other", "9")
    page.click("#sbs-go")
    wait_js(page, "!document.getElementById('sbs').hidden && !!document.getElementById('sbs-code-b')")
    lines = lambda text: [ln for ln in text.splitlines() if ln.strip()]  # noqa: E731
    assert lines(page.inner_text("#sbs-code-a")) == lines(code3)
    assert lines(page.inner_text("#sbs-code-b")) == lines(code9)
    differing = [ln for ln in code3.splitlines() if ln not in code9.splitlines()]
    assert page.locator("#sbs-code-a .changed").count() == len(differing) > 0
    page.screenshot(path=str(SHOTS / "33-side-by-side.png"))
    page.click("#sbs-close")
    # Shift+click in the graph: the selected node beside the clicked one.
    click_node(page, 3)
    pos = page.evaluate("window.syslab.screenPos(12)")
    page.keyboard.down("Shift")
    page.mouse.click(pos["x"], pos["y"])
    page.keyboard.up("Shift")
    wait_js(page, "!document.getElementById('sbs').hidden")
    assert "Code of #3 and #12" in page.inner_text("#sbs")


def test_llm_prompt_is_shown_as_chat_messages_in_text(site, page) -> None:  # noqa: ANN001
    open_page(page, site.url)
    click_node(page, 2)
    page.evaluate("document.getElementById('panel-llm-0').open = true")
    assert page.inner_text("#panel-llm-0 .msg-system .msg-text") == syn.SYSTEM
    assert page.inner_text("#panel-llm-0 .msg-user .msg-text") == syn.USER
    assert "BATCH = 2" in page.inner_text("#panel-llm-0 .msg-assistant .msg-text")
    text = page.inner_text("#panel-llm-0")
    assert "\\n" not in text and '"messages"' not in text and "temperature 0.7" in text
    assert page.locator("#panel script").count() == 0 and page.evaluate("window.__pwned === undefined")
    page.screenshot(path=str(SHOTS / "34-chat-messages.png"))


def test_analyst_node_has_no_validity_badge_and_its_whole_note(site, page) -> None:  # noqa: ANN001
    open_page(page, site.url)
    click_node(page, ANALYST)
    chips = page.inner_text("#panel .chips")
    assert "valid" not in chips and "score" not in chips
    assert page.locator("#panel-verified, #panel-unverified, #panel-metrics").count() == 0
    full = syn.GUIDANCE.splitlines()[0]
    assert len(full) > 200 and page.inner_text("#panel-note") == full
    data = page.inner_text("#panel-data")
    assert "batching helps" in data and '{"' not in data and "Second line of guidance." in data
    click_node(page, 1)  # a candidate it discusses shows the same whole note
    page.evaluate("document.getElementById('panel-notes').open = true")
    assert full in page.inner_text("#panel-notes")


def test_metrics_in_their_units_direction_and_four_digits(site, page) -> None:  # noqa: ANN001
    open_page(page, site.url)
    click_node(page, 1)
    row = page.locator("#panel-metrics tr[data-metric=latency]")
    assert row.inner_text().split("\t") == ["latency (primary)", "5.123 ms", "lower is better"]
    assert page.inner_text("#panel-metrics tr[data-metric=cost]").split("\t")[1:] == [
        "3.5 $/h",
        "lower is better",
    ]
    assert "5.123456789" not in page.inner_text("#panel") and "-5.12" not in page.inner_text("#panel-metrics")
    values = [5.123456789, -4.5, 98.0, 1234567.0, 0.000012345, 0.0, 42.0]
    for unit in ("ms", "%", ""):
        shown = page.evaluate(f"{values}.map((v) => window.syslab.fmt(v, {unit!r}))")
        assert shown == [fmt(v, unit) for v in values]


def test_compare_counts_evaluations_not_attempts(site, outlier_run: Path, page) -> None:  # noqa: ANN001
    open_page(page, site.url)
    page.click("#tabs button[data-tab=compare]")
    wait_js(page, "document.querySelectorAll('#compare-table tr').length === 3")
    row = page.locator("#compare-table tr", has_text="outlier")
    cell = lambda col: row.locator(f"td[data-col={col}]").inner_text()  # noqa: E731
    assert cell("attempts") == str(len(syn.CANDIDATES) + 1 + syn.DUPLICATES)
    assert cell("evaluations") == str(len(syn.CANDIDATES) + 1)  # duplicates ran no program
    assert cell("best_value") == "latency 4.2 ms (lower is better)"  # not the score -4.2
    page.screenshot(path=str(SHOTS / "35-compare-units.png"), full_page=True)


def test_selecting_a_node_keeps_the_graph_in_view(site, page) -> None:  # noqa: ANN001
    open_page(page, site.url)
    ids = page.evaluate("window.syslab.G.id")
    inside = "(p) => p.x >= 0 && p.x <= p.w && p.y >= 0 && p.y <= p.h"
    all_in = f"{ids}.every((id) => ({inside})(window.syslab.nodeXY(id)))"
    assert page.evaluate(all_in)
    before = page.evaluate("({...window.syslab.view})")
    page.click("#goto-best")
    wait_js(page, "(document.getElementById('panel-title') || {}).textContent?.startsWith('Node 9 ')")
    assert page.evaluate("({...window.syslab.view})") == before and page.evaluate(all_in)
    click_node(page, 8)
    assert page.evaluate(all_in)
    # A node out of view is brought in, by the least pan, when opened from a link.
    page.evaluate("window.syslab.view.tx -= 5000; window.syslab.draw()")
    page.click("#panel a.node-link >> text=#2")
    wait_js(page, "(document.getElementById('panel-title') || {}).textContent?.startsWith('Node 2 ')")
    assert page.evaluate(f"({inside})(window.syslab.nodeXY(2))")

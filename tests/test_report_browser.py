"""The HTML report in a real browser: Playwright driving Debian's Chromium, headless and offline.

Needs ``pip install playwright`` and ``apt-get install chromium`` (Playwright's own
browser downloads are never used). Every request that is not a local file is blocked
and counted: the report must need none. A screenshot of each page is saved to the
test's tmp_path and, when ``HCLUST_ARTIFACTS`` names a folder, there too; one screenshot
per section of a model's report is kept in ``.pytest_cache/d/report-screenshots/``
(the run's summary prints the folder) for a reviewer to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hclust
from hclust.report import write_report
from hclust.segment import segmentation_summary
from hclust.report._data import segment_colors

CHROMIUM = Path("/usr/bin/chromium")
#: Headless, offline: no sandbox (CI runs as root), no GPU, no background traffic of the browser's own.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-default-apps", "--disable-sync", "--no-first-run",
    "--metrics-recording-only", "--disable-domain-reliability",
]
#: The folder, in pytest's cache (``.pytest_cache/d/report-screenshots`` of the checkout: it
#: outlives the run's temporary folders), where the per-section screenshots are kept for
#: review; tests/conftest.py prints it at the end of the run. HCLUST_ARTIFACTS gets copies too.
SCREENSHOTS = "report-screenshots"

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need playwright: pip install playwright"
)
pytest.importorskip("plotly")
if not CHROMIUM.exists():
    pytest.skip(
        f"browser tests need Debian's Chromium at {CHROMIUM}: apt-get install chromium",
        allow_module_level=True,
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        instance = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Session:
    """A page with console errors, page errors and attempted network requests recorded."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("requestfailed", lambda r: self.requests.append(f"failed: {r.url}") if not r.url.startswith("file:") else None)
        self.context.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def open(self, path: Path) -> dict:
        self.page.goto(path.as_uri())
        return self.page.evaluate("window.hclustReport.ready")

    def state(self) -> dict:
        return self.page.evaluate("window.hclustReport.state()")

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def check_clean(self) -> None:
        assert self.errors == []
        assert self.requests == []
        assert self.js("window.hclustReport.errors") == []

    def screenshot(self, tmp_path: Path, name: str) -> Path:
        shot = tmp_path / name
        self.page.screenshot(path=str(shot), full_page=True)
        folder = os.environ.get("HCLUST_ARTIFACTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, Path(folder) / name)
        return shot


@pytest.fixture
def session(browser):
    s = Session(browser)
    yield s
    s.context.close()


def _blobs(n_per: int = 40, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 1.0], [0.0, 7.0, -1.0], [6.0, 7.0, 3.0], [12.0, 3.0, 0.0]])
    X = np.concatenate([c + rng.normal(size=(n_per, 3)) for c in centres])
    frame = pd.DataFrame({
        "spend": X[:, 0] * 10 + 100,
        "visits": X[:, 1] + 20,
        "tenure": X[:, 2] + 5,
        "plan": np.where(X[:, 0] > 3, "gold", "basic"),
    })
    return X, frame


@pytest.fixture(scope="module")
def small_report(tmp_path_factory) -> tuple[Path, np.ndarray]:
    X, frame = _blobs()
    Z = hclust.linkage(X, "ward")
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(path, segmentation_summary(Z, X, frame, n_clusters=3, ks=range(2, 9), params={"method": "ward"}))
    return path, Z


# --------------------------------------------------------------------------- tests


def test_loads_offline_without_errors(session, small_report, tmp_path):
    path, Z = small_report
    state = session.open(path)
    assert state["plotly"] is True, state["plotlyError"]
    assert state["k"] == 3 and state["tableRows"] == 3
    # every chart drew
    for chart in ("sizes-chart", "heatmap-chart", "scatter-chart", "choosek-wss"):
        assert session.js(f"document.getElementById('{chart}').querySelectorAll('.main-svg').length") > 0
    assert session.screenshot(tmp_path, "report_small.png").stat().st_size > 10_000
    session.check_clean()


def test_dendrogram_renders_every_node(session, small_report):
    path, Z = small_report
    n = Z.shape[0] + 1
    state = session.open(path)
    assert state["drawnNodes"] == 2 * n - 1 and state["collapsedNodes"] == 0
    painted = session.js(
        """() => { const c = document.getElementById('tree');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let k = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) k++; return k; }"""
    )
    assert painted > 2000
    session.check_clean()


def test_k_selector_updates_table_sizes_colours_and_charts(session, small_report):
    path, Z = small_report
    n = Z.shape[0] + 1
    session.open(path)
    # a row of the 5-segment cut that is in segment 4 there (segment 0..2 at k=3)
    labels5 = hclust.cut(Z, n_clusters=5)
    leaf = int(np.flatnonzero(labels5 == 4)[0])
    before = session.js("leaf => window.hclustReport.colourOf(leaf)", leaf)
    session.page.select_option("#k-select", "5")
    state = session.state()
    assert state["k"] == 5 and state["tableRows"] == 5
    assert sum(state["sizes"]) == n and state["sizes"] == np.bincount(labels5).tolist()
    assert state["tableColours"] == ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
    after = session.js("leaf => window.hclustReport.colourOf(leaf)", leaf)
    assert after == "#9467bd" and after != before
    assert session.js("document.getElementById('scatter-chart').data.length") == 5
    assert session.js("document.getElementById('sizes-chart').data[0].marker.color.length") == 5
    assert session.js("document.getElementById('heatmap-chart').data[0].z.length") == 5
    session.check_clean()


def test_download_labels_of_the_chosen_cut(session, small_report, tmp_path):
    """The report exports the labels of the cut on screen (no server needed)."""
    path, Z = small_report
    session.open(path)
    session.page.select_option("#k-select", "4")
    with session.page.expect_download() as info:
        session.page.click("#download-labels")
    target = tmp_path / "labels.csv"
    info.value.save_as(str(target))
    assert info.value.suggested_filename == "segments_k4.csv"
    table = pd.read_csv(target)
    assert list(table.columns) == ["row", "segment", "segment_name"]
    np.testing.assert_array_equal(table["row"], np.arange(Z.shape[0] + 1))
    np.testing.assert_array_equal(table["segment"], hclust.cut(Z, n_clusters=4))
    assert table["segment_name"].nunique() == 4
    session.check_clean()


def test_dragging_the_cut_line_changes_k(session, small_report):
    path, _ = small_report
    session.open(path)
    rect = session.js("window.hclustReport.canvasClientRect()")
    x = rect["left"] + rect["width"] * 0.3
    y = session.js("window.hclustReport.cutLineClientY()")
    cut2 = session.js("JSON.parse(document.getElementById('hclust-data').textContent).segments['2'].cut_height")
    mouse = session.page.mouse
    # drag up into the 2-cluster band: k follows while dragging
    mouse.move(x, y)
    mouse.down()
    mouse.move(x, session.js("h => window.hclustReport.clientYForHeight(h)", cut2), steps=8)
    assert session.state()["k"] == 2
    mouse.up()
    state = session.state()
    assert state["k"] == 2 and state["tableRows"] == 2
    assert session.js("document.getElementById('k-select').value") == "2"
    assert session.state()["cutHeight"] == pytest.approx(cut2)  # the line snaps to the band's middle
    # down near the leaves: many clusters, clamped to the largest k offered
    y = session.js("window.hclustReport.cutLineClientY()")
    mouse.move(x, y)
    mouse.down()
    mouse.move(x, rect["top"] + rect["height"] - 40, steps=8)
    mouse.up()
    assert session.state()["k"] == 8 and session.state()["tableRows"] == 8
    session.check_clean()


def test_click_collapses_and_expands_a_subtree(session, small_report):
    path, Z = small_report
    n = Z.shape[0] + 1
    state = session.open(path)
    root = 2 * n - 2
    node = int(max(Z[-1, 0], Z[-1, 1]))  # the larger child of the root: an internal node
    size = int(Z[node - n, 3])
    pos = session.js("node => window.hclustReport.nodeClientPos(node)", node)
    session.page.mouse.click(pos["x"], pos["y"])
    collapsed = session.state()
    assert collapsed["collapsedNodes"] == 1
    assert collapsed["drawnNodes"] == state["drawnNodes"] - 2 * (size - 1)
    assert session.js("node => window.hclustReport.nodeIsCollapsed(node)", node)
    pos = session.js("node => window.hclustReport.nodeClientPos(node)", node)
    session.page.mouse.click(pos["x"], pos["y"])
    expanded = session.state()
    assert expanded["collapsedNodes"] == 0 and expanded["drawnNodes"] == state["drawnNodes"]
    assert root in session.js("window.hclustReport.visibleNodes()")
    session.check_clean()


def test_hover_shows_node_size_and_profile(session, small_report):
    path, Z = small_report
    n = Z.shape[0] + 1
    session.open(path)
    node = int(max(Z[-1, 0], Z[-1, 1]))
    pos = session.js("node => window.hclustReport.nodeClientPos(node)", node)
    session.page.mouse.move(pos["x"] - 30, pos["y"] - 30)
    session.page.mouse.move(pos["x"], pos["y"], steps=3)
    state = session.state()
    assert state["tooltipVisible"] and state["hover"] == node
    text = session.page.inner_text("#tooltip")
    assert f"Node {node}" in text and f"{int(Z[node - n, 3])} rows" in text
    assert "vs the rest" in text
    session.page.mouse.move(1, 1)
    assert not session.state()["tooltipVisible"]
    session.check_clean()


def test_zoom_and_pan(session, small_report):
    path, _ = small_report
    start = session.open(path)["view"]
    rect = session.js("window.hclustReport.canvasClientRect()")
    cx, cy = rect["left"] + rect["width"] / 2, rect["top"] + rect["height"] * 0.85
    session.page.mouse.move(cx, cy)
    session.page.mouse.wheel(0, -600)
    zoomed = session.state()["view"]
    assert zoomed["x1"] - zoomed["x0"] < 0.8 * (start["x1"] - start["x0"])
    session.page.mouse.down()
    session.page.mouse.move(cx + 200, cy, steps=5)
    session.page.mouse.up()
    panned = session.state()["view"]
    assert panned["x0"] < zoomed["x0"]
    assert panned["x1"] - panned["x0"] == pytest.approx(zoomed["x1"] - zoomed["x0"])
    assert session.state()["k"] == 3  # a pan is not a click
    session.page.click("#reset-view")
    assert session.state()["view"] == start
    session.check_clean()


@pytest.mark.shared
def test_insurance_report_loads(session, shared_data, tmp_path):
    frame = pd.read_csv(shared_data / "insurance" / "insurance.csv")
    features = hclust.segment.Preparer().fit_transform(frame)
    Z = hclust.linkage(features.to_numpy(), "ward")
    path = write_report(tmp_path / "insurance.html", segmentation_summary(
        Z, features, frame, n_clusters=4, params={"data": "insurance.csv", "method": "ward"}))
    assert path.stat().st_size < 3_000_000
    state = session.open(path)
    assert state["plotly"] is True and state["drawnNodes"] == 2 * 1338 - 1
    assert state["tableRows"] == 4
    session.page.select_option("#k-select", "6")
    assert session.state()["tableRows"] == 6
    session.page.select_option("#k-select", "12")  # above 10 segments: tab20, as the static charts
    assert session.state()["tableColours"] == segment_colors(12)
    session.page.select_option("#k-select", "4")
    session.screenshot(tmp_path, "report_insurance.png")
    session.check_clean()


@pytest.mark.slow
def test_large_tree_starts_collapsed(session, tmp_path):
    n = 100_000
    X = np.random.default_rng(0).normal(size=(n, 2))
    Z = hclust.linkage(X, "ward")
    evaluation = hclust.evaluate(Z, X, ks=range(2, 9), criteria=("wss", "calinski_harabasz"))
    path = write_report(tmp_path / "large.html", segmentation_summary(Z, X, n_clusters=4, ks=range(2, 9),
                                                                      evaluation=evaluation))
    state = session.open(path)
    assert state["plotly"] is True
    assert 0 < state["drawnNodes"] <= 2 * 2000 + 1
    assert state["collapsedNodes"] > 0 and state["slots"] < 2100
    assert state["tableRows"] == 4
    # open a collapsed subtree: more nodes are drawn
    node = session.js(
        "() => { const s = window.hclustReport; const n = s.state().n;"
        " return s.visibleNodes().find(v => v >= n && s.nodeIsCollapsed(v)); }"
    )
    assert node is not None
    before = session.state()["drawnNodes"]
    session.js("node => window.hclustReport.toggle(node)", node)
    assert session.state()["drawnNodes"] == before + 2
    session.page.select_option("#k-select", "7")
    assert session.state()["tableRows"] == 7
    session.screenshot(tmp_path, "report_large.png")
    session.check_clean()


def test_gh19_model_report_shows_stability_preparation_and_gower_criteria(session, tmp_path):
    """A Gower model whose average linkage recommends no k: the page says so, lists the preparation,
    the real feature count and each segment's stability, without errors."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _synthetic import bank_like

    bank = bank_like(300, seed=5)
    model = hclust.SegmentationModel(3, metric="gower", method="average", holdout=None).fit(bank)
    path = model.report(tmp_path / "gower.html")
    session.open(path)
    session.check_clean()
    text = session.js("document.body.innerText")
    assert "300 rows, 17 clustering features" in text
    assert "none (no k meets the minimum segment size)" in text
    assert "Criteria on Gower distances over 17 columns" in text
    assert "Missing values kept: Gower compares a pair of rows" in text
    cells = session.js("Array.from(document.querySelectorAll('#segment-table td.stability')).map(c => c.textContent)")
    assert cells == [f"{v:.2f}" for v in model.stability_["jaccard_mean"]]
    session.js("window.hclustReport.setK(4)")
    cells = session.js("Array.from(document.querySelectorAll('#segment-table td.stability')).map(c => c.textContent)")
    assert cells == ["\u2013"] * 4  # stability is measured for the model's own k only
    session.check_clean()
    session.screenshot(tmp_path, "report_gower_model.png")
# --------------------------------------------------------------------------- nothing in the data can act

HOSTILE_CATEGORY = '<span style="background:url(http://127.0.0.1:9/beacon)">gold</span>'
HOSTILE_LINK = '<a href="http://example.test/">click</a>'
HOSTILE_NAMES = {
    0: "<!-- everything after this was blank -->",
    1: HOSTILE_LINK,
    2: "</script><script>window.pwned = 1</script>",
    3: '<img src="http://127.0.0.1:9/pixel" onerror="window.pwned = 2">',
    4: "=HYPERLINK(\"http://x.test\") & more",
}
CHART_IDS = ("sizes-chart", "heatmap-chart", "scatter-chart", "choosek-wss")
SECTIONS = ("explorer-section", "segments-section", "heatmap-section", "scatter-section", "choosek-section",
            "summary-section")


def _assert_every_section_rendered(session: Session, k: int) -> None:
    state = session.state()
    assert state["plotly"] is True, state["plotlyError"]
    assert state["tableRows"] == k and state["drawnNodes"] > 0
    for chart in CHART_IDS:
        assert session.js(f"document.getElementById('{chart}').querySelectorAll('.main-svg').length") > 0, chart
    assert session.js("document.querySelectorAll('#summary-table tbody tr').length") >= 6
    assert session.js("document.getElementById('reasons').children.length") > 0
    for section in SECTIONS:
        box = session.js(f"document.getElementById('{section}').getBoundingClientRect().height")
        assert box > 100, section


def test_hostile_names_are_text_and_make_no_request(session, tmp_path):
    X, frame = _blobs()
    frame["plan"] = np.where(frame["plan"] == "gold", HOSTILE_CATEGORY, HOSTILE_LINK)
    Z = hclust.linkage(X, "ward")
    summary = segmentation_summary(Z, X, frame, n_clusters=5, ks=range(2, 7), names=HOSTILE_NAMES,
                                   feature_names=["<b>spend</b>", "visits<!--", "tenure"],
                                   params={"note": "<script>window.pwned = 3</script>"})
    path = write_report(tmp_path / "hostile.html", summary, title="<!-- title -->")
    session.open(path)
    _assert_every_section_rendered(session, 5)
    assert session.js("window.pwned") is None
    # Plotly shows the markup as text: no links, styles or images come out of the data
    assert session.js("document.querySelectorAll('.main-svg a, .main-svg img, #segment-table a, #summary-table a').length") == 0
    def squeezed(selector: str) -> set[str]:  # tick texts, wrapped lines joined, spaces dropped
        texts = session.js(f"Array.from(document.querySelectorAll('{selector}')).map(t => t.textContent)")
        return {"".join(t.split()) for t in texts}

    expected = {"".join(f"{s} · {name}".split()) for s, name in HOSTILE_NAMES.items()}
    assert squeezed("#sizes-chart .ytick text") == expected
    assert squeezed("#heatmap-chart .ytick text") == expected
    assert "".join(f"plan={HOSTILE_CATEGORY}".split()) in squeezed("#heatmap-chart .xtick text")
    assert {"".join(f"{s} · {name}".split()) for s, name in HOSTILE_NAMES.items()} == squeezed(
        "#scatter-chart .legendtext")
    names = session.js("Array.from(document.querySelectorAll('#segment-table tbody tr td:nth-child(3)')).map(t => t.textContent)")
    assert names == [HOSTILE_NAMES[s] for s in range(5)]
    assert session.js("document.title") == "<!-- title -->"
    session.screenshot(tmp_path, "report_hostile.png")
    session.check_clean()  # no request was even attempted, no console error


def test_download_uses_the_id_column_and_neutralises_formulas(session, tmp_path):
    X, frame = _blobs()
    Z = hclust.linkage(X, "ward")
    ids = [f"C{i:03d}" for i in range(len(X))]
    ids[0] = "=cmd|' /C calc'!A0"
    names = {0: "@risk", 1: "ok", 2: "fine"}
    summary = segmentation_summary(Z, X, frame, n_clusters=3, ks=[2, 3], names=names, ids=ids, id_name="customer_id")
    path = write_report(tmp_path / "ids.html", summary)
    session.open(path)
    with session.page.expect_download() as info:
        session.page.click("#download-labels")
    target = tmp_path / "labels.csv"
    info.value.save_as(str(target))
    table = pd.read_csv(target)
    labels = hclust.cut(Z, n_clusters=3)
    assert list(table.columns) == ["customer_id", "segment", "segment_name"]
    assert table["customer_id"].tolist() == ["'" + ids[0], *ids[1:]]
    np.testing.assert_array_equal(table["segment"], labels)
    assert set(table["segment_name"]) == {"'@risk", "ok", "fine"}
    note = session.page.inner_text("#download-note")
    count = 1 + int((labels == 0).sum())
    assert f"{count} values starting with =, +, -, @" in note
    session.check_clean()
    raw = write_report(tmp_path / "raw.html", summary, escape_formulas=False)
    session.open(raw)
    with session.page.expect_download() as info:
        session.page.click("#download-labels")
    info.value.save_as(str(target))
    assert pd.read_csv(target)["customer_id"].iloc[0] == ids[0]
    assert session.page.inner_text("#download-note") == ""


def _overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


_RECT = "e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"


def test_mode_bar_covers_no_title_and_long_names_are_whole(session, tmp_path):
    X, frame = _blobs()
    Z = hclust.linkage(X, "ward")
    long = "Young non-smokers with low charges and few children in the southeast region"
    path = write_report(tmp_path / "long.html", segmentation_summary(
        Z, X, frame, n_clusters=3, ks=range(2, 7),
        names={0: long, 1: "Supercalifragilisticexpialidocious-customers-with-no-spaces"}))
    session.open(path)
    charts = session.js("Array.from(document.querySelectorAll('.js-plotly-plot')).map(e => e.id)")
    assert len(charts) >= 6
    for chart in charts:
        handle = session.page.locator(f"#{chart}")
        handle.hover()
        bar = session.page.locator(f"#{chart} .modebar")
        assert bar.count() == 1 and bar.is_visible()
        bar_box = bar.evaluate(_RECT)
        for selector in (".gtitle", ".cbtitle", ".legend"):
            for element in session.page.locator(f"#{chart} {selector}").all():
                assert not _overlap(bar_box, element.evaluate(_RECT)), (chart, selector)
    # the sizes chart shows each name whole, inside the chart
    chart_box = session.page.locator("#sizes-chart").evaluate(_RECT)
    ticks = session.page.locator("#sizes-chart .ytick text").all()
    texts = [" ".join(t.evaluate("e => Array.from(e.querySelectorAll('tspan.line')).map(s => s.textContent)"
                                 ".join(' ') || e.textContent").split()) for t in ticks]
    assert f"0 · {long}" in texts
    assert "1·Supercalifragilisticexpialidocious-customers-with-no-spaces" in {t.replace(" ", "") for t in texts}
    for tick in ticks:
        box = tick.evaluate(_RECT)
        assert box["left"] >= chart_box["left"] - 1 and box["right"] <= chart_box["right"] + 1
    session.check_clean()


# --------------------------------------------------------------------------- a screenshot per section


@pytest.fixture(scope="module")
def model_report(tmp_path_factory) -> Path:
    """The report of a model fitted on the bundled Wholesale customers, with an ID column,
    feature names, a long segment name and the choose-k evaluation."""
    from hclust.datasets import load_wholesale
    from hclust.segment import SegmentationModel

    customers = load_wholesale()
    customers.insert(0, "customer_id", [f"W{i:04d}" for i in range(len(customers))])
    model = SegmentationModel(4, exclude=["Channel", "Region"]).fit(customers)
    model.rename({0: "Hotels, restaurants and cafés buying fresh food and frozen goods in bulk"})
    return model.report(tmp_path_factory.mktemp("model-report") / "wholesale.html",
                        title="Wholesale customers: segmentation")


@pytest.mark.parametrize("section", SECTIONS)
def test_screenshot_of_each_section(session, model_report, request, tmp_path_factory, section):
    session.open(model_report)
    _assert_every_section_rendered(session, session.state()["k"])
    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir(SCREENSHOTS) if cache is not None else tmp_path_factory.getbasetemp() / SCREENSHOTS
    folder.mkdir(exist_ok=True)
    shot = folder / f"{section}.png"
    element = session.page.locator(f"#{section}")
    element.scroll_into_view_if_needed()
    element.screenshot(path=str(shot))
    assert shot.stat().st_size > 5_000
    artifacts = os.environ.get("HCLUST_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(artifacts) / shot.name)
    if section == "summary-section":
        text = session.page.inner_text("#summary-table")
        assert "x0" not in text and "Fresh" in text and "ID column\tcustomer_id" in text
        rows = [r.split("\t")[0] for r in text.splitlines()]
        assert len(rows) == len(set(r.lower() for r in rows))  # no parameter twice
    session.check_clean()

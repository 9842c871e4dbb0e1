"""The HTML report and the static charts: embedded data, size, determinism and input errors.

The page itself is exercised in a real browser by tests/test_report_browser.py.
"""

from __future__ import annotations

import base64
import gzip
import json
import re

import numpy as np
import pandas as pd
import pytest

import hclust
from hclust.report import build_report_html, write_report, write_static
from hclust.report._data import PALETTE_10, SCATTER_MAX, segment_colors
from hclust.segment import segmentation_summary
from hclust.select import evaluate
from hclust.tree import cut

pytest.importorskip("plotly")


def _blobs(n_per: int = 30, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 1.0], [0.0, 7.0, -1.0], [6.0, 7.0, 3.0]])
    X = np.concatenate([c + rng.normal(size=(n_per, 3)) for c in centres])
    frame = pd.DataFrame({
        "spend": X[:, 0] * 10 + 100,
        "visits": X[:, 1] + 20,
        "tenure": X[:, 2] + 5,
        "plan": np.where(X[:, 0] > 3, "gold", "basic"),
    })
    return X, frame


@pytest.fixture(scope="module")
def small():
    X, frame = _blobs()
    Z = hclust.linkage(X, "ward")
    return Z, X, frame


def _payload(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="hclust-data">(.*?)</script>', page, re.S)
    assert match is not None
    return json.loads(match.group(1).replace("<\\/", "</"))


def _page(Z, features, frame=None, *, title="Segmentation report", escape_formulas=True, **kwargs) -> str:
    """The page of segmentation_summary(Z, features, frame, **kwargs)."""
    summary = segmentation_summary(Z, features, frame, **kwargs)
    return build_report_html(summary, title=title, escape_formulas=escape_formulas)


def _decode(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(gzip.decompress(base64.b64decode(text)), dtype=dtype)


def test_page_embeds_tree_segments_and_charts(small):
    Z, X, frame = small
    page = _page(Z, X, frame, n_clusters=4, params={"method": "ward"}, title="Shop <test>")
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Shop &lt;test&gt;</title>" in page
    data = _payload(page)
    n = X.shape[0]
    assert data["n"] == n and data["k"] == 4
    assert data["ks"] == list(range(2, 13))
    children = _decode(data["children"], "<i4").reshape(-1, 2)
    heights = _decode(data["heights"], "<f8")
    np.testing.assert_array_equal(children, Z[:, :2].astype(np.int32))
    np.testing.assert_array_equal(heights, Z[:, 2])
    assert data["params"] == {"method": "ward"}
    assert data["heatmap_columns"][:3] == ["spend", "visits", "tenure"]
    assert "plan=basic" in data["heatmap_columns"]
    assert data["palette10"] == list(PALETTE_10)
    for k in data["ks"]:
        seg = data["segments"][str(k)]
        assert len(seg["names"]) == len(seg["sizes"]) == len(seg["roots"]) == len(seg["heatmap"]) == k
        assert sum(seg["sizes"]) == n
        assert all(len(row) == len(data["heatmap_columns"]) for row in seg["heatmap"])


@pytest.mark.parametrize("method", ["ward", "centroid", "single"])
def test_segment_roots_head_the_cut_labels(small, method):
    """The page colours node `roots[s]` and everything below it as segment s: the same rows cut() labels s
    (also for non-monotone trees, where cut() follows the largest height below each merge)."""
    _, X, frame = small
    Z = hclust.linkage(X, method)
    n = X.shape[0]
    data = _payload(_page(Z, X, frame, n_clusters=3, ks=[2, 3, 5, 9]))
    for k in (2, 3, 5, 9):
        labels = cut(Z, n_clusters=k)
        for s, root in enumerate(data["segments"][str(k)]["roots"]):
            stack, leaves = [root], []
            while stack:
                node = stack.pop()
                if node < n:
                    leaves.append(node)
                else:
                    stack.extend(int(c) for c in Z[node - n, :2])
            assert sorted(leaves) == sorted(np.flatnonzero(labels == s).tolist())


def test_sizes_match_profile_and_names_override(small):
    Z, X, frame = small
    data = _payload(_page(Z, X, frame, n_clusters=4, names={0: "Core"}))
    profile = hclust.profile(frame, cut(Z, n_clusters=4), names={0: "Core"})
    assert data["segments"]["4"]["names"] == [profile.names[s] for s in range(4)]
    assert data["segments"]["4"]["names"][0] == "Core"
    assert data["segments"]["3"]["names"][0] != "Core"  # names belong to the chosen k only
    assert data["segments"]["4"]["sizes"] == profile.sizes["size"].tolist()


@pytest.mark.parametrize("n", [2, 3])
def test_tiny_trees(n):
    X = np.arange(n * 2, dtype=float).reshape(n, 2) ** 2
    Z = hclust.linkage(X, "ward")
    data = _payload(_page(Z, X, n_clusters=2))
    assert data["ks"] == list(range(2, n + 1))
    assert data["segments"]["2"]["sizes"] == np.bincount(cut(Z, n_clusters=2)).tolist()


def test_features_profiled_when_no_frame():
    X, _ = _blobs()
    Z = hclust.linkage(X, "ward")
    features = pd.DataFrame(X, columns=["a", "b", "c"])
    data = _payload(_page(Z, features, n_clusters=2, ks=[2, 3]))
    assert data["feature_names"] == ["a", "b", "c"]
    assert data["profiled_columns"] == ["a", "b", "c"]
    assert data["frame_given"] is False
    data = _payload(_page(Z, X, n_clusters=2, ks=[2], feature_names=["p", "q", "r"]))
    assert data["heatmap_columns"] == ["p", "q", "r"]


def test_evaluation_is_used_when_given(small):
    Z, X, frame = small
    evaluation = evaluate(Z, X, ks=[2, 3, 4], criteria=("wss", "silhouette"))
    data = _payload(_page(Z, X, n_clusters=3, ks=[2, 3, 4], evaluation=evaluation))
    assert data["evaluation"] == json.loads(json.dumps(evaluation.to_dict()))
    computed = _payload(_page(Z, X, n_clusters=3, ks=[2, 3, 4]))["evaluation"]
    assert [row["k"] for row in computed["table"]] == [2, 3, 4]
    assert "gap" not in computed["table"][0]  # the cheap default skips the gap statistic


def test_scatter_is_a_seeded_sample_for_large_tables():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(SCATTER_MAX + 500, 2))
    Z = hclust.linkage(X, "ward")
    evaluation = evaluate(Z, X, ks=[2, 3], criteria=("wss",))
    data = _payload(_page(Z, X, n_clusters=2, ks=[2, 3], evaluation=evaluation))
    scatter = data["scatter"]
    assert scatter["sampled"] is True and scatter["count"] == SCATTER_MAX
    index = _decode(scatter["index"], "<i4")
    assert len(index) == SCATTER_MAX and np.all(np.diff(index) > 0)
    assert len(_decode(scatter["xy"], "<f4")) == 2 * SCATTER_MAX


def test_page_is_deterministic_and_offline(small):
    Z, X, frame = small
    first = _page(Z, X, frame, n_clusters=4)
    assert first == _page(Z, X, frame, n_clusters=4)
    # Everything except the compressed Plotly block is ours: no URL may be fetched.
    ours = re.sub(r'<script type="application/octet-stream" id="plotly-gz">.*?</script>', "", first, flags=re.S)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", ours)
    assert "http://" not in ours and "https://" not in ours
    plotly_js = gzip.decompress(base64.b64decode(
        re.search(r'id="plotly-gz">(.*?)</script>', first, re.S).group(1)
    )).decode("utf-8")
    assert "plotly" in plotly_js[:2000].lower()


def test_script_safe_embedding():
    X, _ = _blobs(10)
    Z = hclust.linkage(X, "ward")
    page = _page(Z, X, n_clusters=2, ks=[2], feature_names=["</script><b>", "b", "c"],
                             params={"note": "</script>"})
    data = _payload(page)
    assert data["feature_names"][0] == "</script><b>"
    assert page.count("</script>") == 3  # the three script elements of the template


def test_write_report_atomic_and_size(small, tmp_path):
    Z, X, frame = small
    target = tmp_path / "out" / "report.html"
    path = write_report(target, segmentation_summary(Z, X, frame, n_clusters=4))
    assert path == target and path.is_file()
    assert 1_000_000 < path.stat().st_size < 3_000_000
    write_report(target, segmentation_summary(Z, X, frame, n_clusters=3))  # replaces
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]
    assert _payload(target.read_text(encoding="utf-8"))["k"] == 3


def test_write_report_directory_is_an_error(small, tmp_path):
    Z, X, _ = small
    with pytest.raises(ValueError, match="is a directory"):
        write_report(tmp_path, segmentation_summary(Z, X, n_clusters=2))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"features": "rows"}, ValueError, "features has 60 rows but Z has 120 leaves"),
        ({"frame": "rows"}, ValueError, "frame has 60 rows"),
        ({"frame": "array"}, TypeError, "frame must be a pandas DataFrame"),
        ({"n_clusters": 1}, ValueError, "n_clusters must be an integer between 2 and 120"),
        ({"n_clusters": 121}, ValueError, "n_clusters must be an integer between 2 and 120"),
        ({"n_clusters": 2.5}, ValueError, "n_clusters must be an integer"),
        ({"n_clusters": True}, ValueError, "n_clusters must be an integer"),
        ({"ks": []}, ValueError, "ks is empty"),
        ({"ks": [1, 2]}, ValueError, "ks must hold integers between 2 and 120"),
        ({"ks": ["a"]}, ValueError, "ks must hold integers"),
        ({"ks": 5}, ValueError, "ks must be a sequence"),
        ({"ks": range(2, 60)}, ValueError, "at most 40"),
        ({"feature_names": ["a"]}, ValueError, "feature_names has 1 entries but features has 3 columns"),
        ({"evaluation": {}}, TypeError, "evaluation must be an hclust.select.Evaluation"),
        ({"params": [1]}, TypeError, "params must be a mapping"),
        ({"names": {9: "x"}}, ValueError, "not segment labels"),
    ],
)
def test_bad_input(small, kwargs, error, match):
    Z, X, frame = small
    arguments = {"Z": Z, "features": X, "frame": None, "n_clusters": 3, "ks": [2, 3]}
    arguments.update(kwargs)
    if kwargs.get("features") == "rows":
        arguments["features"] = X[:60]
    if kwargs.get("frame") == "rows":
        arguments["frame"] = frame.iloc[:60]
    if kwargs.get("frame") == "array":
        arguments["frame"] = X
    with pytest.raises(error, match=match) as info:
        segmentation_summary(**arguments)
    assert "\n" not in str(info.value)


def test_bad_linkage_is_an_error():
    with pytest.raises(ValueError):
        segmentation_summary(np.zeros((3, 3)), np.zeros((4, 2)), n_clusters=2)


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_write_static(small, tmp_path, fmt):
    Z, X, frame = small
    files = write_static(tmp_path / "charts", segmentation_summary(Z, X, frame, n_clusters=4, ks=[2, 3, 4, 5]), fmt=fmt)
    assert [f.name for f in files] == [f"{s}.{fmt}" for s in ("dendrogram", "sizes", "heatmap", "pca", "choose_k")]
    magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[fmt]
    for f in files:
        assert f.read_bytes()[:5].startswith(magic)
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == sorted(f.name for f in files)
    if fmt == "svg":  # reproducible files (no dates, fixed SVG ids)
        again = write_static(tmp_path / "again", segmentation_summary(Z, X, frame, n_clusters=4, ks=[2, 3, 4, 5]), fmt=fmt)
        assert [f.read_bytes() for f in again] == [f.read_bytes() for f in files]


def test_write_static_errors(small, tmp_path):
    Z, X, _ = small
    with pytest.raises(ValueError, match="Unknown fmt 'jpg'; valid values are: png, svg, pdf"):
        write_static(tmp_path, segmentation_summary(Z, X, n_clusters=2), fmt="jpg")
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(ValueError, match="is an existing file"):
        write_static(afile, segmentation_summary(Z, X, n_clusters=2))
    with pytest.warns(DeprecationWarning, match="write_static"), pytest.raises(ValueError, match="k must be an integer"):
        write_static(tmp_path / "c", Z=Z, features=X, k=0)  # hclust 0.1's keywords still check their inputs
    assert not (tmp_path / "c").exists()  # nothing created before the inputs are checked


def test_segment_colors_match_plot_palette():
    matplotlib = pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex
    from matplotlib.figure import Figure

    from hclust import plot

    for k in (3, 10, 14):  # matplotlib's tab10, tab20 above 10 segments
        cmap = matplotlib.colormaps["tab10" if k <= 10 else "tab20"]
        assert segment_colors(k) == [to_hex(cmap(i % cmap.N)) for i in range(k)]
    Z = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 4.0, 4]])
    R = plot.dendrogram(Z, ax=Figure().add_subplot(), n_clusters=2)
    assert R["leaves_color_list"] == [segment_colors(2)[0]] * 2 + [segment_colors(2)[1]] * 2


@pytest.mark.shared
def test_insurance_report_size(shared_data, tmp_path):
    frame = pd.read_csv(shared_data / "insurance" / "insurance.csv")
    features = hclust.segment.Preparer().fit_transform(frame)
    Z = hclust.linkage(features.to_numpy(), "ward")
    path = write_report(tmp_path / "insurance.html", segmentation_summary(Z, features, frame, n_clusters=4))
    assert path.stat().st_size < 3_000_000
    data = _payload(path.read_text(encoding="utf-8"))
    assert data["n"] == 1338 and "smoker" in data["profiled_columns"]


# --------------------------------------------------------------------------- nothing in the data can act
HOSTILE = [
    "<!-- the rest of the page -->",
    "</script><script>window.pwned = 1</script>",
    '<span style="background:url(http://127.0.0.1:9/beacon)">x</span>',
    '<a href="http://example.test/">click</a>',
    "Tom & Jerry > \u2028 line",
]


def test_data_cannot_end_the_json_block():
    """`<!--` in a name once blanked the page (it was escaped as `<\\!--`, which is not JSON)."""
    X, _ = _blobs(10)
    Z = hclust.linkage(X, "ward")
    page = _page(Z, X, n_clusters=2, ks=[2], feature_names=HOSTILE[:3],
                             names={0: HOSTILE[3], 1: HOSTILE[4]}, params={"note": HOSTILE[0]}, title=HOSTILE[0])
    block = re.search(r'<script type="application/json" id="hclust-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in block and ">" not in block and "&" not in block and "\u2028" not in block
    data = json.loads(block)  # valid JSON, which the page parses the same way
    assert data["feature_names"] == HOSTILE[:3]
    assert data["segments"]["2"]["names"] == [HOSTILE[3], HOSTILE[4]]
    assert page.count("<!--") == 0 and page.count("</script>") == 3
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_download_ids_and_formula_option(small):
    Z, X, frame = small
    ids = [f"C-{i:03d}" for i in range(len(X))]
    data = _payload(_page(Z, X, frame, n_clusters=4, ids=ids, id_name="customer_id"))
    assert json.loads(gzip.decompress(base64.b64decode(data["ids"]))) == ids
    assert data["id_name"] == "customer_id" and data["escape_formulas"] is True
    plain = _payload(_page(Z, X, n_clusters=4, escape_formulas=False))
    assert plain["ids"] is None and plain["id_name"] == "row" and plain["escape_formulas"] is False
    with pytest.raises(ValueError, match="ids has 3 entries"):
        _page(Z, X, n_clusters=4, ids=[1, 2, 3])


def test_model_report_names_features_ids_and_parameters_once(tmp_path):
    from hclust.datasets import load_wholesale
    from hclust.segment import SegmentationModel

    customers = load_wholesale()
    customers.insert(0, "customer_id", [f"W{i:04d}" for i in range(len(customers))])
    model = SegmentationModel(4, exclude=["Channel", "Region"]).fit(customers)
    assert model.id_column_ == "customer_id"
    page = _payload((model.report(tmp_path / "r.html")).read_text(encoding="utf-8"))
    assert page["feature_names"] == model.feature_names_ and "x0" not in page["feature_names"]
    assert json.loads(gzip.decompress(base64.b64decode(page["ids"])))[:2] == ["W0000", "W0001"]
    assert page["id_name"] == "customer_id"
    keys = {key.lower() for key in page["params"]}
    assert not keys & {"rows", "segments", "hclust", "features", "chosen k"}
    assert page["params"]["Linkage"] == "ward" and page["params"]["ID column"] == "customer_id"
    # a loaded model, given the table again, says the same
    loaded = SegmentationModel.load(model.save(tmp_path / "m"))
    again = _payload(loaded.report(tmp_path / "r2.html", customers).read_text(encoding="utf-8"))
    assert again["feature_names"] == page["feature_names"] and again["ids"] == page["ids"]
    # without an ID column: the table's row labels
    plain = SegmentationModel(3, columns=["Fresh", "Milk"]).fit(load_wholesale().iloc[10:])
    data = _payload(plain.report(tmp_path / "r3.html").read_text(encoding="utf-8"))
    assert data["id_name"] == "row" and json.loads(gzip.decompress(base64.b64decode(data["ids"])))[0] == 10


def test_static_charts_show_long_names_whole(small, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    from hclust.report import static

    Z, X, frame = small
    long = "Young non-smokers with low charges and few children in the southeast region"
    names = {0: long, 1: "x" * 70, 2: "short", 3: "B"}
    data = segmentation_summary(Z, X, frame, n_clusters=4, names=names)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    for chart in ("sizes", "heatmap"):
        fig = Figure(figsize=static._figure_size(chart, data), layout="constrained")
        FigureCanvasAgg(fig)
        static._DRAW[chart](data, fig)
        fig.canvas.draw()
        box = fig.bbox
        ax = fig.axes[0]
        labels = ax.get_yticklabels()
        assert [label.get_text().replace("\n", " ").replace("- ", "-") for label in labels][0] == f"0 · {long}"
        assert "".join(labels[1].get_text().split("\n")) == "1 · " + "x" * 70
        for label in labels:
            extent = label.get_window_extent()
            assert extent.x0 >= box.x0 - 1 and extent.y0 >= box.y0 - 1 and extent.y1 <= box.y1 + 1, chart
        assert ax.get_position().width > 0.3  # the plot is not squeezed by the labels
    del matplotlib

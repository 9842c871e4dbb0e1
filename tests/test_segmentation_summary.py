"""SegmentationSummary (issue 21): every number of the report computed once in the segment layer,
saved with the model, rendered by hclust.report; the 0.1 keyword forms of the report functions."""

from __future__ import annotations

import base64
import gzip
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import hclust
from hclust.datasets import load_wholesale
from hclust.report import build_report_html, write_report, write_static
from hclust.segment import SegmentationModel, SegmentationSummary, profile, segmentation_summary
from hclust.segment import standardized_difference
from hclust.tree import cut

pytest.importorskip("plotly")


def _blobs(n_per: int = 25, seed: int = 3) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 7.0], [6.0, 7.0]])
    X = np.concatenate([c + rng.normal(size=(n_per, 2)) for c in centres])
    frame = pd.DataFrame({
        "spend": X[:, 0] * 10 + 100,
        "visits": X[:, 1] + 20,
        "plan": np.where(X[:, 0] > 3, "gold", np.where(X[:, 1] > 3, "silver", "basic")),
    })
    return X, frame


@pytest.fixture(scope="module")
def small():
    X, frame = _blobs()
    return hclust.linkage(X, "ward"), X, frame


@pytest.fixture(scope="module")
def model():
    return SegmentationModel(4, exclude=["Channel", "Region"], n_boot=3, holdout=None).fit(load_wholesale())


def _payload(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="hclust-data">(.*?)</script>', page, re.S)
    assert match is not None
    return json.loads(match.group(1))


# --------------------------------------------------------------------------- the numbers


def test_heatmap_is_the_profiles_standardised_difference(small):
    """One definition: the heatmap's numbers are the profile's (numeric columns bit for bit)."""
    Z, X, frame = small
    summary = segmentation_summary(Z, X, frame, n_clusters=4, ks=[2, 3, 4, 6])
    for k in summary.ks:
        labels = cut(Z, n_clusters=k)
        prof = profile(frame, labels)
        heat = summary.cuts[k].heatmap
        assert heat.shape == (k, len(summary.heatmap_columns))
        for j, column in enumerate(summary.heatmap_columns[:2]):
            expected = prof.numeric[prof.numeric["column"] == column].sort_values("segment")["std_diff"].to_numpy()
            np.testing.assert_array_equal(heat[:, j], expected)
        # a category named in the profile has the heatmap's value for its indicator
        for row in prof.distinguishing[prof.distinguishing["kind"] == "categorical"].itertuples():
            j = summary.heatmap_columns.index(f"{row.feature}={row.category}")
            assert heat[row.segment, j] == row.std_diff
    counts = frame["plan"].value_counts()  # categories by count, the most frequent first
    assert summary.heatmap_columns == ["spend", "visits", *(f"plan={c}" for c in counts.index)]


def test_cuts_roots_heights_and_sizes(small):
    Z, X, frame = small
    summary = segmentation_summary(Z, X, frame, n_clusters=3, ks=[2, 5])
    assert summary.ks == [2, 3, 5] and summary.chosen is summary.cuts[3]
    layout = hclust.dendrogram_layout(Z, n_clusters=5)
    assert summary.cuts[5].cut_height == layout.cut_height
    for k in summary.ks:
        labels = cut(Z, n_clusters=k)
        np.testing.assert_array_equal(summary.labels(k), labels)
        assert summary.cuts[k].sizes == np.bincount(labels).tolist()
        assert summary.cuts[k].shares == pytest.approx((np.bincount(labels) / len(labels)).tolist())
        n = len(labels)
        for s, root in enumerate(summary.cuts[k].roots):  # the root's leaves are the segment
            stack, leaves = [root], []
            while stack:
                node = stack.pop()
                leaves.append(node) if node < n else stack.extend(int(c) for c in Z[node - n, :2])
            assert sorted(leaves) == np.flatnonzero(labels == s).tolist()
    with pytest.raises(ValueError, match="not offered"):
        summary.labels(4)


def test_node_profiles_use_the_same_difference(small):
    """A merge's hover profile: its rows against the rest, by the profiles' standardised difference."""
    Z, X, _ = small
    summary = segmentation_summary(Z, X, n_clusters=2, ks=[2])
    n = X.shape[0]
    node = 2 * n - 3  # the second-to-last merge
    stack, members = [node], []
    while stack:
        current = stack.pop()
        members.append(current) if current < n else stack.extend(int(c) for c in Z[current - n, :2])
    rest = np.setdiff1d(np.arange(n), members)
    d = standardized_difference(X[members].mean(0), len(members), X[rest].mean(0), len(rest), X.std(0))
    got = summary.node_profiles[node]
    assert [name for name, _ in got] == [summary.feature_names[j] for j in np.argsort(-np.abs(d), kind="stable")]
    np.testing.assert_allclose([v for _, v in got], d[np.argsort(-np.abs(d), kind="stable")], rtol=1e-12)
    assert 2 * n - 2 not in summary.node_profiles  # the root has no rest to compare with
    assert len(summary.node_profiles) == n - 2


# --------------------------------------------------------------------------- JSON


def test_json_round_trip_is_exact_and_renders_the_same_page(small):
    Z, X, frame = small
    summary = segmentation_summary(Z, X, frame, n_clusters=4, ks=[2, 3, 4], names={1: "Gold"},
                                   params={"note": "x", "inf": float("inf")}, details={"distance": "Euclidean"},
                                   ids=[f"C{i}" for i in range(len(X))], id_name="customer")
    text = json.dumps(summary.to_dict(), allow_nan=False)
    back = SegmentationSummary.from_dict(json.loads(text))
    assert back.to_dict() == summary.to_dict()
    assert build_report_html(back, title="t") == build_report_html(summary, title="t")
    # without the tree: Z comes from elsewhere (a model's arrays)
    light = summary.to_dict(linkage=False)
    assert "linkage" not in light
    assert SegmentationSummary.from_dict(light, Z=Z).to_dict() == summary.to_dict()
    with pytest.raises(ValueError, match="pass Z"):
        SegmentationSummary.from_dict(light)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.update(format="other"), "not a hclust.SegmentationSummary"),
        (lambda d: d.update(format_version=99), "format version 99"),
        (lambda d: d.update(n_rows=3), "of 3 rows but Z has 100 leaves"),
        (lambda d: d["cuts"][0]["names"].pop(), "has 1 names"),
        (lambda d: d.update(ks=[2, 3, 4]), "offers ks"),
        (lambda d: d.update(ids=["a"]), "1 ids for 100 rows"),
        (lambda d: d["projection"]["index"].__setitem__(0, 500), "outside 0..99"),
        (lambda d: d["cuts"][0].update(roots=[-1, 5]), "whole numbers >= 0"),
    ],
)
def test_from_dict_refuses_inconsistent_data(small, edit, match):
    Z, X, _ = small
    data = segmentation_summary(Z, X, n_clusters=2, ks=[2]).to_dict()
    edit(data)
    with pytest.raises(ValueError, match=match):
        SegmentationSummary.from_dict(data)


# --------------------------------------------------------------------------- the renderers' arguments


def test_deprecated_keywords_still_work_with_a_warning(small, tmp_path):
    Z, X, frame = small
    summary = segmentation_summary(Z, X, frame, n_clusters=3, ks=[2, 3], names={0: "A"})
    new = build_report_html(summary, title="T")
    with pytest.warns(DeprecationWarning, match=r"build_report_html\(Z=\.\.\., features=\.\.\., k=\.\.\., \.\.\.\) is "
                                                r"deprecated .*segmentation_summary") as record:
        old = build_report_html(Z=Z, features=X, frame=frame, k=3, ks=[2, 3], names={0: "A"}, title="T")
    assert old == new
    assert record[0].filename == __file__  # the warning points at the caller
    with pytest.warns(DeprecationWarning, match="write_report"):
        path = write_report(tmp_path / "r.html", Z=Z, features=X, frame=frame, k=3, ks=[2, 3], names={0: "A"},
                            title="T")
    assert path.read_text(encoding="utf-8") == new
    with pytest.warns(DeprecationWarning, match="write_static"):
        files = write_static(tmp_path / "old", fmt="svg", Z=Z, features=X, frame=frame, k=3, ks=[2, 3])
    again = write_static(tmp_path / "new", segmentation_summary(Z, X, frame, n_clusters=3, ks=[2, 3]), fmt="svg")
    assert [f.read_bytes() for f in files] == [f.read_bytes() for f in again]


def test_renderers_say_what_they_need(small, tmp_path):
    Z, X, _ = small
    summary = segmentation_summary(Z, X, n_clusters=2, ks=[2])
    with pytest.raises(TypeError, match="needs a hclust.SegmentationSummary"):
        build_report_html()
    with pytest.raises(TypeError, match="renders a hclust.SegmentationSummary .* got dict"):
        write_report(tmp_path / "r.html", {"k": 2})
    with pytest.raises(TypeError, match="not both"):
        build_report_html(summary, Z=Z)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        build_report_html(summary, colour="red")
    with pytest.raises(TypeError, match="unexpected keyword argument.*'details'"):
        write_static(tmp_path / "c", Z=Z, features=X, k=2, details={})
    with pytest.raises(TypeError, match="missing the keyword argument.*'k'"):
        build_report_html(Z=Z, features=X)
    with pytest.raises(TypeError, match="title must be a string"):
        build_report_html(summary, title=3)
    assert not (tmp_path / "c").exists()


# --------------------------------------------------------------------------- the model's summary


def test_model_computes_its_summary_once_and_renames_it(model, tmp_path):
    summary = model.segmentation_summary()
    assert model.segmentation_summary() is summary
    assert summary.n_clusters == model.n_clusters_ and summary.frame_given
    assert summary.chosen.names == [model.names_[s] for s in range(model.n_clusters_)]
    assert summary.details["stability"] == [round(v, 4) for v in model.stability_["jaccard_mean"]]
    assert summary.ids[:2] == [0, 1] and summary.id_name == "row"
    other = model.segmentation_summary(ks=[2, 3])  # options: a new summary, not kept
    assert other.ks == [2, 3, 4] and model.segmentation_summary() is summary
    old_names = dict(model.names_)
    try:
        model.rename({0: "Cafés"})
        assert model.segmentation_summary().chosen.names[0] == "Cafés"
        page = _payload(model.report(tmp_path / "r.html").read_text(encoding="utf-8"))
        assert page["segments"]["4"]["names"][0] == "Cafés"
    finally:
        model.rename(old_names)
    with pytest.raises(TypeError, match=r"unexpected option\(s\) \['colour'\]"):
        model.report(tmp_path / "x.html", colour="red")


def test_saved_model_reports_without_its_table(model, tmp_path):
    folder = model.save(tmp_path / "m")
    document = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    assert document["summary"]["format"] == "hclust.SegmentationSummary" and "linkage" not in document["summary"]
    loaded = SegmentationModel.load(folder)
    assert loaded.segmentation_summary().to_dict() == model.segmentation_summary().to_dict()
    fitted_page = model.report(tmp_path / "a.html", title="W").read_text(encoding="utf-8")
    assert loaded.report(tmp_path / "b.html", title="W").read_text(encoding="utf-8") == fitted_page
    files = loaded.report_static(tmp_path / "charts", fmt="svg")
    assert [f.name for f in files][0] == "dendrogram.svg"


def test_model_saved_before_summaries_recomputes_it(model, tmp_path):
    folder = model.save(tmp_path / "m")
    document = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    del document["summary"]  # as hclust 0.1 wrote it
    (folder / "model.json").write_text(json.dumps(document), encoding="utf-8")
    loaded = SegmentationModel.load(folder)
    with_table = loaded.segmentation_summary(load_wholesale())
    assert with_table.to_dict() == model.segmentation_summary().to_dict()
    assert loaded.segmentation_summary() is with_table  # kept, and saved from now on
    assert "summary" in json.loads((loaded.save(tmp_path / "again") / "model.json").read_text(encoding="utf-8"))
    # without the table: the prepared features are profiled, and that summary is not kept
    bare = SegmentationModel.load(folder)
    features_only = bare.segmentation_summary()
    assert not features_only.frame_given and bare.segmentation_summary() is not features_only
    page = _payload(bare.report(tmp_path / "f.html").read_text(encoding="utf-8"))
    assert page["profiled_columns"] == model.feature_names_


def test_corrupt_summary_is_refused_on_load(model, tmp_path):
    folder = model.save(tmp_path / "m")
    document = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    document["summary"]["cuts"][0]["sizes"] = [1]
    (folder / "model.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="model.json is corrupt: the cut into 2 segments has 1 sizes"):
        SegmentationModel.load(folder)


def test_gower_model_summary_pictures_the_one_hot_view(tmp_path):
    frame = pd.DataFrame({"spend": np.r_[np.arange(20.0), np.arange(20.0) + 50],
                          "plan": ["a", "b"] * 10 + ["c"] * 20})
    gower = SegmentationModel(2, metric="gower", method="average", n_boot=0, holdout=None).fit(frame)
    summary = gower.segmentation_summary()
    assert summary.feature_names == ["spend", "plan=a", "plan=b", "plan=c"]  # the pictures' one-hot view
    assert summary.details["clustering_features"] == ["spend", "plan"]
    assert summary.evaluation.distance.startswith("Gower")
    ids = json.loads(gzip.decompress(base64.b64decode(_payload(build_report_html(summary))["ids"])))
    assert ids == list(range(40))


def test_no_warning_from_a_model_report(model, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.report(tmp_path / "r.html")


@pytest.mark.parametrize("module", ["hclust.segment._summary", "hclust.report.html", "hclust.report.static"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    failures, tested = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tested > 0 and failures == 0

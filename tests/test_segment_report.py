"""What a model's report says about the model (issue 19): the criteria it used, its real features,
its preparation and the stability of its segments."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hclust.datasets import WHOLESALE_SPENDING, load_wholesale
from hclust.report import build_report_html
from hclust.segment import segmentation_summary
from hclust.segment.model import SegmentationModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import bank_like  # noqa: E402

pytest.importorskip("plotly")


def _payload(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="hclust-data">(.*?)</script>', page, re.S)
    assert match is not None
    return json.loads(match.group(1).replace("<\\/", "</"))


def _page(model: SegmentationModel, tmp_path: Path, df: pd.DataFrame | None = None) -> dict:
    path = model.report(tmp_path / "r.html", df)
    return _payload(path.read_text(encoding="utf-8"))


def test_gh19_gower_report_shows_the_gower_criteria_and_features(tmp_path):
    bank = bank_like(600, seed=2)
    model = SegmentationModel(metric="gower", method="complete", holdout=None).fit(bank)
    data = _page(model, tmp_path)
    details = data["details"]
    assert details["clustering_features"] == list(bank.columns) == model.feature_names_
    assert details["distance"] == "Gower distances over 17 columns"
    evaluation = data["evaluation"]
    assert evaluation["distance"] == "Gower distances over 17 columns"
    assert evaluation["reasons"][0].startswith("Criteria on Gower distances over 17 columns")
    assert evaluation["recommended_k"] == model.n_clusters_
    assert all(row.get("gap") is None for row in evaluation["table"])
    assert details["preparation"] == model.preparation_.lines()
    assert len(details["stability"]) == model.n_clusters_
    np.testing.assert_allclose(details["stability"], model.stability_["jaccard_mean"], atol=1e-4)
    assert details["choice_of_k"][0].startswith(f"k={model.n_clusters_} chosen automatically")
    # the one-hot view used for the pictures has more columns than Gower compares: both are said
    assert data["d"] > 17


def test_gh19_report_with_k_given_computes_the_criteria_on_the_model_distances(tmp_path):
    bank = bank_like(400, seed=1)
    model = SegmentationModel(3, metric="gower", method="average", n_boot=0, holdout=None).fit(bank)
    assert model.evaluation_ is None
    evaluation = _page(model, tmp_path)["evaluation"]
    assert evaluation["distance"] == "Gower distances over 17 columns"
    assert {row["k"] for row in evaluation["table"]} == set(range(2, 13))
    # average linkage on this table splits off a few clients: no k is recommended, and the page can say so
    assert evaluation["recommended_k"] is None


def test_gh19_report_preparation_stability_and_shares(tmp_path):
    customers = load_wholesale()
    model = SegmentationModel(3, exclude=["Channel", "Region"], holdout=None).fit(customers)
    page = model.report(tmp_path / "r.html").read_text(encoding="utf-8")
    data = _payload(page)
    assert data["details"]["preparation"][1].startswith("Columns used (6)")
    assert "Channel (excluded by you)" in data["details"]["preparation"][1]
    assert data["details"]["stability_note"] == "mean Jaccard over 20 subsamples of 80%"
    assert 'id="preparation-section"' in page and "Stability</th>" in page
    # categorical features carry their shares (the all-or-nothing case is shown as 100% vs 0%)
    people = pd.DataFrame({"spend": [1.0, 2.0, 3.5, 10.0, 11.0, 12.5] * 5,
                           "smoker": ["no", "no", "no", "yes", "yes", "yes"] * 5})
    small = SegmentationModel(2, n_boot=0, holdout=None).fit(people)
    top = _payload(small.report(tmp_path / "s.html").read_text(encoding="utf-8"))["segments"]["2"]["top"]
    first = {row[0]: row for seg in top for row in seg}
    assert first["All smoker=yes"][3:] == [1.0, 0.0] and first["All smoker=no"][3:] == [1.0, 0.0]


def test_gh19_heatmap_uses_the_overall_spread(tmp_path):
    X = np.r_[np.zeros((5, 1)), np.ones((5, 1))]
    frame = pd.DataFrame({"flag": ["no"] * 5 + ["yes"] * 5, "x": np.r_[np.arange(5.0), np.arange(5.0) + 0.5]})
    from hclust import linkage

    Z = linkage(X + 1e-3 * np.arange(10)[:, None], "ward")
    page = build_report_html(segmentation_summary(Z, X, frame, n_clusters=2, ks=[2, 3],
                                                  details={"stability": [0.9, None]}))
    data = _payload(page)
    column = data["heatmap_columns"].index("flag=yes")
    values = [row[column] for row in data["segments"]["2"]["heatmap"]]
    assert sorted(values) == pytest.approx([-2.0, 2.0])  # (1 - 0) / sd of all rows (0.5), not 0/0
    assert data["details"]["stability"] == [0.9, None]
    with pytest.raises(ValueError, match="3 values for 2 segments"):
        segmentation_summary(Z, X, n_clusters=2, details={"stability": [1, 1, 1]})
    with pytest.raises(ValueError, match="unknown keys"):
        segmentation_summary(Z, X, n_clusters=2, details={"colour": "red"})


def test_gh19_static_report_without_a_recommendation(tmp_path):
    bank = bank_like(300, seed=4)
    model = SegmentationModel(3, metric="gower", method="average", n_boot=0, holdout=None).fit(bank)
    files = model.report_static(tmp_path / "charts", fmt="svg")
    assert files and all(f.suffix == ".svg" for f in files)


def test_gh19_wholesale_report_features(tmp_path):
    model = SegmentationModel(4, columns=list(WHOLESALE_SPENDING), n_boot=5, holdout=None).fit(load_wholesale())
    data = _page(model, tmp_path)
    assert data["details"]["clustering_features"] == list(WHOLESALE_SPENDING)
    assert data["details"]["distance"] == "Euclidean distances of the 6 prepared features"
    assert data["d"] == 6

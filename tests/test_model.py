"""SegmentationModel: fit, assign, labelled output, save/load and refusal of bad files."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.cluster import hierarchy as sch

from hclust.datasets import WHOLESALE_SPENDING, load_wholesale
from hclust.segment import Preparer
from hclust.segment.model import MODEL_FORMAT_VERSION, SegmentationModel


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return load_wholesale()


@pytest.fixture(scope="module")
def fitted(customers) -> SegmentationModel:
    return SegmentationModel(4, columns=list(WHOLESALE_SPENDING)).fit(customers)


def _arrays(folder: Path) -> Path:
    """The arrays file of a saved model."""
    (found,) = folder.glob("arrays*.npz")
    return found


def mixed_table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "age": 25 + 20 * group + rng.normal(0, 3, n),
            "income": 30_000 + 25_000 * group + rng.normal(0, 2_000, n),
            "plan": np.array(["basic", "plus", "premium"])[group],
            "smoker": rng.choice(["yes", "no"], n),
        }
    )


def test_fit_matches_scipy_on_the_prepared_features(fitted, customers):
    X = fitted.features_
    expected = Preparer().fit_transform(customers[list(WHOLESALE_SPENDING)]).to_numpy(float)
    np.testing.assert_allclose(X, expected, rtol=1e-12)
    np.testing.assert_allclose(fitted.linkage_matrix_, sch.linkage(X, "ward"), rtol=1e-12)
    labels = sch.fcluster(sch.linkage(X, "ward"), 4, "maxclust")
    assert sch.is_isomorphic(labels, fitted.labels_)
    assert fitted.n_clusters_ == 4 and len(fitted.names_) == 4
    assert list(fitted.summary().segments["size"]) == list(np.bincount(fitted.labels_))


def test_assign_returns_segment_distance_confidence(fitted, customers):
    new = customers.assign(Fresh=customers["Fresh"] + 0.5)  # no training customer: the rule decides
    out = fitted.assign(new, rule="linkage")
    assert list(out.columns) == ["segment", "segment_name", "distance", "confidence", "runner_up", "known"]
    assert not out["known"].any()
    heights = fitted.join_heights(new).to_numpy()
    np.testing.assert_array_equal(out["segment"], heights.argmin(axis=1))
    np.testing.assert_allclose(out["distance"], heights.min(axis=1))
    assert ((out["confidence"] >= 0) & (out["confidence"] <= 1)).all()
    assert (out["runner_up"] != out["segment"]).all()
    # ward's join height: sqrt(2 W/(W+1)) * distance to the centroid
    c = fitted.estimator_.centroids_
    W = fitted.estimator_.segment_weights_
    x = fitted.preparer_.transform(new.head(3)[fitted.columns_]).to_numpy()
    manual = np.sqrt(2 * W / (W + 1)) * np.linalg.norm(x[:, None, :] - c[None], axis=2)
    np.testing.assert_allclose(heights[:3], manual, rtol=1e-12)
    # by ward's rule alone, training customers do not all get their own segment back (87.5% here) ...
    assert 0.8 < (out["segment"].to_numpy() == fitted.labels_).mean() < 0.95
    assert out["segment_name"].iloc[0] == fitted.names_[int(out["segment"].iloc[0])]
    # ... but as known customers they do, whatever the rule
    for rule in ("nearest", "linkage", "centroid"):
        again = fitted.assign(customers, rule=rule)
        np.testing.assert_array_equal(again["segment"], fitted.labels_)
        assert again["known"].all() and (again["confidence"] == 1.0).all()
        assert (again["runner_up"] != again["segment"]).all()


def test_assign_confidence_is_one_at_a_centroid_and_zero_halfway():
    X = pd.DataFrame({"x": [0.0, 0.1, 0.2, 10.0, 10.1, 10.2]})
    model = SegmentationModel(2, method="centroid", preparer=Preparer(scale=None, log1p=None)).fit(X)
    out = model.assign(pd.DataFrame({"x": [0.1, 5.1, 10.1]}), rule="linkage")
    np.testing.assert_allclose(out["confidence"], [1.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(out["distance"], [0.0, 5.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("method", ["single", "average", "complete"])
def test_single_average_complete_models(method, customers):
    model = SegmentationModel(3, method=method, columns=list(WHOLESALE_SPENDING)).fit(customers)
    out = model.assign(customers)
    np.testing.assert_array_equal(out["segment"], model.labels_)
    assert out["distance"].notna().all()


def test_automatic_k_keeps_the_evaluation(customers):
    model = SegmentationModel(columns=list(WHOLESALE_SPENDING), ks=range(2, 7)).fit(customers)
    assert model.evaluation_ is not None
    assert model.n_clusters_ == model.evaluation_.recommended_k
    assert any("Recommended" in r for r in model.evaluation_.reasons)


def test_height_cut(customers):
    model = SegmentationModel(height=15.0, columns=list(WHOLESALE_SPENDING)).fit(customers)
    expected = sch.fcluster(model.linkage_matrix_, 15.0, "distance")
    assert sch.is_isomorphic(expected, model.labels_)


def test_weight_column_equals_repeated_rows():
    table = mixed_table(60)[["age", "income"]]
    counts = np.tile([1, 2, 3], 20)
    repeated = table.loc[table.index.repeat(counts)].reset_index(drop=True)
    pre = Preparer(scale=None, log1p=None)
    weighted = SegmentationModel(3, preparer=pre, weight_column="n").fit(table.assign(n=counts))
    plain = SegmentationModel(3, preparer=pre).fit(repeated)
    assert "n" not in weighted.columns_
    # same segments for the distinct rows
    first = repeated.drop_duplicates().index
    assert sch.is_isomorphic(weighted.labels_, plain.labels_[first])


def test_gower_model_saves_and_assigns(tmp_path):
    table = mixed_table()
    model = SegmentationModel(3, method="average", metric="gower").fit(table)
    assert model.preparer_ is None and model.gower_ is not None
    assert sch.is_isomorphic(model.labels_, table["plan"].map({"basic": 0, "plus": 1, "premium": 2}))
    out = model.assign(table)
    np.testing.assert_array_equal(out["segment"], model.labels_)
    loaded = SegmentationModel.load(model.save(tmp_path / "gower"))
    pd.testing.assert_frame_equal(loaded.assign(table), out)
    with pytest.raises(ValueError, match="Euclidean"):
        SegmentationModel(3, method="ward", metric="gower").fit(table)


def test_mixed_table_with_preparation_and_missing_values():
    table = mixed_table()
    table.loc[3, "income"] = np.nan
    model = SegmentationModel(3).fit(table)
    assert any(name.startswith("plan=") for name in model.feature_names_)
    new = table.head(4).copy()
    new.loc[0, "plan"] = "platinum"  # unseen level: reported, still assigned
    with pytest.warns(UserWarning, match="not seen in fit"):
        out = model.assign(new)
    assert (out["segment"] >= 0).all()


def test_labelled_adds_segment_columns(fitted, customers):
    out = fitted.labelled(customers)
    assert list(out.columns[-2:]) == ["segment", "segment_name"]
    np.testing.assert_array_equal(out["segment"], fitted.labels_)
    assert list(customers.columns) == list(out.columns[:-2])  # the input is untouched
    with pytest.raises(ValueError, match="already has a 'segment'"):
        fitted.labelled(out)


def test_rename(customers):
    model = SegmentationModel(3, columns=list(WHOLESALE_SPENDING)).fit(customers)
    model.rename({0: "Cafés"})
    assert model.names_[0] == "Cafés"
    assert model.assign(customers.head(40)).query("segment == 0")["segment_name"].eq("Cafés").all()


# --------------------------------------------------------------------------- save / load
def test_save_load_round_trip(fitted, customers, tmp_path):
    folder = fitted.save(tmp_path / "model")
    names = sorted(p.name for p in folder.iterdir())
    document = json.loads((folder / "model.json").read_text())
    assert names == [document["arrays"]["file"], "model.json"]
    assert re.fullmatch(r"arrays-[0-9a-f]{16}\.npz", names[0])
    assert document["format"] == "hclust.SegmentationModel"
    assert document["format_version"] == MODEL_FORMAT_VERSION
    loaded = SegmentationModel.load(folder)
    pd.testing.assert_frame_equal(loaded.assign(customers), fitted.assign(customers))
    np.testing.assert_array_equal(loaded.linkage_matrix_, fitted.linkage_matrix_)
    assert loaded.names_ == fitted.names_
    pd.testing.assert_frame_equal(loaded.summary().segments, fitted.summary().segments)
    assert str(loaded.summary()) == str(fitted.summary())
    np.testing.assert_array_equal(loaded.labelled(customers)["segment"], fitted.labels_)
    with pytest.raises(ValueError, match="does not keep the training table"):
        loaded.labelled()


def test_save_replaces_a_model_but_nothing_else(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    fitted.save(folder)  # a model folder may be replaced
    assert SegmentationModel.load(folder).n_clusters_ == 4
    precious = tmp_path / "data.csv"
    precious.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a saved hclust model"):
        fitted.save(precious)
    assert precious.read_text() == "a,b\n1,2\n"
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="not a saved hclust model"):
        fitted.save(other)
    assert [p.name for p in other.iterdir()] == ["cat.jpg"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "model.json").write_text("{not json"), "not valid JSON"),
        (lambda f: (f / "model.json").write_text('{"format": "other"}'), "not an hclust segmentation model"),
        (lambda f: _arrays(f).write_bytes(b"garbage"), "checksum"),
        (lambda f: _arrays(f).unlink(), "missing"),
        (lambda f: (f / "model.json").unlink(), "no model.json"),
    ],
)
def test_corrupt_models_are_refused(fitted, tmp_path, damage, message):
    folder = fitted.save(tmp_path / "model")
    damage(folder)
    with pytest.raises(ValueError, match=message):
        SegmentationModel.load(folder)


def test_newer_format_is_refused(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    document = json.loads((folder / "model.json").read_text())
    document["format_version"] = MODEL_FORMAT_VERSION + 1
    (folder / "model.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="Upgrade hclust"):
        SegmentationModel.load(folder)
    del document["params"]
    document["format_version"] = MODEL_FORMAT_VERSION
    (folder / "model.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="corrupt or incomplete"):
        SegmentationModel.load(folder)


def test_load_missing_or_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        SegmentationModel.load(tmp_path / "nope")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ValueError, match="not a saved hclust model"):
        SegmentationModel.load(tmp_path / "f.txt")


# --------------------------------------------------------------------------- bad input
def test_bad_input(customers):
    with pytest.raises(ValueError, match="unknown column"):
        SegmentationModel(3, columns=["Fresh", "Nope"]).fit(customers)
    with pytest.raises(ValueError, match="not both"):
        SegmentationModel(3, height=2.0).fit(customers)
    with pytest.raises(ValueError, match="out of range"):
        SegmentationModel(1000, columns=list(WHOLESALE_SPENDING)).fit(customers)
    with pytest.raises(ValueError, match="at least 2"):
        SegmentationModel(1).fit(customers.head(1))
    with pytest.raises(TypeError, match="DataFrame"):
        SegmentationModel(2).fit(customers.to_numpy())
    with pytest.raises(ValueError, match="positive numbers"):
        SegmentationModel(2, weight_column="Fresh").fit(customers.assign(Fresh=-1))
    with pytest.raises(ValueError, match="method"):
        SegmentationModel(2, method="wardd").fit(customers)
    with pytest.raises(RuntimeError, match="not fitted"):
        SegmentationModel(2).assign(customers)


def test_assign_needs_the_model_columns(fitted, customers):
    with pytest.raises(ValueError, match="lack the model's column"):
        fitted.assign(customers.drop(columns=["Fresh"]))
    empty = fitted.assign(customers.head(0))
    assert len(empty) == 0


def test_no_warnings_on_clean_data(customers):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SegmentationModel(3, columns=list(WHOLESALE_SPENDING)).fit(customers).assign(customers)


# --------------------------------------------------------------------------- issue 19
import json as _json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from hclust.segment._assign import ASSIGN_RULES, TrainingLookup  # noqa: E402
from hclust.segment.prepare import PreparationRecord  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import bank_like  # noqa: E402

FAST = {"n_boot": 0, "holdout": None}


def messy_table(n: int = 150, seed: int = 3) -> pd.DataFrame:
    """Mixed columns, missing values, an id and exact duplicate customers."""
    table = mixed_table(n, seed)
    table.loc[[4, 9, 30], "income"] = np.nan
    table.loc[[7], "plan"] = None
    table.loc[n - 10 :, ["age", "income", "plan", "smoker"]] = table.loc[: 9, ["age", "income", "plan", "smoker"]].to_numpy()
    table.insert(0, "customer_id", np.arange(1000, 1000 + n))
    return table


@pytest.mark.parametrize(
    ("method", "metric"),
    [
        ("ward", "euclidean"), ("average", "euclidean"), ("complete", "euclidean"), ("single", "euclidean"),
        ("centroid", "euclidean"), ("median", "euclidean"), ("weighted", "euclidean"), ("flexible", "euclidean"),
        ("average", "cityblock"), ("complete", "cosine"),
        ("average", "gower"), ("complete", "gower"), ("single", "gower"), ("weighted", "gower"),
    ],
)
def test_gh19_training_customers_get_their_own_segment_back(method, metric):
    """Scored again, every training customer lands in the segment the model gave them (was 55-87%)."""
    table = messy_table()
    model = SegmentationModel(4, method=method, metric=metric, **FAST).fit(table)
    for rule in ASSIGN_RULES:
        out = model.assign(table, rule=rule)
        np.testing.assert_array_equal(out["segment"].to_numpy(), model.labels_)
        assert out["known"].all() and (out["confidence"] == 1.0).all()
        assert (out["runner_up"] != out["segment"]).all()
    # shuffled, with a duplicated index: still by row
    shuffled = table.sample(frac=1.0, random_state=1)
    shuffled.index = [0] * len(shuffled)
    again = model.assign(shuffled)
    np.testing.assert_array_equal(again["segment"].to_numpy(), model.labels_[shuffled["customer_id"].to_numpy() - 1000])
    assert list(again.index) == [0] * len(shuffled)


def test_gh19_weighted_and_dropped_rows_are_matched_too():
    table = mixed_table(80)
    table.loc[[3, 11], "age"] = np.nan
    counts = np.tile([1, 3], 40)
    with pytest.warns(UserWarning, match="dropped 2"):
        model = SegmentationModel(3, weight_column="n", preparer=Preparer(impute="drop"), **FAST).fit(
            table.assign(n=counts)
        )
    with pytest.warns(UserWarning, match="dropped 2"):
        out = model.assign(table)
    assert (out.loc[[3, 11], "segment"] == -1).all() and not out.loc[[3, 11], "known"].any()
    kept = out.drop(index=[3, 11])
    np.testing.assert_array_equal(kept["segment"].to_numpy(), model.labels_)
    assert model.summary().segments["size"].sum() == counts.sum() - counts[[3, 11]].sum()


def test_gh19_identical_rows_in_different_segments_take_the_majority():
    lookup = TrainingLookup.build(
        np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [0.0, -0.0], [np.nan, 1.0]]),
        np.array([2, 1, 1, 0, 2]),
        None,
    )
    found = lookup.find(np.array([[1.0, 2.0], [-0.0, 0.0], [np.nan, 1.0], [1.0, 2.5]]))
    assert found.tolist() == [1, 0, 2, -1]  # -0.0 equals 0.0, NaN equals NaN (a missing Gower value)
    weighted = TrainingLookup.build(np.array([[1.0], [1.0]]), np.array([0, 1]), np.array([1.0, 5.0]))
    assert weighted.find(np.array([[1.0]])).tolist() == [1]


def test_gh19_new_customers_by_rule():
    X = pd.DataFrame({"x": [0.0, 0.2, 0.4, 0.6, 10.0, 10.2, 10.4, 30.0, 30.2]})
    model = SegmentationModel(3, method="average", preparer=Preparer(scale=None, log1p=None), **FAST).fit(X)
    new = pd.DataFrame({"x": [0.3, 9.0, 29.0, 19.9]})
    nearest = model.assign(new, rule="nearest", n_neighbors=3)
    assert nearest["segment"].tolist()[:3] == model.labels_[[0, 4, 7]].tolist()
    assert not nearest["known"].any()
    assert nearest["distance"].tolist()[:3] == pytest.approx([0.1, 1.0, 1.0])
    assert nearest["confidence"].tolist()[0] == 1.0  # the three nearest customers agree
    centroid = model.assign(new, rule="centroid")
    centres = [0.3, 10.2, 30.1]
    assert centroid["distance"].tolist()[:3] == pytest.approx([0.0, 1.2, 1.1])
    assert centroid["segment"].tolist()[3] == model.labels_[4]  # 19.9 is nearer 10.2 than 30.1
    linkage_rule = model.assign(new, rule="linkage")
    heights = model.join_heights(new).to_numpy()
    np.testing.assert_array_equal(linkage_rule["segment"], heights.argmin(axis=1))
    assert centres  # (documented above)
    with pytest.raises(ValueError, match="Unknown rule 'knn'"):
        model.assign(new, rule="knn")
    with pytest.raises(ValueError, match="n_neighbors must be a positive integer"):
        model.assign(new, n_neighbors=0)


def test_gh19_held_out_agreement_is_measured_and_reported(customers):
    model = SegmentationModel(4, columns=list(WHOLESALE_SPENDING), n_boot=0).fit(customers)
    check = model.assign_check_
    assert list(check["rule"]) == list(ASSIGN_RULES)
    assert check["held_out_ari"].between(-1, 1).all()
    assert check.attrs["rows"] == 88 and check.attrs["holdout"] == 0.2 and -1 <= check.attrs["fit_ari"] <= 1
    again = model.check_assign(customers)
    pd.testing.assert_frame_equal(again, check)  # seeded
    text = str(model.summary())
    assert "Held-out agreement (fit on 80% of the customers, assign the other 20%: 88" in text
    for rule in ASSIGN_RULES:
        assert f"    {rule:<9} {check.set_index('rule').loc[rule, 'held_out_ari']:.3f}" in text
    with pytest.raises(ValueError, match="holdout must be a share"):
        SegmentationModel(4, holdout=1.5).fit(customers)


@pytest.mark.shared
def test_gh19_held_out_ari_on_mall_customers_meets_the_goal(shared_data):
    """Fit on 80%, assign the other 20%, compare with a fit on all rows: ARI >= 0.8 for ward on the
    mall customers with the default rule (README's table; other data sets are limited by the trees)."""
    mall = pd.read_csv(shared_data / "mall_customers" / "Mall_Customers.csv")
    full = SegmentationModel(4, exclude=["CustomerID"], **FAST).fit(mall)
    scores = []
    for seed in range(5):
        scores.append(full.check_assign(mall, random_state=seed).set_index("rule").loc["nearest", "held_out_ari"])
    assert np.mean(scores) >= 0.8


def test_gh19_stability_next_to_the_names(customers):
    model = SegmentationModel(3, columns=list(WHOLESALE_SPENDING), holdout=None).fit(customers)
    table = model.stability_
    assert list(table.index) == [0, 1, 2] and table.attrs["n_boot"] == 20
    assert table["jaccard_mean"].between(0, 1).all()
    segments = model.summary().segments
    assert list(segments.columns) == ["segment", "name", "size", "share", "stability", "top_features"]
    np.testing.assert_allclose(segments["stability"], table["jaccard_mean"])
    # the same numbers as hclust.stability with the model's tree, cut and subsample size
    from hclust.select import stability

    direct = stability(model.features_, "ward", n_clusters=3, n_boot=20, labels=model.labels_, random_state=0)
    np.testing.assert_allclose(direct["jaccard_mean"], table["jaccard_mean"])
    assert SegmentationModel(3, columns=list(WHOLESALE_SPENDING), n_boot=0, holdout=None).fit(
        customers
    ).summary().segments["stability"].isna().all()


def test_gh19_gower_degenerate_auto_k_is_refused_with_reasons():
    """Bank-marketing-like data, Gower + average, automatic k: the tree splits off a few clients at a
    time (997 against 3 before); no k meets the minimum segment size, and the error says so."""
    bank = bank_like(1000)
    free = SegmentationModel(metric="gower", method="average", min_segment_size=None, **FAST).fit(bank)
    assert sorted(np.bincount(free.labels_)) == [3, 997]  # the degenerate split, reproduced
    assert free.evaluation_ is not None and free.evaluation_.distance == "Gower distances over 17 columns"
    with pytest.raises(ValueError, match=r"no number of segments in ks=2..10 gives segments of at least 20 "
                                         r"customers .*average linkage on Gower distances over 17 columns"):
        SegmentationModel(metric="gower", method="average", **FAST).fit(bank)
    model = SegmentationModel(metric="gower", method="complete", **FAST).fit(bank)
    sizes = np.bincount(model.labels_)
    assert sizes.min() >= 20 and model.n_clusters_ >= 2
    evaluation = model.evaluation_
    assert evaluation is not None and evaluation.min_segment_size == 20
    assert evaluation.criteria == ["silhouette", "calinski_harabasz", "davies_bouldin", "height_jump"]
    assert evaluation.reasons[0] == (
        "Criteria on Gower distances over 17 columns: silhouette, Calinski-Harabasz, Davies-Bouldin, height jump."
    )
    assert any(r.startswith("gap statistic: not computed") for r in evaluation.reasons)
    summary = model.summary()
    assert summary.data["n_features"] == 17 and summary.data["features"] == list(bank.columns)
    assert "Gower distances over 17 columns" in str(summary)


@pytest.mark.slow
def test_gh19_gower_degenerate_split_at_full_size():
    bank = bank_like()
    free = SegmentationModel(metric="gower", method="average", min_segment_size=None, **FAST).fit(bank)
    assert np.bincount(free.labels_).min() <= 2  # 4,520 against 1 (the issue saw 4,519 against 2)
    with pytest.raises(ValueError, match="at least 91 customers"):
        SegmentationModel(metric="gower", method="average", **FAST).fit(bank)


def test_gh19_gower_model_leaves_the_id_out_and_says_why():
    table = messy_table().rename(columns={"customer_id": "CUST_ID"})
    table["CUST_ID"] = [f"C{v}" for v in table["CUST_ID"]]
    table["country"] = "PT"
    with pytest.warns(UserWarning, match="'country' has a single value"):
        model = SegmentationModel(3, method="average", metric="gower", **FAST).fit(table)
    assert model.gower_.columns_ == ["age", "income", "plan", "smoker"]
    record = model.preparation_
    assert record.excluded["CUST_ID"].startswith("identifier: unique value per row")
    assert record.excluded["country"].startswith("constant")
    assert record.imputed == {"income": 5, "plan": 2} and record.impute == "gower"
    assert "Missing values kept: Gower compares a pair of rows on the columns present in both. Missing: income 5, plan 2." in record.lines()


def test_gh19_preparation_record(customers):
    table = messy_table()
    table["visits"] = np.random.default_rng(0).lognormal(2, 1.5, len(table)).round()
    model = SegmentationModel(3, exclude=["smoker"], **FAST).fit(table)
    record = model.preparation_
    assert isinstance(record, PreparationRecord)
    assert (record.rows_in, record.rows_used) == (150, 150)
    assert record.excluded == {"smoker": "excluded by you", "customer_id": "identifier: unique integer per row "
                               "(name looks like an identifier)"}
    assert record.imputed == {"income": 5, "plan": 2} and record.impute == "median"
    assert "visits" in record.log1p and "age" not in record.log1p
    assert record.features == model.feature_names_
    lines = record.lines()
    assert lines[0] == "150 rows in, 150 used."
    assert "Missing values filled with the median: income 5, plan 2." in lines
    assert "Numbers standardised ((x - mean) / standard deviation)." in lines
    dropped = SegmentationModel(3, preparer=Preparer(impute="drop"), **FAST)
    with pytest.warns(UserWarning, match="dropped 7"):
        dropped.fit(table)
    assert dropped.preparation_.rows_used == 143 and dropped.preparation_.dropped == {"income": 5, "plan": 2}
    assert dropped.preparation_.lines()[0] == "150 rows in, 143 used: 7 dropped for missing values (income 5, plan 2)."
    assert PreparationRecord.from_dict(_json.loads(_json.dumps(record.to_dict()))) == record


def test_gh19_summary_has_every_section(customers):
    model = SegmentationModel(columns=list(WHOLESALE_SPENDING), ks=range(2, 6)).fit(customers)
    summary = model.summary()
    assert summary.evaluation is model.evaluation_ and summary.evaluation is not None
    text = str(summary)
    for heading in ("Preparation:", "Number of segments:", "Segments:", "Assigning customers (model.assign):"):
        assert heading in text
    assert text.splitlines()[0] == "440 customers, ward linkage on Euclidean distances of the 6 prepared features."
    assert "k=2 chosen automatically among ks=2..5:" in summary.choice_of_k
    assert summary.choice_of_k[1].startswith("Criteria on Euclidean distances of the 6 prepared features:")
    _json.dumps(summary.to_dict(), allow_nan=True)
    given = SegmentationModel(3, columns=list(WHOLESALE_SPENDING), **FAST).fit(customers)
    assert given.summary().choice_of_k == ["k=3 given (n_clusters=3)."]
    assert given.evaluation_ is None


def test_gh19_min_segment_size_guards_automatic_k(customers):
    skewed = customers[list(WHOLESALE_SPENDING)].copy()
    with pytest.raises(ValueError, match="min_segment_size must be None, a count"):
        SegmentationModel(min_segment_size="2%", **FAST).fit(skewed)
    model = SegmentationModel(min_segment_size=(0.3, 10), **FAST).fit(skewed)
    assert np.bincount(model.labels_).min() >= 132
    assert model.evaluation_.min_segment_size == 132
    # raw amounts: ward splits off the few very large accounts first; no k qualifies, and the error says so
    with pytest.raises(ValueError, match=r"smallest segment holds k=2: 6, k=3: 6, k=4: 1.*log1p"):
        SegmentationModel(min_segment_size=(0.3, 10), preparer=Preparer(log1p=None), **FAST).fit(skewed)


def test_gh19_new_fields_survive_save_and_old_models_load(tmp_path, customers):
    model = SegmentationModel(columns=list(WHOLESALE_SPENDING), ks=range(2, 6)).fit(customers)
    folder = model.save(tmp_path / "m")
    loaded = SegmentationModel.load(folder)
    assert loaded.preparation_ == model.preparation_
    pd.testing.assert_frame_equal(loaded.stability_, model.stability_, check_dtype=False)
    assert loaded.stability_.attrs == model.stability_.attrs
    pd.testing.assert_frame_equal(loaded.assign_check_, model.assign_check_)
    assert loaded.assign_check_.attrs == model.assign_check_.attrs
    assert loaded.evaluation_.distance == model.evaluation_.distance
    assert (loaded.min_segment_size, loaded.n_boot, loaded.holdout) == ((0.02, 5), 20, 0.2)
    assert str(loaded.summary()) == str(model.summary())
    # a model written before issue 19: no record, no stability, no check, an older evaluation
    document = json.loads((folder / "model.json").read_text())
    for key in ("preparation", "stability", "assign_check"):
        del document[key]
    for key in ("min_segment_size", "n_boot", "holdout"):
        del document["params"][key]
    for key in ("distance", "min_segment_size"):
        del document["evaluation"][key]
    for row in document["profile"]["distinguishing"]:
        del row["share"], row["share_rest"]
    (folder / "model.json").write_text(json.dumps(document))
    old = SegmentationModel.load(folder)
    assert old.preparation_ is None and old.stability_ is None and old.assign_check_ is None
    np.testing.assert_array_equal(old.assign(customers)["segment"], model.labels_)
    text = str(old.summary())
    assert "(not recorded: a model saved by an older hclust)" in text
    assert "Held-out agreement: not measured" in text


def test_gh19_bundled_wholesale_gower_auto_k(customers):
    """The bundled data show the degenerate Gower split too: 439 against 1 (average), 435 against 5
    (complete) with no evaluation kept. Now each k's smallest segment is checked and the fit refuses."""
    spending = customers[list(WHOLESALE_SPENDING)]
    free = SegmentationModel(metric="gower", method="average", min_segment_size=None, **FAST).fit(spending)
    assert sorted(np.bincount(free.labels_)) == [1, 439] and free.evaluation_ is not None
    assert free.evaluation_.table["smallest_segment"].tolist() == [1.0] * 9
    for method, smallest in (("average", "k=2: 1,"), ("complete", "k=2: 5,")):
        with pytest.raises(ValueError, match=f"at least 9 customers .* holds {smallest}"):
            SegmentationModel(metric="gower", method=method, **FAST).fit(spending)


def test_gh19_tiny_table_automatic_k_says_why():
    tiny = pd.DataFrame({"x": [1.0, 2.0, 3.5, 10.0, 11.0]})
    with pytest.raises(ValueError, match="5 customers cannot make two such segments; give n_clusters"):
        SegmentationModel(**FAST).fit(tiny)
    assert SegmentationModel(min_segment_size=2, **FAST).fit(tiny).n_clusters_ == 2
# --------------------------------------------------------------------------- the model folder
def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_symlinked_folder_is_followed(fitted, tmp_path):
    real = fitted.save(tmp_path / "real")
    link = tmp_path / "current"
    link.symlink_to(real, target_is_directory=True)
    SegmentationModel(3, columns=list(WHOLESALE_SPENDING)).fit(load_wholesale()).save(link)
    assert link.is_symlink() and SegmentationModel.load(real).n_clusters_ == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "real"]  # no .old-PID, no staging
    dangling = tmp_path / "next"
    dangling.symlink_to(tmp_path / "made-by-save", target_is_directory=True)
    fitted.save(dangling)
    assert SegmentationModel.load(dangling).n_clusters_ == 4 and dangling.is_symlink()


def test_foreign_files_are_refused_and_kept(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    (folder / "notes.txt").write_text("my notes")
    with pytest.raises(ValueError, match=r"is an hclust model but also holds notes\.txt.*nothing was written"):
        fitted.save(folder)
    assert (folder / "notes.txt").read_text() == "my notes"
    (folder / "notes.txt").unlink()
    (folder / ".DS_Store").write_bytes(b"finder")  # operating-system litter is tolerated and kept
    fitted.save(folder)
    assert (folder / ".DS_Store").exists()


def test_save_into_the_current_folder(fitted, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert fitted.save(".") == Path(".")
    assert SegmentationModel.load(".").n_clusters_ == 4
    fitted.save(".")  # and again: the model there is replaced
    assert len(list(empty.glob("arrays*.npz"))) == 1
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "data.csv").write_text("a\n1\n")
    monkeypatch.chdir(busy)
    with pytest.raises(ValueError, match=r"\S+busy exists and is not a saved hclust model \(it holds data\.csv\)"):
        fitted.save(".")


def test_leftovers_of_interrupted_saves_are_cleaned(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    dead = _dead_pid()
    staging = tmp_path / f".model.{dead}.x1y2z3.tmp"
    staging.mkdir()
    (staging / "model.json").write_text("{}")
    legacy_old = tmp_path / f".model.old-{dead}"
    legacy_old.mkdir()
    (legacy_old / "arrays.npz").write_bytes(b"x")
    (folder / ".model.json.abc123.tmp").write_text("partial")
    (folder / "arrays-0123456789abcdef.npz").write_bytes(b"orphan")
    someone_elses = tmp_path / ".model.notes"  # not a staging folder: left alone
    someone_elses.mkdir()
    fitted.save(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.notes", "model"]
    assert len(list(folder.iterdir())) == 2


def test_legacy_interrupted_save_is_recovered(fitted, tmp_path):
    """An earlier hclust renamed the model away, then died before renaming the new one in."""
    folder = fitted.save(tmp_path / "model")
    folder.rename(tmp_path / f".model.old-{_dead_pid()}")
    with pytest.warns(RuntimeWarning, match="was put back"):
        loaded = SegmentationModel.load(tmp_path / "model")
    assert loaded.n_clusters_ == 4 and (tmp_path / "model").is_dir()


_CRASH = """
import os, sys
from hclust.segment.model import SegmentationModel
source, target, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = SegmentationModel.load(source)
count = 0
def crashing(real):
    def op(*args, **kwargs):
        global count
        count += 1
        if count == step:
            os._exit(137)  # like kill -9: no cleanup, no finally
        return real(*args, **kwargs)
    return op
for name in ("replace", "rename", "unlink", "rmdir"):
    setattr(os, name, crashing(getattr(os, name)))
model.save(target)
"""


@pytest.mark.parametrize("existing", [True, False], ids=["replace-a-model", "new-folder"])
def test_save_survives_a_crash_at_every_step(fitted, tmp_path, existing):
    """Killed before any rename, unlink or rmdir of a save, the folder holds the old model or the
    new one (or, for a new folder, none yet); the next save leaves exactly one model."""
    import subprocess
    import sys

    new_model = SegmentationModel(3, columns=list(WHOLESALE_SPENDING)).fit(load_wholesale())
    source = new_model.save(tmp_path / "source")
    script = tmp_path / "crash.py"
    script.write_text(_CRASH)
    outcomes = set()
    for step in range(1, 20):
        work = tmp_path / f"run{step}"
        work.mkdir()
        target = work / "model"
        if existing:
            fitted.save(target)
        done = subprocess.run([sys.executable, str(script), str(source), str(target), str(step)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, 137), done.stderr
        if target.exists():
            outcomes.add(SegmentationModel.load(target).n_clusters_)
        else:
            assert not existing
            outcomes.add(None)
        new_model.save(target)  # the next save cleans up
        assert sorted(p.suffix for p in target.iterdir()) == [".json", ".npz"]
        assert [p.name for p in work.iterdir()] == ["model"]
        if done.returncode == 0:
            break
    else:
        pytest.fail("the save never finished")
    assert outcomes == ({4, 3} if existing else {None, 3})


def test_concurrent_saves_take_turns(fitted, tmp_path):
    import threading

    other = SegmentationModel(3, columns=list(WHOLESALE_SPENDING)).fit(load_wholesale())
    folder = tmp_path / "model"
    fitted.save(folder)
    errors: list[BaseException] = []

    def work(model: SegmentationModel) -> None:
        try:
            for _ in range(5):
                model.save(folder)
                assert SegmentationModel.load(folder).n_clusters_ in (3, 4)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m,)) for m in (fitted, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(folder.iterdir())) == 2


# --------------------------------------------------------------------------- load checks everything
def _document(folder: Path) -> dict:
    return json.loads((folder / "model.json").read_text())


def _rewrite(folder: Path, text_edit=None, **arrays) -> None:
    """Replace arrays (name=value, or name=None to drop) with a consistent checksum, and/or
    edit model.json's text."""
    import io as _io

    document = _document(folder)
    if arrays:
        with np.load(_arrays(folder)) as archive:
            current = {name: archive[name] for name in archive.files}
        for name, value in arrays.items():
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value
        buffer = _io.BytesIO()
        np.savez(buffer, **current)
        _write_blob(folder, document, buffer.getvalue())
        document = _document(folder)
    text = json.dumps(document)
    if text_edit is not None:
        text = text_edit(text)
    (folder / "model.json").write_text(text)


def _write_blob(folder: Path, document: dict, blob: bytes) -> None:
    import hashlib

    _arrays(folder).unlink()
    name = "arrays.npz"
    (folder / name).write_bytes(blob)
    document["arrays"]["file"] = name
    document["arrays"]["sha256"] = hashlib.sha256(blob).hexdigest()
    (folder / "model.json").write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('"beta": -0.25', '"beta": NaN'), r"non-finite number \(NaN\)"),
        (lambda t: re.sub(r'"ks": \[[^\]]*\]', '"ks": [Infinity]', t), r"non-finite number \(Infinity\)"),
        (lambda t: t.replace('"beta": -0.25', '"beta": 1e999'), "out of range"),
        (lambda t: re.sub(r'("scale": )\d[\d.e+-]*', r"\1-Infinity", t, count=1), r"non-finite number \(-Infinity\)"),
        (lambda t: re.sub(r'"ks": \[[^\]]*\]', '"ks": [2.5]', t), "params.ks must be a whole number"),
        (lambda t: t.replace('"method": "ward"', '"method": "wards"'), "unknown method 'wards'"),
        (lambda t: re.sub(r'"file": "[^"]*"', '"file": "../sparse.bin"', t), "arrays file '../sparse.bin'"),
        (lambda t: re.sub(r'"file": "[^"]*"', '"file": "/etc/passwd"', t), "arrays file '/etc/passwd'"),
        (lambda t: re.sub(r'"n_clusters": 4,\s*"names"', '"n_clusters": 0, "names"', t), "n_clusters is 0"),
        (lambda t: re.sub(r'"stop": 440', '"stop": 441', t), "implies shape"),
    ],
)
def test_load_refuses_bad_values_in_one_line(fitted, tmp_path, edit, message):
    folder = fitted.save(tmp_path / "model")
    _rewrite(folder, text_edit=edit)
    with pytest.raises(ValueError, match=message) as info:
        SegmentationModel.load(folder)
    assert "\n" not in str(info.value)


def test_scale_parameters_are_in_the_json(fitted, tmp_path):
    """The -Infinity case above edits the preparer's fitted scale: make sure it exists."""
    text = (fitted.save(tmp_path / "model") / "model.json").read_text()
    assert re.search(r'"scale": \d', text)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"labels": np.r_[np.zeros(439, np.int64), 4]}, "labels run from 0 to 4"),
        ({"labels": np.r_[np.zeros(439, np.int64), -1]}, "labels run from -1"),
        ({"labels": np.full(440, 0.5)}, "array 'labels' is declared as float64"),
        ({"weights": np.r_[np.ones(439), -1.0]}, "weights must be positive"),
        ({"weights": np.r_[np.ones(439), np.nan]}, "weights must be positive"),
        ({"features": np.full((440, 6), np.inf)}, "features hold NaN or infinite"),
        ({"linkage": np.zeros((439, 4))}, "linkage matrix is not valid"),
        ({"linkage": None}, "lacks linkage"),
        ({"extra": np.zeros(3)}, "unexpected array 'extra.npy'"),
        ({"features": np.zeros((440, 7))}, r"declared as float64 of shape \(440, 7\)"),
    ],
)
def test_load_refuses_arrays_that_do_not_make_a_model(fitted, tmp_path, arrays, message):
    folder = fitted.save(tmp_path / "model")
    _rewrite(folder, **arrays)
    with pytest.raises(ValueError, match=message) as info:
        SegmentationModel.load(folder)
    assert "\n" not in str(info.value)


def test_array_sizes_are_checked_before_inflating(fitted, tmp_path):
    """A small file that declares a huge array is refused from its header alone."""
    import io as _io
    import zipfile

    folder = fitted.save(tmp_path / "model")
    header = _io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**8, 4)})
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("linkage.npy", header.getvalue() + bytes(3_000_000))
    _write_blob(folder, _document(folder), buffer.getvalue())
    with pytest.raises(ValueError, match=r"'linkage' is declared as float64 of shape \(100000000, 4\)"):
        SegmentationModel.load(folder)


def test_array_file_linked_outside_is_refused(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    outside = tmp_path / "elsewhere.npz"
    arrays = _arrays(folder)
    arrays.rename(outside)
    arrays.symlink_to(outside)
    with pytest.raises(ValueError, match="link to a file outside the model folder"):
        SegmentationModel.load(folder)


def test_old_models_with_arrays_npz_still_load(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    _write_blob(folder, _document(folder), _arrays(folder).read_bytes())
    assert (folder / "arrays.npz").exists()
    assert SegmentationModel.load(folder).n_clusters_ == 4
    fitted.save(folder)  # replaced by the current naming, the old file removed
    assert not (folder / "arrays.npz").exists() and len(list(folder.iterdir())) == 2


def test_evaluate_takes_criteria_and_the_old_metrics_name_warns(fitted):
    new = fitted.evaluate([2, 3], criteria=("wss", "silhouette"))
    assert {"wss", "silhouette"} <= set(new.table.columns) and "gap" not in new.table.columns
    with pytest.warns(FutureWarning, match=r"SegmentationModel.evaluate\(metrics=\.\.\.\) is deprecated .* criteria="):
        old = fitted.evaluate([2, 3], metrics=("wss", "silhouette"))
    pd.testing.assert_frame_equal(old.table, new.table)

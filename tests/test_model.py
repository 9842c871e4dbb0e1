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
    assert list(fitted.summary()["size"]) == list(np.bincount(fitted.labels_))


def test_assign_returns_segment_distance_confidence(fitted, customers):
    out = fitted.assign(customers)
    assert list(out.columns) == ["segment", "segment_name", "distance", "confidence", "runner_up"]
    heights = fitted.join_heights(customers).to_numpy()
    np.testing.assert_array_equal(out["segment"], heights.argmin(axis=1))
    np.testing.assert_allclose(out["distance"], heights.min(axis=1))
    assert ((out["confidence"] >= 0) & (out["confidence"] <= 1)).all()
    assert (out["runner_up"] != out["segment"]).all()
    # ward's join height: sqrt(2 W/(W+1)) * distance to the centroid
    c = fitted.estimator_.centroids_
    W = fitted.estimator_.segment_weights_
    x = fitted.features_[:3]
    manual = np.sqrt(2 * W / (W + 1)) * np.linalg.norm(x[:, None, :] - c[None], axis=2)
    np.testing.assert_allclose(heights[:3], manual, rtol=1e-12)
    # most training customers join their own segment (not a theorem for ward)
    assert (out["segment"].to_numpy() == fitted.labels_).mean() > 0.8
    assert out["segment_name"].iloc[0] == fitted.names_[int(out["segment"].iloc[0])]


def test_assign_confidence_is_one_at_a_centroid_and_zero_halfway():
    X = pd.DataFrame({"x": [0.0, 0.1, 0.2, 10.0, 10.1, 10.2]})
    model = SegmentationModel(2, method="centroid", preparer=Preparer(scale=None, log1p=None)).fit(X)
    out = model.assign(pd.DataFrame({"x": [0.1, 5.1, 10.1]}))
    np.testing.assert_allclose(out["confidence"], [1.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(out["distance"], [0.0, 5.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("method", ["single", "average", "complete"])
def test_single_average_complete_models(method, customers):
    model = SegmentationModel(3, method=method, columns=list(WHOLESALE_SPENDING)).fit(customers)
    out = model.assign(customers)
    if method == "single":  # nearest member: the training customers keep their segment
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
    assert (out["segment"].to_numpy() == model.labels_).mean() > 0.95
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
    pd.testing.assert_frame_equal(loaded.summary(), fitted.summary())
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

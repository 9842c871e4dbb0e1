"""Tests for hclust.segment.Preparer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hclust.segment import Preparer, PreparerWarning, Schema, SchemaWarning, infer_schema

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [101, 102, 103, 104, 105, 106],
            "spend": [10.0, 20.0, np.nan, 40.0, 1000.0, 30.0],
            "visits": [1.0, 3.0, 2.0, np.nan, 4.0, 5.0],
            "region": pd.Series(["n", "s", "n", None, "e", "n"], dtype=object),
            "member": pd.Series(["yes", "no", "no", "yes", None, "no"], dtype=object),
            "size": pd.Categorical(["S", "M", "L", "M", None, "S"], categories=["S", "M", "L"], ordered=True),
            "joined": pd.to_datetime(["2024-01-01", "2024-01-11", None, "2024-01-06", "2024-01-31", "2024-01-21"]),
        }
    )


SCHEMA = Schema(
    kinds={
        "id": "id", "spend": "numeric", "visits": "numeric", "region": "categorical",
        "member": "binary", "size": "ordinal", "joined": "date",
    },
    levels={"size": ["S", "M", "L"]},
)


def test_fit_transform_by_hand():
    prep = Preparer(schema=SCHEMA, log1p=["spend"], scale="standard", feature_weights={"region": 2.0})
    out = prep.fit_transform(table())
    assert prep.feature_names_out_ == [
        "spend", "visits", "region=e", "region=n", "region=s", "member=yes", "size", "joined_days_ago",
    ]
    assert list(out.columns) == prep.feature_names_out_
    assert list(out.index) == list(range(6))
    spend = np.log1p(np.array([10.0, 20.0, 30.0, 40.0, 1000.0, 30.0]))  # median 30 imputed
    np.testing.assert_allclose(out["spend"], (spend - spend.mean()) / spend.std(), rtol=1e-12)
    visits = np.array([1.0, 3.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(out["visits"], (visits - visits.mean()) / visits.std(), rtol=1e-12)
    # region: missing -> most frequent level "n"; weight 2 on every region feature
    np.testing.assert_array_equal(out["region=n"], [2, 0, 2, 2, 0, 2])
    np.testing.assert_array_equal(out["region=e"], [0, 0, 0, 0, 2, 0])
    # member: missing -> most frequent "no"; not scaled
    np.testing.assert_array_equal(out["member=yes"], [1, 0, 0, 1, 0, 0])
    ranks = np.array([0.0, 1.0, 2.0, 1.0, 1.0, 0.0])  # missing -> floor(median rank) = 1 ("M")
    np.testing.assert_allclose(out["size"], (ranks - ranks.mean()) / ranks.std(), rtol=1e-12)
    days = np.array([30.0, 20.0, 20.0, 25.0, 0.0, 10.0])  # before 2024-01-31; missing -> median 20
    np.testing.assert_allclose(out["joined_days_ago"], (days - days.mean()) / days.std(), rtol=1e-12)
    assert prep.missing_counts_ == {
        "spend": 1, "visits": 1, "region": 1, "member": 1, "size": 1, "joined": 1,
    }


@pytest.mark.parametrize("scale", ["standard", "robust", "minmax", None])
def test_scalers_and_inverse_transform(scale):
    prep = Preparer(schema=SCHEMA, log1p=["spend"], scale=scale)
    out = prep.fit_transform(table())
    back = prep.inverse_transform_numeric(out)
    filled = table().fillna({"spend": 30.0, "visits": 3.0})
    np.testing.assert_allclose(back["spend"], filled["spend"], rtol=1e-12)
    np.testing.assert_allclose(back["visits"], filled["visits"], rtol=1e-12)
    np.testing.assert_allclose(back["joined_days_ago"], [30.0, 20.0, 20.0, 25.0, 0.0, 10.0], atol=1e-12)
    values = out["visits"].to_numpy()
    raw = filled["visits"].to_numpy()
    if scale == "minmax":
        np.testing.assert_allclose(values, (raw - 1) / 4)
    elif scale == "robust":
        q1, med, q3 = np.percentile(raw, [25, 50, 75])
        np.testing.assert_allclose(values, (raw - med) / (q3 - q1))
    elif scale is None:
        np.testing.assert_allclose(values, raw)


def test_auto_log1p_picks_skewed_non_negative_columns():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"amount": rng.lognormal(3, 1.2, 200), "score": rng.normal(50, 5, 200), "delta": rng.normal(0, 1, 200) ** 3}
    )
    prep = Preparer(log1p="auto").fit(frame)
    chosen = {spec["name"]: spec["log1p"] for spec in prep.specs_}
    assert chosen == {"amount": True, "score": False, "delta": False}  # delta is skewed but negative


def test_transform_new_rows_reports_unseen_levels_and_clips():
    prep = Preparer(schema=SCHEMA, log1p=["spend"]).fit(table())
    new = table().iloc[:3].copy()
    new["region"] = ["w", "n", "zz"]
    new["member"] = ["maybe", "yes", "no"]
    new["spend"] = [-5.0, 20.0, 10.0]
    with pytest.warns(PreparerWarning) as record:
        out = prep.transform(new)
    messages = " | ".join(str(w.message) for w in record)
    assert "'region': ['w', 'zz']" in messages and "'member': ['maybe']" in messages
    assert "clipped to 0" in messages and "'spend': 1" in messages
    np.testing.assert_array_equal(out[["region=e", "region=n", "region=s"]].to_numpy().sum(axis=1), [0, 1, 0])
    assert out.loc[0, "member=yes"] == 0.0  # unseen binary -> missing -> most frequent ("no")
    fitted = prep.transform(table())
    spend = prep.specs_[0]
    assert out.loc[0, "spend"] == pytest.approx((np.log1p(0.0) - spend["center"]) / spend["scale"])
    np.testing.assert_allclose(fitted, prep.fit_transform(table()))


def test_drop_mode_reports_what_was_dropped():
    prep = Preparer(schema=SCHEMA, impute="drop")
    with pytest.warns(PreparerWarning, match=r"dropped 3 of 6 rows.*'spend': 1"):
        out = prep.fit_transform(table())
    assert list(out.index) == [0, 1, 5]
    assert prep.dropped_rows_ == [2, 3, 4]
    # the scaling is fitted on the kept rows only
    np.testing.assert_allclose(out["visits"].mean(), 0.0, atol=1e-15)
    with pytest.warns(PreparerWarning, match=r"dropped 1 of 2 new rows"):
        assert list(prep.transform(table().iloc[1:3]).index) == [1]
    with pytest.raises(ValueError, match="impute=None"):
        Preparer(schema=SCHEMA, impute=None).fit(table())


def test_serialises_to_plain_json_and_back():
    prep = Preparer(schema=SCHEMA, log1p=["spend"], scale="robust", feature_weights={"region=s": 3.0, "visits": 0.5})
    out = prep.fit_transform(table())
    text = json.dumps(prep.to_dict())
    again = Preparer.from_dict(json.loads(text))
    pd.testing.assert_frame_equal(again.transform(table()), out)
    assert again.feature_names_out_ == prep.feature_names_out_
    from_plain_schema = Preparer(schema=json.loads(json.dumps(SCHEMA.to_dict())), log1p=["spend"], scale="robust")
    from_plain_schema.feature_weights = {"region=s": 3.0, "visits": 0.5}
    pd.testing.assert_frame_equal(from_plain_schema.fit_transform(table()), out)
    with pytest.raises(ValueError, match="not a Preparer dictionary"):
        Preparer.from_dict({"format": "other"})
    data = prep.to_dict()
    data["version"] = 99
    with pytest.raises(ValueError, match="version 99 is not supported"):
        Preparer.from_dict(data)


def test_feature_weights_per_feature_and_column():
    prep = Preparer(schema=SCHEMA, scale=None, log1p=None, feature_weights={"region": 2.0, "region=s": 5.0})
    out = prep.fit_transform(table())
    assert out["region=s"].max() == 5.0 and out["region=n"].max() == 2.0
    with pytest.raises(ValueError, match=r"feature_weights names \['nope'\]"):
        Preparer(schema=SCHEMA, feature_weights={"nope": 1.0}).fit(table())
    with pytest.raises(ValueError, match="finite and non-negative"):
        Preparer(schema=SCHEMA, feature_weights={"spend": -1.0}).fit(table())


def test_one_hot_false_gives_codes():
    prep = Preparer(schema=SCHEMA, one_hot=False)
    out = prep.fit_transform(table())
    np.testing.assert_array_equal(out["region"], [1, 2, 1, 1, 0, 1])
    with pytest.warns(PreparerWarning, match="not seen in fit"):
        new = prep.transform(table().assign(region=["q"] * 6))
    assert (new["region"] == -1).all()


def test_inferred_schema_and_excluded_columns():
    frame = table().assign(country="UK")
    with pytest.warns(SchemaWarning, match="'country' has a single value"):
        prep = Preparer().fit(frame)
    assert prep.schema_.kinds["id"] == "id" and prep.schema_.kinds["country"] == "constant"
    assert "country" not in " ".join(prep.feature_names_out_)


def test_bad_input_is_explained():
    frame = table()
    with pytest.raises(ValueError, match=r"the schema names column 'spend', which is not in the table"):
        Preparer(schema=SCHEMA).fit(frame.drop(columns=["spend"]))
    with pytest.raises(ValueError, match="'spend' is entirely missing"):
        Preparer(schema=SCHEMA).fit(frame.assign(spend=np.nan))
    only_ids = Schema(kinds={c: ("id" if c == "id" else "constant") for c in frame.columns})
    with pytest.raises(ValueError, match="no usable columns"):
        Preparer(schema=only_ids).fit(frame)
    with pytest.raises(ValueError, match="Unknown impute 'zero'"):
        Preparer(schema=SCHEMA, impute="zero").fit(frame)
    with pytest.raises(ValueError, match="Unknown scale 'z'"):
        Preparer(schema=SCHEMA, scale="z").fit(frame)
    with pytest.raises(ValueError, match=r"log1p applies to numeric columns only; \['region'\]"):
        Preparer(schema=SCHEMA, log1p=["region"]).fit(frame)
    with pytest.raises(ValueError, match=r"log1p names columns \['q'\]"):
        Preparer(schema=SCHEMA, log1p=["q"]).fit(frame)
    with pytest.raises(ValueError, match="binary in the schema but has 3 distinct values"):
        Preparer(schema=Schema(kinds={"region": "binary"})).fit(frame[["region"]])
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        Preparer().fit(np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match="not fitted"):
        Preparer().transform(frame)
    with pytest.warns(PreparerWarning, match=r"columns \['extra'\] are not in the schema"):
        Preparer(schema=SCHEMA).fit(frame.assign(extra=1))

    prep = Preparer(schema=SCHEMA).fit(frame)
    with pytest.raises(ValueError, match=r"lack the fitted columns \['visits'\]"):
        prep.transform(frame.drop(columns=["visits"]))
    with pytest.warns(PreparerWarning, match=r"columns \['new'\] were not in the fitted table"):
        prep.transform(frame.assign(new=1))
    with pytest.raises(ValueError, match=r"centroids must have shape \(k, 8\)"):
        prep.inverse_transform_numeric(np.zeros((2, 3)))


def test_text_in_numeric_column_is_reported():
    frame = pd.DataFrame({"v": pd.Series([1, 2, "n/a", 4], dtype=object), "w": [1.0, 2.0, 3.0, 5.0]})
    schema = Schema(kinds={"v": "numeric", "w": "numeric"})
    with pytest.warns(PreparerWarning, match=r"'v' is numeric but holds text that is not a number \(e\.g\. \['n/a'\]\); 1"):
        out = Preparer(schema=schema, scale=None, log1p=None).fit_transform(frame)
    np.testing.assert_array_equal(out["v"], [1, 2, 2, 4])


def test_mixed_type_categorical_is_compared_as_text():
    frame = pd.DataFrame({"code": pd.Series([1, "A", 1, "B", "A"], dtype=object), "x": [1.0, 2, 3, 4, 5]})
    schema = Schema(kinds={"code": "categorical", "x": "numeric"})
    prep = Preparer(schema=schema)
    out = prep.fit_transform(frame)
    assert prep.specs_[0]["levels"] == ["1", "A", "B"] and prep.specs_[0]["as_text"]
    np.testing.assert_array_equal(out["code=1"], [1, 0, 1, 0, 0])


@pytest.mark.shared
def test_insurance_table():
    path = SHARED / "insurance" / "insurance.csv"
    if not path.exists():
        pytest.skip(f"shared data not available ({path} is absent)")
    frame = pd.read_csv(path)
    prep = Preparer(schema=infer_schema(frame))
    out = prep.fit_transform(frame)
    assert out.shape == (1338, 10) and np.isfinite(out.to_numpy()).all()
    assert {s["name"]: s["log1p"] for s in prep.specs_ if s["kind"] == "numeric"}["charges"]
    back = prep.inverse_transform_numeric(out)
    np.testing.assert_allclose(back["charges"], frame["charges"], rtol=1e-10)


def test_nullable_pandas_dtypes():
    frame = pd.DataFrame(
        {
            "a": pd.array([1, None, 3, 4], dtype="Int64"),
            "b": pd.array([True, None, False, True], dtype="boolean"),
            "c": pd.array(["x", None, "y", "x"], dtype="string"),
        }
    )
    prep = Preparer(scale=None, log1p=None)
    out = prep.fit_transform(frame)
    assert prep.schema_.kinds == {"a": "numeric", "b": "binary", "c": "binary"}
    assert prep.feature_names_out_ == ["a", "b=True", "c=y"]
    np.testing.assert_array_equal(out.to_numpy(), [[1, 1, 0], [3, 1, 0], [3, 0, 1], [4, 1, 0]])

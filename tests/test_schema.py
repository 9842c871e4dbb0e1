"""Tests for hclust.segment.infer_schema and Schema."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hclust.segment import Schema, SchemaWarning, infer_schema

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def customers(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "email": [f"c{i}@example.com" for i in range(n)],
            "age": rng.integers(18, 80, n),
            "spend": rng.gamma(2.0, 50.0, n),
            "region": rng.choice(["north", "south", "east"], n),
            "member": rng.choice(["yes", "no"], n),
            "is_vip": rng.random(n) < 0.3,
            "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L"], ordered=True),
            "signup": pd.date_range("2023-01-01", periods=n, freq="7D"),
            "last_visit": [f"2024-0{1 + i % 9}-1{i % 10}" for i in range(n)],
            "country": ["UK"] * n,
            "score_text": [str(v) for v in rng.integers(0, 100, n)],
        }
    )


def test_infers_every_kind():
    with pytest.warns(SchemaWarning, match=r"'country' has a single value \('UK'\); excluded as constant"):
        schema = infer_schema(customers())
    assert schema.kinds == {
        "customer_id": "id",
        "email": "id",
        "age": "numeric",
        "spend": "numeric",
        "region": "categorical",
        "member": "binary",
        "is_vip": "binary",
        "size": "ordinal",
        "signup": "date",
        "last_visit": "date",
        "country": "constant",
        "score_text": "numeric",
    }
    assert schema.levels == {"size": ["S", "M", "L"]}
    assert schema.excluded == ["customer_id", "email", "country"]
    assert "customer_id" not in schema.used and "spend" in schema.used
    assert schema.columns_of("binary") == ["member", "is_vip"]
    assert schema.n_rows == 30
    assert schema.reasons["score_text"] == "numbers stored as text"


def test_unique_integers_are_not_ids_without_a_hint():
    frame = pd.DataFrame({"income": [52_000, 61_000, 48_500, 70_250], "x": [1.0, 2.0, 2.0, 3.0]})
    assert infer_schema(frame).kinds["income"] == "numeric"
    frame = pd.DataFrame({"row": [3, 1, 2, 4], "x": [1.0, 2.0, 2.0, 3.0]})
    assert infer_schema(frame).kinds["row"] == "id"  # consecutive integers


def test_all_missing_column_is_excluded_with_warning():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [np.nan] * 3})
    with pytest.warns(SchemaWarning, match="'b' is entirely missing"):
        schema = infer_schema(frame)
    assert schema.kinds["b"] == "constant"


def test_mixed_numbers_and_text_warns():
    frame = pd.DataFrame({"v": pd.Series([1, 2, "n/a", 4, 5, "unknown"], dtype=object)})
    with pytest.warns(SchemaWarning, match=r"'v' mixes numbers and text.*treated as categorical"):
        schema = infer_schema(frame)
    assert schema.kinds["v"] == "categorical"


def test_overrides_every_decision_without_warnings():
    frame = customers()
    schema = infer_schema(
        frame,
        overrides={
            "customer_id": "categorical",
            "country": "categorical",
            "age": ["young", "old"],
            "spend": "id",
            "is_vip": "categorical",
        },
    )
    assert schema.kinds["customer_id"] == "categorical"
    assert schema.kinds["country"] == "categorical"
    assert schema.kinds["age"] == "ordinal" and schema.levels["age"] == ["young", "old"]
    assert schema.kinds["spend"] == "id"
    assert schema.reasons["spend"] == "set by override"
    numeric_ordinal = infer_schema(frame, overrides={"age": "ordinal", "country": "constant"})
    assert numeric_ordinal.levels["age"] == sorted(frame["age"].unique().tolist())


def test_bad_overrides_are_explained():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    with pytest.raises(ValueError, match=r"overrides names columns \['nope'\] that are not in the table"):
        infer_schema(frame, overrides={"nope": "numeric"})
    with pytest.raises(ValueError, match=r"'interval' is not a column kind; valid kinds are"):
        infer_schema(frame, overrides={"a": "interval"})
    with pytest.raises(ValueError, match="order is unknown; give the levels"):
        infer_schema(frame, overrides={"b": "ordinal"})
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        infer_schema(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="no columns"):
        infer_schema(pd.DataFrame(index=range(3)))


def test_schema_round_trips_through_json():
    with pytest.warns(SchemaWarning):
        schema = infer_schema(customers())
    text = json.dumps(schema.to_dict())
    again = Schema.from_dict(json.loads(text))
    assert again == schema
    assert list(again.kinds) == list(schema.kinds)


def test_schema_validation():
    with pytest.raises(ValueError, match="Unknown column kinds"):
        Schema(kinds={"a": "text"})
    with pytest.raises(ValueError, match="levels names columns"):
        Schema(kinds={"a": "numeric"}, levels={"b": [1, 2]})
    with pytest.raises(ValueError, match="not a Schema dictionary"):
        Schema.from_dict({"kinds": {}})
    with pytest.raises(ValueError, match="Unknown column kind"):
        Schema(kinds={"a": "numeric"}).columns_of("nominal")


@pytest.mark.shared
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("insurance/insurance.csv", {"sex": "binary", "region": "categorical", "charges": "numeric"}),
        ("mall_customers/Mall_Customers.csv", {"CustomerID": "id", "Genre": "binary", "Age": "numeric"}),
    ],
)
def test_real_tables(path, expected):
    file = SHARED / path
    if not file.exists():
        pytest.skip(f"shared data not available ({file} is absent)")
    schema = infer_schema(pd.read_csv(file))
    for col, kind in expected.items():
        assert schema.kinds[col] == kind

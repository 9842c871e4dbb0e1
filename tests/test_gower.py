"""Tests for hclust.gower: R daisy references, a naive oracle, properties, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import squareform

from hclust._validation import InsufficientMemoryError
from hclust.gower import Gower, GowerWarning

DATA = Path(__file__).resolve().parent / "data" / "gower"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


# --------------------------------------------------------------------------- helpers
def read_levels(case: str) -> dict[str, tuple[bool, list[str]]]:
    levels = {}
    for line in (DATA / f"{case}_levels.txt").read_text().splitlines():
        if line.strip():
            col, ordered, levs = line.split("\t")
            levels[col] = (ordered == "TRUE", levs.split("|"))
    return levels


def read_daisy(case: str) -> np.ndarray:
    lines = (DATA / f"{case}_daisy.txt").read_text().split()
    return np.array([np.nan if v == "NA" else float(v) for v in lines])


def with_factors(frame: pd.DataFrame, levels: dict[str, tuple[bool, list[str]]]) -> pd.DataFrame:
    frame = frame.copy()
    for col, (ordered, levs) in levels.items():
        frame[col] = pd.Categorical(frame[col], categories=levs, ordered=ordered)
    return frame


def read_case(case: str) -> pd.DataFrame:
    levels = read_levels(case)
    frame = pd.read_csv(DATA / f"{case}_input.csv", dtype={c: str for c in levels})
    return with_factors(frame, levels)


def naive_gower(X: pd.DataFrame, Y: pd.DataFrame, types: dict, ranges: dict, levels: dict, weights: dict):
    """Kaufman-Rousseeuw/Gower coefficient term by term, in plain Python."""
    out = np.empty((len(X), len(Y)))
    for a in range(len(X)):
        for b in range(len(Y)):
            num = den = 0.0
            for col, kind in types.items():
                x, y = X[col].iloc[a], Y[col].iloc[b]
                if pd.isna(x) or pd.isna(y):
                    continue
                w = weights.get(col, 1.0)
                if kind == "numeric":
                    lo, hi = ranges[col]
                    term = abs(x - y) / (hi - lo) if hi > lo else float(x != y)
                elif kind == "ordinal":
                    lo, hi = ranges[col]
                    rx, ry = levels[col].index(x) + 1, levels[col].index(y) + 1
                    term = abs(rx - ry) / (hi - lo) if hi > lo else float(rx != ry)
                elif kind == "asymm":
                    if x == levels[col][0] and y == levels[col][0]:
                        continue
                    term = float(x != y)
                else:
                    term = float(x != y)
                num += w * term
                den += w
            out[a, b] = num / den if den > 0 else np.nan
    return out


def random_frame(rng: np.random.Generator, n: int, missing: float = 0.15) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "spend": rng.gamma(2.0, 50.0, n).round(2),
            "visits": rng.integers(0, 12, n).astype(float),
            "region": rng.choice(["north", "south", "east", "west"], n).astype(object),
            "tier": pd.Categorical(
                rng.choice(["low", "mid", "high"], n), categories=["low", "mid", "high"], ordered=True
            ),
            "promo": rng.integers(0, 2, n),
            "app": rng.random(n) < 0.4,
        }
    )
    for col in ["spend", "visits", "region", "tier"]:
        mask = rng.random(n) < missing
        if col == "tier":
            frame.loc[mask, col] = np.nan
        else:
            frame.loc[mask, col] = np.nan if col != "region" else None
    return frame


# --------------------------------------------------------------------- R references
@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("mixed", {}),
        ("asymm", {"types": {"promo": "asymm", "app": "asymm", "newsletter": "symm"}}),
        ("weighted", {"weights": [2, 0.5, 1, 3, 1]}),
    ],
)
def test_matches_r_daisy(case, kwargs):
    frame = read_case(case)
    expected = read_daisy(case)
    if np.isnan(expected).any():
        with pytest.warns(GowerWarning, match=r"no variable usable"):
            got = Gower(**kwargs).fit(frame).condensed()
    else:
        got = Gower(**kwargs).fit(frame).condensed()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, equal_nan=True)


def test_daisy_ordinal_uses_rank_range_seen_in_fit():
    # mixed's "tier" has an unused top level ("platinum"): ranks 1..3 are seen,
    # so the ordinal range is 2, as daisy scales it.
    g = Gower().fit(read_case("mixed"))
    assert g.feature_types_["tier"] == "ordinal"
    assert g.ranges_["tier"] == (1.0, 3.0)
    assert g.levels_["tier"] == ["bronze", "silver", "gold", "platinum"]


@pytest.mark.shared
def test_matches_r_daisy_insurance_first_200_rows():
    path = SHARED / "insurance" / "insurance.csv"
    if not path.exists():
        pytest.skip(f"shared data not available ({path} is absent)")
    frame = pd.read_csv(path).iloc[:200]
    frame = with_factors(frame, read_levels("insurance200"))
    got = Gower().fit(frame).condensed()
    np.testing.assert_allclose(got, read_daisy("insurance200"), rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------- naive oracle
@settings(deadline=None, max_examples=25, derandomize=True)
@given(
    n=st.integers(2, 14),
    seed=st.integers(0, 2**32 - 1),
    missing=st.sampled_from([0.0, 0.2, 0.6]),
    weighted=st.booleans(),
)
def test_matches_naive_oracle(n, seed, missing, weighted):
    rng = np.random.default_rng(seed)
    frame = random_frame(rng, n, missing)
    weights = {"spend": 2.0, "region": 0.5, "app": 3.0} if weighted else {}
    types = {"promo": "asymm"}
    g = Gower(weights=weights or None, types=types).fit(frame)
    expected = naive_gower(frame, frame, g.feature_types_, g.ranges_, g.levels_, weights)
    np.fill_diagonal(expected, 0.0)
    if np.isnan(expected).any():
        with pytest.warns(GowerWarning):
            square, condensed, cross = g.pairwise(), g.condensed(), g.cdist(frame.iloc[:3])
        cross_expected = naive_gower(frame.iloc[:3], frame, g.feature_types_, g.ranges_, g.levels_, weights)
    else:
        square, condensed, cross = g.pairwise(), g.condensed(), g.cdist(frame.iloc[:3])
        cross_expected = expected[:3]
    tol = {"rtol": 1e-12, "atol": 1e-15, "equal_nan": True}
    np.testing.assert_allclose(square, expected, **tol)
    np.testing.assert_allclose(condensed, squareform(expected, checks=False), **tol)
    np.testing.assert_allclose(cross, cross_expected, **tol)


def test_serial_and_parallel_kernels_agree():
    frame = random_frame(np.random.default_rng(1), 300)
    serial = Gower(n_jobs=1, types={"promo": "asymm"}).fit(frame)
    parallel = Gower(n_jobs=2, types={"promo": "asymm"}).fit(frame)
    for method in ("condensed", "pairwise"):
        a, b = getattr(serial, method)(), getattr(parallel, method)()
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(serial.cdist(frame.iloc[:250]), parallel.cdist(frame.iloc[:250]))
    np.testing.assert_array_equal(serial.pairwise(), squareform(serial.condensed()))


def test_cdist_uses_fitted_ranges_and_does_not_clip():
    ref = pd.DataFrame({"spend": [0.0, 100.0], "plan": ["a", "b"]})
    g = Gower().fit(ref)
    new = pd.DataFrame({"spend": [300.0, 50.0], "plan": ["a", "a"]})
    d = g.cdist(new)
    # 300 is outside the fitted [0, 100]: |300 - 0| / 100 = 3, not refitted, not clipped
    np.testing.assert_allclose(d, [[(3.0 + 0) / 2, (2.0 + 1) / 2], [(0.5 + 0) / 2, (0.5 + 1) / 2]])
    # reference rows given explicitly are encoded with the fitted scale too
    np.testing.assert_allclose(g.cdist(new, new), [[0.0, 2.5 / 2], [2.5 / 2, 0.0]])


def test_unseen_nominal_levels_differ_from_known_and_equal_themselves():
    g = Gower().fit(pd.DataFrame({"plan": ["a", "b", "a"]}))
    new = pd.DataFrame({"plan": ["zz", "yy", "a"]})
    np.testing.assert_array_equal(g.cdist(new), [[1, 1, 1], [1, 1, 1], [0, 1, 0]])
    np.testing.assert_array_equal(g.cdist(new, new), [[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    np.testing.assert_array_equal(g.condensed(new), [1, 1, 1])


def test_constant_numeric_column_counts_as_a_category():
    # (y is named in types: consecutive integers unique per row would be left out as a row number)
    g = Gower(types={"y": "numeric"}).fit(pd.DataFrame({"x": [5.0, 5.0, 5.0], "y": [0.0, 1.0, 2.0]}))
    np.testing.assert_allclose(g.condensed(), [0.25, 0.5, 0.25])
    np.testing.assert_allclose(g.cdist(pd.DataFrame({"x": [7.0], "y": [0.0]})), [[0.5, 0.75, 1.0]])


def test_types_inferred_and_overridden():
    frame = pd.DataFrame(
        {
            "n": [1.5, 2.0, 3.0],
            "i": [1, 2, 3],
            "b": [True, False, True],
            "s": ["x", "y", "x"],
            "o": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True),
            "c": pd.Categorical(["u", "v", "u"]),
            "t": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-05"]),
            "id": [10, 11, 12],
        }
    )
    g = Gower(types={"i": "ordinal", "b": "asymm", "id": "ignore"}).fit(frame)
    assert g.feature_types_ == {
        "n": "numeric", "i": "ordinal", "b": "asymm", "s": "nominal",
        "o": "ordinal", "c": "nominal", "t": "numeric",
    }
    assert g.columns_ == ["n", "i", "b", "s", "o", "c", "t"]
    assert g.ranges_["t"][1] - g.ranges_["t"][0] == pytest.approx(4.0)  # days
    assert g.levels_["b"] == [False, True]


def test_missing_pair_gives_nan_and_warning():
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [np.nan, "x", "y"]})
    with pytest.warns(GowerWarning, match=r"1 pair\(s\).*rows 0 and 1"):
        y = Gower().fit(frame).condensed()
    assert np.isnan(y[0]) and not np.isnan(y[1:]).any()
    with pytest.warns(GowerWarning):
        square = Gower().fit(frame).pairwise()
    assert np.isnan(square[0, 1]) and np.isnan(square[1, 0]) and square[0, 0] == 0
    with pytest.warns(GowerWarning, match=r"new row 0 and reference row 1"):
        Gower().fit(frame).cdist(frame.iloc[:1])


def test_memory_guard(monkeypatch):
    g = Gower().fit(random_frame(np.random.default_rng(0), 200))
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "1000")
    with pytest.raises(InsufficientMemoryError, match="condensed Gower matrix of 200 rows"):
        g.condensed()
    with pytest.raises(InsufficientMemoryError, match="square Gower matrix"):
        g.pairwise()


@pytest.mark.parametrize(
    ("kwargs", "frame", "message"),
    [
        ({"types": {"zz": "nominal"}}, None, r"types names columns \['zz'\]"),
        ({"types": {"a": "categorical"}}, None, r"not a Gower column type; valid types are"),
        ({"weights": [1.0]}, None, r"weights has 1 entries but df has 2 columns"),
        ({"weights": {"a": -1.0}}, None, r"finite and non-negative"),
        ({"weights": {"q": 1.0}}, None, r"weights names columns \['q'\]"),
        ({"types": {"b": "asymm"}}, pd.DataFrame({"a": [1.0, 2, 4], "b": ["x", "y", "z"]}), r"at most 2"),
        ({"types": {"b": "ordinal"}}, None, r"order is unknown"),
        ({"types": {"b": "numeric"}}, None, r"not numbers \(e\.g\. \['x'"),
        ({"types": {"a": "ignore", "b": "ignore"}}, None, r"every column of df is ignored"),
        ({}, pd.DataFrame(index=range(3)), r"no columns"),
        ({}, pd.DataFrame({"a": [1.0, np.inf]}), r"infinite"),
    ],
)
def test_bad_input_is_explained(kwargs, frame, message):
    if frame is None:
        frame = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": ["x", "y", "x"]})
    with pytest.raises(ValueError, match=message):
        Gower(**kwargs).fit(frame)


def test_bad_new_rows_are_explained():
    frame = pd.DataFrame(
        {"a": [1.0, 2.0], "o": pd.Categorical(["lo", "hi"], categories=["lo", "hi"], ordered=True)}
    )
    g = Gower().fit(frame)
    with pytest.raises(ValueError, match=r"lacks the fitted columns \['o'\]"):
        g.cdist(frame[["a"]])
    bad = frame.assign(o=pd.Categorical(["top", "lo"], categories=["lo", "hi", "top"], ordered=True))
    with pytest.raises(ValueError, match=r"not seen in fit: \['top'\]"):
        g.cdist(bad)
    with pytest.raises(RuntimeError, match="not fitted"):
        Gower().condensed()
    with pytest.raises(ValueError, match="2-D"):
        Gower().fit(np.arange(3.0))


def test_numpy_input_and_extra_columns():
    X = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 7.0]])
    g = Gower().fit(X)
    np.testing.assert_allclose(g.condensed(), [0.5 * (0.5 + 2 / 6), 1.0, 0.5 * (0.5 + 4 / 6)])
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    g = Gower().fit(frame)
    np.testing.assert_allclose(g.cdist(frame.assign(extra=[9, 9])), g.pairwise())


# ------------------------------------------------------------ the PyPI gower package
def test_agrees_with_gower_package_on_complete_data():
    gower = pytest.importorskip("gower")
    rng = np.random.default_rng(3)
    frame = random_frame(rng, 40, missing=0.0).drop(columns=["tier"])
    # the package treats numbers as interval and needs object (not pandas string) columns
    for col in ["region", "promo", "app"]:
        frame[col] = frame[col].astype(str).astype(object)
    ours = Gower().fit(frame).pairwise()
    theirs = gower.gower_matrix(frame)
    # the package computes in float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-7)


def test_where_gower_package_differs():
    gower = pytest.importorskip("gower")
    # 1. a numeric column whose maximum is 0: the package scales by the maximum and
    #    drops the column (term 0); Gower's range is max - min = 5.
    frame = pd.DataFrame({"x": [-5.0, -1.0, 0.0]})
    np.testing.assert_allclose(Gower().fit(frame).pairwise()[0], [0.0, 0.8, 1.0])
    assert np.allclose(gower.gower_matrix(frame)[0], 0.0)
    # 2. missing numeric values: the package returns NaN for the whole pair; Gower skips
    #    the variable for that pair only.
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0], "s": pd.Series(["a", "a", "b"], dtype=object)})
    assert np.isnan(gower.gower_matrix(frame)[0, 1])
    assert Gower().fit(frame).pairwise()[0, 1] == 0.0
    # 3. distances to new rows: the package refits the ranges on new + reference rows;
    #    Gower.cdist keeps the fitted scale.
    ref = pd.DataFrame({"x": [0.0, 100.0]})
    new = pd.DataFrame({"x": [300.0]})
    np.testing.assert_allclose(gower.gower_matrix(new, ref), [[1.0, 200.0 / 300.0]], rtol=1e-6)
    np.testing.assert_allclose(Gower().fit(ref).cdist(new), [[3.0, 2.0]])


def test_nullable_pandas_dtypes():
    frame = pd.DataFrame(
        {
            "a": pd.array([1, None, 3, 5], dtype="Int64"),
            "b": pd.array([True, None, False, True], dtype="boolean"),
            "c": pd.array(["x", "z", "w", "y"], dtype="string"),
        }
    )
    g = Gower(types={"c": "nominal"}).fit(frame)  # (four distinct texts in four rows: an id otherwise)
    assert g.feature_types_ == {"a": "numeric", "b": "symm", "c": "nominal"}
    # rows 0 and 1 share only c ("x" vs "z"); 0 and 2: a 2/4, b and c differ; 0 and 3: a 4/4, c differs
    np.testing.assert_allclose(g.pairwise()[0], [0.0, 1.0, 2.5 / 3, 2.0 / 3])


def test_gh19_identifier_columns_are_left_out_as_infer_schema_does():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "CUST_ID": [f"C{10001 + i}" for i in range(30)],
            "account_no": rng.permutation(np.arange(500, 530)),
            "balance": rng.normal(100, 30, 30).round(2),
            "plan": rng.choice(["a", "b"], 30),
        }
    )
    with pytest.warns(GowerWarning, match=r"\['CUST_ID', 'account_no'\] look like identifiers"):
        g = Gower().fit(frame)
    assert g.columns_ == ["balance", "plan"]
    assert set(g.excluded_) == {"CUST_ID", "account_no"} and "unique" in g.excluded_["CUST_ID"]
    np.testing.assert_array_equal(g.condensed(), Gower().fit(frame[["balance", "plan"]]).condensed())
    # what the segmentation workflow's schema inference says about the same columns
    from hclust.segment import infer_schema

    assert infer_schema(frame).excluded == ["CUST_ID", "account_no"]
    # naming a column in types keeps it; the state round-trips
    kept = Gower(types={"CUST_ID": "nominal", "account_no": "numeric"}).fit(frame)
    assert kept.columns_ == ["CUST_ID", "account_no", "balance", "plan"] and kept.excluded_ == {}
    again = Gower.from_dict(g.to_dict(), g.encoded_)
    assert again.excluded_ == g.excluded_
    with pytest.raises(ValueError, match="every column of df looks like an identifier"):
        Gower().fit(frame[["CUST_ID"]])


@pytest.mark.shared
def test_gh19_mall_customer_id_is_left_out(shared_data):
    mall = pd.read_csv(shared_data / "mall_customers" / "Mall_Customers.csv")
    with pytest.warns(GowerWarning, match=r"\['CustomerID'\] look like identifiers"):
        g = Gower().fit(mall)
    assert "CustomerID" not in g.columns_ and g.excluded_["CustomerID"].startswith("identifier: unique integer")

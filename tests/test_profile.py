"""Segment profiles: statistics against direct pandas computations, names, overrides, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hclust import linkage
from hclust.datasets import load_wholesale
from hclust.segment import UNASSIGNED, SegmentProfile, profile
from hclust.segment.schema import Schema, infer_schema
from hclust.tree import cut

SPENDING = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]


@pytest.fixture()
def table() -> tuple[pd.DataFrame, np.ndarray]:
    """A small mixed table with a missing value and one unassigned row."""
    df = pd.DataFrame({
        "spend": [10.0, 12.0, np.nan, 30.0, 31.0, 35.0, 29.0, 5.0, 100.0],
        "visits": [1, 2, 3, 8, 9, 7, 8, 2, 50],
        "plan": ["a", "a", "b", "b", "b", "c", "b", "a", "c"],
        "member": ["y", "n", "y", "y", "y", "y", "y", "n", "n"],
    })
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 2, -1])
    return df, labels


def _overall_d(seg: pd.Series, rest: pd.Series) -> float:
    """Difference of means in standard deviations of all the rows (population form), with pandas."""
    return (seg.mean() - rest.mean()) / pd.concat([seg, rest]).std(ddof=0)


def test_numeric_equals_pandas(table: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, labels = table
    p = profile(df, labels)
    assigned = df[labels >= 0]
    lab = labels[labels >= 0]
    assert list(p.numeric.columns) == ["segment", "column", "n", "mean", "median", "mean_rest", "std_diff"]
    assert list(zip(p.numeric["segment"], p.numeric["column"])) == [
        (s, c) for s in (0, 1, 2) for c in ("spend", "visits")
    ]
    for row in p.numeric.itertuples():
        seg = assigned.loc[lab == row.segment, row.column]
        rest = assigned.loc[lab != row.segment, row.column]
        assert row.n == seg.count()
        assert row.mean == pytest.approx(seg.mean(), rel=1e-12)
        assert row.median == pytest.approx(seg.median(), rel=1e-12)
        assert row.mean_rest == pytest.approx(rest.mean(), rel=1e-12)
        assert row.std_diff == pytest.approx(_overall_d(seg, rest), rel=1e-12)
    # segment 2 has one row: the spread is still that of every segmented row
    seg2 = p.numeric[(p.numeric["segment"] == 2) & (p.numeric["column"] == "spend")].iloc[0]
    rest = assigned.loc[lab != 2, "spend"]
    expected = (5.0 - rest.mean()) / assigned["spend"].std(ddof=0)
    assert seg2.std_diff == pytest.approx(expected, rel=1e-12)
    # NaN skipped per column: segment 0 has 2 spend values but 3 visits values
    first = p.numeric[p.numeric["segment"] == 0].set_index("column")["n"].to_dict()
    assert first == {"spend": 2, "visits": 3}


def test_categorical_shares_and_lift_hand_example() -> None:
    # segment 0: a a b b (share a = 0.5); segment 1: a c c c c c; overall a = 3/10
    df = pd.DataFrame({"shop": list("aabb") + list("accccc")})
    p = profile(df, [0] * 4 + [1] * 6, top_categories=2)
    cat = p.categorical
    seg0 = cat[cat["segment"] == 0].reset_index(drop=True)
    assert seg0["category"].tolist() == ["a", "b"]  # tie at 0.5: more common overall first (a: 3, b: 2)
    assert seg0["count"].tolist() == [2, 2]
    assert seg0["share"].tolist() == [0.5, 0.5]
    assert seg0["share_overall"].tolist() == pytest.approx([0.3, 0.2], rel=1e-15)
    assert seg0["lift"].tolist() == pytest.approx([0.5 / 0.3, 0.5 / 0.2], rel=1e-12)
    seg1 = cat[cat["segment"] == 1].reset_index(drop=True)
    assert seg1["category"].tolist() == ["c", "a"]
    assert seg1["rank"].tolist() == [1, 2]
    assert seg1["lift"].tolist() == pytest.approx([(5 / 6) / 0.5, (1 / 6) / 0.3], rel=1e-12)
    # distinguishing: the indicator's standardised difference, the most over-represented category
    top0 = p.distinguishing[p.distinguishing["segment"] == 0].iloc[0]
    ind = (df["shop"] == "b").astype(float)
    assert top0.category == "b" and top0.direction == "over"
    assert top0.std_diff == pytest.approx(_overall_d(ind[:4], ind[4:]), rel=1e-12)
    assert top0.lift == pytest.approx(2.5, rel=1e-12)
    assert (top0.share, top0.share_rest) == (0.5, 0.0)
    assert p.names == {0: "Mostly shop=b", 1: "Mostly shop=c"}


def test_unassigned_rows(table: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, labels = table
    p = profile(df, labels)
    assert p.sizes.to_dict("list") == {
        "segment": [0, 1, 2, -1],
        "name": [p.names[0], p.names[1], p.names[2], UNASSIGNED],
        "size": [3, 4, 1, 1],
        "share": [3 / 9, 4 / 9, 1 / 9, 1 / 9],
    }
    assert p.segments == [0, 1, 2]
    for frame in (p.numeric, p.categorical, p.distinguishing):
        assert -1 not in set(frame["segment"])
    # the unassigned row (spend 100) is in no comparison
    rest = p.numeric[(p.numeric["segment"] == 0) & (p.numeric["column"] == "spend")]["mean_rest"].iloc[0]
    assert rest == pytest.approx(np.mean([30.0, 31.0, 35.0, 29.0, 5.0]), rel=1e-12)
    overall_c = p.categorical[(p.categorical["column"] == "plan") & (p.categorical["category"] == "c")]
    assert set(overall_c["share_overall"]) == {1 / 8}
    assert p.summary()["segment"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="not segment labels"):
        profile(df, labels, names={-1: "Outliers"})


def _wholesale_labels(df: pd.DataFrame, k: int = 4) -> np.ndarray:
    X = np.log1p(df[SPENDING].to_numpy(dtype=np.float64))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return cut(linkage(X, "ward"), n_clusters=k)


def test_wholesale_names_unique_and_use_strongest_features() -> None:
    df = load_wholesale()
    labels = _wholesale_labels(df)
    schema = infer_schema(df, overrides={"Region": "categorical"})
    p = profile(df, labels, schema=schema)
    names = list(p.names.values())
    assert len(names) == 4 and len(set(names)) == 4
    for seg in p.segments:
        # every feature's strength recomputed here with pandas
        inside = labels == seg
        scores = {}
        for col in SPENDING:
            d = _overall_d(df.loc[inside, col], df.loc[~inside, col])
            scores[col] = (abs(d), ("High " if d > 0 else "Low ") + col)
        for col in ("Channel", "Region"):
            best = None
            for value in sorted(df[col].unique()):
                ind = (df[col] == value).astype(float)
                d = _overall_d(ind[inside], ind[~inside])
                share = ind[inside].mean()
                word = "All" if share == 1 else "Mostly" if share >= 0.5 else "More"
                if d > 0 and (best is None or d > best[0]):
                    best = (d, f"{word} {col}={value}")
            if best is not None:
                scores[col] = best
        top2 = sorted(scores.values(), key=lambda s: -s[0])[:2]
        assert p.names[seg] == ", ".join(text for _, text in top2)
        dist = p.distinguishing[p.distinguishing["segment"] == seg]
        assert dist["rank"].tolist() == [1, 2, 3, 4, 5]
        assert np.all(np.diff(np.abs(dist["std_diff"].to_numpy())) <= 0)
        assert abs(dist["std_diff"].iloc[0]) == pytest.approx(top2[0][0], rel=1e-12)


def test_overrides_and_rename(table: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, labels = table
    auto = profile(df, labels)
    p = profile(df, labels, names={0: "Hotels"})
    assert p.names == {0: "Hotels", 1: auto.names[1], 2: auto.names[2]}
    assert p.sizes["name"].tolist()[0] == "Hotels"
    q = p.rename({2: "Cafes"})
    assert q.names == {0: "Hotels", 1: auto.names[1], 2: "Cafes"}
    assert q.sizes["name"].tolist() == ["Hotels", auto.names[1], "Cafes", UNASSIGNED]
    assert p.names[2] == auto.names[2]  # the original is unchanged
    assert q.summary()["name"].tolist() == ["Hotels", auto.names[1], "Cafes"]
    # a user name equal to an automatic one: the automatic one is disambiguated
    r = auto.rename({0: auto.names[1]})
    assert r.names[0] == auto.names[1] and r.names[1] == f"{auto.names[1]} (segment 1)"
    with pytest.raises(ValueError, match="same name"):
        p.rename({1: "Hotels"})
    with pytest.raises(ValueError, match=r"not segment labels.*\[0, 1, 2\]"):
        p.rename({7: "Shops"})
    with pytest.raises(ValueError, match="not segment labels"):
        profile(df, labels, names={"0": "Hotels"})
    with pytest.raises(ValueError, match="non-empty string"):
        profile(df, labels, names={0: ""})
    with pytest.raises(ValueError, match="reserved"):
        profile(df, labels, names={0: UNASSIGNED})
    with pytest.raises(TypeError, match="mapping"):
        profile(df, labels, names=["Hotels"])  # type: ignore[arg-type]


def test_colliding_automatic_names_get_segment_numbers() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 50.0, 51.0]})
    p = profile(df, [0, 0, 1, 1, 2, 2])
    assert p.auto_names == {0: "Low x", 1: "Low x", 2: "High x"}
    assert p.names == {0: "Low x (segment 0)", 1: "Low x (segment 1)", 2: "High x"}


def test_deterministic_and_row_order_free(table: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, labels = table
    a, b = profile(df, labels), profile(df, labels)
    assert a.to_dict() == b.to_dict()
    order = np.random.default_rng(0).permutation(len(df))
    c = profile(df.iloc[order].reset_index(drop=True), labels[order])
    assert c.names == a.names
    for name in ("sizes", "numeric", "categorical", "distinguishing"):
        pd.testing.assert_frame_equal(getattr(c, name), getattr(a, name), rtol=1e-12)


def test_to_dict_is_json(table: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, labels = table
    df = df.assign(spend=[np.nan, np.nan, np.nan, 30.0, 31.0, 35.0, 29.0, 5.0, 100.0])
    p = profile(df, labels)
    text = json.dumps(p.to_dict(), allow_nan=False)
    data = json.loads(text)
    assert data["names"] == {str(k): v for k, v in p.names.items()}
    assert data["sizes"][-1] == {"segment": -1, "name": UNASSIGNED, "size": 1, "share": 1 / 9}
    # segment 0 has no spend at all: NaN statistics, None in JSON, not a distinguishing feature
    spend0 = [r for r in data["numeric"] if r["segment"] == 0 and r["column"] == "spend"][0]
    assert spend0["n"] == 0 and spend0["mean"] is None and spend0["std_diff"] is None
    assert "spend" not in set(p.distinguishing.loc[p.distinguishing["segment"] == 0, "feature"])
    assert isinstance(p, SegmentProfile)


def test_single_segment_and_identical_segments() -> None:
    df = pd.DataFrame({"x": [1.5, 2.0, 3.0], "c": ["a", "b", "a"]})
    p = profile(df, [0, 0, 0])
    assert p.kinds == {"x": "numeric", "c": "categorical"}
    assert np.isnan(p.numeric["std_diff"]).all() and np.isnan(p.numeric["mean_rest"]).all()
    assert p.distinguishing.empty and p.names == {0: "Segment 0"}
    assert p.summary()["top_features"].tolist() == [""]
    same = profile(pd.DataFrame({"x": [1.0, 2.0, 1.0, 2.0]}), [0, 0, 1, 1], schema=Schema(kinds={"x": "numeric"}))
    assert same.distinguishing.empty and same.distinguishing["std_diff"].dtype == np.float64
    assert same.numeric["std_diff"].tolist() == [0.0, 0.0]
    assert same.names == {0: "Segment 0", 1: "Segment 1"}
    const = profile(pd.DataFrame({"x": [1.0, 1.0, 1.0, 1.0]}), [0, 0, 1, 1], schema=Schema(kinds={"x": "numeric"}))
    assert const.numeric["std_diff"].tolist() == [0.0, 0.0]  # sd 0 -> 0


def test_schema_kinds_decide_the_profile() -> None:
    df = pd.DataFrame({
        "customer_id": [1, 2, 3, 4],
        "joined": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01", "2023-01-01"]),
        "size": pd.Categorical(["s", "m", "l", "l"], categories=["s", "m", "l"], ordered=True),
        "flag": [True, False, True, True],
        "spend": ["1.5", "2.5", "10", "12"],
    })
    p = profile(df, [0, 0, 1, 1])
    assert p.kinds == {"size": "categorical", "flag": "categorical", "spend": "numeric"}
    assert p.numeric["mean"].tolist() == [2.0, 11.0]
    flags = p.categorical[p.categorical["column"] == "flag"]
    assert set(flags["category"]) == {True, False}
    json.dumps(p.to_dict(), allow_nan=False)


def test_summary(table: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, labels = table
    p = profile(df, labels)
    s = p.summary(n_features=2)
    assert list(s.columns) == ["segment", "name", "size", "share", "top_features"]
    assert s["size"].tolist() == [3, 4, 1]
    first = p.distinguishing[p.distinguishing["segment"] == 1].head(2)
    assert s.loc[1, "top_features"] == "; ".join(
        f"{d} ({v:+.2f})" if kind == "numeric" else f"{d} ({100 * a:.0f}% vs {100 * b:.0f}%)"
        for d, v, kind, a, b in zip(
            first["description"], first["std_diff"], first["kind"], first["share"], first["share_rest"]
        )
    )
    with pytest.raises(ValueError, match="n_features"):
        p.summary(n_features=0)


@pytest.mark.parametrize(
    ("labels", "error", "match"),
    [
        ([0, 1], ValueError, "2 entries but the table has 4 rows"),
        ([0.0, 0.0, 1.0, 1.0], TypeError, "must be integers"),
        (["a", "a", "b", "b"], TypeError, "must be integers"),
        ([[0, 0, 1, 1]], ValueError, "one-dimensional"),
        ([0, 0, -2, 1], ValueError, ">= -1"),
        ([-1, -1, -1, -1], ValueError, "all are -1"),
    ],
)
def test_bad_labels(labels: list, error: type, match: str) -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(error, match=match):
        profile(df, labels)


def test_bad_tables_and_options() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        profile(np.zeros((4, 2)), [0, 0, 1, 1])  # type: ignore[arg-type]
    ids = pd.DataFrame({"customer_id": [1, 2, 3, 4], "when": pd.to_datetime(["2020-01-01"] * 2 + ["2021-01-01"] * 2)})
    with pytest.raises(ValueError, match="no column to profile"):
        profile(ids, [0, 0, 1, 1])
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match="top_categories"):
        profile(df, [0, 0, 1, 1], top_categories=0)
    with pytest.raises(ValueError, match="top_features"):
        profile(df, [0, 0, 1, 1], top_features=True)
    with pytest.raises(TypeError, match="Schema"):
        profile(df, [0, 0, 1, 1], schema={"x": "numeric"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not in the table"):
        profile(df, [0, 0, 1, 1], schema=Schema(kinds={"y": "numeric"}))


@pytest.mark.shared
def test_insurance_mixed_types(shared_data) -> None:  # type: ignore[no-untyped-def]
    path = shared_data / "insurance" / "insurance.csv"
    if not path.is_file():
        pytest.skip(f"shared data not available ({path} is absent)")
    df = pd.read_csv(path)
    schema = infer_schema(df)
    X = df[schema.columns_of("numeric")].to_numpy(dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    labels = cut(linkage(X, "ward"), n_clusters=5, min_cluster_size=20)
    p = profile(df, labels, schema=schema)
    assert set(p.kinds.values()) == {"numeric", "categorical"}
    assert len(set(p.names.values())) == len(p.names) == len(p.segments)
    assert int(p.sizes["size"].sum()) == len(df)
    json.dumps(p.to_dict(), allow_nan=False)
    smoker = p.categorical[p.categorical["column"] == "smoker"]
    assert set(smoker["category"]) <= {"yes", "no"}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-1, 3), st.floats(-1e3, 1e3), st.sampled_from("abcd")), min_size=2, max_size=40)
)
def test_properties(rows: list[tuple[int, float, str]]) -> None:
    labels = np.array([r[0] for r in rows])
    assume(np.any(labels >= 0))
    df = pd.DataFrame({"x": [r[1] + 0.5 for r in rows], "c": [r[2] for r in rows]})
    p = profile(df, labels, schema=Schema(kinds={"x": "numeric", "c": "categorical"}), top_categories=4)
    assert int(p.sizes["size"].sum()) == len(df)
    assert p.sizes["share"].sum() == pytest.approx(1.0)
    assert p.segments == sorted(set(labels[labels >= 0].tolist()))
    assert len(set(p.names.values())) == len(p.segments)
    shares = p.categorical.groupby("segment")["share"].sum()
    assert np.allclose(shares.to_numpy(), 1.0)
    for row in p.numeric.itertuples():
        if np.isfinite(row.std_diff) and row.std_diff != 0:
            assert np.sign(row.std_diff) == np.sign(row.mean - row.mean_rest)
    assert p.to_dict() == profile(df, labels, schema=Schema(kinds={"x": "numeric", "c": "categorical"}),
                                  top_categories=4).to_dict()


# --------------------------------------------------------------------------- issue 19: all-or-nothing features


def test_gh19_category_that_defines_a_segment_is_named() -> None:
    """A segment that is 100% one level (and the rest 0%) is named after it (Cohen's d was 0/0)."""
    df = pd.DataFrame({"spend": [1, 2, 3, 10, 11, 12.0], "smoker": ["no"] * 3 + ["yes"] * 3})
    p = profile(df, [0, 0, 0, 1, 1, 1])
    assert p.names == {0: "All smoker=no, Low spend", 1: "All smoker=yes, High spend"}
    top = p.distinguishing[p.distinguishing["segment"] == 1].iloc[0]
    assert (top.feature, top.category, top.share, top.share_rest) == ("smoker", "yes", 1.0, 0.0)
    assert top.std_diff == pytest.approx(2.0)  # 1 / sqrt(pi (1 - pi)) with pi = 1/2: the largest possible
    assert p.summary()["top_features"][1].startswith("All smoker=yes (100% vs 0%); High spend (+")


@pytest.mark.shared
def test_gh19_insurance_smokers_named_after_smoking(shared_data) -> None:  # type: ignore[no-untyped-def]
    """At k = 2 the insurance segments are exactly smokers and non-smokers: the names say so."""
    df = pd.read_csv(shared_data / "insurance" / "insurance.csv")
    labels = (df["smoker"] == "yes").to_numpy().astype(np.int64)
    p = profile(df, labels)
    assert p.names[1].startswith("All smoker=yes")
    assert p.names[0].startswith("All smoker=no")
    assert "High charges" in p.names[1]


def _segment_labels(draw, n_segments: int, min_size: int = 1) -> np.ndarray:  # type: ignore[no-untyped-def]
    sizes = draw(st.lists(st.integers(min_size, 8), min_size=n_segments, max_size=n_segments))
    labels = np.repeat(np.arange(n_segments), sizes)
    order = draw(st.permutations(range(labels.size)))
    return labels[np.asarray(order, dtype=np.int64)]


@st.composite
def _separated_tables(draw):  # type: ignore[no-untyped-def]
    """(table, labels, segment, column): ``column`` is all-or-nothing for ``segment``."""
    k = draw(st.integers(2, 4))
    labels = _segment_labels(draw, k)
    n = labels.size
    seg = draw(st.integers(0, k - 1))
    inside = labels == seg
    finite = st.floats(-1e6, 1e6, allow_nan=False)
    columns: dict[str, object] = {}
    kinds: dict[str, str] = {}
    for j in range(draw(st.integers(0, 3))):  # noise: numeric columns
        columns[f"num{j}"] = draw(st.lists(finite, min_size=n, max_size=n))
        kinds[f"num{j}"] = "numeric"
    if draw(st.booleans()):  # noise: a categorical column
        columns["cat"] = draw(st.lists(st.sampled_from("pqrs"), min_size=n, max_size=n))
        kinds["cat"] = "categorical"
    if draw(st.booleans()):
        # a level only the segment has; the rest has any other levels
        rest = draw(st.lists(st.sampled_from(["u", "v", "w"]), min_size=n, max_size=n))
        columns["key"] = np.where(inside, "member", np.asarray(rest, dtype=object))
        kinds["key"] = "categorical"
    else:
        # a number the segment has and no one else: constant inside, another constant outside
        # (values closer than 1e-12 of their size count as equal: profile's rounding-noise rule)
        a, b = draw(st.tuples(finite, finite).filter(lambda ab: abs(ab[0] - ab[1]) > 1e-9 * max(map(abs, ab))))
        columns["key"] = np.where(inside, a, b)
        kinds["key"] = "numeric"
    position = draw(st.integers(0, len(columns) - 1))
    names = [c for c in columns if c != "key"]
    names.insert(position, "key")
    frame = pd.DataFrame({c: columns[c] for c in names})
    return frame, labels, seg, Schema(kinds={c: kinds[c] for c in names})


@settings(max_examples=60, deadline=None)
@given(_separated_tables())
def test_gh19_property_a_separating_column_is_always_a_top_feature(case) -> None:  # type: ignore[no-untyped-def]
    """A column that is all-or-nothing for a segment reaches the largest |d| and is among its top features."""
    frame, labels, seg, schema = case
    p = profile(frame, labels, schema=schema)
    mine = p.distinguishing[p.distinguishing["segment"] == seg]
    assert "key" in set(mine["feature"])
    key = mine[mine["feature"] == "key"].iloc[0]
    share = float(np.mean(labels == seg))
    assert abs(key.std_diff) == pytest.approx(1.0 / math.sqrt(share * (1.0 - share)), rel=1e-9)
    assert abs(key.std_diff) >= np.abs(mine["std_diff"].to_numpy()).max() * (1 - 1e-12)
    if schema.kinds["key"] == "categorical":
        assert key.description == "All key=member" and (key.share, key.share_rest) == (1.0, 0.0)


@st.composite
def _identical_tables(draw):  # type: ignore[no-untyped-def]
    """(table, labels, schema): column ``same`` has the same distribution in every segment."""
    k = draw(st.integers(2, 4))
    numeric = draw(st.booleans())
    element = st.floats(-1e9, 1e9, allow_nan=False) if numeric else st.sampled_from("abc")
    base = draw(st.lists(element, min_size=1, max_size=6))
    copies = draw(st.lists(st.integers(1, 3), min_size=k, max_size=k))
    same, labels = [], []
    for s, c in enumerate(copies):
        values = list(base) * c
        same += list(draw(st.permutations(values)))
        labels += [s] * len(values)
    n = len(labels)
    noise = draw(st.lists(st.floats(-100, 100, allow_nan=False), min_size=n, max_size=n))
    order = np.asarray(draw(st.permutations(range(n))), dtype=np.int64)
    frame = pd.DataFrame({"noise": noise, "same": same}).iloc[order].reset_index(drop=True)
    schema = Schema(kinds={"noise": "numeric", "same": "numeric" if numeric else "categorical"})
    return frame, np.asarray(labels, dtype=np.int64)[order], schema


@settings(max_examples=60, deadline=None)
@given(_identical_tables())
def test_gh19_property_a_column_identical_across_segments_is_never_named(case) -> None:  # type: ignore[no-untyped-def]
    frame, labels, schema = case
    p = profile(frame, labels, schema=schema)
    assert "same" not in set(p.distinguishing["feature"])
    assert all("same" not in name for name in p.names.values())
    if schema.kinds["same"] == "numeric":
        assert (p.numeric.loc[p.numeric["column"] == "same", "std_diff"] == 0.0).all()

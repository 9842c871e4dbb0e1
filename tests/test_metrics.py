"""hclust.pdist / hclust.cdist against scipy.spatial.distance."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
import scipy
from scipy.spatial import distance as sd

import hclust.metrics as metrics_module
from hclust._validation import InsufficientMemoryError
from hclust.metrics import METRICS, cdist, pdist

# metrics whose values are bit-for-bit scipy's (same operations in the same order)
EXACT = {
    "braycurtis",
    "canberra",
    "chebyshev",
    "cityblock",
    "dice",
    "euclidean",
    "hamming",
    "jaccard",
    "jensenshannon",
    "minkowski",
    "rogerstanimoto",
    "russellrao",
    "sokalsneath",
    "sqeuclidean",
    "yule",
}
BOOLEAN = ("dice", "jaccard", "rogerstanimoto", "russellrao", "sokalsneath", "yule")
WEIGHTED = sorted(set(METRICS) - {"seuclidean", "mahalanobis", "jensenshannon"})
SHAPES = [(2, 1), (3, 2), (17, 5), (64, 8), (55, 50), (300, 3)]
SCIPY = tuple(int(part) for part in scipy.__version__.split(".")[:2])
# metrics scipy 1.17 removed (deprecated in 1.15); hclust follows the current scipy
REMOVED_FROM_SCIPY = {"kulczynski1", "sokalmichener"}


def check_same(name: str, ours: np.ndarray, ref: np.ndarray, weighted: bool = False) -> None:
    assert ours.shape == ref.shape
    assert ours.dtype == np.float64
    if name in EXACT:
        assert_array_equal(ours, ref)
    else:
        assert_allclose(ours, ref, rtol=1e-12, atol=0)


def data_for(name: str, n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if name == "hamming" or name in BOOLEAN:
        # few distinct values, with zeros, so that matches and all-zero features occur
        # (the boolean metrics read 1 and 2 alike; dice, like scipy, not quite)
        return rng.integers(0, 3, size=(n, d)).astype(np.float64)
    if name in ("canberra", "braycurtis", "jensenshannon"):
        X = rng.random((n, d))
        X[X < 0.2] = 0.0  # canberra skips features where both are 0
        return X
    return rng.normal(size=(n, d)) * rng.uniform(0.5, 5.0, size=d)


@pytest.mark.parametrize("name", METRICS)
@pytest.mark.parametrize("shape", SHAPES)
def test_pdist_matches_scipy(name, shape):
    n, d = shape
    if name == "mahalanobis" and n <= d:
        pytest.skip("mahalanobis needs n > d for its default VI")
    if name == "seuclidean" and n < 2:
        pytest.skip("no variance from one row")
    X = data_for(name, n, d)
    if name == "correlation" and d == 1:
        pytest.skip("centred rows of one feature are all zero (NaN; tested separately)")
    check_same(name, pdist(X, name), sd.pdist(X, name))


@pytest.mark.parametrize("name", METRICS)
@pytest.mark.parametrize(
    "shapes", [((1, 3), (1, 3)), ((1, 4), (9, 4)), ((7, 1), (1, 1)), ((40, 6), (33, 6))]
)
def test_cdist_matches_scipy(name, shapes):
    (na, d), (nb, _) = shapes
    XA = data_for(name, na, d, seed=1)
    XB = data_for(name, nb, d, seed=2)
    if name == "mahalanobis" and na + nb <= d:
        pytest.skip("mahalanobis needs more rows than features")
    if name == "correlation" and d == 1:
        pytest.skip("centred rows of one feature are all zero")
    check_same(name, cdist(XA, XB, name), sd.cdist(XA, XB, name))


@pytest.mark.parametrize("name", WEIGHTED)
def test_weighted_metrics_match_scipy(name):
    X = data_for(name, 40, 6)
    w = np.random.default_rng(3).random(6) * 3.0
    w[2] = 0.0  # a zero weight drops the feature (chebyshev: ignores it)
    if name == "yule" and SCIPY < (1, 17):
        pytest.skip("scipy before 1.17 returns 0 for every weighted yule distance (its bug)")
    check_same(name, pdist(X, name, w=w), sd.pdist(X, name, w=w))
    check_same(name, cdist(X[:5], X[5:], name, w=w), sd.cdist(X[:5], X[5:], name, w=w))


@pytest.mark.parametrize("p", [0.5, 1, 1.5, 2, 3, np.inf])
def test_minkowski_p_matches_scipy(p):
    X = data_for("minkowski", 50, 7)
    w = np.linspace(0.5, 2.0, 7)
    check_same("minkowski", pdist(X, "minkowski", p=p), sd.pdist(X, "minkowski", p=p))
    check_same("minkowski", pdist(X, "minkowski", p=p, w=w), sd.pdist(X, "minkowski", p=p, w=w))
    check_same("minkowski", cdist(X[:9], X, "minkowski", p=p), sd.cdist(X[:9], X, "minkowski", p=p))


def test_seuclidean_and_mahalanobis_explicit_parameters():
    X = data_for("seuclidean", 30, 4)
    V = np.array([0.5, 2.0, 1.0, 4.0])
    check_same("seuclidean", pdist(X, "seuclidean", V=V), sd.pdist(X, "seuclidean", V=V))
    rng = np.random.default_rng(5)
    L = rng.normal(size=(4, 4))
    VI = L @ L.T + np.eye(4)
    check_same("mahalanobis", pdist(X, "mahalanobis", VI=VI), sd.pdist(X, "mahalanobis", VI=VI))
    check_same(
        "mahalanobis",
        cdist(X[:3], X, "mahalanobis", VI=VI),
        sd.cdist(X[:3], X, "mahalanobis", VI=VI),
    )
    # default V and VI come from XA and XB together, as in scipy
    check_same(
        "seuclidean", cdist(X[:3], X[3:], "seuclidean"), sd.cdist(X[:3], X[3:], "seuclidean")
    )
    check_same(
        "mahalanobis", cdist(X[:10], X[10:], "mahalanobis"), sd.cdist(X[:10], X[10:], "mahalanobis")
    )


def test_condensed_order_and_cdist_agree():
    X = data_for("euclidean", 25, 3)
    D = cdist(X, X)
    assert_array_equal(np.diagonal(D), 0.0)
    assert_array_equal(sd.squareform(pdist(X), checks=False), D)


def test_metric_names_and_aliases():
    assert METRICS == tuple(sorted(METRICS))
    X = data_for("euclidean", 10, 3)
    for alias, name in [
        ("cos", "cosine"),
        ("e", "euclidean"),
        ("CityBlock", "cityblock"),
        ("matching", "hamming"),
    ]:
        assert_array_equal(pdist(X, alias), pdist(X, name))


def test_zero_and_constant_rows_follow_scipy():
    X = np.array(
        [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [2.0, 2.0, 2.0], [-1.0, 0.5, 3.0]]
    )
    for name in ("cosine", "correlation", "braycurtis", "jaccard", "canberra"):
        ours = pdist(X, name)
        assert_array_equal(np.isnan(ours), np.isnan(sd.pdist(X, name)))
        check_same(name, ours, sd.pdist(X, name))
    assert np.isnan(pdist(X, "cosine")[0])  # a zero row has no direction
    assert np.isnan(pdist(X, "correlation")[2])  # a constant row has no correlation
    assert pdist(X, "jaccard")[1] == 0.0  # two all-zero rows


def test_numbers_for_boolean_metrics_follow_scipy():
    # jaccard reads numbers as booleans (2 and 1 are both True); hamming compares values
    X = np.array([[2.0, 0.0, 1.5], [1.0, 0.0, 0.0], [0.0, 3.0, 1.5]])
    check_same("jaccard", pdist(X, "jaccard"), sd.pdist(X, "jaccard"))
    check_same("hamming", pdist(X, "hamming"), sd.pdist(X, "hamming"))
    assert pdist(X, "jaccard")[0] == 0.5
    assert pdist(X, "hamming")[0] == pytest.approx(2 / 3)
    B = X != 0
    assert_array_equal(pdist(B, "jaccard"), sd.pdist(B, "jaccard"))
    assert_array_equal(pdist(B, "hamming"), sd.pdist(B, "hamming"))


def test_table_is_the_single_source_and_covers_scipy():
    from hclust import _metrics

    assert METRICS == tuple(info.name for info in _metrics.METRIC_TABLE)
    assert METRICS == tuple(sorted(set(sd._METRICS_NAMES) - REMOVED_FROM_SCIPY))  # all of scipy's
    for info in _metrics.METRIC_TABLE:
        assert set(info.params) <= {"w", "p", "V", "VI", "base"}
        assert info.summary and info.name not in info.aliases
        if info.reads_booleans:
            assert info.boolean
    assert [info.name for info in _metrics.METRIC_TABLE if info.euclidean] == ["euclidean"]


def test_every_scipy_alias_and_scikit_learn_name():
    X = np.abs(data_for("euclidean", 12, 4))
    aliases = dict(sd._METRIC_ALIAS)  # scipy's own alias table
    for alias, info in aliases.items():
        if info.canonical_name in REMOVED_FROM_SCIPY:
            continue
        for name in (alias, alias.upper()):
            assert_array_equal(pdist(X, name), pdist(X, info.canonical_name)), name
        # scipy's "test_" names: its reference functions, which read boolean metrics' rows
        # as booleans first (only dice then differs, on data that is not 0/1)
        data = X != 0 if info.canonical_name == "dice" else X
        assert_array_equal(pdist(X, "test_" + info.canonical_name), pdist(data, info.canonical_name))
        check_same(info.canonical_name, pdist(X, alias), sd.pdist(X, alias))
        check_same(info.canonical_name, cdist(X[:3], X, alias), sd.cdist(X[:3], X, alias))
    for name, canonical in (("manhattan", "cityblock"), ("l1", "cityblock"), ("l2", "euclidean")):
        assert_array_equal(pdist(X, name), pdist(X, canonical))
    with pytest.raises(ValueError, match="Unknown metric 'test_manhattan'"):
        pdist(X, "test_manhattan")  # scipy's test_ names exist for its own metrics only


@pytest.mark.parametrize("name", ["dice", "rogerstanimoto", "russellrao", "sokalsneath", "yule", "jaccard", "hamming"])
def test_boolean_metrics_edge_cases_follow_scipy(name):
    B = np.array(
        [[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 0]],
        dtype=bool,
    )
    for X in (B, B.astype(np.float64), B.astype(np.int64)):
        ours = pdist(X, name)
        check_same(name, ours, sd.pdist(X, name))  # all-false pairs: dice and sokalsneath NaN
        check_same(name, cdist(X, X[::-1], name), sd.cdist(X, X[::-1], name))
    for w in (np.array([1.0, 2.0, 0.0, 0.5]), np.zeros(4)):
        check_same(name, pdist(B, name, w=w), sd.pdist(B, name, w=w))
    if name == "yule":
        assert pdist(B, "yule")[0] == 0.0  # scipy: 0 when ntf * nft == 0, also two all-false rows


def test_dice_on_numbers_follows_scipy():
    """dice on data that is not 0/1: scipy's pdist counts from the values without weights
    and compares values with weights; its function dice(u, v) (and "test_dice") first
    reads the rows as booleans. All three agree on boolean data."""
    X = data_for("euclidean", 20, 5)
    X[X < 0.3] = 0.0
    w = np.linspace(0.5, 2.0, 5)
    check_same("dice", pdist(X, "dice"), sd.pdist(X, "dice"))
    check_same("dice", pdist(X, "dice", w=w), sd.pdist(X, "dice", w=w))
    with np.errstate(invalid="ignore", divide="ignore"):  # scipy's Python loop: 0/0 for all-false pairs
        reference = sd.pdist(X, sd.dice)  # scipy: the Python function on X converted to booleans
        weighted = sd.cdist(X[:4], X, sd.dice, w=w)
    assert_allclose(pdist(X, sd.dice), reference, rtol=1e-12)
    assert_allclose(pdist(X, "test_dice"), reference, rtol=1e-12)
    assert_allclose(cdist(X[:4], X, sd.dice, w=w), weighted, rtol=1e-12)
    assert_array_equal(pdist(X, "test_dice"), pdist(X != 0, "dice"))


def test_jensenshannon_conventions_and_base():
    rng = np.random.default_rng(4)
    P = rng.random((15, 5))
    P[P < 0.25] = 0.0
    P[3] = 0.0  # an all-zero row: infinitely far, as scipy
    P[7, 2] = -0.5  # a negative entry: infinitely far, as scipy
    check_same("jensenshannon", pdist(P, "jensenshannon"), sd.pdist(P, "jensenshannon"))
    check_same("jensenshannon", cdist(P[:4], P, "js"), sd.cdist(P[:4], P, "jensenshannon"))
    assert np.isinf(pdist(P, "jensenshannon")[2]) and np.isinf(cdist(P, P, "jensenshannon")[7, 0])
    Q = np.abs(P[[0, 1, 2, 4, 5]])
    for base in (2, 10.0, np.e):
        expected = [sd.jensenshannon(Q[i], Q[j], base) for i in range(5) for j in range(i + 1, 5)]
        assert_allclose(pdist(Q, "jensenshannon", base=base), expected, rtol=1e-12)
        # scipy's function, given as the metric, runs natively with its parameter
        assert_allclose(pdist(Q, sd.jensenshannon, base=base), expected, rtol=1e-12)
    for base, error in ((1, ValueError), (0.0, ValueError), (-2, ValueError), ("2", TypeError)):
        with pytest.raises(error, match="base for metric='jensenshannon'"):
            pdist(Q, "jensenshannon", base=base)
    with pytest.raises(TypeError, match="does not take w="):
        pdist(Q, "jensenshannon", w=np.ones(5))


def test_all_zero_weights_follow_scipy():
    X = data_for("euclidean", 8, 3)
    w = np.zeros(3)
    for name in WEIGHTED:
        with np.errstate(invalid="ignore", divide="ignore"):  # scipy's weighted Python loops
            expected = sd.pdist(X, name, w=w)
        check_same(name, pdist(X, name, w=w), expected)
    assert_array_equal(pdist(X, "chebyshev", w=w), 0.0)  # scipy's test_zero_weight


def test_nan_possible_property_is_honest():
    """Metrics the table calls NaN-free give finite values on awkward but valid input (zero
    rows, constant rows, duplicates, zero weights); the others have a witness of NaN or inf."""
    from hclust import _metrics

    rng = np.random.default_rng(9)
    X = rng.integers(0, 3, size=(30, 4)).astype(np.float64)
    X[0] = 0.0
    X[1] = 0.0
    X[2] = 5.0
    X[3] = X[4]
    witnesses = {
        "braycurtis": (np.zeros((2, 3)), {}),
        "correlation": (np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]), {}),
        "cosine": (np.array([[0.0, 0.0], [1.0, 2.0]]), {}),
        "dice": (np.zeros((2, 3)), {}),
        "hamming": (np.eye(2), {"w": np.zeros(2)}),
        "jensenshannon": (np.array([[0.0, 0.0], [1.0, 2.0]]), {}),
        "mahalanobis": (np.array([[0.0, 0.0], [0.0, 1.0]]), {"VI": np.diag([1.0, -1e-11])}),  # PSD up to rounding
        "rogerstanimoto": (np.eye(2), {"w": np.zeros(2)}),
        "russellrao": (np.eye(2), {"w": np.zeros(2)}),
        "sokalsneath": (np.zeros((2, 3)), {}),
    }
    for info in _metrics.METRIC_TABLE:
        if info.nan_possible:
            data, kwargs = witnesses[info.name]
            assert not np.isfinite(pdist(data, info.name, **kwargs)).all(), info.name
            continue
        kwargs_list: list[dict] = [{}]
        if "w" in info.params:
            kwargs_list += [{"w": np.array([1.0, 0.0, 2.0, 0.5])}, {"w": np.zeros(4)}]
        if info.name == "seuclidean":
            kwargs_list = [{"V": np.ones(4)}]
        for kwargs in kwargs_list:
            assert np.isfinite(pdist(X, info.name, **kwargs)).all(), (info.name, kwargs)


def test_callable_receives_objects_unchanged():
    rows = np.array([["red", "S"], ["red", "M"], ["blue", "M"]], dtype=object)

    def mismatches(u, v):
        return float(sum(a != b for a, b in zip(u, v)))

    assert_array_equal(pdist(rows, mismatches), [1.0, 2.0, 1.0])
    assert_array_equal(cdist(rows, rows[:1], mismatches).ravel(), [0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="not numbers"):
        pdist(rows, "hamming")  # the native metrics need numbers


def test_parameters_as_zero_dimensional_arrays():
    X = data_for("euclidean", 10, 3)
    assert_array_equal(pdist(X, "minkowski", p=np.asarray(3.0)), pdist(X, "minkowski", p=3.0))


# ---------------------------------------------------------------------------
# inputs


def test_input_types(tmp_path):
    X = data_for("euclidean", 30, 4)
    expected = sd.pdist(X)
    assert_array_equal(pdist(X.tolist()), expected)
    assert_array_equal(pdist(pd.DataFrame(X, columns=list("abcd"))), expected)
    X32 = X.astype(np.float32)
    assert_array_equal(pdist(X32), sd.pdist(X32.astype(np.float64)))
    Xi = np.arange(40).reshape(10, 4) ** 2
    assert_array_equal(pdist(Xi, "cityblock"), sd.pdist(Xi, "cityblock"))
    frozen = X.copy()
    frozen.flags.writeable = False
    assert_array_equal(pdist(frozen), expected)
    assert_array_equal(cdist(frozen, frozen[:3]), sd.cdist(X, X[:3]))
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    ro = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    assert_array_equal(pdist(ro), expected)
    assert_array_equal(pdist(X[:, ::2]), sd.pdist(X[:, ::2]))  # strided view
    assert_array_equal(pdist(np.asfortranarray(X)), expected)
    assert_array_equal(X, frozen)  # the input is not modified


def test_single_observation():
    one = np.array([[1.0, 2.0, 3.0]])
    for name in METRICS:
        result = pdist(one, name)
        assert result.shape == (0,) and result.dtype == np.float64
    assert cdist(one, one).shape == (1, 1)
    assert cdist(one, one)[0, 0] == 0.0


def test_out_buffer():
    X = data_for("euclidean", 20, 3)
    out = np.full(190, -1.0)
    result = pdist(X, "cityblock", out=out)
    assert result is out
    assert_array_equal(out, sd.pdist(X, "cityblock"))
    out2 = np.empty((20, 5))
    assert cdist(X, X[:5], out=out2) is out2
    assert_array_equal(out2, sd.cdist(X, X[:5]))
    assert pdist(X[:1], out=np.empty(0)).shape == (0,)


@pytest.mark.parametrize(
    "out, error, match",
    [
        (np.empty(189), ValueError, "shape"),
        (np.empty((190, 1)), ValueError, "shape"),
        (np.empty(190, dtype=np.float32), ValueError, "float64"),
        (np.empty(380)[::2], ValueError, "contiguous"),
        ([0.0] * 190, TypeError, "numpy array"),
    ],
)
def test_out_buffer_errors(out, error, match):
    X = data_for("euclidean", 20, 3)
    with pytest.raises(error, match=match):
        pdist(X, out=out)


def test_out_buffer_read_only_or_overlapping():
    X = data_for("euclidean", 20, 3)
    ro = np.empty(190)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        pdist(X, out=ro)
    buffer = np.zeros(400)
    X2 = buffer[:60].reshape(20, 3)
    X2[:] = X
    with pytest.raises(ValueError, match="shares memory"):
        pdist(X2, out=buffer[30:220])
    with pytest.raises(ValueError, match="shape"):
        cdist(X, X, out=np.empty((20, 19)))


@pytest.mark.parametrize("name", METRICS)
def test_threads_do_not_change_results(name, monkeypatch, parallel_twins):
    monkeypatch.setattr(metrics_module, "_WORK_PER_BLOCK", 4096)
    monkeypatch.setattr(metrics_module, "_PARALLEL_MIN_WORK", 0)
    X = data_for(name, 150, 6)
    serial = pdist(X, name, n_jobs=1)
    assert_array_equal(pdist(X, name), serial)
    assert_array_equal(pdist(X, name, n_jobs=-1), serial)
    assert_array_equal(cdist(X[:40], X, name, n_jobs=1), cdist(X[:40], X, name))


def test_progress_is_reported_in_blocks(monkeypatch):
    monkeypatch.setattr(metrics_module, "_WORK_PER_BLOCK", 2000)
    X = data_for("euclidean", 120, 4)
    calls: list[tuple[int, int]] = []
    result = pdist(X, progress=lambda done, total: calls.append((done, total)))
    total = 120 * 119 // 2
    assert len(calls) > 5
    assert all(t == total for _, t in calls)
    done = [c for c, _ in calls]
    assert done == sorted(done) and done[-1] == total and done[0] > 0
    assert_array_equal(result, sd.pdist(X))
    calls.clear()
    cdist(X, X[:30], progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (120 * 30, 120 * 30) and len(calls) > 1


def test_interrupt_between_blocks_stops_the_work(monkeypatch):
    # Ctrl-C arrives as KeyboardInterrupt between blocks; the progress hook simulates it
    monkeypatch.setattr(metrics_module, "_WORK_PER_BLOCK", 2000)
    X = data_for("euclidean", 120, 4)
    out = np.full(120 * 119 // 2, -1.0)
    seen: list[int] = []

    def interrupt(done: int, total: int) -> None:
        seen.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pdist(X, out=out, progress=interrupt)
    assert len(seen) == 1
    assert (out[: seen[0]] >= 0).all() and (out[seen[0] :] == -1.0).all()


def test_callable_metric():
    X = data_for("euclidean", 15, 3)

    def scaled(u, v, scale=1.0):
        return scale * float(np.abs(u - v).sum())

    assert_allclose(pdist(X, scaled, scale=2.0), 2.0 * sd.pdist(X, "cityblock"), rtol=1e-14)
    assert_allclose(cdist(X, X[:4], scaled), sd.cdist(X, X[:4], "cityblock"), rtol=1e-14)
    calls: list[int] = []
    pdist(X, scaled, progress=lambda done, total: calls.append(done))
    assert calls[-1] == 105
    # scipy's own functions run on the fast kernels, with their parameters
    assert_array_equal(pdist(X, sd.minkowski, p=3), pdist(X, "minkowski", p=3))
    assert_array_equal(cdist(X, X, sd.cosine), cdist(X, X, "cosine"))
    with pytest.raises(TypeError, match="must return a number"):
        pdist(X, lambda u, v: "far")


# ---------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[1.0, 2.0], [np.nan, 1.0]]), ValueError, r"NaN at row 1, column 0"),
        (
            np.array([[1.0, 2.0], [0.0, np.inf], [1.0, 1.0]]),
            ValueError,
            r"infinite value at row 1, column 1",
        ),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "not numeric"),
        (pd.DataFrame({"x": [1.0, 2.0], "name": ["a", "b"]}), TypeError, "non-numeric columns"),
        (np.array([1.0, 2.0, 3.0]), ValueError, "2-D"),
        (np.zeros((2, 2, 2)), ValueError, "2-D"),
        (np.zeros((0, 3)), ValueError, "0 observations"),
        (np.zeros((3, 0)), ValueError, "no features"),
        (np.array([[1 + 1j, 2.0], [1.0, 0.0]]), TypeError, "complex"),
    ],
)
def test_bad_observations(X, error, match):
    with pytest.raises(error, match=match):
        pdist(X)
    with pytest.raises(error, match=match):
        cdist(X, X)


def test_nan_in_dataframe_names_the_column():
    frame = pd.DataFrame({"spend": [1.0, 2.0, 3.0], "visits": [1.0, np.nan, 2.0]})
    with pytest.raises(ValueError, match=r"row 1, column 1 \('visits'\)"):
        pdist(frame)


def test_cdist_feature_mismatch():
    with pytest.raises(ValueError, match="XA has 3 and XB has 2"):
        cdist(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="XB contains NaN"):
        cdist(np.zeros((2, 2)), np.array([[0.0, np.nan]]))


def test_unknown_metric_lists_valid_ones():
    X = np.zeros((3, 2))
    with pytest.raises(
        ValueError, match="Unknown metric 'manhatan'.*braycurtis, canberra.*sqeuclidean"
    ):
        pdist(X, "manhatan")
    with pytest.raises(ValueError, match="Unknown metric"):
        cdist(X, X, "gowerr")
    with pytest.raises(TypeError, match="metric must be a metric name"):
        pdist(X, 3)


@pytest.mark.parametrize(
    "metric, kwargs, error, match",
    [
        ("cosine", {"p": 2}, TypeError, r"metric='cosine' does not take p=; it takes w="),
        ("euclidean", {"V": np.ones(3)}, TypeError, "does not take V="),
        ("seuclidean", {"w": np.ones(3)}, TypeError, "it takes V="),
        ("minkowski", {"q": 1}, TypeError, r"does not take q=; it takes p=, w="),
        ("minkowski", {"p": 0}, ValueError, "greater than 0"),
        ("minkowski", {"p": -1.5}, ValueError, "greater than 0"),
        ("minkowski", {"p": float("nan")}, ValueError, "greater than 0"),
        ("minkowski", {"p": "2"}, TypeError, "real number"),
        ("minkowski", {"p": True}, TypeError, "real number"),
        ("euclidean", {"w": np.ones(2)}, ValueError, r"one value per feature \(3\)"),
        ("cityblock", {"w": np.ones((3, 1))}, ValueError, "1-D"),
        ("cosine", {"w": np.array([1.0, -1.0, 1.0])}, ValueError, r"non-negative; w\[1\]"),
        ("jaccard", {"w": np.array([1.0, np.nan, 1.0])}, ValueError, r"w\[1\] = nan is not finite"),
        ("seuclidean", {"V": np.ones(4)}, ValueError, r"one value per feature \(3\)"),
        ("seuclidean", {"V": np.array([1.0, 0.0, 1.0])}, ValueError, r"positive; V\[1\]"),
        ("mahalanobis", {"VI": np.eye(2)}, ValueError, r"\(3, 3\) inverse covariance"),
        ("mahalanobis", {"VI": -np.eye(3)}, ValueError, "positive semi-definite"),
        ("mahalanobis", {"VI": np.full((3, 3), np.inf)}, ValueError, "NaN or infinite"),
    ],
)
def test_bad_metric_parameters(metric, kwargs, error, match):
    X = data_for("euclidean", 10, 3)
    with pytest.raises(error, match=match):
        pdist(X, metric, **kwargs)
    with pytest.raises(error, match=match):
        cdist(X, X, metric, **kwargs)


def test_default_parameters_that_cannot_be_estimated():
    X = data_for("euclidean", 10, 3)
    X[:, 1] = 7.0
    with pytest.raises(ValueError, match="feature 1 is constant"):
        pdist(X, "seuclidean")
    with pytest.raises(ValueError, match=r"singular \(rank 2 < 3\): feature 1 is constant"):
        pdist(X, "mahalanobis")
    Y = data_for("euclidean", 10, 3)
    Y[:, 2] = Y[:, 0] + 2.0 * Y[:, 1]
    with pytest.raises(ValueError, match="linear combinations"):
        pdist(Y, "mahalanobis")
    with pytest.raises(ValueError, match="at least 4"):
        pdist(Y[:3], "mahalanobis")
    # an explicit VI works where the default cannot be estimated
    assert pdist(Y[:3], "mahalanobis", VI=np.eye(3)).shape == (3,)


def test_bad_options():
    X = data_for("euclidean", 5, 2)
    with pytest.raises(ValueError, match="n_jobs"):
        pdist(X, n_jobs=0)
    with pytest.raises(ValueError, match="n_jobs"):
        cdist(X, X, n_jobs=1.5)
    with pytest.raises(TypeError, match="progress must be a function"):
        pdist(X, progress="yes")


def test_memory_is_checked_before_allocating(monkeypatch):
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "100000")
    X = data_for("euclidean", 600, 2)
    with pytest.raises(InsufficientMemoryError, match="600 observations") as info:
        pdist(X)
    message = str(info.value)
    assert "single linkage" in message and "hclust.summarize" in message
    with pytest.raises(InsufficientMemoryError, match=r"600 x 600"):
        cdist(X, X)
    # a caller-provided buffer needs no new memory
    out = np.empty(600 * 599 // 2)
    assert pdist(X, out=out) is out
    # small results (under 1 MB) skip the check
    assert pdist(X[:100]).shape == (4950,)


# ---------------------------------------------------------------------------
# kernels and properties


@settings(deadline=None, max_examples=40, derandomize=True)
@given(
    X=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    ),
    name=st.sampled_from(
        ["euclidean", "sqeuclidean", "cityblock", "chebyshev", "canberra", "hamming"]
    ),
)
def test_property_equals_scipy(X, name):
    assert_array_equal(pdist(X, name), sd.pdist(X, name))
    assert_array_equal(cdist(X, X[::-1], name), sd.cdist(X, X[::-1], name))

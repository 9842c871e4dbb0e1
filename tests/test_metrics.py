"""hclust.pdist / hclust.cdist against scipy.spatial.distance."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
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
    "euclidean",
    "hamming",
    "jaccard",
    "minkowski",
    "sqeuclidean",
}
WEIGHTED = sorted(set(METRICS) - {"seuclidean", "mahalanobis"})
SHAPES = [(2, 1), (3, 2), (17, 5), (64, 8), (55, 50), (300, 3)]


def check_same(name: str, ours: np.ndarray, ref: np.ndarray, weighted: bool = False) -> None:
    assert ours.shape == ref.shape
    assert ours.dtype == np.float64
    if name in EXACT:
        assert_array_equal(ours, ref)
    else:
        assert_allclose(ours, ref, rtol=1e-12, atol=0)


def data_for(name: str, n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if name in ("hamming", "jaccard"):
        # few distinct values, with zeros, so that matches and all-zero features occur
        return rng.integers(0, 3, size=(n, d)).astype(np.float64)
    if name in ("canberra", "braycurtis"):
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
        ("hamming", {"w": np.zeros(3)}, ValueError, "all zero"),
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


def test_docstring_examples():
    failures, tested = doctest.testmod(metrics_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tested > 0 and failures == 0

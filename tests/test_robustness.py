"""Hostile input: every run ends in a valid, finite Z or a clear ValueError.

The cases of issue #17 (NaN from a metric, values whose squares or sums
overflow, weights near the top of float64) and a hypothesis fuzz over
methods x metrics x engines x weights with extreme magnitudes, subnormals,
zero and constant rows, duplicates and ties. A sample of the fuzz runs in a
child process, so that a crash (a segmentation fault, an abort) fails the
test instead of killing pytest.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.cluster.hierarchy import is_valid_linkage

import hclust
from hclust.metrics import METRICS

METHODS = ("single", "complete", "average", "weighted", "ward", "centroid", "median", "flexible")
ENGINES = ("auto", "matrix", "vector")

SQUARE = np.array([[0.0, 0], [1, 0], [0, 1], [1, 1]])
HUGE_ROW = np.array([[0.0], [1.0], [2.0], [1e200]])


def _assert_valid(Z: np.ndarray, n: int) -> None:
    assert Z.shape == (n - 1, 4)
    assert np.isfinite(Z).all(), Z
    assert is_valid_linkage(Z), Z
    assert Z[-1, 3] == n


def _run_or_refuse(*args, **kwargs) -> np.ndarray | None:
    """linkage(...) -> Z, or None when it refused with a ValueError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "looks like a distance matrix"
        try:
            return hclust.linkage(*args, **kwargs)
        except ValueError:
            return None


# ---------------------------------------------------------------------------
# the reported cases: each a one-line ValueError, fast


@pytest.mark.parametrize("method", ["average", "single", "complete"])
def test_correlation_of_constant_rows_is_refused(method):
    with pytest.raises(ValueError, match=r"row 0 is constant"):
        hclust.linkage(SQUARE, method, "correlation")


def test_estimator_correlation_is_refused():
    with pytest.raises(ValueError, match="correlation"):
        hclust.HierarchicalClustering(n_clusters=2, linkage="average", metric="correlation").fit(SQUARE)


@pytest.mark.parametrize("method", ["average", "single", "complete", "weighted"])
def test_cosine_of_a_zero_row_is_refused(method):
    with pytest.raises(ValueError, match=r"row 0 is all zeros"):
        hclust.linkage(SQUARE, method, "cosine")


def test_braycurtis_of_two_zero_rows_is_refused():
    X = np.array([[0.0, 0], [0, 0], [0, 1], [1, 1]])
    with pytest.raises(ValueError, match=r"braycurtis.*rows 0 and 1"):
        hclust.linkage(X, "average", "braycurtis")


@pytest.mark.parametrize("method", ["single", "average"])
def test_callable_returning_nan_is_refused(method):
    with pytest.raises(ValueError, match=r"NaN between rows 0 and 1"):
        hclust.linkage(SQUARE, method, lambda u, v: float("nan"))


def test_callable_returning_inf_is_refused():
    with pytest.raises(ValueError, match=r"gives inf"):
        hclust.linkage(SQUARE, "complete", lambda u, v: float("inf"))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("algorithm", ENGINES)
def test_values_whose_squares_overflow_are_refused(method, algorithm):
    start = time.perf_counter()
    expected = r"column 0 ranges from 0 \(row 0\) to 1e\+200 \(row 3\)"
    if algorithm == "vector" and method in ("complete", "average", "weighted", "flexible"):
        expected = "has no linear-memory algorithm"
    with pytest.raises(ValueError, match=expected):
        hclust.linkage(HUGE_ROW, method, algorithm=algorithm)
    assert time.perf_counter() - start < 30  # generous: never a hang (compile included)


@pytest.mark.parametrize("method", ["complete", "average", "weighted", "single"])
def test_cityblock_on_large_values_is_exact(method):
    # |1e200 - 0| fits: no squares are formed, so the tree is computed
    Z = hclust.linkage(HUGE_ROW, method, "cityblock")
    _assert_valid(Z, 4)
    assert Z[-1, 2] >= 1e199


@pytest.mark.parametrize("method", ["average", "ward", "centroid"])
def test_weights_near_the_top_of_float64_are_refused(method):
    X = np.random.default_rng(0).random((10, 2))
    with pytest.raises(ValueError, match="Divide them by a common factor"):
        hclust.linkage(X, method, weights=np.full(10, 1e308))


def test_subnormal_weights_are_refused():
    X = np.random.default_rng(0).random((5, 2))
    with pytest.raises(ValueError, match="the smallest, weights\\[0\\]"):
        hclust.linkage(X, "average", weights=[1e-320, 1, 1, 1, 1])


@pytest.mark.parametrize("method", ["centroid", "median", "ward", "average"])
def test_huge_normal_data_is_refused(method):
    X = np.random.default_rng(1).standard_normal((40, 3)) * 1e300
    with pytest.raises(ValueError, match="beyond float64's range"):
        hclust.linkage(X, method)


@pytest.mark.parametrize("method", ["ward", "centroid", "median"])
def test_condensed_distances_whose_squares_overflow_are_refused(method):
    y = np.array([1.0, 2.0, 1e200, 1.5, 3.0, 2.5])
    with pytest.raises(ValueError, match="Divide the distances by a common factor"):
        hclust.linkage(y, method)


@pytest.mark.parametrize("method", ["average", "weighted", "flexible", "complete"])
def test_condensed_distances_whose_sums_overflow_are_refused(method):
    y = np.array([1.0, 2.0, 1.7e308, 1.5, 3.0, 2.5])
    with pytest.raises(ValueError, match="Divide the distances by a common factor"):
        hclust.linkage(y, method)


def test_condensed_large_but_safe_distances_cluster():
    y = np.array([1.0, 2.0, 1e200, 1.5, 3.0, 2.5])
    for method in ("single", "complete", "average", "weighted"):
        _assert_valid(hclust.linkage(y, method), 4)


def test_moderately_large_values_still_match_scipy():
    from scipy.cluster.hierarchy import linkage as scipy_linkage

    X = np.random.default_rng(2).standard_normal((30, 3)) * 1e100
    for method in ("single", "complete", "average", "ward", "centroid"):
        Z = hclust.linkage(X, method)
        ref = scipy_linkage(X, method)
        np.testing.assert_allclose(Z[:, 2], ref[:, 2], rtol=1e-12)


# ---------------------------------------------------------------------------
# the fuzz

_MAGNITUDES = st.sampled_from([1.0, 1e-300, 5e-324, 1e-310, 1e100, 1e150, 1e300, 1e308])


@st.composite
def _observations(draw):
    with np.errstate(over="ignore"):
        X = draw(_raw_observations())
    return np.clip(X, -1.7e308, 1.7e308)  # the largest finite magnitudes, not inf


@st.composite
def _raw_observations(draw):
    n = draw(st.integers(1, 9))
    d = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["normal", "ties", "zeros", "constant_rows", "duplicates", "mixed_scale"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(_MAGNITUDES)
    if kind == "ties":
        X = rng.integers(-2, 3, size=(n, d)).astype(float) * scale
    elif kind == "zeros":
        X = rng.standard_normal((n, d)) * scale
        X[rng.random(n) < 0.5] = 0.0
    elif kind == "constant_rows":
        X = np.repeat(rng.standard_normal((n, 1)), d, axis=1) * scale
    elif kind == "duplicates":
        base = rng.standard_normal((max(1, n // 3), d)) * scale
        X = base[rng.integers(0, base.shape[0], size=n)]
    elif kind == "mixed_scale":
        X = rng.standard_normal((n, d)) * np.array([scale, 1.0, 1e-300, -scale][:d])
    else:
        X = rng.standard_normal((n, d)) * scale
    return X


@st.composite
def _weights(draw, n):
    kind = draw(st.sampled_from(["none", "ones", "random", "huge", "tiny"]))
    if kind == "none":
        return None
    if kind == "ones":
        return np.ones(n)
    if kind == "huge":
        return np.full(n, draw(st.sampled_from([1e100, 1e200, 1e308])))
    if kind == "tiny":
        return np.full(n, draw(st.sampled_from([1e-100, 1e-200, 5e-324])))
    return np.exp(np.random.default_rng(draw(st.integers(0, 1000))).uniform(-30, 30, n))


_METRIC_CHOICES = st.sampled_from(list(METRICS) + ["callable_nan", "callable_abs"])


def _nan_on_ties(u, v):
    with np.errstate(all="ignore"):  # the user's function may overflow: its business
        return float("nan") if u[0] == v[0] else float(np.abs(u - v).sum())


def _largest_difference(u, v):
    with np.errstate(all="ignore"):
        return float(np.abs(u - v).max())


def _metric_value(name):
    return {"callable_nan": _nan_on_ties, "callable_abs": _largest_difference}.get(name, name)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    X=_observations(),
    method=st.sampled_from(METHODS),
    metric=_METRIC_CHOICES,
    algorithm=st.sampled_from(ENGINES),
    data=st.data(),
)
def test_fuzz_observations(X, method, metric, algorithm, data):
    w = data.draw(_weights(X.shape[0]))
    Z = _run_or_refuse(X, method, _metric_value(metric), weights=w, algorithm=algorithm)
    if Z is not None:
        _assert_valid(Z, X.shape[0])


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 9),
    scale=_MAGNITUDES,
    method=st.sampled_from(METHODS),
    form=st.sampled_from(["condensed", "square"]),
    poison=st.sampled_from(["none", "nan", "inf", "negative", "zero"]),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_fuzz_distances(n, scale, method, form, poison, seed, data):
    rng = np.random.default_rng(seed)
    y = np.minimum(rng.random(n * (n - 1) // 2) * scale, 1.7e308)
    if poison != "none":
        y[int(rng.integers(0, y.shape[0]))] = {"nan": np.nan, "inf": np.inf, "negative": -1.0, "zero": 0.0}[poison]
    w = data.draw(_weights(n))
    if form == "square":
        from scipy.spatial.distance import squareform

        D = squareform(np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0) if poison in ("nan", "inf") else y,
                       checks=False)
        if poison in ("nan", "inf"):
            D[0, 1] = D[1, 0] = y[0] if np.isnan(y[0]) else {"nan": np.nan, "inf": np.inf}[poison]
        Z = _run_or_refuse(D, method, "precomputed", weights=w)
    else:
        Z = _run_or_refuse(y, method, weights=w)
    if Z is not None:
        _assert_valid(Z, n)
        assert poison in ("none", "zero")


# A sample of the fuzz in a child process: a crash fails the test here.
_CHILD = textwrap.dedent(
    """
    import sys, warnings
    import numpy as np
    import hclust
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(int(sys.argv[1]))
    methods = {methods!r}
    metrics = ["euclidean", "sqeuclidean", "cityblock", "chebyshev", "cosine", "correlation",
               "braycurtis", "canberra", "minkowski"]
    scales = [1.0, 1e-300, 1e-310, 1e150, 1e200, 1e300]
    for trial in range(60):
        n = int(rng.integers(2, 9)); d = int(rng.integers(1, 4))
        with np.errstate(over="ignore"):
            X = np.clip(rng.standard_normal((n, d)) * scales[trial % len(scales)], -1.7e308, 1.7e308)
        if trial % 3 == 0:
            X[rng.random(n) < 0.4] = 0.0
        w = None if trial % 2 else np.exp(rng.uniform(-400, 400, n)).clip(1e-320, 1e308)
        for method in methods:
            for metric in metrics:
                for algorithm in ("auto", "matrix", "vector"):
                    try:
                        Z = hclust.linkage(X, method, metric, weights=w, algorithm=algorithm)
                    except ValueError:
                        continue
                    assert np.isfinite(Z).all(), (method, metric, algorithm, X, w, Z)
    print("ok")
    """
)


@pytest.mark.parametrize("seed", [0, 1])
def test_fuzz_in_a_child_process(seed):
    code = _CHILD.format(methods=list(METHODS))
    result = subprocess.run(
        [sys.executable, "-c", code, str(seed)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (
        f"child exited with {result.returncode} "
        f"({'signal ' + signal.Signals(-result.returncode).name if result.returncode < 0 else 'error'}):\n"
        f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    )
    assert result.stdout.strip().endswith("ok")


# ---------------------------------------------------------------------------
# the other entry points: the same values refused before any kernel runs

_HUGE_TABLE = np.array([[0.0], [1.0], [2.0], [1e200]] * 5)


@pytest.mark.parametrize(
    "call",
    [
        lambda: hclust.summarize(_HUGE_TABLE, n_micro=3),
        lambda: hclust.summarize(np.random.default_rng(0).random((50, 2)) * 1e300, n_micro=10),
        lambda: hclust.bisecting_kmeans(_HUGE_TABLE, 2),
        lambda: hclust.diana(_HUGE_TABLE),
        lambda: hclust.evaluate(hclust.linkage(np.random.default_rng(1).random((20, 2)), "ward"),
                                np.random.default_rng(1).random((20, 2)) * 1e300, ks=[2, 3]),
        lambda: hclust.stability(_HUGE_TABLE, "ward", n_clusters=2, n_boot=2),
        lambda: hclust.compare(_HUGE_TABLE, 2, methods=["ward"]),
    ],
    ids=["summarize", "summarize-1e300", "bisecting", "diana", "evaluate", "stability", "compare"],
)
def test_other_engines_refuse_values_that_overflow(call):
    start = time.perf_counter()
    with pytest.raises(ValueError, match="beyond float64's range|not finite"):
        call()
    assert time.perf_counter() - start < 60  # never a hang (compile included)


def test_diana_refuses_nan_from_the_metric():
    with pytest.raises(ValueError, match="row 0 is constant"):
        hclust.diana(SQUARE, metric="correlation")


def test_gower_refuses_a_range_beyond_float64():
    import pandas as pd

    with pytest.raises(ValueError, match="Gower divides by the range"):
        hclust.Gower().fit(pd.DataFrame({"a": [-1.7e308, 1.7e308, 0.0]}))


def test_command_line_refuses_in_one_line(tmp_path, capsys):
    from hclust.cli import main

    table = tmp_path / "big.csv"
    table.write_text("id,a,b\n1,0,1\n2,1,2\n3,2,3\n4,1e200,4\n5,3,1\n6,2,2\n")
    assert main(["linkage", str(table), "--exclude", "id", "--scale", "none", "--log1p", "none",
                 "--method", "complete", "--out", str(tmp_path / "Z.npy")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "beyond float64's range" in err and "'a'" in err
    assert not (tmp_path / "Z.npy").exists()
    # standardised (the default preparation), the same table segments
    assert main(["segment", str(table), "--exclude", "id", "--k", "2", "--out", str(tmp_path / "o.csv"),
                 "--quiet"]) == 0


def test_command_line_metric_nan_is_one_line(tmp_path, capsys):
    from hclust.cli import main

    table = tmp_path / "flat.csv"
    table.write_text("a,b\n0,0\n1,0\n0,1\n1,1\n")
    assert main(["linkage", str(table), "--scale", "none", "--log1p", "none", "--method", "average",
                 "--metric", "correlation", "--out", str(tmp_path / "Z.npy")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "row 0 is constant" in err

"""The engine on the real customer tables: bundled Wholesale data and ../shared/data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.cluster import hierarchy as sch

from hclust import linkage
from hclust.datasets import WHOLESALE_SPENDING, load_wholesale

METHODS = ("single", "complete", "average", "weighted", "ward", "centroid", "median")


def _standardised_log(values: np.ndarray) -> np.ndarray:
    logged = np.log1p(values)
    return (logged - logged.mean(axis=0)) / logged.std(axis=0)


def test_bundled_wholesale_is_the_uci_table():
    frame = load_wholesale()
    assert frame.shape == (440, 8)
    assert list(frame.columns[2:]) == list(WHOLESALE_SPENDING)
    assert int(frame["Fresh"].sum()) == 5_280_131


@pytest.mark.parametrize("method", METHODS)
def test_wholesale_matches_scipy(method):
    X = _standardised_log(load_wholesale()[list(WHOLESALE_SPENDING)].to_numpy(float))
    Z, Z_ref = linkage(X, method), sch.linkage(X, method)
    np.testing.assert_array_equal(np.sort(Z[:, :2], axis=1), np.sort(Z_ref[:, :2], axis=1))
    np.testing.assert_allclose(Z[:, 2], Z_ref[:, 2], rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", METHODS)
def test_shared_tables_match_scipy(shared_data, method):
    insurance = pd.read_csv(shared_data / "insurance" / "insurance.csv")
    mall = pd.read_csv(shared_data / "mall_customers" / "Mall_Customers.csv")
    tables = [
        insurance[["age", "bmi", "children", "charges"]].to_numpy(float),
        mall.select_dtypes("number").iloc[:, 1:].to_numpy(float),  # age, income, score
    ]
    for values in tables:
        X = (values - values.mean(axis=0)) / values.std(axis=0)
        Z, Z_ref = linkage(X, method), sch.linkage(X, method)
        # real tables have exact ties (equal rows, equal distances): compare partitions
        for k in (2, 3, 5, 8, 13):
            assert sch.is_isomorphic(
                sch.fcluster(Z, k, criterion="maxclust"), sch.fcluster(Z_ref, k, criterion="maxclust")
            )
        np.testing.assert_allclose(np.sort(Z[:, 2]), np.sort(Z_ref[:, 2]), rtol=1e-12, atol=1e-15)

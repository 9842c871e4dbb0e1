"""Tests for hclust.segment.rfm (hclust.segment._rfm)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hclust.segment import RFMReport, rfm

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def tiny() -> pd.DataFrame:
    """Three customers; every awkward case once. Expected figures worked out by hand below."""
    return pd.DataFrame(
        {
            "Invoice": ["1001", "1001", "1002", "C1003", "1004", "1005", "C1006", "1007", "1008", "1009", "1010"],
            "Customer": [7.0, 7.0, 7.0, 7.0, 8.0, 8.0, 9.0, np.nan, 8.0, 7.0, 8.0],
            "Date": [
                "2024-03-01 10:00", "2024-03-01 10:00", "2024-03-15 09:30", "2024-03-16 12:00",
                "2024-02-01 08:00", "2024-03-20 18:45", "2024-03-05 11:00", "2024-03-21 10:00",
                "2024-03-10 10:00", "2024-03-30 10:00", "2024-03-22 10:00",
            ],
            "Qty": [2, 1, 5, -1, 10, 1, -3, 4, -2, 3, 1],
            "Price": [10.0, 5.0, 2.0, 10.0, 1.0, 50.0, 4.0, 2.5, 1.0, 0.0, 7.0],
        }
    )


def test_tiny_table_by_hand():
    table, report = rfm(
        tiny(), customer="Customer", date="Date", quantity="Qty", price="Price", invoice="Invoice",
        as_of="2024-03-31",
    )
    # customer 7: purchases 1001 (25), 1002 (10), 1009 (0); cancellation C1003 (-10)
    #   frequency 3, monetary 25, last purchase 03-30 -> recency 1, first 03-01 -> tenure 30
    # customer 8: purchases 1004 (10), 1005 (50), 1010 (7); return row in 1008 (-2)
    #   frequency 3, monetary 65, last 03-22 -> recency 9, first 02-01 -> tenure 59
    # customer 9: cancellation only -> left out; the row without a customer is dropped
    assert list(table.index) == [7, 8]
    assert table.index.dtype == np.int64 and table.index.name == "Customer"
    assert list(table.columns) == ["recency", "frequency", "monetary", "tenure", "avg_order_value"]
    np.testing.assert_array_equal(table["recency"], [1, 9])
    np.testing.assert_array_equal(table["frequency"], [3, 3])
    np.testing.assert_allclose(table["monetary"], [25.0, 65.0])
    np.testing.assert_array_equal(table["tenure"], [30, 59])
    np.testing.assert_allclose(table["avg_order_value"], [25.0 / 3, 65.0 / 3])
    assert report == RFMReport(
        n_rows=11, n_rows_used=10, n_missing_customer=1, missing_customer_amount=10.0, n_missing_date=0,
        n_after_as_of=0, n_cancelled_rows=2, n_cancelled_invoices=2, n_return_rows=3, returned_amount=24.0,
        n_customers=2, n_customers_return_only=1, n_customers_nonpositive_monetary=0,
        as_of="2024-03-31T00:00:00",
    )
    json.dumps(report.to_dict())


def test_defaults_without_invoice_and_with_amount():
    frame = tiny().assign(Amount=lambda f: f["Qty"] * f["Price"])
    table, report = rfm(frame, customer="Customer", date="Date", amount="Amount")
    # no invoice column: frequency counts purchase rows; only negative amounts are returns
    np.testing.assert_array_equal(table.loc[7, "frequency"], 4)  # 1001 x2, 1002, 1009 (amount 0)
    assert report.as_of == "2024-03-30T00:00:00"  # the last transaction day
    assert table.loc[7, "recency"] == 0
    assert report.n_cancelled_invoices == 0 and report.n_return_rows == 3


def test_as_of_ignores_later_rows_and_monetary_optional():
    table, report = rfm(tiny(), customer="Customer", date="Date", invoice="Invoice", as_of="2024-03-16")
    assert report.n_after_as_of == 3  # 03-20, 03-22, 03-30 with a customer (03-21 has none: dropped)
    assert "monetary" not in table.columns and "avg_order_value" not in table.columns
    assert np.isnan(report.returned_amount) and report.to_dict()["returned_amount"] is None
    # customer 8: without quantity or amount, the 03-10 row of invoice 1008 cannot be seen as a
    # return (its invoice is not a "C" one), so it counts as a purchase
    assert table.loc[8, "recency"] == 6 and table.loc[8, "frequency"] == 2
    assert table.loc[7, "recency"] == 1 and table.loc[7, "frequency"] == 2  # C1003 is a cancellation
    table, _ = rfm(tiny(), customer="Customer", date="Date", quantity="Qty", invoice="Invoice", as_of="2024-03-16")
    assert table.loc[8, "recency"] == 44 and table.loc[8, "frequency"] == 1  # the quantity marks the return


def test_negative_net_monetary_is_counted():
    frame = pd.DataFrame(
        {"c": [1, 1, 2], "d": ["2024-01-01", "2024-01-02", "2024-01-02"], "a": [10.0, -30.0, 5.0]}
    )
    table, report = rfm(frame, customer="c", date="d", amount="a")
    assert table.loc[1, "monetary"] == -20.0 and report.n_customers_nonpositive_monetary == 1


def test_bad_input_is_explained():
    frame = tiny()
    with pytest.raises(ValueError, match=r"customer='cust' is not a column"):
        rfm(frame, customer="cust", date="Date")
    bad = frame.assign(Date=["2024-03-01", "yesterday"] + list(frame["Date"][2:]))
    with pytest.raises(ValueError, match=r"'Date' has 1 values that are not dates \(row 1: 'yesterday'\)"):
        rfm(bad, customer="Customer", date="Date")
    with pytest.raises(ValueError, match="not numbers"):
        rfm(frame.assign(Price="x"), customer="Customer", date="Date", quantity="Qty", price="Price")
    with pytest.raises(ValueError, match="price is given without quantity"):
        rfm(frame, customer="Customer", date="Date", price="Price")
    with pytest.raises(ValueError, match="as_of='soon' is not a date"):
        rfm(frame, customer="Customer", date="Date", as_of="soon")
    with pytest.raises(ValueError, match="no purchase left"):
        rfm(frame, customer="Customer", date="Date", as_of="2020-01-01")
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        rfm([1, 2], customer="c", date="d")


def test_missing_dates_are_dropped_and_counted():
    frame = tiny()
    frame.loc[0, "Date"] = None
    _, report = rfm(frame, customer="Customer", date="Date", quantity="Qty", price="Price", invoice="Invoice")
    assert report.n_missing_date == 1 and report.n_rows_used == 9


@pytest.mark.shared
def test_online_retail_goes_through_in_seconds():
    path = SHARED / "online_retail" / "online_retail.csv.gz"
    if not path.exists():
        pytest.skip(f"shared data not available ({path} is absent)")
    tx = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str})
    start = time.perf_counter()
    table, report = rfm(
        tx, customer="CustomerID", date="InvoiceDate", quantity="Quantity", price="UnitPrice", invoice="InvoiceNo"
    )
    seconds = time.perf_counter() - start
    assert seconds < 30, f"rfm took {seconds:.1f} s on 541,909 rows"  # ~1 s here; a generous guard
    assert report.n_rows == 541_909 and report.n_missing_customer == 135_080
    assert report.n_customers == 4_339 and report.n_customers_return_only == 33
    assert report.n_cancelled_rows == 8_905
    assert table["frequency"].min() >= 1 and table["recency"].min() == 0
    assert report.n_rows_used + report.n_missing_customer == report.n_rows

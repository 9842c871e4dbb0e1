"""Recency, frequency, monetary (and tenure, order value) per customer from transactions."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._deprecation import keyword_only

__all__ = ["rfm", "RFMReport", "RFM_POLICY"]

#: How rfm treats the awkward rows; also stored in every RFMReport.
RFM_POLICY = (
    "Rows without a customer id or without a date are dropped and counted. Rows after as_of are ignored. "
    "A row is a return when its invoice starts with 'C' (a cancellation, as in Online Retail) or its "
    "quantity or amount is negative. Returns net against monetary (monetary = purchases minus returns, "
    "may be <= 0) but never count as orders: frequency counts distinct invoices (rows when there is no "
    "invoice column) that have at least one purchase row, and recency and tenure use purchase dates only. "
    "Customers with returns only have no purchase date and are left out (counted)."
)


@dataclass
class RFMReport:
    """What :func:`rfm` did with the transactions (counts of rows and customers).

    Attributes
    ----------
    n_rows : int
        Rows in the input.
    n_rows_used : int
        Rows that entered the figures (purchases and returns).
    n_missing_customer : int
        Rows without a customer id (dropped).
    missing_customer_amount : float
        Their net amount (NaN without monetary figures).
    n_missing_date : int
        Rows without a date (dropped).
    n_after_as_of : int
        Rows dated after ``as_of`` (ignored).
    n_cancelled_rows : int
        Rows of invoices starting with "C".
    n_cancelled_invoices : int
        Distinct such invoices.
    n_return_rows : int
        All return rows: cancelled ones plus other negative quantities/amounts.
    returned_amount : float
        Absolute amount of the return rows (NaN without monetary figures).
    n_customers : int
        Rows of the result.
    n_customers_return_only : int
        Customers with returns but no purchase (left out).
    n_customers_nonpositive_monetary : int
        Customers whose returns cancel all their purchases or more.
    as_of : str
        The reference date (ISO 8601).
    policy : str
        :data:`RFM_POLICY`.
    """

    n_rows: int
    n_rows_used: int
    n_missing_customer: int
    missing_customer_amount: float
    n_missing_date: int
    n_after_as_of: int
    n_cancelled_rows: int
    n_cancelled_invoices: int
    n_return_rows: int
    returned_amount: float
    n_customers: int
    n_customers_return_only: int
    n_customers_nonpositive_monetary: int
    as_of: str
    policy: str = RFM_POLICY

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (NaN amounts become None)."""
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in asdict(self).items()}


def _column(transactions: pd.DataFrame, name: Any, role: str) -> pd.Series:
    if name not in transactions.columns:
        raise ValueError(
            f"{role}={name!r} is not a column of the transactions; its columns are {list(transactions.columns)}."
        )
    return transactions[name]


def _parse_dates(values: pd.Series, name: Any) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        dates = values
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' format-inference chatter
            try:
                dates = pd.to_datetime(values, errors="coerce", format="ISO8601")
            except (ValueError, TypeError):
                dates = pd.Series(pd.NaT, index=values.index)
            if (dates.isna() & values.notna()).any():
                dates = pd.to_datetime(values, errors="coerce", format="mixed")
        bad = values[dates.isna() & values.notna()]
        if len(bad):
            examples = ", ".join(f"row {i!r}: {v!r}" for i, v in bad.iloc[:5].items())
            raise ValueError(
                f"date column {name!r} has {len(bad)} values that are not dates ({examples}). Fix or drop "
                "them, or parse the column yourself (pd.to_datetime(..., format=...)) before calling rfm."
            )
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    return dates


def _numbers(values: pd.Series, name: Any, role: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        converted = pd.to_numeric(values, errors="coerce")
        bad = values[converted.isna() & values.notna()]
        if len(bad):
            raise ValueError(
                f"{role} column {name!r} has values that are not numbers (e.g. {list(bad.unique()[:5])})."
            )
        out = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(out[~np.isnan(out)]).all():
        raise ValueError(f"{role} column {name!r} has infinite values.")
    return out


@keyword_only(1)
def rfm(
    transactions: pd.DataFrame,
    *,
    customer: Any = "CustomerID",
    date: Any = "InvoiceDate",
    amount: Any = None,
    quantity: Any = None,
    price: Any = None,
    invoice: Any = None,
    as_of: Any = None,
) -> tuple[pd.DataFrame, RFMReport]:
    """One row per customer: recency, frequency, monetary, tenure, average order value.

    Parameters
    ----------
    transactions : DataFrame
        One row per transaction line.
    customer, date : column names
        Customer id and transaction date (datetime, or text pandas can parse).
    amount : column name, optional
        Line amount. Without it, ``quantity * price`` when both are given;
        without either, the result has no ``monetary`` / ``avg_order_value``.
    quantity, price : column names, optional
    invoice : column name, optional
        Invoice number; frequency counts distinct invoices (else rows), and
        invoices starting with "C" are cancellations.
    as_of : date-like, optional
        The day recency is measured from; default the last transaction date.
        Later rows are ignored (counted).

    Returns
    -------
    DataFrame
        Indexed by customer id (integral float ids become int64), sorted,
        columns ``recency`` (whole days from the last purchase day to
        ``as_of``), ``frequency``, ``monetary`` (net of returns), ``tenure``
        (whole days since the first purchase day), ``avg_order_value``
        (monetary / frequency).
    RFMReport
        What was dropped, ignored and netted (see :data:`RFM_POLICY`).

    Raises
    ------
    ValueError
        Unknown column names, unparseable dates (examples named), non-numeric
        amounts, or no purchase left.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer": [1, 1, 1, 2, None],
    ...     "invoice": ["A1", "A2", "C9", "B1", "Z1"],
    ...     "day": ["2024-01-01", "2024-01-10", "2024-01-11", "2024-01-05", "2024-01-06"],
    ...     "amount": [100.0, 50.0, -20.0, 30.0, 99.0]})
    >>> table, report = rfm(tx, customer="customer", date="day", amount="amount", invoice="invoice")
    >>> table  # doctest: +NORMALIZE_WHITESPACE
              recency  frequency  monetary  tenure  avg_order_value
    customer
    1               1          2     130.0      10             65.0
    2               6          1      30.0       6             30.0
    >>> report.n_missing_customer, report.n_cancelled_rows
    (1, 1)
    """
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame; got {type(transactions).__name__}.")
    n_rows = len(transactions)
    customers = _column(transactions, customer, "customer")
    raw_dates = _column(transactions, date, "date")
    if amount is not None:
        amounts = _numbers(_column(transactions, amount, "amount"), amount, "amount")
    elif quantity is not None and price is not None:
        amounts = _numbers(_column(transactions, quantity, "quantity"), quantity, "quantity") * _numbers(
            _column(transactions, price, "price"), price, "price"
        )
    elif price is not None:
        raise ValueError("price is given without quantity; give quantity too, or amount.")
    else:
        amounts = None
    quantities = (
        _numbers(_column(transactions, quantity, "quantity"), quantity, "quantity") if quantity is not None else None
    )
    invoices = _column(transactions, invoice, "invoice") if invoice is not None else None

    dates = _parse_dates(raw_dates, date)
    missing_customer = np.asarray(customers.isna())
    missing_date = np.asarray(dates.isna()) & ~missing_customer
    if as_of is None:
        valid = dates[~missing_customer & ~missing_date]
        if valid.empty:
            raise ValueError("no transaction has both a customer id and a date.")
        as_of_day = valid.max().normalize()
    else:
        try:
            as_of_day = pd.Timestamp(as_of)
        except (ValueError, TypeError):
            raise ValueError(f"as_of={as_of!r} is not a date.") from None
        if as_of_day.tzinfo is not None:
            as_of_day = as_of_day.tz_convert("UTC").tz_localize(None)
        as_of_day = as_of_day.normalize()
    days = dates.dt.normalize()
    after = np.asarray(days > as_of_day) & ~missing_customer & ~missing_date
    used = ~missing_customer & ~missing_date & ~after

    cancelled = np.zeros(n_rows, dtype=bool)
    if invoices is not None:
        # string work on the distinct invoices only (26k of 542k rows in Online Retail)
        invoice_codes, invoice_uniques = pd.factorize(invoices)
        flags = np.array([str(v).strip().upper().startswith("C") for v in invoice_uniques] + [False])
        cancelled = flags[invoice_codes]  # code -1 (missing invoice) -> the trailing False
    negative = np.zeros(n_rows, dtype=bool)
    if quantities is not None:
        negative |= quantities < 0
    if amounts is not None:
        negative |= amounts < 0
    returns = cancelled | negative
    purchase = used & ~returns

    missing_amount = float(np.nansum(amounts[missing_customer])) if amounts is not None else float("nan")
    returned_amount = float(np.nansum(np.abs(amounts[used & returns]))) if amounts is not None else float("nan")

    ids = customers[used]
    if pd.api.types.is_float_dtype(ids.dtype) and len(ids) and bool(np.all(np.mod(ids.to_numpy(), 1.0) == 0.0)):
        ids = ids.astype(np.int64)
    codes, uniques = pd.factorize(ids, sort=True)
    n_all = len(uniques)
    used_purchase = purchase[used]
    day_ns = days[used].to_numpy(dtype="datetime64[ns]").astype(np.int64)

    has_purchase = np.bincount(codes[used_purchase], minlength=n_all) > 0
    if not has_purchase.any():
        raise ValueError(
            f"no purchase left: of {n_rows} rows, {int(missing_customer.sum())} lack a customer id, "
            f"{int(missing_date.sum())} a date, {int(after.sum())} are after as_of and "
            f"{int((used & returns).sum())} are returns."
        )
    first = np.full(n_all, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n_all, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, codes[used_purchase], day_ns[used_purchase])
    np.maximum.at(last, codes[used_purchase], day_ns[used_purchase])
    if invoices is not None:
        pairs = pd.DataFrame({"c": codes[used_purchase], "i": invoice_codes[used][used_purchase]}).drop_duplicates()
        frequency = np.bincount(pairs["c"].to_numpy(), minlength=n_all)
    else:
        frequency = np.bincount(codes[used_purchase], minlength=n_all)

    as_of_ns = np.int64(as_of_day.value)
    ns_per_day = np.int64(86_400 * 10**9)
    keep = has_purchase
    result = pd.DataFrame(
        {
            "recency": ((as_of_ns - last[keep]) // ns_per_day).astype(np.int64),
            "frequency": frequency[keep].astype(np.int64),
        },
        index=pd.Index(uniques[keep], name=customer),
    )
    n_nonpositive = 0
    if amounts is not None:
        used_amounts = np.nan_to_num(amounts[used], nan=0.0)
        monetary = np.bincount(codes, weights=used_amounts, minlength=n_all)[keep]
        result["monetary"] = monetary
        n_nonpositive = int((monetary <= 0).sum())
    result["tenure"] = ((as_of_ns - first[keep]) // ns_per_day).astype(np.int64)
    if amounts is not None:
        result["avg_order_value"] = result["monetary"] / result["frequency"]

    n_cancelled_invoices = 0
    if invoices is not None:
        n_cancelled_invoices = int(np.unique(invoice_codes[used & cancelled]).size)
    report = RFMReport(
        n_rows=n_rows,
        n_rows_used=int(used.sum()),
        n_missing_customer=int(missing_customer.sum()),
        missing_customer_amount=missing_amount,
        n_missing_date=int(missing_date.sum()),
        n_after_as_of=int(after.sum()),
        n_cancelled_rows=int((used & cancelled).sum()),
        n_cancelled_invoices=n_cancelled_invoices,
        n_return_rows=int((used & returns).sum()),
        returned_amount=returned_amount,
        n_customers=int(keep.sum()),
        n_customers_return_only=int((~keep).sum()),
        n_customers_nonpositive_monetary=n_nonpositive,
        as_of=as_of_day.isoformat(),
    )
    return result, report

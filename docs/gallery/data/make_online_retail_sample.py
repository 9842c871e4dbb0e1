"""How ``online_retail_sample.csv.gz`` was made from the full Online Retail file.

Usage: python docs/gallery/data/make_online_retail_sample.py PATH/online_retail.csv.gz

Keeps every transaction of 500 customers drawn at random (seed 2011), plus 1%
of the rows without a customer id (so the RFM example shows how they are
counted), and the columns an RFM analysis needs. Values are unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]


def main(source: str) -> None:
    rows = pd.read_csv(source, dtype={"InvoiceNo": str, "StockCode": str}, usecols=COLUMNS)
    rng = np.random.default_rng(2011)
    customers = rows["CustomerID"].dropna().unique()
    chosen = rng.choice(np.sort(customers), size=500, replace=False)
    known = rows[rows["CustomerID"].isin(chosen)]
    anonymous = rows[rows["CustomerID"].isna()]
    anonymous = anonymous.iloc[np.sort(rng.choice(len(anonymous), size=len(anonymous) // 100, replace=False))]
    sample = pd.concat([known, anonymous]).sort_index()[COLUMNS]
    target = Path(__file__).with_name("online_retail_sample.csv.gz")
    sample.to_csv(target, index=False, compression={"method": "gzip", "compresslevel": 9, "mtime": 0})
    print(f"{target.name}: {len(sample):,} rows, {target.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1])

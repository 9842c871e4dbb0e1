"""Tutorial 1: Wholesale customers — log + standardise the spending, ward linkage.

Run from the repository root: ``python examples/wholesale.py [path/to/Wholesale customers data.csv]``
(default: the copy bundled with hclust). Prints the choice of k, the segments,
and how they line up with the sales channel the clustering never saw.
"""

from __future__ import annotations

import sys

import pandas as pd

import hclust
from hclust.datasets import WHOLESALE_SPENDING, load_wholesale
from hclust.segment import Preparer


def main(path: str | None = None) -> hclust.SegmentationModel:
    customers = load_wholesale() if path is None else pd.read_csv(path)
    spending = list(WHOLESALE_SPENDING)
    # Spending is right-skewed (a few huge accounts): log1p, then standardise each category.
    prep = Preparer(log1p=spending, scale="standard")
    X = prep.fit_transform(customers[spending]).to_numpy()
    Z = hclust.linkage(X, "ward")
    evaluation = hclust.evaluate(Z, X, ks=range(2, 9), gap_sample_size=440)
    print(evaluation.table.round(3).to_string(), *evaluation.reasons, sep="\n")

    model = hclust.SegmentationModel(4, columns=spending, preparer=prep).fit(customers)
    with pd.option_context("display.width", 160, "display.max_colwidth", 80):
        print(model.summary().segments.to_string(index=False))
    channel = customers["Channel"].map({1: "Horeca", 2: "Retail"})
    print(pd.crosstab(model.labelled(customers)["segment_name"], channel))
    return model


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)

"""Tutorial 2: the insurance table — mixed types, weighted one-hot + ward against Gower + average.

Run from the repository root: ``python examples/insurance.py ../shared/data/insurance/insurance.csv``.
"""

from __future__ import annotations

import sys

import pandas as pd
from sklearn.metrics import adjusted_rand_score

import hclust
from hclust.segment import Preparer


def main(path: str) -> tuple[hclust.SegmentationModel, hclust.SegmentationModel]:
    people = pd.read_csv(path)  # age, sex, bmi, children, smoker, region, charges
    # One-hot: the four region columns of two customers differ in two places,
    # so weight them by 1/sqrt(2) to count a different region once, like a binary column.
    prep = Preparer(feature_weights={"region": 2**-0.5})
    onehot = hclust.SegmentationModel(4, method="ward", preparer=prep).fit(people)
    gower = hclust.SegmentationModel(4, method="average", metric="gower").fit(people)
    with pd.option_context("display.width", 160, "display.max_colwidth", 80):
        for title, model in (("weighted one-hot + ward", onehot), ("Gower + average", gower)):
            print(f"\n{title}:")
            print(model.summary().segments.to_string(index=False))
    ari = adjusted_rand_score(onehot.labels_, gower.labels_)
    print(f"\nagreement between the two segmentations (ARI): {ari:.3f}")
    print(pd.crosstab(onehot.labels_, gower.labels_, rownames=["one-hot"], colnames=["Gower"]))
    return onehot, gower


if __name__ == "__main__":
    main(sys.argv[1])

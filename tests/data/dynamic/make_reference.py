"""Regenerate the R reference labels for tests/test_dynamic.py (not run by the tests).

Writes, next to this file:
  <dataset>_points.csv   the generated observations (exact decimal round trip); the
                         "_swapped" dataset reuses its base dataset's points
  <dataset>_Z.csv        the scipy linkage matrix given to both implementations
  settings.csv           one row per (dataset, parameters) case
  labels.csv.gz          R's cutreeDynamic labels per case (written by make_reference.R)
  hclust_check.csv       whether R's own hclust gives the same merge/height/order

Usage (needs R with dynamicTreeCut, e.g. Debian's r-base-core r-cran-dynamictreecut):
  python tests/data/dynamic/make_reference.py
"""

from __future__ import annotations

import csv
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import pdist, squareform

HERE = Path(__file__).resolve().parent


def nested_blobs(rng, sizes, spreads, dim, spacing=8.0, sub_spacing=2.5, noise=0):
    """Blobs whose centres come in pairs/triples, so that deep splits matter."""
    points = []
    groups = max(1, len(sizes) // 2)
    group_centres = rng.uniform(-spacing, spacing, size=(groups, dim)) * len(sizes) ** 0.5
    for k, (size, spread) in enumerate(zip(sizes, spreads)):
        centre = group_centres[k % groups] + rng.normal(0.0, sub_spacing, size=dim)
        points.append(rng.normal(centre, spread, size=(size, dim)))
    if noise:
        low, high = np.min(np.vstack(points), axis=0), np.max(np.vstack(points), axis=0)
        points.append(rng.uniform(low, high, size=(noise, dim)))
    X = np.vstack(points)
    return X[rng.permutation(X.shape[0])]


DATASETS = {
    # name: (seed, sizes, spreads, dim, noise, linkage method, swap children, minClusterSize pair)
    "n50_average": (1, (20, 18, 12), (0.4, 0.7, 0.3), 2, 0, "average", False, (4, 8)),
    "n150_complete": (2, (60, 40, 30, 20), (1.0, 0.5, 0.8, 0.3), 3, 0, "complete", False, (5, 15)),
    "n300_average": (3, (90, 70, 50, 40, 20, 10), (1.2, 0.6, 0.9, 0.4, 0.5, 0.3), 2, 20, "average", False, (8, 20)),
    "n300_average_swapped": (3, (90, 70, 50, 40, 20, 10), (1.2, 0.6, 0.9, 0.4, 0.5, 0.3), 2, 20, "average", True, (8, 20)),
    "n600_complete": (4, (180, 140, 100, 70, 50, 30), (1.5, 1.0, 0.7, 0.5, 0.9, 0.3), 4, 30, "complete", False, (10, 30)),
    "n200_grid_ward": (7, (80, 60, 40, 20), (1.5, 1.0, 0.8, 0.5), 2, 0, "ward", False, (6, 15)),
    "n1000_average": (5, (260, 200, 160, 120, 90, 60, 40, 20), (1.6, 1.1, 0.9, 0.7, 1.3, 0.5, 0.4, 0.3), 3, 50, "average", False, (20, 40)),
}


def settings_for(name, Z, mcs_pair):
    """Parameter cases for one dataset (None is R's NULL)."""
    top = float(Z[-1, 2])
    # Explicit heights are multiples of 1/64 so that R parses them exactly.
    cut = round(0.6 * top * 64) / 64
    pam = round(0.3 * top * 64) / 64
    small, large = mcs_pair
    rows = []

    def add(method, deep, mcs, **extra):
        row = dict(dataset=name, method=method, deepSplit=deep, minClusterSize=mcs, pamStage=True,
                   pamRespectsDendro=True, respectSmallClusters=True, cutHeight=None, maxPamDist=None,
                   maxCoreScatter=None, minGap=None, minSplitHeight=None, maxAbsCoreScatter=None,
                   minAbsGap=None, minAbsSplitHeight=None)
        row.update(extra)
        rows.append(row)

    for mcs in (small, large):
        for deep in range(5):
            for pam_stage in (True, False):
                add("hybrid", deep, mcs, pamStage=pam_stage)
    add("hybrid", 2, small, pamRespectsDendro=False)
    add("hybrid", 2, small, respectSmallClusters=False)
    add("hybrid", 2, small, pamRespectsDendro=False, respectSmallClusters=False)
    add("hybrid", 1, small, cutHeight=cut)
    add("hybrid", 3, small, cutHeight=cut, pamRespectsDendro=False)
    add("hybrid", 2, small, maxPamDist=pam)
    add("hybrid", 2.5, small)
    add("hybrid", 1, small, maxCoreScatter=0.75, minGap=0.125)
    add("hybrid", 4, small, minSplitHeight=0.25)
    add("hybrid", True, small)
    add("hybrid", 2, small, cutHeight=round(2 * top * 64) / 64)
    add("hybrid", 2, large, cutHeight=round(float(Z[large // 2, 2]) * 64 + 1) / 64)
    add("hybrid", 2, small, maxAbsCoreScatter=round(0.5 * top * 64) / 64, minAbsGap=round(0.05 * top * 64) / 64,
        minAbsSplitHeight=round(0.1 * top * 64) / 64)
    for mcs in (small, large):
        for deep in (False, True):
            add("tree", deep, mcs)
    add("tree", False, small, cutHeight=cut)
    add("tree", True, small, cutHeight=cut)
    add("tree", True, small, cutHeight=round(2 * top * 64) / 64)
    add("tree", False, large, cutHeight=round(float(Z[large // 2, 2]) * 64 + 1) / 64)
    return rows


def main():
    all_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, (seed, sizes, spreads, dim, noise, method, swap, mcs_pair) in DATASETS.items():
            rng = np.random.default_rng(seed)
            X = nested_blobs(rng, sizes, spreads, dim, noise=noise)
            if "grid" in name:  # integer coordinates: many tied distances and merge heights
                X = np.round(X * 2.0)
            y = pdist(X)
            Z = linkage(y, method)
            if swap:
                flip = np.random.default_rng(100 + seed).random(Z.shape[0]) < 0.5
                Z[flip, 0], Z[flip, 1] = Z[flip, 1].copy(), Z[flip, 0].copy()
            if not swap:  # the swapped variant reuses the points of its base dataset
                np.savetxt(HERE / f"{name}_points.csv", X, fmt="%.17g", delimiter=",")
            np.savetxt(HERE / f"{name}_Z.csv", Z, fmt="%.17g", delimiter=",")
            # R reads the exact doubles in binary (its decimal parser may differ in the last bit).
            Z.astype("<f8").tofile(tmp / f"{name}_Z.bin")
            squareform(y).astype("<f8").tofile(tmp / f"{name}_D.bin")
            (tmp / f"{name}_method.txt").write_text(method + "\n")
            all_rows.extend(settings_for(name, Z, mcs_pair))
        fields = list(all_rows[0])
        with open(HERE / "settings.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", *fields])
            for i, row in enumerate(all_rows):
                writer.writerow([i] + ["NA" if row[f] is None else ("TRUE" if row[f] is True else "FALSE" if row[f] is False else row[f]) for f in fields])
        subprocess.run(["Rscript", str(HERE / "make_reference.R"), str(HERE), str(tmp)], check=True)


if __name__ == "__main__":
    main()

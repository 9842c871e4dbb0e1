"""Write the input data sets for the DIANA reference outputs (run from this folder).

Every set is generated from a fixed seed; ``diana_reference.R`` reads them and
writes R's ``cluster::diana`` results next to them.
"""

from __future__ import annotations

import numpy as np


def _blobs(rng: np.random.Generator, n: int, d: int, k: int, spread: float) -> np.ndarray:
    centres = rng.normal(scale=spread, size=(k, d))
    labels = rng.integers(0, k, size=n)
    return centres[labels] + rng.normal(size=(n, d))


def main() -> None:
    rng = np.random.default_rng(20261122)
    sets = {
        "n5_d2": rng.normal(size=(5, 2)),
        "n12_d3": rng.uniform(size=(12, 3)),
        "n40_blobs": _blobs(rng, 40, 2, 3, 6.0),
        "n100_d5": rng.normal(size=(100, 5)),
        "n300_blobs": _blobs(rng, 300, 4, 6, 5.0),
        "n60_manhattan": rng.exponential(size=(60, 3)),
        "n50_ties": rng.integers(0, 4, size=(50, 3)).astype(float),
    }
    for name, X in sets.items():
        np.savetxt(f"{name}.csv", X, delimiter=",", fmt="%.17g")
    # A precomputed dissimilarity (not Euclidean): the square matrix is written.
    P = rng.uniform(size=(30, 4))
    D = np.abs(P[:, None, :] - P[None, :, :]).max(axis=2) + 0.1 * rng.uniform(size=(30, 30))
    D = (D + D.T) / 2.0
    np.fill_diagonal(D, 0.0)
    np.savetxt("n30_dissimilarity.csv", D, delimiter=",", fmt="%.17g")
    # Ties everywhere: a small integer grid with duplicates (manhattan), and a
    # dissimilarity with every off-diagonal entry equal.
    np.savetxt("n40_grid.csv", rng.integers(0, 3, size=(40, 2)).astype(float), delimiter=",", fmt="%.17g")
    E = np.ones((8, 8))
    np.fill_diagonal(E, 0.0)
    np.savetxt("n8_equal.csv", E, delimiter=",", fmt="%.17g")


if __name__ == "__main__":
    main()

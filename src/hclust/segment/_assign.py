"""Rules that put customers into the segments of a fitted model (used by ``SegmentationModel.assign``).

Every rule first looks a row up among the training customers: a row identical (in
the model's prepared features, or Gower's encoding) to a training customer gets
that customer's segment. Other rows follow the rule:

* ``"nearest"``: a vote of the ``n_neighbors`` nearest training customers, in the
  model's own distance (Euclidean on the prepared features, any other metric the
  tree used, or Gower);
* ``"linkage"``: the segment the row would join first by the linkage's own rule
  (:meth:`hclust.HierarchicalClustering.join_heights`);
* ``"centroid"``: the nearest segment centre: the weighted mean of the prepared
  features for Euclidean trees, the medoid (the member with the smallest summed
  distance to its segment) for other distances and Gower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .._typing import FloatArray, IntArray

#: Rules of :meth:`hclust.SegmentationModel.assign`; the first is the default (chosen by
#: measurement: see the README's workflow section and ``benchmarks/bench_assign.py``).
ASSIGN_RULES: tuple[str, ...] = ("nearest", "linkage", "centroid")
DEFAULT_RULE = ASSIGN_RULES[0]
#: Neighbours that vote in the "nearest" rule.
DEFAULT_NEIGHBORS = 15

# Bytes of one block of the new-rows x training-rows distance matrix.
_BLOCK_BYTES = 32 * 2**20


def _keys(rows: FloatArray) -> np.ndarray:
    """One opaque byte string per row: equal keys exactly when the rows are equal.

    NaN (a missing value in Gower's encoding) is equal to NaN here, and -0.0 to 0.0.
    """
    clean = np.where(np.isnan(rows), -np.inf, rows + 0.0)
    clean = np.ascontiguousarray(clean, dtype=np.float64)
    return clean.view(np.dtype((np.void, 8 * max(1, clean.shape[1])))).ravel() if clean.shape[1] else np.zeros(
        clean.shape[0], dtype=np.dtype((np.void, 8))
    )


@dataclass
class TrainingLookup:
    """The training customers by their prepared features, for an exact-match lookup.

    Identical training rows in different segments (possible only when a cut separates
    rows at distance 0) give the segment most of them have, ties to the smaller label.
    """

    keys: np.ndarray
    labels: IntArray

    @classmethod
    def build(cls, features: FloatArray, labels: IntArray, weights: FloatArray | None) -> "TrainingLookup":
        keys = _keys(features)
        unique, inverse = np.unique(keys, return_inverse=True)
        k = int(labels.max()) + 1
        votes = np.zeros((unique.shape[0], k))
        np.add.at(votes, (inverse.ravel(), labels), 1.0 if weights is None else weights)
        return cls(keys=unique, labels=np.argmax(votes, axis=1).astype(np.int64))

    def find(self, rows: FloatArray) -> IntArray:
        """The training segment of each row identical to a training customer, -1 for the others."""
        out = np.full(rows.shape[0], -1, dtype=np.int64)
        if rows.shape[0] == 0 or self.keys.shape[0] == 0:
            return out
        keys = _keys(rows)
        at = np.minimum(np.searchsorted(self.keys, keys), self.keys.shape[0] - 1)
        hit = self.keys[at] == keys
        out[hit] = self.labels[at[hit]]
        return out


def row_blocks(n_new: int, n_train: int) -> Iterator[slice]:
    """Slices of new rows such that a block of distances to the training rows stays small."""
    size = max(1, _BLOCK_BYTES // (8 * max(1, n_train)))
    for start in range(0, n_new, size):
        yield slice(start, min(n_new, start + size))


def segment_order(labels: IntArray, k: int) -> tuple[IntArray, IntArray]:
    """Training rows grouped by segment (stable), and where each segment starts in that order."""
    order = np.argsort(labels, kind="stable")
    return order, np.searchsorted(labels[order], np.arange(k))


def nearest_vote(
    distances: FloatArray,
    labels: IntArray,
    weights: FloatArray | None,
    grouped: tuple[IntArray, IntArray],
    n_neighbors: int,
) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """The "nearest" rule on a block of distances (rows: new customers; columns: training ones).

    ``grouped`` is :func:`segment_order` of ``labels``. Returns, per row: the segment
    (weighted majority of the ``n_neighbors`` nearest training customers; ties to the
    segment of the nearer customer, then the smaller label), the distance to the
    nearest training customer of that segment, the confidence (the segment's share of
    the votes) and the runner-up (the next segment by votes, then by distance).
    """
    b, n = distances.shape
    order, starts = grouped
    k = starts.shape[0]
    m = min(n_neighbors, n)
    nearest = np.argpartition(distances, m - 1, axis=1)[:, :m] if m < n else np.tile(np.arange(n), (b, 1))
    w = np.ones(n) if weights is None else weights
    votes = np.zeros((b, k))
    np.add.at(votes, (np.repeat(np.arange(b), m), labels[nearest].ravel()), w[nearest].ravel())
    # each segment's nearest training customer: single linkage's join height
    closest = np.minimum.reduceat(distances[:, order], starts, axis=1)
    ranked = _rank(votes, closest)
    segment = ranked[:, 0]
    runner = ranked[:, 1] if k > 1 else np.full(b, -1, dtype=np.int64)
    total = votes.sum(axis=1)
    confidence = votes[np.arange(b), segment] / np.where(total > 0, total, 1.0)
    distance = closest[np.arange(b), segment]
    return segment.astype(np.int64), distance, confidence, runner.astype(np.int64)


def _rank(votes: FloatArray, closest: FloatArray) -> IntArray:
    """Segments of each row ordered by votes (descending), then distance, then label."""
    labels = np.broadcast_to(np.arange(votes.shape[1]), votes.shape)
    return np.asarray(np.lexsort((labels, closest, -votes), axis=-1), dtype=np.int64)


def by_smallest(scores: FloatArray) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """Segment = argmin of the scores (ties to the smaller label); confidence ``1 - d1 / d2``."""
    b, k = scores.shape
    order = np.argsort(scores, axis=1, kind="stable")
    segment = order[:, 0]
    d1 = scores[np.arange(b), segment]
    if k > 1:
        runner = order[:, 1]
        d2 = scores[np.arange(b), runner]
        with np.errstate(invalid="ignore", divide="ignore"):
            confidence = np.clip(np.where(d2 > 0, 1.0 - d1 / d2, 0.0), 0.0, 1.0)
    else:
        runner = np.full(b, -1, dtype=np.int64)
        confidence = np.ones(b)
    return segment.astype(np.int64), d1, confidence, runner.astype(np.int64)


def medoids(block_distances: Callable[[IntArray, IntArray], FloatArray], labels: IntArray, k: int) -> IntArray:
    """Row of each segment's medoid: the member with the smallest summed distance to the others.

    ``block_distances(rows, members)`` returns the (len(rows), len(members)) distances.
    Ties go to the first row.
    """
    out = np.empty(k, dtype=np.int64)
    for s in range(k):
        members = np.flatnonzero(labels == s)
        sums = np.zeros(members.shape[0])
        for part in row_blocks(members.shape[0], members.shape[0]):
            sums[part] = block_distances(members[part], members).sum(axis=1)
        out[s] = members[int(np.argmin(sums))]
    return out

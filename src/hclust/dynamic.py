"""Dynamic Tree Cut: clusters of varying shape and depth from a dendrogram.

A port of the "tree" and "hybrid" methods of Langfelder, Zhang & Horvath (2008),
written to give the same labels as ``cutreeDynamic`` of the R package
dynamicTreeCut (version 1.63) for the same tree, distances and parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
from scipy.spatial.distance import squareform

from ._deprecation import renamed_keywords
from ._typing import FloatArray, IntArray
from ._validation import as_condensed, check_memory, check_option, is_integer, square_to_condensed
from .tree import _children, _first_merge_heights, check_linkage, leaves_list

__all__ = ["cutree_dynamic"]

# Default core-scatter fractions indexed by deep_split (0..4); the default
# minimum gaps are (1 - scatter) * 3 / 4 (Langfelder et al. 2008, supplement).
_DEFAULT_CORE_SCATTER = (0.64, 0.73, 0.82, 0.91, 0.95)
_DEFAULT_MIN_GAP = tuple((1 - s) * 3 / 4 for s in _DEFAULT_CORE_SCATTER)
# The reference height of the hybrid method is that of the merge at this quantile.
_REF_QUANTILE = 0.05
# Columns of long-double work arrays handled at a time (bounds temporary memory).
_CHUNK_ELEMENTS = 1 << 20


# ---------------------------------------------------------------------------
# Arithmetic as R does it.  Labels depend on comparisons of averaged distances
# with thresholds; R accumulates sums in long double and computes ``mean`` in two
# passes.  Doing the same keeps the decisions identical even for values that sit
# within a rounding error of a threshold.
# ---------------------------------------------------------------------------


def _r_mean(values: FloatArray) -> float:
    """R's ``mean`` of a double vector: long-double sum, then one correction pass."""
    x = np.asarray(values, dtype=np.longdouble)
    n = x.shape[0]
    s = np.cumsum(x)[-1] / n
    t = np.cumsum(x - s)[-1]
    return float(s + t / n)


def _blocks(D: FloatArray, rows: IntArray, cols: IntArray) -> Iterator[tuple[int, Any]]:
    """``D[rows][:, cols]`` in long double, a bounded number of columns at a time."""
    step = max(1, _CHUNK_ELEMENTS // max(1, rows.shape[0]))
    for start in range(0, cols.shape[0], step):
        yield start, D[np.ix_(rows, cols[start : start + step])].astype(np.longdouble)


def _r_col_sums(D: FloatArray, rows: IntArray, cols: IntArray) -> FloatArray:
    """R's ``colSums(D[rows, cols])``: long-double sums down each column, rounded to double."""
    out = np.empty(cols.shape[0])
    for start, block in _blocks(D, rows, cols):
        out[start : start + block.shape[1]] = np.cumsum(block, axis=0)[-1]
    return out


def _r_col_means(D: FloatArray, rows: IntArray, cols: IntArray) -> FloatArray:
    """R's ``colMeans(D[rows, cols])``: the long-double sum divided in long double."""
    out = np.empty(cols.shape[0])
    for start, block in _blocks(D, rows, cols):
        out[start : start + block.shape[1]] = np.cumsum(block, axis=0)[-1] / rows.shape[0]
    return out


def _r_grouped_col_means(
    D: FloatArray, rows: IntArray, cols: IntArray, row_labels: IntArray
) -> tuple[FloatArray, IntArray]:
    """R's ``tapply(D[rows, j], row_labels, mean)`` for every column ``j`` in ``cols``.

    Returns the means (groups x columns) and the sorted group labels.
    """
    groups = np.unique(row_labels)
    means = np.empty((groups.shape[0], cols.shape[0]))
    for start, block in _blocks(D, rows, cols):
        for g, label in enumerate(groups):
            part = block[row_labels == label]
            k = part.shape[0]
            s = np.cumsum(part, axis=0)[-1] / k
            t = np.cumsum(part - s, axis=0)[-1]
            means[g, start : start + block.shape[1]] = s + t / k
    return means, groups


def _r_round(x: float) -> int:
    """R's ``round`` to an integer (halves go to the even neighbour)."""
    return int(round(x))


# ---------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------


_MEMORY_HINT = (
    "Use method='tree', which needs no distances, or cut a tree built on fewer observations "
    "(for example micro-clusters)."
)


def _check_distances(distances: Any, n: int, build: bool) -> FloatArray:
    """Validate condensed or square distances for ``n`` observations; return them condensed.

    ``build``: a square matrix will be built from them (its memory is checked first).
    """
    array = np.asarray(distances) if not hasattr(distances, "columns") else distances
    ndim = getattr(array, "ndim", None)
    if ndim == 1:
        length = array.shape[0]
        if length != n * (n - 1) // 2:
            raise ValueError(
                f"distances has length {length}, but the tree Z has {n} leaves, so a condensed "
                f"distance vector of length n*(n-1)/2 = {n * (n - 1) // 2} is needed."
            )
        if build:
            check_memory(8.0 * n * n, "The hybrid dynamic tree cut's square distance matrix", _MEMORY_HINT)
        condensed, _ = as_condensed(array, "distances")
    elif ndim == 2:
        if array.shape != (n, n):
            raise ValueError(
                f"distances has shape {array.shape}, but the tree Z has {n} leaves; pass the "
                f"({n}, {n}) square or the condensed distance matrix the tree was built from."
            )
        if build:
            check_memory(16.0 * n * n, "The hybrid dynamic tree cut's square distance matrix", _MEMORY_HINT)
        condensed, _ = square_to_condensed(array, "distances")
    else:
        raise ValueError(
            "distances must be a condensed distance vector or a square distance matrix; "
            f"got an array with shape {getattr(array, 'shape', None)}."
        )
    return condensed


def _check_optional_number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number or None; got {value!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite; got {number!r}.")
    return number


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


# ---------------------------------------------------------------------------
# Tree helpers
# ---------------------------------------------------------------------------


def _core_size(branch_size: int, min_cluster_size: int) -> int:
    """Number of points in a branch's core: ``m/2 + 1 + sqrt(size - m/2 - 1)``, truncated."""
    base = min_cluster_size / 2 + 1
    if base < branch_size:
        return int(base + math.sqrt(branch_size - base))
    return branch_size


def _relabel_by_size(colors: IntArray) -> IntArray:
    """Labels 1..k by decreasing cluster size (ties: smaller old label first); 0 stays 0."""
    colors = np.where(colors < 0, 0, colors)
    values, counts = np.unique(colors[colors > 0], return_counts=True)
    rank = np.lexsort((values, -counts))
    mapping = np.zeros(int(colors.max(initial=0)) + 1, dtype=np.int64)
    mapping[values[rank]] = np.arange(1, values.shape[0] + 1)
    return mapping[colors]


# ---------------------------------------------------------------------------
# The "tree" method
# ---------------------------------------------------------------------------


def _static_modules(Z: FloatArray, n: int, height: float, min_size: int) -> IntArray:
    """Clusters of a flat cut at ``height`` numbered 1.. by size, those below ``min_size`` -1.

    Cut clusters are first numbered by the first observation they contain (as R's
    ``cutree`` does); equal sizes keep that order.
    """
    n_joined = int(np.count_nonzero(Z[:, 2] <= height))
    parent = np.full(2 * n - 1, -1, dtype=np.int64)
    children = _children(Z)
    parent[children[:, 0]] = np.arange(n, 2 * n - 1)
    parent[children[:, 1]] = np.arange(n, 2 * n - 1)
    # Parents have larger ids than their children: one pass from the root down gives
    # every node the topmost node above it that is still joined below the cut.
    top = np.arange(2 * n - 1)
    for node in range(2 * n - 3, -1, -1):
        if parent[node] - n < n_joined:
            top[node] = top[parent[node]]
    root = top[:n]
    _, first, cut_labels = np.unique(root, return_index=True, return_inverse=True)
    by_appearance = np.empty(first.shape[0], dtype=np.int64)
    by_appearance[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
    cut_labels = by_appearance[cut_labels.ravel()]
    counts = np.bincount(cut_labels)
    ranked = np.argsort(-counts, kind="stable")
    modules = np.full(n, -1, dtype=np.int64)
    for module, cluster in enumerate(ranked):
        if counts[cluster] < min_size:
            break
        modules[cut_labels == cluster] = module + 1
    return modules


def _locate_runs(labels: IntArray) -> list[tuple[int, int]]:
    """Runs of positive labels along the leaf order, as 0-based inclusive (start, end).

    Follows the run detection of the R implementation exactly, including that a run
    reaching the last change point is extended to the last position.
    """
    n = labels.shape[0]
    change = np.empty(n, dtype=bool)
    change[0] = labels[0] > 0
    change[1:] = labels[1:] != labels[:-1]
    if labels[-1] > 0:
        change[-1] = True
    flags = np.flatnonzero(change)
    runs: list[tuple[int, int]] = []
    for k in range(flags.shape[0] - 1):
        start = int(flags[k])
        if labels[start] > 0:
            if flags[k + 1] == n - 1:
                runs.append((start, n - 1))
                break
            runs.append((start, int(flags[k + 1]) - 1))
    return runs


def _split_branch(heights: FloatArray, min_size: int) -> list[tuple[int, int]]:
    """Split one branch, given the join heights of its leaves in order, into pieces.

    Returns 0-based inclusive (start, end) pieces covering ``heights``.  Cut points are
    where the height profile crosses a reference level downwards-then-upwards; the
    level is the mean height, then the mean of mean and maximum, then the mean of mean
    and minimum, until one of them gives more than one piece.
    """
    m = heights.shape[0]
    attach_size = 2 * min_size
    min_tail = int(min_size / 3) + 1
    mean = _r_mean(heights)
    levels = (mean, (mean + float(heights.max())) / 2, (mean + float(heights.min())) / 2)
    for level in levels:
        diff = heights - level
        following = np.empty(m)
        following[:-1] = diff[1:]
        following[-1] = diff[-1]
        cuts = (diff < 0) & (following > 0)
        cuts[0] = True
        cuts[-1] = True
        if np.count_nonzero(cuts) == 2:
            continue
        candidates = np.flatnonzero(cuts)
        kept = cuts.copy()
        # A cut needs at least min_tail non-positive differences just before it
        # (counted back from the cut to the previous candidate; none positive counts 0).
        for k in range(1, candidates.shape[0] - 1):
            segment = diff[candidates[k - 1] + 1 : candidates[k] + 1][::-1]
            positive = np.flatnonzero(segment > 0)
            run = int(positive[0]) if positive.shape[0] else 0
            if run < min_tail:
                kept[candidates[k]] = False
        if np.count_nonzero(kept) > 3:
            # A piece lower than its left neighbour and smaller than attach_size joins it.
            # The left neighbour's mean skips the first position of the branch.
            j = 1
            while True:
                points = np.flatnonzero(kept)
                if j > points.shape[0] - 2:
                    break
                previous = heights[points[j - 1] + 1 : points[j] + 1]
                current = heights[points[j] + 1 : points[j + 1] + 1]
                if _r_mean(current) < _r_mean(previous) and current.shape[0] < attach_size:
                    kept[points[j]] = False
                else:
                    j += 1
        points = np.flatnonzero(kept)
        if points.shape[0] > 2 and points[-1] - points[-2] + 1 < min_size:
            kept[points[-2]] = False
            points = np.flatnonzero(kept)
        if points.shape[0] > 2:
            starts = np.concatenate(([0], points[1:-1] + 1))
            return [(int(s), int(e)) for s, e in zip(starts, points[1:])]
    return [(0, m - 1)]


def _cutree_tree(Z: FloatArray, n: int, cut_height: float | None, deep_split: bool, min_size: int) -> IntArray:
    heights = Z[:, 2]
    if np.any(np.diff(heights) < 0):
        raise ValueError(
            "method='tree' needs merge heights in increasing order (a monotone tree); this Z has "
            "inversions (centroid or median linkage?). Use method='hybrid' or a monotone linkage."
        )
    max_height = float(heights.max())
    if cut_height is None or cut_height > max_height:
        cut_height = 0.99 * max_height
    order = leaves_list(Z)
    ordered_heights = _first_merge_heights(Z)[order]
    modules = _static_modules(Z, n, cut_height, min_size)[order]
    pieces = _locate_runs(modules)
    if not pieces:
        return np.zeros(n, dtype=np.int64)
    while True:
        refined: list[tuple[int, int]] = []
        for start, end in pieces:
            for s, e in _split_branch(ordered_heights[start : end + 1], min_size):
                refined.append((start + s, start + e))
        if not deep_split or len(refined) == len(pieces):
            pieces = refined
            break
        pieces = refined
    by_position = np.zeros(n, dtype=np.int64)
    count = 0
    for start, end in pieces:
        if end - start + 1 >= min_size:
            count += 1
            by_position[start : end + 1] = count
    labels = np.empty(n, dtype=np.int64)
    labels[order] = _relabel_by_size(by_position)
    return labels


# ---------------------------------------------------------------------------
# The "hybrid" method
# ---------------------------------------------------------------------------


class _Branches:
    """Branches grown while walking the merges bottom-up (parallel lists, one entry each)."""

    def __init__(self) -> None:
        self.is_basic: list[bool] = []
        self.is_top_basic: list[bool] = []
        self.fail_size: list[bool] = []
        self.size: list[int] = []
        self.singletons: list[list[int]] = []
        self.basic_clusters: list[list[int]] = []
        self.attach_height: list[float] = []

    def add(self, basic: bool, size: int, singletons: list[int], basic_clusters: list[int]) -> int:
        self.is_basic.append(basic)
        self.is_top_basic.append(basic)
        self.fail_size.append(False)
        self.size.append(size)
        self.singletons.append(singletons)
        self.basic_clusters.append(basic_clusters)
        self.attach_height.append(math.nan)
        return len(self.size) - 1


def _core_scatter(D: FloatArray, members: list[int], min_cluster_size: int) -> float:
    """Mean over the core points of their average distance to the other core points.

    The core is the first ``_core_size`` points to have joined the branch.
    """
    k = _core_size(len(members), min_cluster_size)
    core = np.asarray(members[:k], dtype=np.int64)
    return _r_mean(_r_col_sums(D, core, core) / (k - 1))


def _interpolate(table: tuple[float, ...], index: float) -> float:
    """Linear interpolation in ``table`` at 1-based ``index``, as the R implementation does."""
    i = _r_round(index)
    if i < 1:
        return table[0]
    if i >= len(table):
        return table[-1]
    r = index - i
    return table[i - 1] * (1 - r) + table[i] * r


@dataclass(frozen=True)
class _HybridOptions:
    """The hybrid method's parameters as given (None: the default)."""

    cut_height: float | None
    min_cluster_size: int
    deep_split: float
    max_core_scatter: float | None
    min_gap: float | None
    max_abs_core_scatter: float | None
    min_abs_gap: float | None
    min_split_height: float | None
    min_abs_split_height: float | None
    pam_stage: bool
    pam_respects_dendro: bool
    max_pam_dist: float | None
    respect_small_clusters: bool


def _cutree_hybrid(Z: FloatArray, n: int, D: FloatArray, options: _HybridOptions) -> IntArray:
    cut_height = options.cut_height
    min_cluster_size = options.min_cluster_size
    max_core_scatter, min_gap = options.max_core_scatter, options.min_gap
    max_abs_core_scatter, min_abs_gap = options.max_abs_core_scatter, options.min_abs_gap
    min_split_height, min_abs_split_height = options.min_split_height, options.min_abs_split_height
    max_pam_dist = options.max_pam_dist
    heights = Z[:, 2]
    n_merges = n - 1
    ref_merge = max(1, _r_round(n_merges * _REF_QUANTILE))
    ref_height = float(heights[ref_merge - 1])
    max_height = float(heights.max())
    user_cut_height = cut_height
    if cut_height is None:
        cut_height = 0.99 * (max_height - ref_height) + ref_height
    elif cut_height > max_height:
        cut_height = max_height
    if max_pam_dist is None:
        # R's default maxPamDist is the cutHeight argument as given, else the computed one.
        max_pam_dist = cut_height if user_cut_height is None else user_cut_height
    if np.count_nonzero(heights <= cut_height) < min_cluster_size:
        return np.zeros(n, dtype=np.int64)

    index = options.deep_split + 1
    if max_core_scatter is None:
        max_core_scatter = _interpolate(_DEFAULT_CORE_SCATTER, index)
    if min_gap is None:
        min_gap = _interpolate(_DEFAULT_MIN_GAP, index)
    if max_abs_core_scatter is None:
        max_abs_core_scatter = ref_height + max_core_scatter * (cut_height - ref_height)
    if min_abs_gap is None:
        min_abs_gap = min_gap * (cut_height - ref_height)
    if min_split_height is None:
        min_split_height = 0.0
    if min_abs_split_height is None:
        min_abs_split_height = ref_height + min_split_height * (cut_height - ref_height)

    children = _children(Z)
    br = _Branches()
    merge_branch = np.full(n_merges, -1, dtype=np.int64)
    on_branch = np.full(n, -1, dtype=np.int64)

    def branch_of(node: int) -> int:
        b = int(merge_branch[node - n])
        if b < 0:
            raise ValueError(
                f"Z merges node {node} (height {heights[node - n]!r}) below the cut height "
                f"{cut_height!r}, but that node itself lies above it: the tree has inversions. "
                "Use a monotone linkage (single, complete, average, weighted, ward)."
            )
        return b

    def fails(b: int, scatter: float, h: float) -> tuple[bool, bool, bool, bool]:
        return (
            br.size[b] < min_cluster_size,
            scatter > max_abs_core_scatter,
            h - scatter < min_abs_gap,
            h < min_abs_split_height,
        )

    for i in range(n_merges):
        h = float(heights[i])
        if not h <= cut_height:
            continue
        a, b = int(children[i, 0]), int(children[i, 1])
        if a < n and b < n:
            merge_branch[i] = br.add(True, 2, [a, b], [])
            continue
        if a < n or b < n:
            leaf, node = (a, b) if a < n else (b, a)
            target = branch_of(node)
            if br.is_basic[target]:
                br.singletons[target].append(leaf)
            else:
                on_branch[leaf] = target
            br.size[target] += 1
            merge_branch[i] = target
            continue

        first, second = branch_of(a), branch_of(b)
        # The smaller branch, the first child on equal sizes.
        small, large = (first, second) if br.size[first] <= br.size[second] else (second, first)
        small_scatter = _core_scatter(D, br.singletons[small], min_cluster_size) if br.is_basic[small] else 0.0
        small_fails = fails(small, small_scatter, h)
        do_merge = False
        small_fail_size = False
        if br.is_basic[small] and any(small_fails):
            do_merge = True
            small_fail_size = not (small_fails[1] or small_fails[2])
        elif br.is_basic[large]:
            large_scatter = _core_scatter(D, br.singletons[large], min_cluster_size)
            large_fails = fails(large, large_scatter, h)
            if any(large_fails):
                do_merge = True
                small_fail_size = not (large_fails[1] or large_fails[2])
                small, large = large, small

        if do_merge:
            # ``small`` is basic here; it is absorbed into ``large``.
            br.fail_size[small] = small_fail_size
            br.attach_height[small] = h
            br.is_top_basic[small] = False
            if br.is_basic[large]:
                br.singletons[large].extend(br.singletons[small])
            else:
                on_branch[br.singletons[small]] = large
            br.size[large] += br.size[small]
            merge_branch[i] = large
            continue

        if br.is_basic[large] and not br.is_basic[small]:
            small, large = large, small
        small_basics = [small] if br.is_basic[small] else br.basic_clusters[small]
        if br.is_basic[large] or (options.pam_stage and options.pam_respects_dendro):
            large_basics = [large] if br.is_basic[large] else br.basic_clusters[large]
            composite = br.add(False, br.size[small] + br.size[large], [], small_basics + large_basics)
            br.is_top_basic[composite] = False
            br.attach_height[small] = h
            br.attach_height[large] = h
            merge_branch[i] = composite
        else:
            br.basic_clusters[large] = br.basic_clusters[large] + small_basics
            br.size[large] += br.size[small]
            br.attach_height[small] = h
            merge_branch[i] = large

    n_branches = len(br.size)
    is_cluster = np.zeros(n_branches, dtype=bool)
    small_labels = np.zeros(n, dtype=np.int64)  # branch index + 1 of the small cluster
    for b in range(n_branches):
        if math.isnan(br.attach_height[b]):
            br.attach_height[b] = cut_height
        if br.is_top_basic[b]:
            scatter = _core_scatter(D, br.singletons[b], min_cluster_size)
            is_cluster[b] = (
                br.size[b] >= min_cluster_size
                and scatter < max_abs_core_scatter
                and br.attach_height[b] - scatter > min_abs_gap
            )
        if br.fail_size[b]:
            small_labels[br.singletons[b]] = b + 1
    if not options.respect_small_clusters:
        small_labels[:] = 0

    colors = np.zeros(n, dtype=np.int64)
    branch_labels = np.zeros(n_branches, dtype=np.int64)
    n_labels = 0
    for b in np.flatnonzero(is_cluster).tolist():
        n_labels += 1
        colors[br.singletons[b]] = n_labels
        small_labels[br.singletons[b]] = 0
        branch_labels[b] = n_labels

    if options.pam_stage and n_labels > 0 and (colors == 0).any():
        tree_stage = _TreeStage(colors.copy(), n_labels, small_labels, on_branch, branch_labels)
        _pam_stage(D, colors, tree_stage, br, options, float(max_pam_dist))
    return _relabel_by_size(colors)


def _nearest_cluster(group_means: FloatArray, group_labels: IntArray, diameters: FloatArray, max_pam_dist: float) -> IntArray:
    """Per column, the label of the nearest group if within its diameter or max_pam_dist, else -1."""
    nearest = np.argmin(group_means, axis=0)
    distance = group_means[nearest, np.arange(group_means.shape[1])]
    label = group_labels[nearest]
    # Label 0 (objects of a basic branch that is no cluster) is no valid target.
    ok = (label > 0) & ((distance < diameters[label]) | (distance < max_pam_dist))
    return np.where(ok, label, -1)


@dataclass(frozen=True)
class _TreeStage:
    """Result of the hybrid method's tree stage, input of its PAM-like stage."""

    labels: IntArray  # 1..n_labels, 0 unlabelled
    n_labels: int
    small_labels: IntArray  # per object, 1 + the small branch it belongs to, or 0
    on_branch: IntArray  # per object, the composite branch it joined singly, or -1
    branch_labels: IntArray  # per branch, its label if it is a cluster, else 0


def _pam_stage(
    D: FloatArray, colors: IntArray, stage: _TreeStage, br: _Branches, options: _HybridOptions, max_pam_dist: float
) -> None:
    """Assign unlabelled objects to the nearest cluster (average distance); updates ``colors``."""
    tree_labels, n_labels = stage.labels, stage.n_labels
    small_labels, on_branch = stage.small_labels, stage.on_branch
    pam_respects_dendro = options.pam_respects_dendro
    diameters = np.zeros(n_labels + 1)
    for label in range(1, n_labels + 1):
        members = np.flatnonzero(tree_labels == label)
        if members.shape[0] > 1:
            diameters[label] = (_r_col_sums(D, members, members) / (members.shape[0] - 1)).max()

    def candidates(branch: int) -> IntArray:
        """Objects whose tree-cut label belongs to a basic cluster of ``branch``."""
        allowed = np.unique(stage.branch_labels[br.basic_clusters[branch]])
        return np.flatnonzero(np.isin(tree_labels, allowed))

    if options.respect_small_clusters:
        all_labelled = np.flatnonzero(tree_labels != 0)
        for group in np.unique(small_labels[small_labels > 0]):
            members = np.flatnonzero(small_labels == group)
            if pam_respects_dendro:
                branches = np.unique(on_branch[members])
                if branches.shape[0] > 1:
                    raise RuntimeError(
                        "internal error: a small cluster lies on several branches "
                        f"({branches.tolist()}); please report this with the input."
                    )
                if branches[0] < 0:
                    continue
                use = candidates(int(branches[0]))
            else:
                use = all_labelled
            mean_to_each = _r_col_means(D, members, use)
            use_labels = tree_labels[use]
            groups = np.unique(use_labels)
            group_means = np.array([[_r_mean(mean_to_each[use_labels == g]) for g in groups]]).T
            colors[members] = _nearest_cluster(group_means, groups, diameters, max_pam_dist)[0]

    unlabelled = np.flatnonzero(colors == 0)
    if unlabelled.shape[0] == 0:
        return
    if pam_respects_dendro:
        unlabelled = unlabelled[on_branch[unlabelled] >= 0]
        for branch in np.unique(on_branch[unlabelled]):
            objects = unlabelled[on_branch[unlabelled] == branch]
            use = candidates(int(branch))
            group_means, groups = _r_grouped_col_means(D, use, objects, tree_labels[use])
            found = _nearest_cluster(group_means, groups, diameters, max_pam_dist)
            colors[objects[found > 0]] = found[found > 0]
    else:
        use = np.flatnonzero(tree_labels != 0)
        group_means, groups = _r_grouped_col_means(D, use, unlabelled, tree_labels[use])
        found = _nearest_cluster(group_means, groups, diameters, max_pam_dist)
        colors[unlabelled[found > 0]] = found[found > 0]


# ---------------------------------------------------------------------------
# Public function
# ---------------------------------------------------------------------------


@renamed_keywords(cut_height="height")
def cutree_dynamic(
    Z: Any,
    distances: Any = None,
    *,
    method: str = "hybrid",
    deep_split: bool | float | None = None,
    min_cluster_size: int = 20,
    max_core_scatter: float | None = None,
    min_gap: float | None = None,
    max_abs_core_scatter: float | None = None,
    min_abs_gap: float | None = None,
    min_split_height: float | None = None,
    min_abs_split_height: float | None = None,
    pam_stage: bool = True,
    pam_respects_dendro: bool = True,
    height: float | None = None,
    max_pam_dist: float | None = None,
    respect_small_clusters: bool = True,
) -> IntArray:
    """Cut a dendrogram into clusters of varying shape with the Dynamic Tree Cut.

    Unlike a flat cut at one height, the Dynamic Tree Cut looks at the shape of each
    branch and can find nested clusters at different heights. This is a port of
    ``cutreeDynamic`` from the R package dynamicTreeCut (version 1.63) and gives the
    same labels for the same tree, distances and parameters.

    Parameters
    ----------
    Z : array_like of shape (n - 1, 4)
        Linkage matrix in scipy's format, as returned by :func:`hclust.linkage` or
        :func:`scipy.cluster.hierarchy.linkage`.
    distances : array_like, optional
        The distances the tree was built from, condensed (length ``n (n - 1) / 2``)
        or square ``(n, n)``. Required for ``method="hybrid"``; ignored by
        ``method="tree"`` (checked if given).
    method : {"hybrid", "tree"}, default="hybrid"
        ``"hybrid"`` grows branches bottom-up, keeps those whose core is tight
        and well separated, then assigns the remaining objects to the nearest
        cluster (the PAM-like stage). ``"tree"`` splits branches by their height
        profile only and uses no distances.
    deep_split : bool or float, optional
        Sensitivity to splitting. For ``"hybrid"`` a number from 0 (few large
        clusters) to 4 (many small ones), default 1; ``True`` and ``False`` mean 3
        and 0, as in R. For ``"tree"`` a flag, default ``False``: whether to split
        the pieces again until nothing changes.
    min_cluster_size : int, default=20
        Minimum number of objects in a cluster.
    max_core_scatter, min_gap : float, optional
        ``"hybrid"`` only. Maximum core scatter and minimum gap, as fractions of
        the height range between the reference height (the merge at the 5 %
        quantile) and ``height``. Default: set by ``deep_split``.
    max_abs_core_scatter, min_abs_gap : float, optional
        ``"hybrid"`` only. The same in absolute height; override the fractions.
    min_split_height, min_abs_split_height : float, optional
        ``"hybrid"`` only. Branches joining below this height (relative fraction,
        default 0, or absolute) are always merged.
    pam_stage : bool, default=True
        ``"hybrid"`` only. Whether to assign objects left unlabelled by the tree
        stage to the nearest cluster (average distance to its members) when
        within that cluster's diameter or ``max_pam_dist``.
    pam_respects_dendro : bool, default=True
        ``"hybrid"`` only. Restrict that assignment to clusters on the same branch.
    height : float, optional
        Maximum joining height considered (R's ``cutHeight``; ``cut_height=``, hclust
        0.1's name, works until hclust 0.3 with a FutureWarning). Default for
        ``"hybrid"``: 99 % of the range from the reference height to the top merge;
        for ``"tree"``: 99 % of the top merge height (also used when ``height``
        exceeds it).
    max_pam_dist : float, optional
        ``"hybrid"`` only. Maximum distance for the PAM-like stage; default
        ``height``.
    respect_small_clusters : bool, default=True
        ``"hybrid"`` only. In the PAM-like stage, assign the members of each
        branch that was merged away for its size or split height (not for its
        scatter or gap) together, as a unit.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        0 for unassigned objects; clusters numbered 1..k by decreasing size.

    Raises
    ------
    ValueError
        If ``Z`` is not a valid linkage matrix, ``distances`` do not match it,
        ``method="hybrid"`` has no distances, a parameter is out of range, or the
        tree has inversions where the method cannot handle them.
    TypeError
        If a parameter has the wrong type (e.g. a float ``min_cluster_size``).
    hclust._validation.InsufficientMemoryError
        If the square distance matrix of ``"hybrid"`` would not fit in memory.

    See Also
    --------
    scipy.cluster.hierarchy.fcluster : flat cuts at one height or number of clusters.

    Notes
    -----
    *Leaf order.* Both methods depend on the left-to-right order of the leaves.
    It is the order of :func:`hclust.tree.leaves_list` (the same as scipy's): each merge
    visits ``Z[i, 0]`` before ``Z[i, 1]``. To compare with R, convert ``Z`` to an
    ``hclust`` object keeping that column order (leaf ``j`` becomes ``-(j + 1)``,
    node ``n + i`` becomes ``i + 1``) and compute ``order`` by the same traversal.
    When every row of ``Z`` has the smaller node id first (as scipy, fastcluster
    and hclust produce), this is exactly the merge matrix and ``order`` that R's
    own ``hclust`` builds for the same tree. Ties in the hybrid method (branches of
    equal size) go to the branch of ``Z[i, 0]``.

    *Arithmetic.* Sums of distances are accumulated in long double and means take
    R's two passes, so that comparisons with the thresholds are decided as in R.

    *Differences from R.* Inputs where R stops with an error or returns ``NA``
    are handled instead: a ``"tree"`` cut whose pieces are all smaller than
    ``min_cluster_size`` gives all zeros, and tiny ``min_cluster_size`` (1 or 2),
    where R's ``"tree"`` method can fail, gives labels; in the PAM-like stage, a
    cluster-less basic branch is never a target. Trees with inversions are refused
    with a message where R fails (``"tree"``: any inversion; ``"hybrid"``: a merge
    below ``height`` of a node above it). R's ``useMedoids`` option and
    external split functions are not provided.

    *Complexity.* ``"tree"``: each pass over the branches is O(n) for usual trees
    (at most O(n²/m) for ``m = min_cluster_size``); ``deep_split=True`` repeats
    passes until nothing changes, usually a handful. Memory O(n). ``"hybrid"``:
    the walk up the tree computes, at each merge of two branches, the scatter of
    cores of at most ``k = m/2 + 1 + sqrt(n)`` points, O(n k²) in all, which is
    O(n²) for ``m`` up to about ``sqrt(n)`` (R's implementation has the same
    cost); the PAM-like stage is O(n²). Memory: the square distance matrix,
    8 n² bytes, plus O(n) arrays and bounded work buffers.

    References
    ----------
    .. [1] Langfelder P, Zhang B, Horvath S (2008). Defining clusters from a
       hierarchical cluster tree: the Dynamic Tree Cut package for R.
       Bioinformatics 24(5): 719-720. :doi:`10.1093/bioinformatics/btm563`

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.cluster.hierarchy import linkage
    >>> from scipy.spatial.distance import pdist
    >>> from hclust.dynamic import cutree_dynamic
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(c, 0.5, size=(30, 2)) for c in (0.0, 5.0, 10.0)])
    >>> d = pdist(X)
    >>> Z = linkage(d, "average")
    >>> labels = cutree_dynamic(Z, d, min_cluster_size=10)
    >>> np.bincount(labels).tolist()  # no object unassigned, three clusters of 30
    [0, 30, 30, 30]

    Label 0 counts the unassigned objects. The tree method needs no distances, but
    has no stage that assigns the objects left over by the branch splitting:

    >>> np.bincount(cutree_dynamic(Z, method="tree", min_cluster_size=10)).tolist()
    [14, 30, 25, 21]
    """
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    method = check_option(method, "method", ("hybrid", "tree"))
    if not is_integer(min_cluster_size):
        raise TypeError(f"min_cluster_size must be an integer; got {min_cluster_size!r}.")
    if min_cluster_size < 1:
        raise ValueError(f"min_cluster_size must be at least 1; got {min_cluster_size}.")
    min_cluster_size = int(min_cluster_size)
    cut_height = _check_optional_number(height, "height")
    if cut_height is not None and cut_height <= 0:
        raise ValueError(f"height must be positive; got {cut_height!r}.")

    if method == "tree":
        if deep_split is None:
            deep_split = False
        if not isinstance(deep_split, (bool, np.bool_, int, np.integer)):
            raise TypeError(f"deep_split must be True or False for method='tree'; got {deep_split!r}.")
        if distances is not None:
            _check_distances(distances, n, build=False)
        return _cutree_tree(Z, n, cut_height, bool(deep_split), min_cluster_size)

    if distances is None:
        raise ValueError(
            "method='hybrid' needs the distances the tree was built from (condensed or square); "
            "pass them as the second argument, or use method='tree', which needs none."
        )
    if deep_split is None:
        deep_split = 1
    if isinstance(deep_split, (bool, np.bool_)):
        deep_split = 3.0 if deep_split else 0.0
    if not isinstance(deep_split, (int, float, np.integer, np.floating)):
        raise TypeError(f"deep_split must be a number from 0 to 4 for method='hybrid'; got {deep_split!r}.")
    deep_split = float(deep_split)
    if not 0 <= deep_split <= len(_DEFAULT_CORE_SCATTER) - 1:
        raise ValueError(f"deep_split must be from 0 to 4 for method='hybrid'; got {deep_split!r}.")
    numbers = {
        name: _check_optional_number(value, name)
        for name, value in (
            ("max_core_scatter", max_core_scatter),
            ("min_gap", min_gap),
            ("max_abs_core_scatter", max_abs_core_scatter),
            ("min_abs_gap", min_abs_gap),
            ("min_split_height", min_split_height),
            ("min_abs_split_height", min_abs_split_height),
            ("max_pam_dist", max_pam_dist),
        )
    }
    flags = {
        name: _check_flag(value, name)
        for name, value in (
            ("pam_stage", pam_stage),
            ("pam_respects_dendro", pam_respects_dendro),
            ("respect_small_clusters", respect_small_clusters),
        )
    }
    D = squareform(_check_distances(distances, n, build=True), checks=False)
    options = _HybridOptions(
        cut_height=cut_height,
        min_cluster_size=min_cluster_size,
        deep_split=deep_split,
        max_core_scatter=numbers["max_core_scatter"],
        min_gap=numbers["min_gap"],
        max_abs_core_scatter=numbers["max_abs_core_scatter"],
        min_abs_gap=numbers["min_abs_gap"],
        min_split_height=numbers["min_split_height"],
        min_abs_split_height=numbers["min_abs_split_height"],
        pam_stage=flags["pam_stage"],
        pam_respects_dendro=flags["pam_respects_dendro"],
        max_pam_dist=numbers["max_pam_dist"],
        respect_small_clusters=flags["respect_small_clusters"],
    )
    return _cutree_hybrid(Z, n, D, options)

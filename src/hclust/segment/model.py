"""A segmentation model: preparation + tree + cut + profiles, saved and reused.

:class:`SegmentationModel` is the unit an analyst hands over: fitted on a customer
table, it labels that table, describes its segments, assigns new customers to
them, and is saved as JSON + arrays that a later hclust reads back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import io as _io
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
import zipfile
from pathlib import Path
from typing import IO, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._version import __version__
from .._methods import methods_where
from .._typing import FloatArray, IntArray, ProgressCallback
from .._validation import check_memory, check_option, is_integer
from ..io import fsync_dir, locked_dir, write_atomic
from ..estimator import HierarchicalClustering
from ..gower import Gower
from .._deprecation import renamed_keywords
from .._metrics import normalize as normalize_metric
from .._linkage import METHODS, linkage
from ..select import CRITERIA, MIN_SEGMENT_SIZE, Evaluation, evaluate, min_segment_count, stability
from ..tree import _cut_order, cut
from . import _assign
from ._assign import ASSIGN_RULES, DEFAULT_NEIGHBORS, DEFAULT_RULE
from ._summary import CHEAP_CRITERIA, SILHOUETTE_SAMPLE, SegmentationSummary, segmentation_summary
from .prepare import PreparationRecord, Preparer
from ._profile import SegmentProfile, profile
from .schema import Schema, infer_schema

#: Name and version of the saved format (see :meth:`SegmentationModel.save`).
MODEL_FORMAT = "hclust.SegmentationModel"
MODEL_FORMAT_VERSION = 1
_JSON_NAME = "model.json"
_ARRAYS_NAME = "arrays.npz"

#: Linkages that may be used with the Gower metric (the others need Euclidean geometry).
_GOWER_METHODS = methods_where(gower=True)

#: ``fit`` measures the held-out agreement of the assignment rules for tables of this many rows.
_HOLDOUT_MIN_ROWS = 10
_HOLDOUT_MAX_ROWS = 20_000
#: Largest subsample re-clustered for the stability of a large table.
_STABILITY_MAX_ROWS = 1_000


@dataclass
class ModelSummary:
    """What a fitted :class:`SegmentationModel` is, section by section (``print`` it to read it).

    Attributes
    ----------
    segments : DataFrame
        One row per segment: ``segment, name, size, share, stability, top_features``
        (``stability``: the mean bootstrap Jaccard of the segment, NaN when not
        measured; ``size`` counts customers, i.e. sums the weights when rows are weighted).
    data : dict
        ``rows``, ``method``, ``metric``, ``distance`` (the distances the tree and the
        criteria use, in words), ``n_features`` and ``features`` (their names), ``weights``.
    preparation : PreparationRecord or None
        What the preparation did (None for a model saved before hclust recorded it).
    choice_of_k : list of str
        How the number of segments was set, then the criteria's reasons (automatic k).
    evaluation : Evaluation or None
        The scores behind an automatic choice of k.
    stability : DataFrame or None
        Per-segment bootstrap stability (see :func:`hclust.stability`).
    assignment : DataFrame or None
        Held-out agreement of each assignment rule (see :meth:`SegmentationModel.check_assign`).
    """

    segments: pd.DataFrame
    data: dict[str, Any]
    preparation: PreparationRecord | None
    choice_of_k: list[str]
    evaluation: Evaluation | None
    stability: pd.DataFrame | None
    assignment: pd.DataFrame | None

    def lines(self) -> list[str]:
        """The summary as text lines: data, preparation, choice of k, segments, assignment."""
        d = self.data
        out = [
            f"{d['rows']:,} customers, {d['method']} linkage on {d['distance']}.",
            f"Features ({d['n_features']}): {', '.join(d['features'][:20])}"
            + (f" and {d['n_features'] - 20} more" if d["n_features"] > 20 else "") + ".",
            "",
            "Preparation:",
        ]
        if self.preparation is None:
            out.append("  (not recorded: a model saved by an older hclust)")
        else:
            out += ["  " + line for line in self.preparation.lines()]
        out += ["", "Number of segments:"] + ["  " + line for line in self.choice_of_k]
        table = self.segments.copy()
        table["share"] = table["share"].map("{:.1%}".format)
        table["stability"] = table["stability"].map(lambda v: "" if v != v else f"{v:.2f}")
        with pd.option_context("display.width", 160, "display.max_colwidth", 90):
            out += ["", "Segments:", table.set_index("segment").to_string()]
        if self.stability is not None:
            boot = self.stability.attrs.get("n_boot")
            out.append(
                f"  (stability: mean Jaccard of each segment with its best match when {boot} random "
                f"{self.stability.attrs.get('sample_fraction', 0.8):.0%} subsamples are re-clustered; "
                "below 0.6 a segment is not stable, above 0.85 highly stable)"
            )
        out += ["", "Assigning customers (model.assign):"] + [
            "  " + line for line in _assignment_lines(self.assignment, self.data.get("micro_clusters"))
        ]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "segments": json.loads(self.segments.to_json(orient="records")),
            "data": dict(self.data),
            "preparation": None if self.preparation is None else self.preparation.to_dict(),
            "choice_of_k": list(self.choice_of_k),
            "evaluation": None if self.evaluation is None else self.evaluation.to_dict(),
            "stability": None if self.stability is None else json.loads(self.stability.to_json(orient="records")),
            "assignment": None if self.assignment is None else json.loads(self.assignment.to_json(orient="records")),
        }


def _assignment_lines(check: pd.DataFrame | None, micro_clusters: int | None = None) -> list[str]:
    first = (
        "Training customers get their own segment back (exact match on the prepared features: 100%)."
        if micro_clusters is None else
        f"Customers are placed among the {micro_clusters:,} micro-clusters the tree was built from (the summary "
        "tier): almost always their own micro-cluster's segment."
    )
    lines = [first, f"New customers: rule={DEFAULT_RULE!r} by default ({', '.join(ASSIGN_RULES)} available)."]
    if check is None:
        lines.append("Held-out agreement: not measured (model.check_assign(table) measures it).")
        return lines
    attrs = check.attrs
    lines.append(
        f"Held-out agreement (fit on {1 - attrs['holdout']:.0%} of the customers, assign the other "
        f"{attrs['holdout']:.0%}: {attrs['rows']:,}; adjusted Rand index against this model's segments):"
    )
    for rule, ari in zip(check["rule"].tolist(), check["held_out_ari"].tolist()):
        value = "n/a" if ari != ari else f"{ari:.3f}"
        lines.append(f"  {rule:<9} {value}")
    fit = attrs.get("fit_ari")
    if fit is not None:
        lines.append(
            f"  (the two fits themselves agree at {fit:.3f} on the customers they share: how much the tree moves "
            "limits every rule)"
        )
    return lines


class SegmentationModel:
    """Segment a customer table with hierarchical clustering, and reuse the segments.

    Parameters
    ----------
    n_clusters : int, optional
        Number of segments. With neither ``n_clusters`` nor ``height``, the
        number is chosen by :func:`hclust.evaluate` over ``ks``, on the distances
        the tree was built on (its recommendation and reasons are kept in
        :attr:`evaluation_`).
    height : float, optional
        Cut the tree at this height instead.
    method : str, default="ward"
        Linkage, as in :func:`hclust.linkage`.
    metric : str, default="euclidean"
        ``"euclidean"`` (on the prepared features), any metric of
        :func:`hclust.linkage` for the non-Euclidean linkages, or ``"gower"``:
        Gower's mixed-type distance on the raw columns (no preparation), with
        single, complete, average, weighted or flexible linkage.
    columns : list, optional
        Columns to segment on (default: all but ``exclude`` and ``weight_column``).
        Id and constant columns are left out by the schema inference (see
        :func:`hclust.segment.infer_schema`), for Gower as for prepared features.
    exclude : list, optional
        Columns never used (e.g. an id or a known label).
    weight_column : str, optional
        A column of positive counts: each row stands for that many customers.
    preparer : Preparer, optional
        The (unfitted) preparation: imputation, log1p of skewed amounts,
        scaling, one-hot encoding. Default :class:`Preparer` ``()``. Ignored
        for ``metric="gower"``.
    ks : sequence of int, default=range(2, 11)
        Candidate numbers of segments for the automatic choice.
    min_segment_size : None, int, float or (float, int), default=(0.02, 5)
        The smallest segment an automatically chosen k may have: a count of
        customers, a share of them, or both (see :func:`hclust.select.min_segment_count`);
        by default 2% of the customers and at least 5. None: no minimum.
    names : mapping, optional
        Segment label -> name, replacing the automatic names.
    beta : float, default=-0.25
        Parameter of the flexible linkage.
    n_boot : int, default=20
        Subsamples for the per-segment stability (:attr:`stability_`); 0 skips it.
    holdout : float or None, default=0.2
        Share of the customers held out to measure how well each assignment rule
        reproduces the segments (:meth:`check_assign`, run by ``fit`` up to
        20,000 rows); None skips it.
    n_jobs : int, optional
        Threads for distances (None: all cores).
    n_micro : int, optional
        For a dask DataFrame (the summary tier, see the Notes): the largest
        number of micro-clusters (default ``min(rows, 10_000)``). Ignored for
        a pandas DataFrame.

    Attributes
    ----------
    preparer_ : Preparer or None
        The fitted preparation (None for Gower).
    gower_ : Gower or None
        The fitted Gower metric (None otherwise).
    columns_ : list
        The columns the segments are built on.
    features_ : ndarray of shape (n_rows, n_features)
        Prepared features of the segmented rows (for Gower: the encoded rows).
    feature_names_ : list of str
    row_index_ : pandas.Index
        Index labels of the segmented rows (rows dropped by the preparation,
        ``impute="drop"``, are not in it).
    weights_ : ndarray or None
    linkage_matrix_ : ndarray of shape (n_rows - 1, 4)
    labels_ : ndarray of int64
        Segment of each segmented row, ``0 .. n_clusters_ - 1``.
    n_clusters_ : int
    names_ : dict
        Segment label -> name.
    profile_ : SegmentProfile
        Profile of the segments in the original columns.
    preparation_ : PreparationRecord
        What the preparation did: rows dropped, values imputed per column,
        log-transformed and left-out columns (and why), the features.
    evaluation_ : Evaluation or None
        The evaluation behind an automatic choice of k (None when k or the
        height was given).
    stability_ : DataFrame or None
        Per-segment bootstrap Jaccard (:func:`hclust.stability` with this model's
        linkage, distances and cut); None when ``n_boot=0``.
    assign_check_ : DataFrame or None
        Held-out agreement per assignment rule (:meth:`check_assign`).
    summary_ : hclust.dask.DaskSummary or None
        The micro-clusters of a fit on a dask DataFrame (None otherwise); not saved.
    n_micro_ : int or None
        The number of micro-clusters the model was built from (a dask DataFrame's
        fit: the summary tier), None for a fit on the rows themselves.
    within_ss_ : ndarray or None
        A fit on a dask DataFrame: each micro-cluster's sum of squared deviations
        of its rows from its mean, so that :func:`hclust.evaluate` scores WSS,
        Calinski-Harabasz and pseudo-t² of the customers exactly (None otherwise).
    row_labels_ : dask.array.Array or None
        A fit on a dask DataFrame: the segment of every row of the table, lazily,
        with its partitions (-1: a row the preparation dropped); None otherwise;
        not saved.

    Notes
    -----
    **Assigning customers** (:meth:`assign`). A customer whose prepared features
    (Gower: encoded columns) are identical to a training customer's gets that
    customer's segment, whatever the rule, so the training table is scored back
    into its own segments exactly. Other customers follow ``rule``:

    * ``"nearest"`` (default): the weighted majority of the 15 nearest training
      customers in the model's own distance; ``distance`` is the distance to the
      nearest training customer of the chosen segment, ``confidence`` the segment's
      share of the votes;
    * ``"linkage"``: the segment the customer would join first by the linkage's
      own rule (see :meth:`hclust.HierarchicalClustering.join_heights`);
      ``distance`` is that join height, in the units of the tree's heights;
    * ``"centroid"``: the nearest segment centre (the mean of the prepared
      features; the medoid for other metrics and Gower).

    For the last two ``confidence`` is ``1 - d1 / d2`` for the nearest and the
    second-nearest segment (0: halfway between two segments). The default was
    chosen by measurement: fitted on 80% of a table, it agrees best with a fit
    on all rows on the 20% held out (README, "Segmenting customers"), and
    :meth:`check_assign` measures it on the model's own data.

    **Fitting on a dask DataFrame** (``pip install "hclust[dask]"``): the summary
    tier. The :class:`Preparer` is fitted from statistics the workers compute
    (column kinds inferred on up to 100,000 rows, a seeded sample above that;
    levels, date references, missing counts, means, standard deviations,
    skewness, minima and maxima over every row; medians and quartiles from
    per-partition quantile sketches of 1,001 points, exact with one partition and
    within 0.1 percentile of rank per partition otherwise); the prepared
    partitions are summarised by :func:`hclust.dask.summarize` into at most
    ``n_micro`` micro-clusters, and the tree, the cut (or the choice of k, by
    :func:`hclust.evaluate` with the counts as weights), the stability and the
    assignment rules work on the micro-clusters weighted by their customers. So
    the model's "training rows" are the micro-clusters: ``features_`` holds their
    means, ``weights_`` their counts, ``labels_`` their segments and
    ``row_index_`` is ``0..m-1``; every row's segment is the lazy
    :attr:`row_labels_`. The profile is computed in the table's units on the rows
    (on a seeded sample of 100,000 above that; the sizes and shares are exact);
    the report's per-k profiles describe the micro-clusters' prepared features and
    say that the tree was built from micro-clusters. The held-out check
    (:attr:`assign_check_`) is not run, :meth:`labelled` needs a pandas table, and
    ``weight_column``, Gower and non-Euclidean metrics are refused. A row's
    segment in :attr:`row_labels_` is its micro-cluster's; :meth:`assign` places
    a row by the rule among the micro-clusters, which agrees with it for almost
    every row (the tests measure it).

    Saved format (:meth:`save`), a folder with two files:

    * ``model.json``: ``format`` (``"hclust.SegmentationModel"``),
      ``format_version`` (1), the hclust version and date it was written with,
      the parameters, the fitted preparation (:meth:`Preparer.to_dict`) or
      Gower state, columns, feature names, segment names, the profile, the
      evaluation, the preparation record, the stability, the held-out
      agreement, the report's numbers (:meth:`segmentation_summary`, without
      the linkage matrix) and the SHA-256 of ``arrays.npz``;
    * ``arrays.npz`` (NumPy, no pickles): ``linkage`` (Z), ``labels``,
      ``features``, ``weights`` (when given).

    :meth:`load` refuses a folder whose files are missing, unreadable, of
    another format or a newer version, or whose arrays do not match their
    checksum or each other. Models saved before the preparation record,
    stability and held-out agreement existed load with those set to None;
    those saved before the summary recompute it when a report asks for it.

    Examples
    --------
    >>> from hclust.datasets import load_wholesale
    >>> customers = load_wholesale()
    >>> model = SegmentationModel(4, exclude=["Channel", "Region"]).fit(customers)
    >>> model.n_clusters_
    4
    >>> bool((model.assign(customers)["segment"].to_numpy() == model.labels_).all())
    True
    >>> print(model.summary().lines()[0])
    440 customers, ward linkage on Euclidean distances of the 6 prepared features.
    """

    # fitted attributes that may be None (set by fit or load); the caches of _reset_caches
    preparer_: Preparer | None
    gower_: Gower | None
    preparation_: PreparationRecord | None
    assign_check_: pd.DataFrame | None
    _summary: SegmentationSummary | None
    _lookup: _assign.TrainingLookup | None
    _medoids: IntArray | None
    _grouped: tuple[IntArray, IntArray] | None

    def __init__(
        self,
        n_clusters: int | None = None,
        *,
        height: float | None = None,
        method: str = "ward",
        metric: str = "euclidean",
        columns: Sequence[Any] | None = None,
        exclude: Sequence[Any] | None = None,
        weight_column: Any = None,
        preparer: Preparer | None = None,
        ks: Sequence[int] = range(2, 11),
        min_segment_size: Any = MIN_SEGMENT_SIZE,
        names: Mapping[int, str] | None = None,
        beta: float = -0.25,
        n_boot: int = 20,
        holdout: float | None = 0.2,
        n_jobs: int | None = None,
        n_micro: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.height = height
        self.method = method
        self.metric = metric
        self.columns = columns
        self.exclude = exclude
        self.weight_column = weight_column
        self.preparer = preparer
        self.ks = ks
        self.min_segment_size = min_segment_size
        self.names = names
        self.beta = beta
        self.n_boot = n_boot
        self.holdout = holdout
        self.n_jobs = n_jobs
        self.n_micro = n_micro

    # ------------------------------------------------------------------ fit
    def fit(
        self, df: pd.DataFrame, *, progress: ProgressCallback | None = None, client: Any = None
    ) -> "SegmentationModel":
        """Prepare ``df``, build the tree, cut it, profile the segments and measure them.

        Parameters
        ----------
        df : DataFrame or dask DataFrame
            One row per customer. A dask DataFrame is segmented through the
            summary tier (see the class Notes).
        progress : callable, optional
            ``progress(done, total)`` during the tree build (a dask DataFrame:
            as the cluster finishes the partitions' tasks, pass after pass).
        client : distributed.Client or str, optional
            A dask DataFrame's cluster (a Client or a scheduler address);
            default: the default Client.

        Returns
        -------
        self : SegmentationModel

        Raises
        ------
        ValueError
            Unknown columns or options, too few rows, a bad weight column,
            a linkage that needs Euclidean features with ``metric="gower"``,
            data the preparation refuses, or (automatic k) no k in ``ks`` whose
            segments all meet ``min_segment_size`` (the message says which).
        """
        method = check_option(self.method, "method", METHODS)
        if not isinstance(self.metric, str):
            raise TypeError(f"metric must be a string; got {type(self.metric).__name__}.")
        metric = normalize_metric(self.metric)  # scipy's and scikit-learn's aliases too
        if metric == "gower" and method not in _GOWER_METHODS:
            raise ValueError(
                f"method={method!r} needs Euclidean features, but metric='gower' is not Euclidean; "
                f"use one of {', '.join(_GOWER_METHODS)} (average is the usual choice), or the "
                "default metric on prepared features."
            )
        if self.n_clusters is not None and self.height is not None:
            raise ValueError(
                f"give n_clusters ({self.n_clusters}) or height ({self.height}), not both."
            )
        min_segment_count(self.min_segment_size, 1.0)  # a bad form fails here, before any work
        if not is_integer(self.n_boot) or self.n_boot < 0:
            raise ValueError(f"n_boot must be an integer >= 0 (0: no stability); got {self.n_boot!r}.")
        if self.holdout is not None and not (
            isinstance(self.holdout, (float, int)) and not isinstance(self.holdout, bool) and 0 < self.holdout < 1
        ):
            raise ValueError(f"holdout must be a share in (0, 1), or None to skip the check; got {self.holdout!r}.")
        self.summary_: Any = None
        self.row_labels_: Any = None
        self.n_micro_: int | None = None
        self.within_ss_: FloatArray | None = None
        if not isinstance(df, pd.DataFrame):
            if type(df).__module__.startswith("dask"):  # dask is imported only on this path
                import dask.dataframe as dd

                if isinstance(df, dd.DataFrame):
                    from ..dask._model import fit_dask  # the summary tier: see tests/test_layers.py

                    return fit_dask(self, df, client=client, progress=progress, method=method)
            raise TypeError(f"df must be a pandas or dask DataFrame; got {type(df).__name__}.")
        if client is not None:
            raise ValueError("client= goes with a dask DataFrame; this table is a pandas DataFrame.")
        used, weights, left_out = self._select(df)
        if len(used) < 2:
            raise ValueError(f"need at least 2 customers to segment; the table has {len(used)}.")

        distances: FloatArray | None = None
        if metric == "gower":
            schema = infer_schema(used)
            if not schema.used:
                raise ValueError(
                    f"no usable columns: every column is excluded ({schema.kinds}); name the columns to use."
                )
            n_rows = len(used)
            # one square matrix (criteria, medoids, stability) and, while the tree is
            # built, its condensed upper triangle: 12 bytes per pair of customers
            check_memory(
                12.0 * n_rows * n_rows,
                f"metric='gower' on {n_rows:,} customers (the Gower distance matrix, and its upper "
                "triangle while the tree is built)",
                "Alternatives: segment prepared features instead (the default metric: ward needs no "
                "matrix), hclust.summarize for weighted micro-clusters, or a sample of the customers.",
            )
            self.preparer_ = None
            self.gower_ = Gower(types={c: "ignore" for c in schema.excluded}, n_jobs=self.n_jobs).fit(used)
            features = self.gower_.encoded_
            self.feature_names_ = [str(c) for c in self.gower_.columns_]
            self.row_index_ = used.index
            distances = self.gower_.pairwise()
            data: Any = distances
            estimator_metric = "precomputed"
            profile_schema = schema
            self.preparation_ = _gower_record(self.gower_, schema, left_out, len(used))
        else:
            self.gower_ = None
            base = self.preparer if self.preparer is not None else Preparer()
            if not isinstance(base, Preparer):
                raise TypeError(f"preparer must be a hclust.segment.Preparer; got {type(base).__name__}.")
            self.preparer_ = Preparer(**_preparer_params(base))
            prepared = self.preparer_.fit_transform(used)
            features = np.ascontiguousarray(prepared.to_numpy(dtype=np.float64))
            self.feature_names_ = [str(c) for c in prepared.columns]
            self.row_index_ = prepared.index
            data = features
            estimator_metric = metric
            profile_schema = self.preparer_.schema_
            record = self.preparer_.record(excluded=left_out)
            d = features.shape[1]
            distance = (
                f"{'Euclidean' if metric == 'euclidean' else metric} distances of the "
                f"{d} prepared feature{'s' if d != 1 else ''}"
            )
            self.preparation_ = dataclasses.replace(record, distance=distance)
        if weights is not None:
            weights = weights[used.index.get_indexer(self.row_index_)]
        n = features.shape[0]
        if n < 2:
            raise ValueError(f"need at least 2 customers to segment; {n} remain after preparation.")

        Z = linkage(
            data,
            method,
            "precomputed" if estimator_metric == "precomputed" else metric,
            weights=weights,
            beta=self.beta,
            n_jobs=self.n_jobs,
            progress=progress,
        )
        self.columns_ = list(used.columns)
        self.features_ = features
        self.weights_ = weights
        self.linkage_matrix_ = Z
        self.evaluation_: Evaluation | None = None
        if self.n_clusters is not None:
            labels = cut(Z, n_clusters=_check_k(self.n_clusters, n))
        elif self.height is not None:
            labels = cut(Z, height=self.height)
        else:
            self.evaluation_ = self._evaluate(self.ks, distances=distances)
            k = self.evaluation_.recommended_k
            if k is None:
                total = float(n if weights is None else weights.sum())
                raise ValueError(_no_k_message(self.evaluation_, method, self.preparation_.distance, total))
            labels = cut(Z, n_clusters=k)

        self._set_estimator(method, estimator_metric, data, labels)
        segmented = used.loc[self.row_index_]
        self.profile_ = profile(segmented, labels, schema=profile_schema, names=self.names)
        self.names_ = dict(self.profile_.names)
        self._training = segmented
        self.id_column_ = _id_column(df, self.preparer_)
        self._training_ids = _row_ids(df, self.id_column_, self.row_index_)
        self._reset_caches()
        if distances is not None:
            self._medoids = _assign.medoids(lambda r, m: distances[np.ix_(r, m)], self.labels_, self.n_clusters_)
        self.stability_ = self._stability(method, data, distances) if self.n_boot else None
        self.assign_check_ = None
        if self.holdout is not None and _HOLDOUT_MIN_ROWS <= n <= _HOLDOUT_MAX_ROWS and self.n_clusters_ >= 2:
            self.assign_check_ = self.check_assign(df, holdout=float(self.holdout))
        return self

    def _select(self, df: pd.DataFrame) -> tuple[pd.DataFrame, FloatArray | None, dict[str, str]]:
        """The columns to segment on, the weights (validated), and the columns left out -> why."""
        if df.shape[0] == 0:
            raise ValueError("the table has no rows.")
        available = list(df.columns)
        for name, group in (("columns", self.columns), ("exclude", self.exclude)):
            if group is None:
                continue
            if isinstance(group, (str, bytes)):
                raise TypeError(f"{name} must be a list of column names, not a string; got {group!r}.")
            unknown = [c for c in group if c not in available]
            if unknown:
                raise ValueError(f"{name} names unknown column(s) {unknown}; the table has {available}.")
        weights = None
        if self.weight_column is not None:
            if self.weight_column not in available:
                raise ValueError(
                    f"weight_column {self.weight_column!r} is not a column; the table has {available}."
                )
            raw = pd.to_numeric(df[self.weight_column], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(raw) | (raw <= 0)
            if bad.any():
                row = df.index[int(np.flatnonzero(bad)[0])]
                raise ValueError(
                    f"weight column {self.weight_column!r} must hold positive numbers; {int(bad.sum())} rows "
                    f"do not (first: row {row!r}, value {df[self.weight_column].loc[row]!r})."
                )
            weights = raw
        chosen = list(self.columns) if self.columns is not None else available
        skip = set(self.exclude or ())
        left_out: dict[str, str] = {}
        if self.weight_column is not None:
            skip.add(self.weight_column)
        for col in available:
            if col == self.weight_column:
                left_out[str(col)] = "the weight column"
            elif col in skip:
                left_out[str(col)] = "excluded by you"
            elif col not in chosen:
                left_out[str(col)] = "not in columns"
        chosen = [c for c in chosen if c not in skip]
        if not chosen:
            raise ValueError("no columns left to segment on after columns/exclude/weight_column.")
        return df[chosen], weights, left_out

    # ------------------------------------------------------------------ criteria
    @renamed_keywords(metrics="criteria")
    def evaluate(
        self,
        ks: Sequence[int] | None = None,
        *,
        criteria: Sequence[str] | None = None,
        sample_size: int | None = None,
    ) -> Evaluation:
        """Score the cuts of this model's tree on the distances the tree was built on.

        Parameters
        ----------
        ks : sequence of int, optional
            Numbers of segments (default: the model's ``ks``).
        criteria : sequence of str, optional
            Validity indices, of :data:`hclust.select.CRITERIA` (default: all that apply; the
            gap statistic only for Euclidean features). ``metrics=``, the old name, works
            until hclust 0.3 with a FutureWarning.
        sample_size : int, optional
            Rows for the silhouette (and, for other distances, every criterion); see
            :func:`hclust.evaluate`.

        Returns
        -------
        Evaluation
            With the model's ``min_segment_size`` and weights, and the distances named.
        """
        self._check_fitted()
        return self._evaluate(self.ks if ks is None else ks, criteria=criteria, sample_size=sample_size)

    def _evaluate(
        self,
        ks: Sequence[int],
        *,
        distances: FloatArray | None = None,
        criteria: Sequence[str] | None = None,
        sample_size: int | None = None,
    ) -> Evaluation:
        n = self.features_.shape[0]
        candidates = sorted({int(k) for k in ks if 2 <= int(k) <= n})
        if not candidates:
            raise ValueError(f"ks={list(ks)!r} has no number of segments in 2..{n}.")
        preparation = getattr(self, "preparation_", None)
        common: dict[str, Any] = {
            "min_segment_size": self.min_segment_size,
            "weights": self.weights_,
            "sample_size": sample_size,
            "distance_name": preparation.distance if preparation is not None else None,
        }
        without_gap = tuple(m for m in (criteria or CRITERIA) if m != "gap")
        if self.gower_ is not None:
            D = self.gower_.pairwise() if distances is None else distances
            return evaluate(self.linkage_matrix_, D, candidates, metric="precomputed", criteria=without_gap, **common)
        if self.metric != "euclidean":
            return evaluate(self.linkage_matrix_, self.features_, candidates, metric=self.metric,
                            criteria=without_gap, **common)
        method = self.method if self.method in ("ward", "average", "complete", "single") else "ward"
        return evaluate(
            self.linkage_matrix_, self.features_, candidates, method=method, criteria=tuple(criteria or CRITERIA),
            gap_sample_size=min(n, 2000), within_ss=getattr(self, "within_ss_", None), **common,
        )

    def _stability(self, method: str, data: Any, distances: FloatArray | None) -> pd.DataFrame | None:
        n = self.features_.shape[0]
        fraction = min(0.8, _STABILITY_MAX_ROWS / n)  # large tables: subsamples of at most 1,000 rows
        if self.n_clusters_ > int(round(fraction * n)):
            return None
        table = stability(
            data,
            method,
            n_clusters=self.n_clusters_,
            n_boot=int(self.n_boot),
            labels=self.labels_,
            metric="precomputed" if distances is not None else self.metric,
            weights=self.weights_,
            sample_fraction=fraction,
            random_state=0,
        )
        return table

    def _set_estimator(self, method: str, metric: str, data: Any, labels: IntArray) -> None:
        metric = normalize_metric(metric)
        estimator = HierarchicalClustering(
            int(labels.max()) + 1, linkage=method, metric=metric, beta=self.beta, n_jobs=self.n_jobs
        )
        n = labels.shape[0]
        if metric == "precomputed":
            # predict needs only the labels; do not keep an n x n matrix alive
            data = np.broadcast_to(np.float64(0.0), (n, n))
        estimator.n_features_in_ = data.shape[1]
        estimator._adopt_tree(data, self.linkage_matrix_, labels, self.weights_)
        self.estimator_ = estimator
        self.labels_ = estimator.labels_
        self.n_clusters_ = estimator.n_clusters_

    def _reset_caches(self) -> None:
        self._summary = None
        self._lookup = None
        self._medoids = None
        self._grouped = None

    # ------------------------------------------------------------------ use
    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise RuntimeError("This SegmentationModel is not fitted yet; call fit(df) or load a saved model.")

    def _new_rows(self, new_df: pd.DataFrame) -> tuple[pd.DataFrame, FloatArray, IntArray]:
        """The model's columns of ``new_df`` (positional index), their encoded rows, and the
        positions of the rows that survive the preparation."""
        self._check_fitted()
        if not isinstance(new_df, pd.DataFrame):
            raise TypeError(f"new_df must be a pandas DataFrame; got {type(new_df).__name__}.")
        missing = [c for c in self.columns_ if c not in new_df.columns]
        if missing:
            raise ValueError(
                f"the new customers lack the model's column(s) {missing}; it needs {self.columns_}."
            )
        frame = new_df[self.columns_].reset_index(drop=True)
        if len(frame) == 0:
            return frame, np.empty((0, self.features_.shape[1])), np.empty(0, dtype=np.int64)
        if self.gower_ is not None:
            return frame, self.gower_.transform(frame), np.arange(len(frame))
        assert self.preparer_ is not None
        prepared = self.preparer_.transform(frame)
        return frame, prepared.to_numpy(dtype=np.float64), prepared.index.to_numpy(dtype=np.int64)

    def join_heights(self, new_df: pd.DataFrame) -> pd.DataFrame:
        """Join height of each new customer to every segment (columns = segment labels).

        The linkage's own rule (see :meth:`hclust.HierarchicalClustering.join_heights`).
        Rows the preparation drops (``impute="drop"`` and missing values) are NaN.
        """
        frame, rows, kept = self._new_rows(new_df)
        out = np.full((len(frame), self.n_clusters_), np.nan)
        if len(kept):
            out[kept] = self._linkage_heights(frame.iloc[kept], rows)
        return pd.DataFrame(out, index=new_df.index, columns=range(self.n_clusters_))

    def _linkage_heights(self, frame: pd.DataFrame, rows: FloatArray) -> FloatArray:
        if self.gower_ is not None:
            out = np.empty((len(frame), self.n_clusters_))
            for part in _assign.row_blocks(len(frame), self.features_.shape[0]):
                out[part] = self.estimator_.join_heights(self.gower_.cdist(frame.iloc[part]))
            return out
        return self.estimator_.join_heights(rows)

    def _distances(self, frame: pd.DataFrame, rows: FloatArray, columns: IntArray | None = None) -> FloatArray:
        """Distances of new rows to the training rows (or to the training rows ``columns``)."""
        if self.gower_ is not None:
            D = self.gower_.cdist(frame)
            return D if columns is None else D[:, columns]
        from ..metrics import cdist

        reference = self.features_ if columns is None else self.features_[columns]
        return cdist(rows, reference, self.metric, n_jobs=self.n_jobs, **self._metric_kwargs())

    def _metric_kwargs(self) -> dict[str, Any]:
        # the parameters the tree's distances used, estimated from the training rows
        if self.metric == "seuclidean":
            return {"V": np.var(self.features_, axis=0, ddof=1)}
        if self.metric == "mahalanobis":
            return {"VI": np.linalg.inv(np.cov(self.features_, rowvar=False))}
        return {}

    def _centres(self) -> tuple[str, Any]:
        """("mean", centroids) for Euclidean trees, else ("medoid", training rows)."""
        if self.gower_ is None and self.metric == "euclidean":
            return "mean", self.estimator_.centroids_
        if getattr(self, "_medoids", None) is None:
            if self.gower_ is not None:
                D = self.gower_.pairwise()
                self._medoids = _assign.medoids(lambda r, m: D[np.ix_(r, m)], self.labels_, self.n_clusters_)
            else:
                from ..metrics import cdist

                kwargs = self._metric_kwargs()
                F = self.features_
                self._medoids = _assign.medoids(
                    lambda r, m: cdist(F[r], F[m], self.metric, n_jobs=self.n_jobs, **kwargs),
                    self.labels_,
                    self.n_clusters_,
                )
        return "medoid", self._medoids

    def assign(
        self, new_df: pd.DataFrame, *, rule: str = DEFAULT_RULE, n_neighbors: int | None = None
    ) -> pd.DataFrame:
        """Assign customers to the fitted segments.

        Parameters
        ----------
        new_df : DataFrame or dask.dataframe.DataFrame
            Customers with (at least) the model's :attr:`columns_`. A dask
            DataFrame gives a lazy dask DataFrame with the same partitions:
            each partition is assigned on its worker as a pandas frame would
            be (the model travels to each worker once).
        rule : {"nearest", "linkage", "centroid"}, default="nearest"
            How a customer who is not identical to a training customer is placed
            (see the class Notes); identical ones always get the training segment.
        n_neighbors : int, optional
            Training customers that vote with ``rule="nearest"``: default 15; 1
            for a model built from micro-clusters (:attr:`n_micro_`), whose
            "training customers" are micro-clusters: a row gets the segment of
            the nearest micro-cluster, as the summary placed it (almost always).

        Returns
        -------
        DataFrame, with the index of ``new_df`` and the columns
            ``segment`` (int; -1 for a row the preparation drops),
            ``segment_name``, ``distance`` (see the class Notes), ``confidence``
            (in [0, 1]; 1 for a known customer), ``runner_up`` (the next
            segment by the rule, -1 when there is one segment) and ``known``
            (True when the row is identical to a training customer).

        Examples
        --------
        >>> from hclust.datasets import load_wholesale
        >>> customers = load_wholesale()
        >>> model = SegmentationModel(4, exclude=["Channel", "Region"], holdout=None).fit(customers)
        >>> new = customers.head(3).assign(Fresh=lambda t: t["Fresh"] + 1)   # not seen in training
        >>> out = model.assign(new)
        >>> out["segment"].tolist() == model.labels_[:3].tolist(), bool(out["known"].any())
        (True, False)
        >>> model.assign(customers.head(3), rule="linkage")["known"].tolist()   # training customers
        [True, True, True]
        """
        rule = check_option(rule, "rule", ASSIGN_RULES)
        if n_neighbors is None:
            n_neighbors = DEFAULT_NEIGHBORS if getattr(self, "n_micro_", None) is None else 1
        if not is_integer(n_neighbors) or n_neighbors < 1:
            raise ValueError(f"n_neighbors must be a positive integer; got {n_neighbors!r}.")
        if type(new_df).__module__.startswith("dask"):  # dask is imported only on this path
            return _assign_dask(self, new_df, rule, int(n_neighbors))
        frame, rows, kept = self._new_rows(new_df)
        n_rows, k = len(frame), self.n_clusters_
        segment = np.full(n_rows, -1, dtype=np.int64)
        runner = np.full(n_rows, -1, dtype=np.int64)
        distance = np.full(n_rows, np.nan)
        confidence = np.full(n_rows, np.nan)
        known = np.zeros(n_rows, dtype=bool)
        if len(kept):
            if self._lookup is None:
                self._lookup = _assign.TrainingLookup.build(self.features_, self.labels_, self.weights_)
            match = self._lookup.find(rows)
            kept_frame = frame.iloc[kept]
            for part in _assign.row_blocks(len(kept), self.features_.shape[0]):
                seg, dist, conf, run, per_segment = self._apply_rule(
                    rule, kept_frame.iloc[part], rows[part], int(n_neighbors)
                )
                hit = match[part] >= 0
                if hit.any():
                    # a training customer: its own segment; the runner-up is the rule's best other one
                    mine = match[part][hit]
                    seg[hit] = mine
                    dist[hit] = per_segment[hit, mine]
                    conf[hit] = 1.0
                    if k > 1:
                        others = per_segment[hit].copy()
                        others[np.arange(others.shape[0]), mine] = np.inf
                        run[hit] = np.argmin(others, axis=1)
                where = kept[part]
                segment[where], distance[where], confidence[where], runner[where] = seg, dist, conf, run
                known[where] = hit
        names = [self.names_.get(int(s), "") if s >= 0 else "" for s in segment]
        return pd.DataFrame(
            {
                "segment": segment,
                "segment_name": names,
                "distance": distance,
                "confidence": confidence,
                "runner_up": runner,
                "known": known,
            },
            index=new_df.index,
        )

    def _apply_rule(
        self, rule: str, frame: pd.DataFrame, rows: FloatArray, n_neighbors: int
    ) -> tuple[IntArray, FloatArray, FloatArray, IntArray, FloatArray]:
        """(segment, distance, confidence, runner-up, per-segment distance) for a block of rows."""
        if rule == "linkage":
            heights = self._linkage_heights(frame, rows)
            return (*_assign.by_smallest(heights), heights)
        if rule == "centroid":
            kind, centres = self._centres()
            if kind == "mean":
                from ..metrics import cdist

                scores = cdist(rows, centres, "euclidean", n_jobs=self.n_jobs)
            else:
                scores = self._distances(frame, rows, centres)
            return (*_assign.by_smallest(scores), scores)
        if self._grouped is None:
            self._grouped = _assign.segment_order(self.labels_, self.n_clusters_)
        D = self._distances(frame, rows)
        seg, dist, conf, run = _assign.nearest_vote(D, self.labels_, self.weights_, self._grouped, n_neighbors)
        order, starts = self._grouped
        closest = np.minimum.reduceat(D[:, order], starts, axis=1)
        return seg, dist, conf, run, closest

    def check_assign(
        self,
        df: pd.DataFrame,
        *,
        holdout: float = 0.2,
        rules: Sequence[str] = ASSIGN_RULES,
        random_state: int = 0,
    ) -> pd.DataFrame:
        """How well each assignment rule reproduces this model's segments for unseen customers.

        Fits the same model (same k) on a random ``1 - holdout`` of the segmented
        customers, assigns the held-out ones with each rule, and compares with the
        segments this model (fitted on every row) gave them, by the adjusted Rand
        index. ``fit`` runs it (tables up to 20,000 rows) and keeps the result in
        :attr:`assign_check_`.

        Parameters
        ----------
        df : DataFrame
            The training table (the one given to ``fit``).
        holdout : float, default=0.2
            Share of the customers held out, in (0, 1).
        rules : sequence of str, default=all rules
        random_state : int, default=0
            Seed of the split.

        Returns
        -------
        DataFrame
            ``rule, held_out_ari``; ``attrs`` holds ``holdout``, ``rows`` (held-out
            customers), ``seed`` and ``fit_ari`` (the adjusted Rand index of the two
            fits' segments on the customers they share: what limits every rule).
        """
        from sklearn.metrics import adjusted_rand_score

        self._check_fitted()
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}.")
        if not (0 < float(holdout) < 1):
            raise ValueError(f"holdout must be a share in (0, 1); got {holdout!r}.")
        rules = [check_option(r, "rule", ASSIGN_RULES) for r in rules]
        positions = df.index.get_indexer(self.row_index_)
        if df.index.has_duplicates or (positions < 0).any():
            raise ValueError("df must be the table the model was fitted on (its index holds the segmented rows).")
        n = positions.shape[0]
        rng = np.random.default_rng(random_state)
        test = np.zeros(n, dtype=bool)
        test[rng.choice(n, size=max(1, int(round(holdout * n))), replace=False)] = True
        part = SegmentationModel(
            self.n_clusters_,
            method=self.method,
            metric=self.metric,
            columns=self.columns_,
            weight_column=self.weight_column,
            preparer=self._base_preparer(),
            beta=self.beta,
            n_boot=0,
            holdout=None,
            n_jobs=self.n_jobs,
        )
        results = []
        fit_ari: float | None = None
        try:
            with warnings.catch_warnings():
                # the same data notes were already given by the full fit
                warnings.simplefilter("ignore")
                part.fit(df.iloc[positions[~test]])
                shared = self.labels_[~test][np.isin(self.row_index_[~test], part.row_index_)]
                fit_ari = float(adjusted_rand_score(shared, part.labels_))
                held = df.iloc[positions[test]]
                for rule in rules:
                    got = part.assign(held, rule=rule)["segment"].to_numpy()
                    ok = got >= 0
                    results.append((rule, float(adjusted_rand_score(self.labels_[test][ok], got[ok]))))
        except ValueError as exc:  # e.g. a column constant in the sample; say so rather than fail the fit
            results = [(rule, math.nan) for rule in rules]
            fit_ari = None
            note = str(exc).splitlines()[0]
        else:
            note = ""
        table = pd.DataFrame(results, columns=["rule", "held_out_ari"])
        table.attrs.update(
            {"holdout": float(holdout), "rows": int(test.sum()), "seed": int(random_state), "fit_ari": fit_ari,
             "note": note}
        )
        return table

    def _base_preparer(self) -> Preparer | None:
        """The unfitted preparation of this model (a loaded model rebuilds it from the fitted one)."""
        if self.gower_ is not None:
            return None
        if self.preparer is not None:
            return self.preparer
        assert self.preparer_ is not None
        params = _preparer_params(self.preparer_)
        params["schema"] = None if self.preparer_.schema is None else self.preparer_.schema
        return Preparer(**params)

    def labelled(self, df: pd.DataFrame | None = None) -> pd.DataFrame:
        """The training table (or ``df``, the same rows) with ``segment`` and ``segment_name`` added.

        Rows the preparation dropped get segment -1 and an empty name. A model built from
        micro-clusters (a dask DataFrame's fit) has no rows to label: use :attr:`row_labels_`
        or :meth:`assign`.
        """
        self._check_fitted()
        self._refuse_micro("labelled()")
        if df is None:
            if getattr(self, "_training", None) is None:
                raise ValueError("a loaded model does not keep the training table; pass it as df.")
            df = self._training
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}.")
        segment = pd.Series(-1, index=df.index, dtype=np.int64)
        known = df.index.isin(self.row_index_)
        if df.index.has_duplicates or known.sum() != len(self.row_index_):
            raise ValueError(
                f"df does not hold the {len(self.row_index_)} segmented rows by their index; pass the "
                "table the model was fitted on (or use assign() for other customers)."
            )
        segment.loc[self.row_index_] = self.labels_
        out = df.copy()
        for column in ("segment", "segment_name"):
            if column in out.columns:
                raise ValueError(f"the table already has a {column!r} column; rename or drop it first.")
        out["segment"] = segment.to_numpy()
        out["segment_name"] = [self.names_.get(int(s), "") if s >= 0 else "" for s in out["segment"]]
        return out

    def rename(self, names: Mapping[int, str]) -> "SegmentationModel":
        """Replace segment names (the others keep theirs); returns self."""
        self._check_fitted()
        self.profile_ = self.profile_.rename(names)
        self.names_ = dict(self.profile_.names)
        if self._summary is not None:
            self._summary = self._summary.rename(self.names_)
        return self

    def summary(self, n_features: int = 3) -> ModelSummary:
        """What the model is: data, preparation, how k was chosen, segments with stability, assignment.

        Parameters
        ----------
        n_features : int, default=3
            Distinguishing features listed per segment.

        Returns
        -------
        ModelSummary
            ``print(model.summary())`` reads it; ``.segments`` is the segment table
            (``segment, name, size, share, stability, top_features``).
        """
        self._check_fitted()
        segments = self.profile_.summary(n_features)
        sizes = np.bincount(self.labels_, weights=self.weights_, minlength=self.n_clusters_)
        total = float(sizes.sum())
        segments["size"] = [int(round(v)) for v in sizes[segments["segment"].to_numpy()]]
        segments["share"] = sizes[segments["segment"].to_numpy()] / total
        table = getattr(self, "stability_", None)
        segments.insert(
            4,
            "stability",
            [float(table.loc[s, "jaccard_mean"]) if table is not None else math.nan for s in segments["segment"]],
        )
        preparation = getattr(self, "preparation_", None)
        distance = preparation.distance if preparation is not None else (
            "Gower distances" if self.gower_ is not None else f"{self.metric} distances of the prepared features"
        )
        data = {
            "rows": int(total) if self.weights_ is not None else int(self.features_.shape[0]),
            "method": self.method,
            "metric": self.metric,
            "distance": distance,
            "n_features": len(self.feature_names_),
            "features": list(self.feature_names_),
            "weights": self.weight_column,
            "micro_clusters": getattr(self, "n_micro_", None),
        }
        return ModelSummary(
            segments=segments,
            data=data,
            preparation=preparation,
            choice_of_k=self._choice_lines(),
            evaluation=self.evaluation_,
            stability=table,
            assignment=getattr(self, "assign_check_", None),
        )

    def _choice_lines(self) -> list[str]:
        if self.n_clusters is not None:
            return [f"k={self.n_clusters_} given (n_clusters={self.n_clusters})."]
        if self.height is not None:
            return [f"The tree cut at height {self.height:g} gives k={self.n_clusters_}."]
        lines = [f"k={self.n_clusters_} chosen automatically among ks={_k_text(self.ks)}:"]
        if self.evaluation_ is not None:
            lines += list(self.evaluation_.reasons)
        return lines

    def segmentation_summary(
        self,
        df: pd.DataFrame | None = None,
        *,
        ks: Sequence[int] | None = None,
        evaluation: Evaluation | None = None,
        params: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
        ids: Sequence[Any] | None = None,
        id_name: str | None = None,
    ) -> SegmentationSummary:
        """Every number the model's report shows (see :class:`~hclust.segment.SegmentationSummary`).

        Computed once and kept: the report, the static charts and :meth:`save` (which
        stores it with the model) use the same summary, and a loaded model reports
        without its table. The segments are profiled in the training table's units: a
        fitted model keeps the table; a model loaded from a folder saved before hclust
        stored summaries needs it passed as ``df`` (without it, the profiles describe the
        prepared features).

        Parameters
        ----------
        df : DataFrame, optional
            The training table (only needed as said above; checked when given).
        ks, evaluation, params, details, ids, id_name
            As :func:`~hclust.segment.segmentation_summary`; defaults: ``ks`` 2..12, the
            criteria this model's choice of k used (else computed on the model's own
            distances), the model's parameters and details, the table's ID column (or
            row labels). Passing any of them computes a new summary, not kept.

        Returns
        -------
        SegmentationSummary

        Examples
        --------
        >>> from hclust.datasets import load_wholesale
        >>> model = SegmentationModel(4, exclude=["Channel", "Region"], n_boot=0, holdout=None)
        >>> summary = model.fit(load_wholesale()).segmentation_summary()
        >>> summary.n_clusters, summary.chosen.sizes == model.profile_.sizes["size"].tolist()
        (4, True)
        >>> model.segmentation_summary() is summary  # computed once
        True
        """
        self._check_fitted()
        options = {"ks": ks, "evaluation": evaluation, "params": params, "details": details, "ids": ids,
                   "id_name": id_name}
        kept = not any(value is not None for value in options.values())
        frame = self._report_frame(df)  # a table passed must be the training table, even when unused
        if kept and self._summary is not None:
            return self._summary
        if kept and getattr(self, "n_micro_", None) is not None and df is None:
            self._summary = self._micro_summary()
            return self._summary
        if evaluation is None:
            evaluation = self.evaluation_
            if evaluation is None:
                # criteria on the distances this model uses, for the ks the summary offers
                n = self.features_.shape[0]
                wanted = sorted({int(k) for k in (ks or range(2, min(12, n) + 1))} | {self.n_clusters_})
                evaluation = self._evaluate(
                    [k for k in wanted if 2 <= k <= n], criteria=CHEAP_CRITERIA, sample_size=min(n, SILHOUETTE_SAMPLE)
                )
        if ids is None:
            if df is not None:
                found = _row_ids(df, getattr(self, "id_column_", None), self.row_index_)
            else:
                found = getattr(self, "_training_ids", None)
            if found is not None:
                ids, id_name = found[0], id_name if id_name is not None else found[1]
        summary = segmentation_summary(
            self.linkage_matrix_,
            self._picture_features(frame),
            frame,
            n_clusters=self.n_clusters_,
            ks=ks,
            # the one-hot view drawn for Gower has its own columns
            feature_names=list(self.feature_names_) if self.gower_ is None or frame is None else None,
            names=self.names_,
            evaluation=evaluation,
            params=self._params_summary() if params is None else params,
            details=self._report_details() if details is None else details,
            ids=ids,
            id_name=id_name,
        )
        if kept and frame is not None:  # a summary of the features alone is not kept
            self._summary = summary
        return summary

    def report(self, path: str | os.PathLike[str], df: pd.DataFrame | None = None, **options: Any) -> Path:
        """Write the HTML report of :meth:`segmentation_summary` (see :func:`hclust.report.write_report`).

        The report shows the criteria this model's choice of k used (computed on the
        model's own distances when k was given), its features, its preparation and the
        stability of its segments; its "Download labels (CSV)" names each customer by the
        table's ID column (:attr:`id_column_`, when the table has one) or its row label.
        ``df`` is the training table, needed only by a loaded model saved without a
        summary. ``options``: ``title`` and ``escape_formulas`` go to
        :func:`~hclust.report.write_report`, the others (``ks``, ``evaluation``,
        ``params``, ``details``, ``ids``, ``id_name``) to :meth:`segmentation_summary`.
        """
        from ..report import write_report  # the renderer: documented exception of tests/test_layers.py

        render, summary_options = _split_options(options, ("title", "escape_formulas"))
        return write_report(path, self.segmentation_summary(df, **summary_options), **render)

    def report_static(
        self, folder: str | os.PathLike[str], df: pd.DataFrame | None = None, *, fmt: str = "png", **options: Any
    ) -> list[Path]:
        """The report's charts as matplotlib files (see :func:`hclust.report.write_static`).

        ``options``: ``title`` and ``dpi`` go to :func:`~hclust.report.write_static`, the
        others to :meth:`segmentation_summary`.
        """
        from ..report import write_static  # the renderer: documented exception of tests/test_layers.py

        render, summary_options = _split_options(options, ("title", "dpi"))
        return write_static(folder, self.segmentation_summary(df, **summary_options), fmt=fmt, **render)

    def _micro_summary(self) -> SegmentationSummary:
        """The report's numbers for a model built from micro-clusters: the profiles describe the
        micro-clusters' prepared features, each segment's size counts customers."""
        m = self.features_.shape[0]
        evaluation = self.evaluation_
        if evaluation is None:
            wanted = sorted({*range(2, min(12, m) + 1), self.n_clusters_})
            evaluation = self._evaluate([k for k in wanted if 2 <= k <= m], criteria=CHEAP_CRITERIA,
                                        sample_size=min(m, SILHOUETTE_SAMPLE))
        params = self._params_summary()
        params["Built from"] = f"{m:,} micro-clusters (the summary tier, hclust.dask.summarize)"
        summary = self.segmentation_summary(evaluation=evaluation, params=params, details=self._report_details())
        assert self.weights_ is not None  # (the micro-clusters' counts)
        total = float(self.weights_.sum())
        order = _cut_order(self.linkage_matrix_)
        cuts = {}
        for k, cut_summary in summary.cuts.items():
            labels = cut(self.linkage_matrix_, n_clusters=k)
            sizes = np.bincount(labels, weights=self.weights_, minlength=k)
            # each segment of the report's numbering is one segment of cut()'s
            report_labels = np.asarray(order.labels(k)[0])
            first = [int(labels[np.flatnonzero(report_labels == s)[0]]) for s in range(k)]
            cuts[k] = dataclasses.replace(cut_summary, sizes=[int(round(sizes[s])) for s in first],
                                          shares=[float(sizes[s] / total) for s in first])
        return dataclasses.replace(summary, cuts=cuts)

    def _report_details(self) -> dict[str, Any]:
        """What the report says about this model beyond the tree: features, preparation, stability."""
        summary = self.summary()
        stability_by_segment = (
            None if self.stability_ is None else [round(float(v), 4) for v in self.stability_["jaccard_mean"]]
        )
        return {
            "clustering_features": list(self.feature_names_),
            "distance": summary.data["distance"],
            "preparation": [] if summary.preparation is None else summary.preparation.lines(),
            "choice_of_k": summary.choice_of_k,
            "stability": stability_by_segment,
            "stability_note": None if self.stability_ is None else (
                f"mean Jaccard over {self.stability_.attrs.get('n_boot')} subsamples of "
                f"{self.stability_.attrs.get('sample_fraction', 0.8):.0%}"
            ),
            "assignment": _assignment_lines(summary.assignment, summary.data.get("micro_clusters")),
        }

    def _refuse_micro(self, what: str) -> None:
        """A clear error where a table's rows would be matched to a model built from micro-clusters."""
        m = getattr(self, "n_micro_", None)
        if m is not None:
            raise ValueError(
                f"{what}: this model was built from {m:,} micro-clusters (a dask DataFrame's fit), not from "
                "the rows of a table; use row_labels_ (every row's segment, lazily) or assign(table)."
            )

    def _report_frame(self, df: pd.DataFrame | None) -> pd.DataFrame | None:
        """The segmented rows of the training table, in the model's columns."""
        if df is not None:
            self._refuse_micro("the training table (df)")
        frame = df if df is not None else getattr(self, "_training", None)
        if frame is None:
            return None
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"df must be a pandas DataFrame; got {type(frame).__name__}.")
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise ValueError(f"the table lacks the model's column(s) {missing}; pass the training table.")
        if len(frame) != len(self.row_index_):
            if frame.index.isin(self.row_index_).sum() != len(self.row_index_):
                raise ValueError(
                    f"the table does not hold the model's {len(self.row_index_)} segmented rows; pass the "
                    "training table."
                )
            frame = frame.loc[self.row_index_]
        return frame[self.columns_]

    def _picture_features(self, frame: pd.DataFrame | None) -> Any:
        """Numeric features for pictures (PCA): the prepared ones, or a one-hot view (a
        DataFrame, with its feature names) for Gower."""
        if self.gower_ is None:
            return self.features_
        if frame is None:
            return np.nan_to_num(self.features_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            return Preparer().fit_transform(frame)

    def _params_summary(self) -> dict[str, Any]:
        """The report's parameter rows that the page does not show already (rows, k, version)."""
        params: dict[str, Any] = {
            "Linkage": self.method,
            "Distance": self.metric,
            "Cut": (
                f"{self.n_clusters} segments" if self.n_clusters is not None
                else f"at height {self.height}" if self.height is not None
                else "automatic (hclust.evaluate)"
            ),
            "Minimum segment size": (
                str(self.evaluation_.min_segment_size) if self.evaluation_ is not None else "n/a (k given)"
            ),
            "Columns used": ", ".join(str(c) for c in self.columns_),
        }
        if self.weight_column is not None:
            params["Weight column"] = str(self.weight_column)
        if getattr(self, "id_column_", None) is not None:
            params["ID column"] = str(self.id_column_)
        return params

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the model in a folder (``model.json`` + one ``arrays-<hash>.npz``), crash-safe.

        Parameters
        ----------
        path : path-like
            The model folder: created when missing; an existing folder must
            hold nothing but a saved hclust model (which is replaced) or be
            empty; ``"."`` saves into the current folder under the same rule.
            A symbolic link is followed on purpose: the folder it points to is
            updated and the link stays.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        ValueError
            ``path`` is a file, or a folder holding files that are not part of
            a model (they are listed; nothing was written).

        Notes
        -----
        The arrays are written under a name derived from their SHA-256, then
        ``model.json`` (which names them) replaces the old one with a rename:
        that rename is the moment the new model takes effect, so a crash at
        any point (even ``kill -9`` or a power cut: files and folder are
        fsynced) leaves the old model or the new one, never a mix nor none. A
        new folder is filled under a temporary name and renamed into place.
        The next save removes what an interrupted one left (temporary files,
        unreferenced arrays, staging folders of dead processes, and those left
        by earlier hclust versions); a model left under ``.NAME.old-PID`` by an
        earlier version's interrupted save is put back by the next save or
        load. Saves to the same folder from several processes take turns (a
        ``flock`` on the folder).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from hclust.datasets import load_wholesale
        >>> model = SegmentationModel(3, exclude=["Channel", "Region"]).fit(load_wholesale())
        >>> folder = model.save(pathlib.Path(tempfile.mkdtemp()) / "model")
        >>> sorted(p.suffix for p in folder.iterdir())
        ['.json', '.npz']
        >>> SegmentationModel.load(folder).n_clusters_
        3
        """
        self._check_fitted()
        target = Path(path)
        # what the report shows, saved so that a loaded model reports without its table
        summary = self._summary
        if summary is None and (self._training is not None or getattr(self, "n_micro_", None) is not None):
            try:
                summary = self.segmentation_summary()
            except (ValueError, TypeError):  # nothing a report can show (e.g. no profilable column):
                summary = None  # the model is saved all the same; its report says why, when asked for
        # Any values: mypy would match a dict of arrays against savez's allow_pickle: bool too
        arrays: dict[str, Any] = {
            "linkage": self.linkage_matrix_,
            "labels": self.labels_,
            "features": self.features_,
        }
        if self.weights_ is not None:
            arrays["weights"] = self.weights_
        if getattr(self, "within_ss_", None) is not None:
            arrays["within_ss"] = self.within_ss_
        for name, array in arrays.items():  # np.savez pickles object arrays (and numpy < 2.1
            if np.asarray(array).dtype.hasobject:  # has no allow_pickle argument): refuse them here
                raise TypeError(f"cannot save the model: its {name!r} array holds Python objects")
        buffer = _io.BytesIO()
        np.savez(buffer, **arrays)
        blob = buffer.getvalue()
        digest = hashlib.sha256(blob).hexdigest()
        arrays_name = f"arrays-{digest[:16]}.npz"
        document = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "hclust_version": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "arrays": {"file": arrays_name, "sha256": digest, "names": sorted(arrays)},
            "params": {
                "n_clusters": self.n_clusters,
                "height": self.height,
                "method": self.method,
                "metric": self.metric,
                "beta": float(self.beta),
                "weight_column": _plain(self.weight_column),
                "ks": [int(k) for k in self.ks],
                "min_segment_size": _size_to_json(self.min_segment_size),
                "n_boot": int(self.n_boot),
                "holdout": None if self.holdout is None else float(self.holdout),
                "n_micro": None if self.n_micro is None else int(self.n_micro),
            },
            "columns": [_plain(c) for c in self.columns_],
            "feature_names": list(self.feature_names_),
            "row_index": _index_to_json(self.row_index_),
            "id_column": _plain(getattr(self, "id_column_", None)),
            "n_clusters": int(self.n_clusters_),
            "names": [[int(s), name] for s, name in sorted(self.names_.items())],
            "n_micro": getattr(self, "n_micro_", None),  # built from micro-clusters (issue 23)
            "preparer": None if self.preparer_ is None else self.preparer_.to_dict(),
            "gower": None if self.gower_ is None else self.gower_.to_dict(),
            "profile": self.profile_.to_dict(),
            "evaluation": None if self.evaluation_ is None else self.evaluation_.to_dict(),
            "preparation": None if self.preparation_ is None else self.preparation_.to_dict(),
            "stability": _table_to_json(self.stability_),
            "assign_check": _table_to_json(self.assign_check_),
            "summary": None if summary is None else summary.to_dict(linkage=False),
        }
        text = json.dumps(document, indent=1, allow_nan=False, default=_json_default)
        folder = check_model_path(target)
        _recover_legacy(folder)
        _clean_parent(folder)
        if not folder.exists():
            if _create_model_dir(folder, {arrays_name: blob, _JSON_NAME: text.encode("utf-8")}):
                return target
        with locked_dir(folder):
            _check_contents(folder)  # again, now that no other hclust writes here
            write_atomic(folder / arrays_name, lambda stream: _write_bytes(stream, blob), binary=True)
            # the commit: model.json now names the new arrays
            write_atomic(folder / _JSON_NAME, lambda stream: _write_bytes(stream, text.encode("utf-8")), binary=True)
            for entry in folder.iterdir():
                if entry.name != arrays_name and (_ARRAYS_FILE.match(entry.name) or _TEMP_FILE.match(entry.name)):
                    with contextlib.suppress(FileNotFoundError):
                        entry.unlink()
            fsync_dir(folder)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "SegmentationModel":
        """Read a model written by :meth:`save`, checking everything it reads.

        Raises
        ------
        FileNotFoundError
            No such folder.
        ValueError
            One line saying what is wrong: not a model folder; ``model.json``
            not valid JSON, of another format or a newer version, incomplete,
            or holding a non-finite number or a value of the wrong type or
            range; an arrays file outside the folder, missing, not matching
            its checksum, not NumPy arrays of the declared sizes (checked
            before anything is inflated), or arrays that do not make a
            model: a linkage matrix that :func:`hclust.check_linkage` refuses,
            labels that are not whole numbers in ``0 .. n_clusters - 1``,
            weights that are not positive, non-finite features.

        Examples
        --------
        >>> import tempfile
        >>> SegmentationModel.load(tempfile.mkdtemp())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: ... is not a saved hclust model: it has no model.json.
        """
        folder = Path(path)
        _recover_legacy(folder)
        if not folder.exists():
            raise FileNotFoundError(f"No such model: {folder}")
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a saved hclust model (a model is a folder with {_JSON_NAME}).")
        for attempt in range(2):
            document = _read_document(folder)
            try:
                return cls._from_document(folder, document)
            except _ArraysVanished:
                if attempt == 1:
                    raise ValueError(f"{folder} is incomplete: {document['arrays']['file']} is missing.") from None
                # a save replaced the model while it was read: read the new one
            except (KeyError, TypeError, IndexError, AttributeError) as exc:
                raise ValueError(
                    f"{folder / _JSON_NAME} is corrupt or incomplete ({type(exc).__name__}: "
                    f"{_short(exc)})."
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _from_document(cls, folder: Path, document: dict[str, Any]) -> "SegmentationModel":
        where = folder / _JSON_NAME
        params = document["params"]
        method = params["method"]
        if method not in METHODS:
            raise ValueError(f"{where}: unknown method {method!r}.")
        _expect(params["metric"], str, where, "params.metric")
        n_clusters_param = params["n_clusters"]
        if n_clusters_param is not None:
            _expect_int(n_clusters_param, where, "params.n_clusters", low=1)
        height = params["height"]
        if height is not None:
            _expect(height, (int, float), where, "params.height")
        beta = _expect(params["beta"], (int, float), where, "params.beta")
        ks = [_expect_int(k, where, "params.ks", low=1) for k in _expect(params["ks"], list, where, "params.ks")]
        row_index = _index_from_json(document["row_index"], where)
        n = len(row_index)
        if n < 2:
            raise ValueError(f"{where}: the model has {n} rows; a model has at least 2.")
        feature_names = [_expect(f, str, where, "feature_names") for f in _expect(document["feature_names"], list, where, "feature_names")]
        columns = list(_expect(document["columns"], list, where, "columns"))
        k = _expect_int(document["n_clusters"], where, "n_clusters", low=1, high=n)
        names = {}
        for item in _expect(document["names"], list, where, "names"):
            if not (isinstance(item, list) and len(item) == 2):
                raise ValueError(f"{where}: names must be [segment, name] pairs; got {item!r}.")
            names[_expect_int(item[0], where, "names", low=0, high=k - 1)] = _expect(item[1], str, where, "names")
        gower = document["gower"]
        expected = {
            "linkage": ((n - 1, 4), "f"),
            "labels": ((n,), "iu"),
            "features": ((n, len(gower["columns"]) if gower is not None else len(feature_names)), "f"),
            "weights": ((n,), "f"),
            "within_ss": ((n,), "f"),
        }
        arrays = _read_arrays(folder, document["arrays"], expected)
        missing = [name for name in ("linkage", "labels", "features") if name not in arrays]
        if missing:
            raise ValueError(f"{folder}: the arrays file lacks {', '.join(missing)}.")

        from ..tree import check_linkage

        try:
            Z = check_linkage(arrays["linkage"])
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{folder}: the stored linkage matrix is not valid: {_short(exc)}") from None
        labels = arrays["labels"].astype(np.int64)
        if labels.size and (int(labels.min()) < 0 or int(labels.max()) + 1 != k):
            raise ValueError(
                f"{folder} is inconsistent: labels run from {int(labels.min())} to {int(labels.max())}, but the "
                f"model has {k} segments (labels 0..{k - 1})."
            )
        features = np.ascontiguousarray(arrays["features"], dtype=np.float64)
        if gower is None and not np.isfinite(features).all():
            raise ValueError(f"{folder}: the stored features hold NaN or infinite values.")
        if gower is not None and np.isinf(features).any():
            raise ValueError(f"{folder}: the stored features hold infinite values.")
        weights = arrays.get("weights")
        if weights is not None:
            weights = np.ascontiguousarray(weights, dtype=np.float64)
            if not (np.isfinite(weights).all() and (weights > 0).all()):
                raise ValueError(f"{folder}: the stored weights must be positive numbers.")
        within_ss = arrays.get("within_ss")  # a model built from micro-clusters (issue 23)
        if within_ss is not None:
            within_ss = np.ascontiguousarray(within_ss, dtype=np.float64)
            if weights is None or not (np.isfinite(within_ss).all() and (within_ss >= 0).all()):
                raise ValueError(f"{folder}: the stored within_ss must be sums of squares >= 0, with weights.")
        try:
            # absent from models saved before hclust issue 19: the defaults of that time
            min_segment_size = _size_from_json(params.get("min_segment_size", None))
            n_boot = _expect_int(params.get("n_boot", 0), where, "n_boot", low=0)
            holdout = params.get("holdout")
            if holdout is not None and not (isinstance(holdout, (int, float)) and 0.0 < float(holdout) < 1.0):
                raise ValueError(f"holdout must be a share between 0 and 1; got {holdout!r}")
            n_micro = params.get("n_micro")  # absent before issue 23
            if n_micro is not None:
                n_micro = _expect_int(n_micro, where, "params.n_micro", low=1)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where} is corrupt: {_short(exc)}") from None
        model = cls(
            n_clusters_param,
            height=height,
            method=method,
            metric=params["metric"],
            weight_column=params["weight_column"],
            ks=ks,
            beta=float(beta),
            min_segment_size=min_segment_size,
            n_boot=n_boot,
            holdout=holdout,
            n_micro=n_micro,
        )
        model.summary_ = None
        model.row_labels_ = None
        built_from = document.get("n_micro")  # absent before issue 23: built on the rows
        model.n_micro_ = None if built_from is None else _expect_int(built_from, where, "n_micro", low=2, high=n)
        model.columns_ = columns
        model.feature_names_ = feature_names
        model.row_index_ = row_index
        model.id_column_ = document.get("id_column")
        model.features_ = features
        model.weights_ = weights
        model.within_ss_ = within_ss
        model.linkage_matrix_ = Z
        model.evaluation_ = None
        try:
            if gower is not None:
                model.preparer_ = None
                model.gower_ = Gower.from_dict(gower, features)
                data: Any = None
                metric = "precomputed"
            else:
                model.gower_ = None
                model.preparer_ = Preparer.from_dict(document["preparer"])
                data = features
                metric = params["metric"]
            model._set_estimator(method, metric, data if data is not None else features, labels)
            model.names_ = names
            model.profile_ = SegmentProfile.from_dict(document["profile"])
            if document["evaluation"] is not None:
                model.evaluation_ = Evaluation.from_dict(document["evaluation"])
            prepared = document.get("preparation")
            model.preparation_ = None if prepared is None else PreparationRecord.from_dict(prepared)
            model.stability_ = _table_from_json(document.get("stability"), "segment")
            model.assign_check_ = _table_from_json(document.get("assign_check"))
            # absent from models saved before hclust issue 21: segmentation_summary() recomputes it
            stored = document.get("summary")
            summary = None if stored is None else SegmentationSummary.from_dict(stored, Z=Z)
            if summary is not None and summary.n_clusters != k:
                raise ValueError(f"the summary is of {summary.n_clusters} segments, the model of {k}")
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"{where} is corrupt: {_short(exc)}") from None
        model._training = None
        model._training_ids = None
        model._reset_caches()
        model._summary = summary
        return model


# ---------------------------------------------------------------------------- helpers
def _gower_record(gower: Gower, schema: Schema, left_out: Mapping[str, str], n_rows: int) -> PreparationRecord:
    """What the Gower path did: columns left out (and why), missing values kept, the column types."""
    excluded = dict(left_out)
    for col in schema.excluded:
        kind = schema.kinds[col]
        reason = schema.reasons.get(col) or ""
        label = "identifier" if kind == "id" else kind
        excluded[str(col)] = f"{label}: {reason}" if reason else label
    missing = np.isnan(gower.encoded_).sum(axis=0)
    types = [f"{c} {gower.feature_types_[c]}" for c in gower.columns_]
    return PreparationRecord(
        rows_in=n_rows,
        rows_used=n_rows,
        used=[str(c) for c in gower.columns_],
        excluded=excluded,
        impute="gower",
        imputed={str(c): int(m) for c, m in zip(gower.columns_, missing) if m},
        dropped={},
        log1p=[],
        scale="range",
        features=[str(c) for c in gower.columns_],
        distance=f"Gower distances over {len(gower.columns_)} columns",
        notes=[f"Gower column types: {', '.join(types[:12])}"
               f"{f' and {len(types) - 12} more' if len(types) > 12 else ''}."],
        n_numeric=sum(1 for c in gower.columns_ if gower.feature_types_[c] == "numeric"),
    )


def _assign_dtypes() -> dict[str, Any]:
    """Columns and dtypes of :meth:`SegmentationModel.assign`'s result (names: pandas' own text dtype)."""
    return {"segment": np.dtype(np.int64), "segment_name": pd.Series([""]).dtype, "distance": np.dtype(np.float64),
            "confidence": np.dtype(np.float64), "runner_up": np.dtype(np.int64), "known": np.dtype(bool)}


def _assign_dask(model: "SegmentationModel", new_df: Any, rule: str, n_neighbors: int) -> Any:
    """SegmentationModel.assign of a dask DataFrame: the pandas assign on every partition, lazily."""
    import dask.dataframe as dd
    from dask.delayed import delayed

    model._check_fitted()
    if not isinstance(new_df, dd.DataFrame):
        raise TypeError(f"new_df must be a pandas or dask DataFrame; got {type(new_df).__name__}.")
    missing = [c for c in model.columns_ if c not in new_df.columns]
    if missing:
        raise ValueError(f"the new customers lack the model's column(s) {missing}; it needs {model.columns_}.")
    if model._lookup is None:  # built once here rather than on every worker
        model._lookup = _assign.TrainingLookup.build(model.features_, model.labels_, model.weights_)
    meta = pd.DataFrame({c: pd.Series(dtype=t) for c, t in _assign_dtypes().items()}, index=new_df._meta.index)
    # the model as one task: sent to each worker once, not embedded in every partition's task
    shared = delayed(model, pure=True)
    frame: Any = new_df  # (untyped)
    return frame.map_partitions(_assign_partition, shared, rule, n_neighbors, meta=meta)


def _assign_partition(part: pd.DataFrame, model: "SegmentationModel", rule: str, n_neighbors: int) -> pd.DataFrame:
    """Worker task: one partition through the model's own (pandas) assign, in the meta's dtypes."""
    # (an empty partition's names would otherwise be of dtype object)
    return model.assign(part, rule=rule, n_neighbors=n_neighbors).astype(_assign_dtypes())


def _write_bytes(stream: IO[Any], data: bytes) -> None:
    stream.write(data)


def _no_k_message(evaluation: Evaluation, method: str, distance: str, total: float) -> str:
    table = evaluation.table
    sizes = ", ".join(f"k={int(k)}: {int(v):,}" for k, v in zip(table.index.tolist(), table["smallest_segment"].tolist()))
    if method == "ward":
        advice = "log1p of skewed amounts or robust scaling (outliers), more ks"
    elif "Gower" in distance:
        advice = "method='complete', or ward on prepared features (the default metric)"
    else:
        advice = "method='ward' or 'complete'"
    head = (
        f"no number of segments in ks={_k_text(list(table.index))} gives segments of at least "
        f"{evaluation.min_segment_size:,} customers (min_segment_size)"
    )
    if total < 2 * evaluation.min_segment_size:
        return f"{head}: {total:,.0f} customers cannot make two such segments; give n_clusters or a smaller min_segment_size."
    return (
        f"{head}: with {method} linkage on {distance} the smallest segment holds {sizes}. The tree splits off a few "
        f"customers at a time; try {advice}, a smaller min_segment_size, or give n_clusters."
    )


def _k_text(ks: Sequence[int]) -> str:
    values = sorted({int(k) for k in ks})
    if values and values == list(range(values[0], values[-1] + 1)) and len(values) > 2:
        return f"{values[0]}..{values[-1]}"
    return ", ".join(map(str, values))


def _check_k(k: Any, n: int) -> int:
    if not is_integer(k):
        raise TypeError(f"n_clusters must be an integer; got {k!r}.")
    if not 1 <= int(k) <= n:
        raise ValueError(f"n_clusters={k} is out of range; choose 1..{n} (the number of customers).")
    return int(k)


def _id_column(df: pd.DataFrame, preparer: Preparer | None) -> Any:
    """The table's ID column: the first column the schema takes for an identifier, among
    the columns used (the preparation left it out) or the others; None when there is none."""
    if preparer is not None and getattr(preparer, "schema_", None) is not None:
        for column, kind in preparer.schema_.kinds.items():
            if kind == "id" and column in df.columns:
                return column
    unique = [c for c in df.columns if df[c].notna().all() and df[c].is_unique]
    if not unique or len(df) < 3:
        return None
    from .schema import infer_schema

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kinds = infer_schema(df[unique]).kinds
    return next((c for c in unique if kinds.get(c) == "id"), None)


def _row_ids(df: pd.DataFrame, id_column: Any, rows: pd.Index) -> tuple[list[Any], str] | None:
    """(ids of the segmented rows, header) for the report's label download: the ID column's
    values, else the table's row labels; None when ``df`` lacks the rows."""
    if not isinstance(df, pd.DataFrame) or not rows.isin(df.index).all() or df.index.has_duplicates:
        return None
    if id_column is not None and id_column in df.columns:
        values, name = df[id_column].loc[rows], str(id_column)
    else:
        values, name = rows.to_series(), (str(df.index.name) if df.index.name is not None else "row")
    return [_plain(v) for v in values.tolist()], name


_SUMMARY_OPTIONS = ("ks", "evaluation", "params", "details", "ids", "id_name")


def _split_options(options: Mapping[str, Any], render: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(rendering options, summary options) of ``report``/``report_static``; others are an error."""
    unknown = sorted(set(options) - set(render) - set(_SUMMARY_OPTIONS))
    if unknown:
        raise TypeError(
            f"unexpected option(s) {unknown}; the report takes {', '.join(render)} and the summary's "
            f"{', '.join(_SUMMARY_OPTIONS)}."
        )
    return ({k: v for k, v in options.items() if k in render},
            {k: v for k, v in options.items() if k in _SUMMARY_OPTIONS})


def _preparer_params(prep: Preparer) -> dict[str, Any]:
    return {
        "schema": prep.schema,
        "impute": prep.impute,
        "log1p": prep.log1p,
        "scale": prep.scale,
        "one_hot": prep.one_hot,
        "feature_weights": prep.feature_weights,
    }


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _size_to_json(spec: Any) -> Any:
    if isinstance(spec, tuple):
        return [_plain(v) for v in spec]
    return _plain(spec)


def _size_from_json(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _table_to_json(table: pd.DataFrame | None) -> dict[str, Any] | None:
    """A small table (stability, held-out check) as records + attrs, NaN as None."""
    if table is None:
        return None
    records = json.loads(table.reset_index(drop=table.index.name is None).to_json(orient="records"))
    attrs = {k: (None if isinstance(v, float) and not math.isfinite(v) else _plain(v)) for k, v in table.attrs.items()}
    return {"records": records, "attrs": attrs, "columns": [str(c) for c in table.reset_index(
        drop=table.index.name is None).columns]}


def _table_from_json(data: Mapping[str, Any] | None, index: str | None = None) -> pd.DataFrame | None:
    if data is None:
        return None
    table = pd.DataFrame.from_records(data["records"], columns=data["columns"])
    for column in table.columns:
        if column != "rule":
            table[column] = pd.to_numeric(table[column])
    if index is not None and index in table.columns:
        table = table.set_index(index)
    table.attrs.update(data["attrs"])
    return table


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, _dt.date)):
        return value.isoformat()
    raise TypeError(f"cannot save {value!r} ({type(value).__name__}) in a model file")


def _index_to_json(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.RangeIndex):
        return {"kind": "range", "start": int(index.start), "stop": int(index.stop), "step": int(index.step)}
    values = [_plain(v) for v in index]
    if all(isinstance(v, (str, int, float, bool)) and not (isinstance(v, float) and math.isnan(v)) for v in values):
        return {"kind": "values", "values": values}
    return {"kind": "range", "start": 0, "stop": len(index), "step": 1}


def _index_from_json(data: Mapping[str, Any], where: Any = "model.json") -> pd.Index:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: row_index must be an object; got {data!r:.60}.")
    if data["kind"] == "range":
        start, stop, step = (_expect_int(data[key], where, f"row_index.{key}") for key in ("start", "stop", "step"))
        if step == 0:
            raise ValueError(f"{where}: row_index.step must not be 0.")
        return pd.RangeIndex(start, stop, step)
    values = _expect(data["values"], list, where, "row_index.values")
    for value in values:
        _expect(value, (str, int, float, bool), where, "row_index.values")
    return pd.Index(values)


# ---------------------------------------------------------------------------- the model folder
#: The arrays file of a model (content-addressed; plain ``arrays.npz`` from earlier versions).
_ARRAYS_FILE = re.compile(r"^arrays(-[0-9a-f]{16})?\.npz$")
#: Temporary files of hclust's atomic writes inside a model folder.
_TEMP_FILE = re.compile(r"^\..+\.tmp$")
#: Files that operating systems drop into folders; kept, and not taken for foreign files.
_OS_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: Seconds after which a staging folder of an unknown process counts as abandoned.
_STALE_SECONDS = 600.0
#: Most bytes model.json may have (a model of 10 million rows has a few MB).
_MAX_JSON_BYTES = 512 * 1024 * 1024


class _ArraysVanished(Exception):
    """The arrays file named by model.json is gone (a concurrent save replaced it)."""


def _is_model_dir(folder: Path) -> bool:
    with contextlib.suppress(OSError, UnicodeDecodeError, ValueError):
        document = json.loads((folder / _JSON_NAME).read_text(encoding="utf-8"))
        return isinstance(document, dict) and document.get("format") == MODEL_FORMAT
    return False


def _foreign(folder: Path) -> list[str]:
    """Names in ``folder`` that a saved model does not consist of."""
    def ours(entry: Path) -> bool:
        if entry.name == _JSON_NAME or entry.name in _OS_FILES:
            return True
        if not (_ARRAYS_FILE.match(entry.name) or _TEMP_FILE.match(entry.name)):
            return False
        # a plain file (or one that a save running now has just renamed or removed)
        return not entry.is_symlink() and (entry.is_file() or not entry.exists())

    return sorted(entry.name for entry in folder.iterdir() if not ours(entry))


def _check_contents(folder: Path, option: str | None = None) -> None:
    label = f"{option} {folder}" if option else str(folder)
    foreign = _foreign(folder)
    if not foreign:
        return
    shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
    if (folder / _JSON_NAME).is_file() and _is_model_dir(folder):
        raise ValueError(
            f"{label} is an hclust model but also holds {shown}, which are not part of it; move them out "
            "or choose another folder (nothing was written)."
        )
    raise ValueError(
        f"{label} exists and is not a saved hclust model (it holds {shown}); choose another path or an "
        "empty folder (nothing was written)."
    )


def check_model_path(path: str | os.PathLike[str], *, option: str | None = None) -> Path:
    """Check, without writing, that :meth:`SegmentationModel.save` may write to ``path``.

    Returns the folder the model would be written to (the target of a symbolic
    link). Commands call it before their work, so that a refusal costs nothing.

    Raises
    ------
    ValueError
        ``path`` is a file, or a folder holding anything but a saved model.
    """
    target = Path(path)
    label = f"{option} {target}" if option else str(target)
    folder = Path(os.path.realpath(target)) if target.is_symlink() else Path(os.path.abspath(target))
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"{label} exists and is not a saved hclust model (it is a file); choose another path "
            "(nothing was written)."
        )
    if folder.is_dir():
        _check_contents(folder, option)
    elif not folder.parent.is_dir():
        if folder.parent.exists():
            raise ValueError(f"{label}: {folder.parent} is not a folder.")
    return folder


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _abandoned(entry: Path, pid_text: str | None) -> bool:
    """A staging folder whose process is dead, or that nobody touched for a while."""
    if pid_text is not None and pid_text.isdigit() and not _pid_alive(int(pid_text)):
        return True
    with contextlib.suppress(OSError):
        return _dt.datetime.now().timestamp() - entry.stat().st_mtime > _STALE_SECONDS
    return False


def _only_model_files(folder: Path) -> bool:
    with contextlib.suppress(OSError):
        return folder.is_dir() and not folder.is_symlink() and not _foreign(folder)
    return False


def _staging_entries(folder: Path) -> list[tuple[Path, str | None, str]]:
    """Siblings of ``folder`` that saves leave: (path, pid or None, "staging" | "old")."""
    parent, name = folder.parent, folder.name
    found: list[tuple[Path, str | None, str]] = []
    if not name or not parent.is_dir():
        return found
    prefix = f".{name}."
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            if not entry.name.startswith(prefix):
                continue
            rest = entry.name[len(prefix):]
            if rest.startswith("old-"):
                found.append((entry, rest[4:], "old"))
            elif rest.endswith(".tmp"):
                pid = rest.split(".", 1)[0] if "." in rest[:-4] else None
                found.append((entry, pid, "staging"))
    return found


def _recover_legacy(folder: Path) -> None:
    """Put back a model that an earlier hclust's save left under ``.NAME.old-PID`` when it
    stopped between its two renames (the model path is missing then)."""
    if folder.exists() or folder.is_symlink():
        return
    for entry, pid, kind in _staging_entries(folder):
        if kind == "old" and _only_model_files(entry) and _is_model_dir(entry) and _abandoned(entry, pid):
            with contextlib.suppress(OSError):
                os.rename(entry, folder)
                fsync_dir(folder.parent)
                warnings.warn(
                    f"{folder} was missing after an interrupted save; the previous model, found in "
                    f"{entry.name}, was put back.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                return


def _clean_parent(folder: Path) -> None:
    """Remove the staging and ``.old-PID`` folders that interrupted saves of ``folder`` left."""
    for entry, pid, _ in _staging_entries(folder):
        if _only_model_files(entry) and _abandoned(entry, pid):
            shutil.rmtree(entry, ignore_errors=True)


def _create_model_dir(folder: Path, files: Mapping[str, bytes]) -> bool:
    """Write a new model folder under a temporary name and rename it into place; False when
    the folder appeared meanwhile (the caller then writes into it)."""
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.{os.getpid()}.", suffix=".tmp", dir=parent))
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(staging, 0o777 & ~mask)
        for name, data in files.items():
            with open(staging / name, "wb") as stream:  # plain files: the umask applies
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        fsync_dir(staging)
        try:
            os.rename(staging, folder)  # fails when the folder exists and is not empty
        except OSError:
            if folder.is_dir():
                return False
            raise
        fsync_dir(parent)
        return True
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _read_document(folder: Path) -> dict[str, Any]:
    meta_file = folder / _JSON_NAME
    if not meta_file.is_file():
        raise ValueError(f"{folder} is not a saved hclust model: it has no {_JSON_NAME}.")
    if meta_file.stat().st_size > _MAX_JSON_BYTES:
        raise ValueError(f"{meta_file} is {meta_file.stat().st_size:,} bytes, too large for a model file.")
    try:
        document = json.loads(meta_file.read_bytes().decode("utf-8"), parse_constant=_no_constant,
                              parse_float=_finite_float)
    except _NonFinite as exc:
        raise ValueError(f"{meta_file} holds {exc}, which a saved model never has: it is corrupt.") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{meta_file} is corrupt (not valid JSON: {_short(exc)}).") from None
    if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
        raise ValueError(f"{meta_file} is not an hclust segmentation model (format {MODEL_FORMAT!r}).")
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > MODEL_FORMAT_VERSION or version < 1:
        raise ValueError(
            f"{folder} was saved in model format version {version!r} (by hclust "
            f"{document.get('hclust_version')}); this hclust {__version__} reads version "
            f"{MODEL_FORMAT_VERSION}. Upgrade hclust or refit the model."
        )
    return document


class _NonFinite(ValueError):
    pass


def _no_constant(text: str) -> Any:
    raise _NonFinite(f"a non-finite number ({text})")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(f"a number out of range ({text[:30]})")
    return value


def _expect(value: Any, kind: Any, where: Any, what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool and bool not in (
            kind if isinstance(kind, tuple) else (kind,))):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ValueError(f"{where}: {what} must be {names}; got {value!r:.60}.")
    return value


def _expect_int(value: Any, where: Any, what: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: {what} must be a whole number; got {value!r:.60}.")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{low if low is not None else '-inf'}..{high if high is not None else 'inf'}"
        raise ValueError(f"{where}: {what} is {value}, outside {bounds}.")
    return value


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _read_arrays(folder: Path, entry: Any, expected: Mapping[str, tuple[tuple[int, ...], str]]) -> dict[str, np.ndarray]:
    """The model's arrays, after checking the file's place and checksum and every array's
    declared shape and type (from the .npy headers, before anything is inflated)."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"{folder / _JSON_NAME}: arrays must be an object; got {entry!r:.60}.")
    name, digest = entry["file"], entry["sha256"]
    if not isinstance(name, str) or not _ARRAYS_FILE.match(name):
        raise ValueError(
            f"{folder / _JSON_NAME} names the arrays file {name!r:.80}; a model's arrays are a file "
            "arrays[-HASH].npz inside its folder."
        )
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"{folder / _JSON_NAME}: arrays.sha256 must be 64 hexadecimal digits.")
    blob_file = folder / name
    if blob_file.is_symlink() and Path(os.path.realpath(blob_file)).parent != Path(os.path.realpath(folder)):
        raise ValueError(f"{blob_file} is a link to a file outside the model folder; refusing to read it.")
    try:
        blob = blob_file.read_bytes()
    except FileNotFoundError:
        raise _ArraysVanished() from None
    except OSError as exc:
        raise ValueError(f"{blob_file} could not be read: {_short(exc)}") from None
    if hashlib.sha256(blob).hexdigest() != digest:
        raise ValueError(f"{blob_file} is corrupt: its checksum does not match {_JSON_NAME}.")
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(_io.BytesIO(blob)) as archive:
            members = archive.infolist()
            for member in members:
                key = member.filename.removesuffix(".npy")
                if key not in expected:
                    raise ValueError(f"{blob_file} holds an unexpected array {member.filename!r}.")
                shape, kinds = expected[key]
                with archive.open(member) as stream:
                    version = np.lib.format.read_magic(stream)
                    if version == (1, 0):
                        header = np.lib.format.read_array_header_1_0(stream)
                    elif version == (2, 0):
                        header = np.lib.format.read_array_header_2_0(stream)
                    else:
                        raise ValueError(f"{blob_file}: array {key!r} has an unknown .npy version {version}.")
                    found_shape, _, dtype = header
                    if tuple(found_shape) != shape or dtype.kind not in kinds or dtype.hasobject:
                        raise ValueError(
                            f"{blob_file}: array {key!r} is declared as {dtype} of shape {tuple(found_shape)}; "
                            f"the model's {_JSON_NAME} implies shape {shape}."
                        )
                    limit = int(np.prod(shape)) * dtype.itemsize + 4096
                    if member.file_size > limit:
                        raise ValueError(
                            f"{blob_file}: array {key!r} declares {member.file_size:,} bytes, more than its "
                            f"shape {shape} needs."
                        )
            with np.load(_io.BytesIO(blob), allow_pickle=False) as loaded:
                arrays = {m.filename.removesuffix(".npy"): loaded[m.filename.removesuffix(".npy")] for m in members}
    except ValueError:
        raise
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{blob_file} could not be read as NumPy arrays: {_short(exc)}") from None
    return arrays

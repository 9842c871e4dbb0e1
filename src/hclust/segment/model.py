"""A segmentation model: preparation + tree + cut + profiles, saved and reused.

:class:`SegmentationModel` is the unit an analyst hands over: fitted on a customer
table, it labels that table, describes its segments, assigns new customers to
them, and is saved as JSON + arrays that a later hclust reads back.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io as _io
import json
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import __version__
from .._typing import FloatArray, IntArray
from .._validation import check_option
from ..estimator import HierarchicalClustering
from ..gower import Gower
from .._metrics import normalize as normalize_metric
from ..linkage import METHODS, linkage
from ..select import Evaluation, evaluate
from ..tree import cut
from .prepare import Preparer
from .profile import SegmentProfile, profile

#: Name and version of the saved format (see :meth:`SegmentationModel.save`).
MODEL_FORMAT = "hclust.SegmentationModel"
MODEL_FORMAT_VERSION = 1
_JSON_NAME = "model.json"
_ARRAYS_NAME = "arrays.npz"

#: Linkages that may be used with the Gower metric (the others need Euclidean geometry).
_GOWER_METHODS = ("single", "complete", "average", "weighted", "flexible")

ProgressCallback = Callable[[int, int], None]


class SegmentationModel:
    """Segment a customer table with hierarchical clustering, and reuse the segments.

    Parameters
    ----------
    n_clusters : int, optional
        Number of segments. With neither ``n_clusters`` nor ``height``, the
        number is chosen by :func:`hclust.evaluate` over ``ks`` (its
        recommendation and reasons are kept in :attr:`evaluation_`).
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
        Id, date-of-entry and constant columns are left out by the preparation's
        schema inference (see :func:`hclust.segment.infer_schema`).
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
    names : mapping, optional
        Segment label -> name, replacing the automatic names.
    beta : float, default=-0.25
        Parameter of the flexible linkage.
    n_jobs : int, optional
        Threads for distances (None: all cores).

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
        Segment of each segmented row, 0 .. n_clusters_ - 1.
    n_clusters_ : int
    names_ : dict
        Segment label -> name.
    profile_ : SegmentProfile
        Profile of the segments in the original columns.
    evaluation_ : Evaluation or None
        The evaluation behind an automatic choice of k.

    Notes
    -----
    :meth:`assign` puts a new customer in the segment it would join first,
    by the linkage's own rule (see
    :meth:`hclust.HierarchicalClustering.join_heights`). ``distance`` is that
    join height, in the units of the tree's heights; ``confidence`` is
    ``1 - d1 / d2`` for the nearest and second-nearest segments (0: halfway
    between two segments; 1: on top of one; 1 when there is one segment).

    Saved format (:meth:`save`), a folder with two files:

    * ``model.json``: ``format`` (``"hclust.SegmentationModel"``),
      ``format_version`` (1), the hclust version and date it was written with,
      the parameters, the fitted preparation (:meth:`Preparer.to_dict`) or
      Gower state, columns, feature names, segment names, the profile and the
      evaluation, and the SHA-256 of ``arrays.npz``;
    * ``arrays.npz`` (NumPy, no pickles): ``linkage`` (Z), ``labels``,
      ``features``, ``weights`` (when given).

    :meth:`load` refuses a folder whose files are missing, unreadable, of
    another format or a newer version, or whose arrays do not match their
    checksum or each other.

    Examples
    --------
    >>> from hclust.datasets import load_wholesale
    >>> customers = load_wholesale()
    >>> model = SegmentationModel(4, exclude=["Channel", "Region"]).fit(customers)
    >>> model.n_clusters_
    4
    >>> model.assign(customers.head(3))["segment"].tolist() == model.labels_[:3].tolist()
    True
    """

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
        names: Mapping[int, str] | None = None,
        beta: float = -0.25,
        n_jobs: int | None = None,
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
        self.names = names
        self.beta = beta
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit
    def fit(self, df: pd.DataFrame, *, progress: ProgressCallback | None = None) -> "SegmentationModel":
        """Prepare ``df``, build the tree, cut it and profile the segments.

        Parameters
        ----------
        df : DataFrame
            One row per customer.
        progress : callable, optional
            ``progress(done, total)`` during the tree build.

        Returns
        -------
        self : SegmentationModel

        Raises
        ------
        ValueError
            Unknown columns or options, too few rows, a bad weight column,
            a linkage that needs Euclidean features with ``metric="gower"``,
            or data the preparation refuses (the message says which).
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
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}.")
        used, weights = self._select(df)
        if len(used) < 2:
            raise ValueError(f"need at least 2 customers to segment; the table has {len(used)}.")

        if metric == "gower":
            self.preparer_ = None
            self.gower_ = Gower(n_jobs=self.n_jobs).fit(used)
            features = self.gower_.encoded_
            self.feature_names_ = [str(c) for c in self.gower_.columns_]
            self.row_index_ = used.index
            data: Any = self.gower_.pairwise()
            estimator_metric = "precomputed"
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
        self.evaluation_: Evaluation | None = None
        if self.n_clusters is not None:
            labels = cut(Z, n_clusters=_check_k(self.n_clusters, n))
        elif self.height is not None:
            labels = cut(Z, height=self.height)
        else:
            k, self.evaluation_ = self._choose_k(Z, features, data, method, n, estimator_metric)
            labels = cut(Z, n_clusters=k)

        self.columns_ = list(used.columns)
        self.features_ = features
        self.weights_ = weights
        self.linkage_matrix_ = Z
        self._set_estimator(method, estimator_metric, data, labels)
        segmented = used.loc[self.row_index_]
        self.profile_ = profile(segmented, labels, names=self.names)
        self.names_ = dict(self.profile_.names)
        self._training = segmented
        return self

    def _select(self, df: pd.DataFrame) -> tuple[pd.DataFrame, FloatArray | None]:
        """The columns to segment on, and the weights (validated)."""
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
        if self.weight_column is not None:
            skip.add(self.weight_column)
        chosen = [c for c in chosen if c not in skip]
        if not chosen:
            raise ValueError("no columns left to segment on after columns/exclude/weight_column.")
        return df[chosen], weights

    def _choose_k(
        self, Z: FloatArray, features: FloatArray, data: Any, method: str, n: int, metric: str
    ) -> tuple[int, Evaluation | None]:
        ks = sorted({int(k) for k in self.ks if 2 <= int(k) <= n})
        if not ks:
            raise ValueError(f"ks={list(self.ks)!r} has no number of segments in 2..{n}.")
        if metric == "precomputed":
            # Euclidean indices do not apply to Gower: the silhouette on the distances does.
            from sklearn.metrics import silhouette_score

            scores = [
                silhouette_score(data, cut(Z, n_clusters=k), metric="precomputed") if k < n else -1.0
                for k in ks
            ]
            return ks[int(np.argmax(scores))], None
        result = evaluate(
            Z, features, ks, method=method if method in ("ward", "average", "complete", "single") else "ward",
            gap_sample_size=min(n, 2000),
        )
        return int(result.recommended_k), result

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

    # ------------------------------------------------------------------ use
    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise RuntimeError("This SegmentationModel is not fitted yet; call fit(df) or load a saved model.")

    def join_heights(self, new_df: pd.DataFrame) -> pd.DataFrame:
        """Join height of each new customer to every segment (columns = segment labels).

        Rows the preparation drops (``impute="drop"`` and missing values) are NaN.
        """
        self._check_fitted()
        if not isinstance(new_df, pd.DataFrame):
            raise TypeError(f"new_df must be a pandas DataFrame; got {type(new_df).__name__}.")
        if new_df.index.has_duplicates:
            new_df = new_df.reset_index(drop=True)
        missing = [c for c in self.columns_ if c not in new_df.columns]
        if missing:
            raise ValueError(
                f"the new customers lack the model's column(s) {missing}; it needs {self.columns_}."
            )
        out = pd.DataFrame(np.nan, index=new_df.index, columns=range(self.n_clusters_))
        if len(new_df) == 0:
            return out
        frame = new_df[self.columns_]
        if self.gower_ is not None:
            rows = self.gower_.cdist(frame)
            index = frame.index
        else:
            assert self.preparer_ is not None
            prepared = self.preparer_.transform(frame)
            rows = prepared.to_numpy(dtype=np.float64)
            index = prepared.index
        if len(index):
            out.loc[index] = self.estimator_.join_heights(rows)
        return out

    def assign(self, new_df: pd.DataFrame) -> pd.DataFrame:
        """Assign new customers to the fitted segments.

        Parameters
        ----------
        new_df : DataFrame
            New customers with (at least) the model's :attr:`columns_`.

        Returns
        -------
        DataFrame, with the index of ``new_df`` and the columns
            ``segment`` (int; -1 for a row the preparation drops),
            ``segment_name``, ``distance`` (the join height, see Notes),
            ``confidence`` (in [0, 1]) and ``runner_up`` (the second-nearest
            segment, -1 when there is one segment).
        """
        heights = self.join_heights(new_df)
        values = heights.to_numpy()
        n_rows, k = values.shape
        segment = np.full(n_rows, -1, dtype=np.int64)
        runner = np.full(n_rows, -1, dtype=np.int64)
        distance = np.full(n_rows, np.nan)
        confidence = np.full(n_rows, np.nan)
        ok = ~np.isnan(values).any(axis=1) if k else np.zeros(n_rows, dtype=bool)
        if ok.any():
            block = values[ok]
            order = np.argsort(block, axis=1, kind="stable")
            first = order[:, 0]
            d1 = block[np.arange(block.shape[0]), first]
            segment[ok] = first
            distance[ok] = d1
            if k > 1:
                second = order[:, 1]
                d2 = block[np.arange(block.shape[0]), second]
                runner[ok] = second
                with np.errstate(invalid="ignore", divide="ignore"):
                    conf = np.where(d2 > 0, 1.0 - d1 / d2, 0.0)
                confidence[ok] = np.clip(conf, 0.0, 1.0)
            else:
                confidence[ok] = 1.0
        names = [self.names_.get(int(s), "") if s >= 0 else "" for s in segment]
        return pd.DataFrame(
            {
                "segment": segment,
                "segment_name": names,
                "distance": distance,
                "confidence": confidence,
                "runner_up": runner,
            },
            index=heights.index,
        )

    def labelled(self, df: pd.DataFrame | None = None) -> pd.DataFrame:
        """The training table (or ``df``, the same rows) with ``segment`` and ``segment_name`` added.

        Rows the preparation dropped get segment -1 and an empty name.
        """
        self._check_fitted()
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
        return self

    def summary(self) -> pd.DataFrame:
        """One row per segment: name, size, share and what sets it apart."""
        self._check_fitted()
        return self.profile_.summary()

    def report(self, path: str | os.PathLike[str], df: pd.DataFrame | None = None, **options: Any) -> Path:
        """Write the HTML report (see :func:`hclust.report.write_report`).

        ``df`` is the training table; a fitted model keeps it in memory, a
        loaded one needs it passed (profiles are in the original units).
        """
        from ..report import write_report

        options.setdefault("params", self._params_summary())
        return write_report(path, **self._report_inputs(df, options))

    def report_static(
        self, folder: str | os.PathLike[str], df: pd.DataFrame | None = None, *, fmt: str = "png", **options: Any
    ) -> list[Path]:
        """The report's charts as matplotlib files (see :func:`hclust.report.write_static`)."""
        from ..report import write_static

        return write_static(folder, fmt=fmt, **self._report_inputs(df, options))

    def _report_inputs(self, df: pd.DataFrame | None, options: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments shared by the HTML and the static report."""
        self._check_fitted()
        frame = self._report_frame(df)
        options.setdefault("evaluation", self.evaluation_)
        return {
            "Z": self.linkage_matrix_,
            "features": self._picture_features(frame),
            "frame": frame,
            "k": self.n_clusters_,
            "feature_names": self.feature_names_ if frame is None else None,
            "names": self.names_,
            **options,
        }

    def _report_frame(self, df: pd.DataFrame | None) -> pd.DataFrame | None:
        """The segmented rows of the training table, in the model's columns."""
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

    def _picture_features(self, frame: pd.DataFrame | None) -> FloatArray:
        """Numeric features for pictures (PCA): the prepared ones, or a one-hot view for Gower."""
        if self.gower_ is None:
            return self.features_
        if frame is None:
            return np.nan_to_num(self.features_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            return Preparer().fit_transform(frame).to_numpy(dtype=np.float64)

    def _params_summary(self) -> dict[str, Any]:
        return {
            "rows": int(self.features_.shape[0]),
            "columns": [str(c) for c in self.columns_],
            "features": len(self.feature_names_),
            "method": self.method,
            "metric": self.metric,
            "segments": int(self.n_clusters_),
            "cut": (
                f"n_clusters={self.n_clusters}" if self.n_clusters is not None
                else f"height={self.height}" if self.height is not None
                else "automatic (hclust.evaluate)"
            ),
            "weights": self.weight_column,
            "hclust": __version__,
        }

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the model in a folder (``model.json`` + ``arrays.npz``), atomically.

        An existing folder is replaced only when it holds a saved hclust model;
        anything else at ``path`` is refused.
        """
        self._check_fitted()
        target = Path(path)
        if target.exists() and not (target.is_dir() and _is_model_dir(target)):
            raise ValueError(
                f"{target} exists and is not a saved hclust model; choose another path (nothing was written)."
            )
        arrays = {
            "linkage": self.linkage_matrix_,
            "labels": self.labels_,
            "features": self.features_,
        }
        if self.weights_ is not None:
            arrays["weights"] = self.weights_
        buffer = _io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        blob = buffer.getvalue()
        document = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "hclust_version": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "arrays": {"file": _ARRAYS_NAME, "sha256": hashlib.sha256(blob).hexdigest(),
                       "names": sorted(arrays)},
            "params": {
                "n_clusters": self.n_clusters,
                "height": self.height,
                "method": self.method,
                "metric": self.metric,
                "beta": float(self.beta),
                "weight_column": _plain(self.weight_column),
                "ks": [int(k) for k in self.ks],
            },
            "columns": [_plain(c) for c in self.columns_],
            "feature_names": list(self.feature_names_),
            "row_index": _index_to_json(self.row_index_),
            "n_clusters": int(self.n_clusters_),
            "names": [[int(s), name] for s, name in sorted(self.names_.items())],
            "preparer": None if self.preparer_ is None else self.preparer_.to_dict(),
            "gower": None if self.gower_ is None else self.gower_.to_dict(),
            "profile": self.profile_.to_dict(),
            "evaluation": None if self.evaluation_ is None else self.evaluation_.to_dict(),
        }
        text = json.dumps(document, indent=1, allow_nan=False, default=_json_default)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(staging, 0o777 & ~mask)
        try:
            (staging / _ARRAYS_NAME).write_bytes(blob)  # plain files: the umask applies
            (staging / _JSON_NAME).write_text(text, encoding="utf-8")
            old = None
            if target.exists():
                old = target.with_name(f".{target.name}.old-{os.getpid()}")
                os.replace(target, old)
            os.replace(staging, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "SegmentationModel":
        """Read a model written by :meth:`save`; refuse anything else with a clear error."""
        folder = Path(path)
        if not folder.exists():
            raise FileNotFoundError(f"No such model: {folder}")
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a saved hclust model (a model is a folder with {_JSON_NAME}).")
        meta_file = folder / _JSON_NAME
        if not meta_file.is_file():
            raise ValueError(f"{folder} is not a saved hclust model: it has no {_JSON_NAME}.")
        try:
            document = json.loads(meta_file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{meta_file} is corrupt (not valid JSON: {exc}).") from None
        if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
            raise ValueError(f"{meta_file} is not an hclust segmentation model (format {MODEL_FORMAT!r}).")
        version = document.get("format_version")
        if not isinstance(version, int) or version > MODEL_FORMAT_VERSION or version < 1:
            raise ValueError(
                f"{folder} was saved in model format version {version!r} (by hclust "
                f"{document.get('hclust_version')}); this hclust {__version__} reads version "
                f"{MODEL_FORMAT_VERSION}. Upgrade hclust or refit the model."
            )
        try:
            return cls._from_document(folder, document)
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"{meta_file} is corrupt or incomplete ({type(exc).__name__}: {exc}).") from None

    @classmethod
    def _from_document(cls, folder: Path, document: dict[str, Any]) -> "SegmentationModel":
        blob_file = folder / document["arrays"]["file"]
        if not blob_file.is_file():
            raise ValueError(f"{folder} is incomplete: {blob_file.name} is missing.")
        blob = blob_file.read_bytes()
        if hashlib.sha256(blob).hexdigest() != document["arrays"]["sha256"]:
            raise ValueError(f"{blob_file} is corrupt: its checksum does not match {_JSON_NAME}.")
        try:
            with np.load(_io.BytesIO(blob), allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        except (ValueError, OSError) as exc:
            raise ValueError(f"{blob_file} could not be read as NumPy arrays: {exc}") from None
        params = document["params"]
        model = cls(
            params["n_clusters"],
            height=params["height"],
            method=params["method"],
            metric=params["metric"],
            weight_column=params["weight_column"],
            ks=params["ks"],
            beta=params["beta"],
        )
        Z = np.ascontiguousarray(arrays["linkage"], dtype=np.float64)
        labels = np.ascontiguousarray(arrays["labels"], dtype=np.int64)
        features = np.ascontiguousarray(arrays["features"], dtype=np.float64)
        n = labels.shape[0]
        if Z.shape != (n - 1, 4) or features.shape[0] != n or int(labels.max()) + 1 != document["n_clusters"]:
            raise ValueError(
                f"{folder} is inconsistent: {n} labels, linkage of shape {Z.shape}, features of shape "
                f"{features.shape}, {document['n_clusters']} segments."
            )
        model.columns_ = list(document["columns"])
        model.feature_names_ = list(document["feature_names"])
        model.row_index_ = _index_from_json(document["row_index"])
        model.features_ = features
        model.weights_ = arrays.get("weights")
        model.linkage_matrix_ = Z
        model.evaluation_ = None
        if document["gower"] is not None:
            model.preparer_ = None
            model.gower_ = Gower.from_dict(document["gower"], features)
            data: Any = None
            metric = "precomputed"
        else:
            model.gower_ = None
            model.preparer_ = Preparer.from_dict(document["preparer"])
            data = features
            metric = params["metric"]
        model._set_estimator(params["method"], metric, data if data is not None else features, labels)
        model.names_ = {int(s): str(name) for s, name in document["names"]}
        model.profile_ = SegmentProfile.from_dict(document["profile"])
        if document["evaluation"] is not None:
            model.evaluation_ = Evaluation.from_dict(document["evaluation"])
        model._training = None
        return model


# ---------------------------------------------------------------------------- helpers
def _check_k(k: Any, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"n_clusters must be an integer; got {k!r}.")
    if not 1 <= int(k) <= n:
        raise ValueError(f"n_clusters={k} is out of range; choose 1..{n} (the number of customers).")
    return int(k)


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


def _index_from_json(data: Mapping[str, Any]) -> pd.Index:
    if data["kind"] == "range":
        return pd.RangeIndex(data["start"], data["stop"], data["step"])
    return pd.Index(data["values"])


def _is_model_dir(folder: Path) -> bool:
    with contextlib.suppress(OSError, UnicodeDecodeError, json.JSONDecodeError):
        document = json.loads((folder / _JSON_NAME).read_text(encoding="utf-8"))
        return isinstance(document, dict) and document.get("format") == MODEL_FORMAT
    return False

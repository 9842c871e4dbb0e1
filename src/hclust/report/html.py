"""One self-contained HTML report: interactive dendrogram explorer, segment profiles and charts.

The page needs no network and no server: the data are embedded as JSON (the tree as
gzip-compressed, base64-encoded typed arrays), the explorer is this package's own
JavaScript (``assets/report.js``, a canvas), and the charts use Plotly, whose library
is embedded gzip-compressed and unpacked in the browser with ``DecompressionStream``.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import IO, Any, Mapping, Sequence

import pandas as pd

from .. import __version__
from ..io import write_atomic
from ..select import Evaluation
from ._data import prepare_report_data, report_payload

__all__ = ["build_report_html", "write_report"]


def _asset(name: str) -> str:
    return resources.files("hclust.report").joinpath("assets", name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def _plotly_gzip_base64() -> str:
    """plotly.js (from the ``plotly`` package), gzip-compressed and base64-encoded."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:  # pragma: no cover - plotly is a dependency
        raise ImportError(
            "hclust reports need plotly, which is not installed. Install it with `pip install plotly`."
        ) from None
    source = get_plotlyjs().encode("utf-8")
    return base64.b64encode(gzip.compress(source, 9, mtime=0)).decode("ascii")


def _script_safe(text: str) -> str:
    """JavaScript source that cannot end the <script> element it is placed in (our own
    asset: ``</`` only occurs inside its string literals, where ``<\\/`` means the same)."""
    return text.replace("</", "<\\/")


#: Characters escaped in the embedded JSON: ``<`` and ``>`` so that no ``</script>`` or
#: ``<!--`` (which switches the HTML parser into a mode that swallows the rest of the page)
#: can appear, ``&`` for good measure, and the two line separators old JavaScript engines
#: refused in string literals. ``\\u003c`` is the same character to JSON.parse.
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _json_script_safe(payload: Any) -> str:
    """``payload`` as JSON text that is safe inside ``<script type="application/json">``."""
    text = json.dumps(payload, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{{NAME}}`` placeholders in one pass (values are not scanned again)."""
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: values[m.group(1)], template)


def build_report_html(
    *,
    Z: Any,
    features: Any,
    frame: pd.DataFrame | None = None,
    k: int,
    ks: Sequence[int] | None = None,
    feature_names: Sequence[Any] | None = None,
    names: Mapping[int, str] | None = None,
    evaluation: Evaluation | None = None,
    params: Mapping[str, Any] | None = None,
    title: str = "Segmentation report",
    details: Mapping[str, Any] | None = None,
    ids: Sequence[Any] | None = None,
    id_name: str | None = None,
    escape_formulas: bool = True,
) -> str:
    """The report as one HTML document (text).

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix of the n rows.
    features : array-like or DataFrame of shape (n, d)
        The prepared numeric matrix ``Z`` was built from (used for the PCA projection,
        the choose-k scores and the per-node hover profiles).
    frame : DataFrame of n rows, optional
        The original customer table, profiled in its own units. Default: the features.
    k : int
        Number of segments shown first (2..n).
    ks : sequence of int, optional
        Numbers of segments the page offers (each gets a precomputed profile; at most
        40). Default ``2..min(12, n)``; ``k`` is always added.
    feature_names : sequence of str, optional
        Names of the feature columns (default: the DataFrame's columns, else x0, x1, ...).
    names : mapping, optional
        Segment label -> name for the segments of ``k``.
    evaluation : Evaluation, optional
        Scores for the choose-k charts; by default computed with
        :func:`hclust.evaluate` on ``ks`` without the gap statistic (silhouette on at
        most 4,000 rows).
    params : mapping, optional
        Data, method and parameter values listed in the summary table.
    title : str, default="Segmentation report"
    details : mapping, optional
        What a model says about itself (clustering features, distances, preparation,
        choice of k, per-segment stability, assignment); see
        :func:`hclust.report._data.prepare_report_data`. ``SegmentationModel.report``
        passes it.
    ids : sequence of n values, optional
        The identifier of each row (e.g. the table's customer ID column), written
        by "Download labels (CSV)". Default: the row's position, 0-based.
    id_name : str, optional
        Header of that column (default ``"row"``).
    escape_formulas : bool, default=True
        In the downloaded CSV, prefix with ``'`` the values that spreadsheets would
        run as formulas (text starting with ``=``, ``+``, ``-``, ``@``, tab or CR;
        see :func:`hclust.io.neutralise_formulas`); the page says when it did.
        ``False`` writes them as they are.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        ``features`` or ``frame`` rows differ from the leaves of ``Z``; ``k`` outside
        2..n; bad ``ks``; ``feature_names`` of the wrong length.
    TypeError
        An argument of the wrong type.

    Notes
    -----
    The page is deterministic for the same inputs (seeded scatter sample, no
    timestamps). It makes no network request: a Content-Security-Policy allows
    nothing but the page's own inline code, and every name or value taken
    from the data is shown as text (escaped for the table, the tooltips and
    Plotly, whose labels would otherwise render markup such as links). The PCA scatter shows at most 5,000 rows, a seeded random sample
    for larger tables (the page says so). Trees of more than 2,000 leaves open with
    the top clusters expanded (merges of at least n/500 rows among the last 2,000)
    and the rest collapsed into triangles labelled with their sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust import linkage
    >>> from hclust.report import build_report_html
    >>> X = np.random.default_rng(0).normal(size=(40, 2))
    >>> page = build_report_html(Z=linkage(X, "ward"), features=X, k=3, ks=[2, 3, 4])
    >>> page.startswith("<!DOCTYPE html>")
    True
    """
    data = prepare_report_data(
        Z=Z, features=features, frame=frame, k=k, ks=ks, feature_names=feature_names, names=names,
        evaluation=evaluation, params=params, title=title, details=details, ids=ids, id_name=id_name,
    )
    payload = report_payload(data)
    payload["escape_formulas"] = bool(escape_formulas)
    return _fill(_asset("report.html"), {
        "TITLE": html.escape(title),
        "VERSION": html.escape(__version__),
        "CSS": _asset("report.css"),
        "DATA": _json_script_safe(payload),
        "PLOTLY": _plotly_gzip_base64(),
        "JS": _script_safe(_asset("report.js")),
    })


def write_report(
    path: str | os.PathLike[str],
    *,
    Z: Any,
    features: Any,
    frame: pd.DataFrame | None = None,
    k: int,
    ks: Sequence[int] | None = None,
    feature_names: Sequence[Any] | None = None,
    names: Mapping[int, str] | None = None,
    evaluation: Evaluation | None = None,
    params: Mapping[str, Any] | None = None,
    title: str = "Segmentation report",
    details: Mapping[str, Any] | None = None,
    ids: Sequence[Any] | None = None,
    id_name: str | None = None,
    escape_formulas: bool = True,
) -> Path:
    """Write the self-contained HTML report to ``path`` (atomically) and return the path.

    Parameters are those of :func:`build_report_html`. The file is written to a
    temporary file beside ``path`` and renamed, so a failure leaves no partial report.

    Raises
    ------
    ValueError
        ``path`` is an existing directory, or as :func:`build_report_html`.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from hclust import linkage
    >>> from hclust.report import write_report
    >>> X = np.random.default_rng(0).normal(size=(40, 2))
    >>> out = write_report(pathlib.Path(tempfile.mkdtemp()) / "report.html",
    ...                    Z=linkage(X, "ward"), features=X, k=3, ks=[2, 3])
    >>> out.stat().st_size > 1_000_000  # mostly the embedded charting library
    True
    """
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"report path {str(target)!r} is a directory; pass a file name such as report.html.")
    text = build_report_html(
        Z=Z, features=features, frame=frame, k=k, ks=ks, feature_names=feature_names, names=names,
        evaluation=evaluation, params=params, title=title, details=details, ids=ids, id_name=id_name,
        escape_formulas=escape_formulas,
    )

    def write(stream: IO[Any]) -> None:
        stream.write(text.encode("utf-8"))

    return write_atomic(target, write, binary=True)

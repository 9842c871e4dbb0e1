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
from typing import IO, Any, Mapping

from .._version import __version__
from ..io import write_atomic
from ..segment._summary import SegmentationSummary
from ._data import LEGACY_KEYWORDS, as_summary, report_payload

__all__ = ["build_report_html", "write_report"]


def _asset(name: str) -> str:
    return resources.files("hclust.report").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


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
    summary: SegmentationSummary | None = None,
    *,
    title: str = "Segmentation report",
    escape_formulas: bool = True,
    **deprecated: Any,
) -> str:
    """The report of a segmentation summary as one HTML document (text).

    Parameters
    ----------
    summary : SegmentationSummary
        What the page shows, from :func:`hclust.segmentation_summary` (a linkage
        matrix, its features and the customer table) or
        :meth:`hclust.SegmentationModel.segmentation_summary`.
    title : str, default="Segmentation report"
    escape_formulas : bool, default=True
        In the downloaded CSV, prefix with ``'`` the values that spreadsheets would
        run as formulas (text starting with ``=``, ``+``, ``-``, ``@``, tab or CR;
        see :func:`hclust.io.neutralise_formulas`); the page says when it did.
        ``False`` writes them as they are.
    **deprecated
        hclust 0.1's keywords ``Z, features, frame, k, ks, feature_names, names,
        evaluation, params, details, ids, id_name`` instead of ``summary``: they still
        work, with a :class:`DeprecationWarning`, until hclust 0.3 (they are
        :func:`hclust.segmentation_summary`'s arguments, ``k`` now ``n_clusters``).

    Returns
    -------
    str

    Raises
    ------
    TypeError
        No summary, or a summary and deprecated keywords together, or a title that is
        not text.
    ValueError
        As :func:`hclust.segmentation_summary`, with the deprecated keywords.

    Notes
    -----
    The page is deterministic for the same summary (seeded scatter sample, no
    timestamps). It makes no network request: a Content-Security-Policy allows
    nothing but the page's own inline code, and every name or value taken
    from the data is shown as text (escaped for the table, the tooltips and
    Plotly, whose labels would otherwise render markup such as links). The PCA scatter
    shows at most 5,000 rows, a seeded random sample for larger tables (the page says
    so). Trees of more than 2,000 leaves open with the top clusters expanded (merges of
    at least n/500 rows among the last 2,000) and the rest collapsed into triangles
    labelled with their sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust import linkage, segmentation_summary
    >>> from hclust.report import build_report_html
    >>> X = np.random.default_rng(0).normal(size=(40, 2))
    >>> summary = segmentation_summary(linkage(X, "ward"), X, n_clusters=3, ks=[2, 3, 4])
    >>> page = build_report_html(summary, title="Forty points")
    >>> page.startswith("<!DOCTYPE html>")
    True
    """
    summary = as_summary("build_report_html", summary, deprecated, LEGACY_KEYWORDS)
    return _render(summary, title, escape_formulas)


def _render(summary: SegmentationSummary, title: str, escape_formulas: bool) -> str:
    if not isinstance(title, str):
        raise TypeError(f"title must be a string; got {type(title).__name__}.")
    payload = report_payload(summary, title=title)
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
    summary: SegmentationSummary | None = None,
    *,
    title: str = "Segmentation report",
    escape_formulas: bool = True,
    **deprecated: Any,
) -> Path:
    """Write the self-contained HTML report of ``summary`` to ``path`` (atomically).

    Parameters are those of :func:`build_report_html` (the deprecated keywords
    included). The page is written to a temporary file beside ``path`` and renamed,
    so a failure leaves no partial report.

    Returns
    -------
    pathlib.Path
        The report file written (``path`` as a ``Path``).

    Raises
    ------
    ValueError
        ``path`` is an existing directory; with the deprecated keywords, the errors of
        :func:`hclust.segmentation_summary`.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from hclust import linkage, segmentation_summary
    >>> from hclust.report import write_report
    >>> X = np.random.default_rng(0).normal(size=(40, 2))
    >>> summary = segmentation_summary(linkage(X, "ward"), X, n_clusters=3, ks=[2, 3])
    >>> out = write_report(pathlib.Path(tempfile.mkdtemp()) / "report.html", summary)
    >>> out.stat().st_size > 1_000_000  # mostly the embedded charting library
    True
    """
    summary = as_summary("write_report", summary, deprecated, LEGACY_KEYWORDS)
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"report path {str(target)!r} is a directory; pass a file name such as report.html.")
    text = _render(summary, title, escape_formulas)

    def write(stream: IO[Any]) -> None:
        stream.write(text.encode("utf-8"))

    return write_atomic(target, write, binary=True)

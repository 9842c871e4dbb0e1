"""Sphinx extension of the hclust docs: the benchmarks pages and the gallery's reports.

* ``builder-inited``: every result file ``docs/benchmarks/results/*.json`` (written by
  ``python benchmarks/bench_*.py --json PATH``; format ``{"meta": {...}, "rows": [...]}``)
  becomes ``docs/benchmarks/generated/<name>.rst``: when and where it was measured,
  a table with the ratios against the peers, and, for scripts that vary ``n``, a
  plot of time against ``n`` (PNG, drawn with matplotlib).
* ``build-finished``: the HTML files the gallery's examples wrote beside their sources
  (the report of ``plot_10_html_report.py``) are copied next to the examples' pages,
  so the pages can link to them.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1]
RESULTS = DOCS / "benchmarks" / "results"
GENERATED = DOCS / "benchmarks" / "generated"
GALLERY = DOCS / "gallery"
GALLERY_OUT = "auto_examples"


@dataclass
class Spec:
    """How one benchmark script's results are shown."""

    title: str
    columns: list[tuple[str, str]]  # (key, header); keys missing from every row are dropped
    ratios: list[tuple[str, str]] = field(default_factory=list)  # (peer key, header): peer / hclust_s
    group: str | None = None  # rows of one plot line share this key's value
    series: list[tuple[str, str]] = field(default_factory=list)  # (key, label) plotted against n
    x: str = "n"
    baseline: str = "hclust_s"


SPECS: dict[str, Spec] = {
    "bench_linkage.py": Spec(
        "All seven linkages from observations: hclust, fastcluster and scipy",
        [("method", "method"), ("algorithm", "algorithm"), ("n", "n"), ("d", "d"), ("hclust_s", "hclust"),
         ("hclust_gb", "memory"), ("fastcluster_s", "fastcluster"), ("fastcluster_gb", "memory"),
         ("scipy_s", "scipy"), ("scipy_gb", "memory"), ("same_as_scipy", "same tree as scipy")],
        ratios=[("fastcluster_s", "fastcluster / hclust"), ("scipy_s", "scipy / hclust")],
        group="method",
        series=[("hclust_s", "hclust"), ("fastcluster_s", "fastcluster"), ("scipy_s", "scipy")],
    ),
    "bench_ward.py": Spec(
        "Ward from observations: time against n",
        [("n", "n"), ("d", "d"), ("hclust_s", "hclust"), ("hclust_gb", "hclust peak memory"),
         ("fastcluster_vector_s", "fastcluster linkage_vector"), ("same_tree", "same tree"),
         ("searches_per_merge", "searches / merge"), ("rounds", "rounds")],
        ratios=[("fastcluster_vector_s", "fastcluster / hclust")],
        group="d",
        series=[("hclust_s", "hclust"), ("fastcluster_vector_s", "fastcluster linkage_vector")],
    ),
    "bench_single.py": Spec(
        "Single linkage from observations (Borůvka)",
        [("n", "n"), ("d", "d"), ("hclust_s", "hclust"), ("genie_s", "Genie"), ("hclust_mst_s", "hclust MST"),
         ("quitefastmst_s", "quitefastmst"), ("fastcluster_vector_s", "fastcluster"),
         ("hclust_prim_s", "hclust Prim"), ("hclust_gb", "hclust peak memory"), ("same", "same tree")],
        ratios=[("genie_s", "Genie / hclust"), ("fastcluster_vector_s", "fastcluster / hclust")],
        group="d",
        series=[("hclust_s", "hclust"), ("genie_s", "Genie"), ("quitefastmst_s", "quitefastmst (MST only)"),
                ("fastcluster_vector_s", "fastcluster linkage_vector")],
    ),
    "bench_pdist.py": Spec(
        "Pairwise distances: hclust.pdist against scipy",
        [("metric", "metric"), ("n", "n"), ("d", "d"), ("hclust_s", "hclust"), ("scipy_s", "scipy"),
         ("hclust_cpu_s", "hclust CPU"), ("scipy_cpu_s", "scipy CPU"), ("hclust_gb", "hclust memory"),
         ("scipy_gb", "scipy memory"), ("max_rel_diff", "max relative difference")],
        ratios=[("scipy_s", "scipy / hclust")],
        group="metric",
        series=[("hclust_s", "hclust"), ("scipy_s", "scipy")],
    ),
    "bench_tree.py": Spec(
        "Tree tools on deep trees, beside scipy",
        [("operation", "operation"), ("n", "leaves"), ("hclust_s", "hclust"), ("scipy", "scipy (scipy / hclust)")],
    ),
    "bench_summary.py": Spec(
        "Summaries of large data: micro-clusters and an exact tree over them",
        [("data", "data"), ("algorithm", "algorithm"), ("n", "n"), ("d", "d"), ("n_micro", "micro-clusters"),
         ("summarize_s", "summarize"), ("summarize_gb", "memory"), ("labels_s", "labels for every row"),
         ("hclust_s", "exact ward"), ("hclust_gb", "memory"), ("within_share", "share of SS inside"),
         ("ari_k2", "ARI k=2"), ("ari_k5", "ARI k=5"), ("ari_k10", "ARI k=10"), ("ari_k20", "ARI k=20")],
    ),
    "bench_diana.py": Spec(
        "Divisive clustering (DIANA) and bisecting k-means",
        [("operation", "operation"), ("n", "n"), ("d", "d"), ("hclust_s", "seconds"), ("hclust_gb", "memory")],
    ),
    "bench_gower.py": Spec(
        "Gower's distance: hclust against the gower package",
        [("library", "library"), ("n", "n"), ("wall_s", "wall"), ("cpu_s", "CPU"), ("peak_gb", "peak memory"),
         ("ratio", "gower / hclust")],
    ),
    "bench_startup.py": Spec(
        "Start-up time",
        [("command", "command"), ("seconds", "seconds"), ("ratio_to_scipy", "/ import scipy")],
    ),
    "bench_assign.py": Spec(
        "Scoring new customers: which rule agrees with a fit on all rows",
        [("data", "data"), ("linkage", "linkage"), ("rule", "rule"), ("sizes", "segment sizes"),
         ("training agreement", "training rows re-scored"), ("held-out ARI mean", "held-out ARI (mean)"),
         ("held-out ARI min", "held-out ARI (min)"), ("fits agree (ARI)", "the two fits agree (ARI)")],
    ),
    "bench_connectivity.py": Spec(
        "Connectivity-constrained clustering: hclust against scikit-learn",
        [("method", "linkage"), ("n", "n"), ("d", "d"), ("edges", "graph edges"), ("hclust_s", "hclust"),
         ("sklearn_s", "scikit-learn"), ("hclust_gb", "hclust peak memory"), ("bytes_per_edge", "bytes per edge"),
         ("sklearn_gb", "scikit-learn peak memory"), ("same_tree", "same tree"), ("note", "note")],
        ratios=[("sklearn_s", "scikit-learn / hclust")],
    ),
    "bench_dask.py": Spec(
        "On a Dask cluster: hclust.dask against the in-process engine",
        [("tier", "tier"), ("n", "n"), ("d", "d"), ("parts", "partitions"), ("round", "round"),
         ("seconds", "round time"), ("bytes_sent", "bytes sent"), ("bytes_returned", "bytes back"),
         ("bytes_points", "query rows moved (bytes)"), ("active_after", "clusters after the round"),
         ("hclust_s", "in-process"), ("dask_s", "hclust.dask"), ("ratio", "hclust.dask / in-process"),
         ("identical", "same Z"), ("repeats", "runs (medians)"), ("worker_peak_gb", "worker peak memory"),
         ("shard_bytes", "largest shard (bytes)"), ("copy_bytes", "client's run (bytes)"), ("n_micro", "micro-clusters"),
         ("hclust_within_share", "share of SS inside (in-process)"),
         ("dask_within_share", "share of SS inside (Dask)"), ("workers", "workers (projection)"),
         ("rounds", "rounds (projection)")],
    ),
    "bench_dask_large.py": Spec(
        "On a Dask cluster: the summary tier on more rows than a worker's memory",
        [("n", "n"), ("d", "d"), ("partitions", "partitions"), ("workers", "workers"),
         ("memory_limit_gb", "memory limit a worker"), ("n_micro", "micro-clusters"),
         ("summary_s", "summary"), ("write_s", "every row's segment to Parquet"), ("total_s", "total"),
         ("worker_peak_gb", "worker peak memory"), ("spilled_gb", "spilled to disk"),
         ("within_share", "share of SS inside"), ("rows_written", "rows written"),
         ("ids_ok", "every ID once"), ("sizes_ok", "segment sizes = micro-cluster counts")],
        baseline="total_s",
    ),
    "bench_contention.py": Spec(
        "With one core busy: parallel kernels against their serial twins",
        [("engine", "engine"), ("n", "n"), ("d", "d"), ("idle", "idle"), ("idle_serial", "idle, 1 thread"),
         ("busy", "busy"), ("busy_serial", "busy, 1 thread"), ("scipy_busy", "scipy, busy")],
        ratios=[("busy_serial", "busy 1 thread / busy")],
        baseline="busy",
    ),
    "bench_matrix.py": Spec(
        "Average, complete and weighted: the matrix engine against fastcluster (fastest of the runs)",
        [("method", "method"), ("n", "n"), ("d", "d"), ("input", "input"), ("n_jobs", "hclust threads"),
         ("hclust_min", "hclust"), ("hclust_median", "hclust median"), ("fastcluster_min", "fastcluster"),
         ("fastcluster_median", "fastcluster median"), ("same_tree", "same tree")],
        ratios=[("fastcluster_min", "fastcluster / hclust")],
        baseline="hclust_min",
    ),
}

SECONDS_SUFFIXES = ("_s",)


def _format(key: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if key.endswith("_gb") or key == "peak_gb":
            return "< 0.01 GB" if value < 0.01 else f"{value:.2f} GB"
        if key.endswith("_s") or key in ("idle", "idle_serial", "busy", "busy_serial", "scipy_busy", "seconds"):
            if value >= 100:
                return f"{value:,.0f} s"
            return f"{value:.3f} s" if value < 1 else f"{value:.2f} s"
        if key == "max_rel_diff":
            return f"{value:.1e}"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and key in ("n", "n_micro", "edges"):
        return f"{value:,}"
    return str(value).replace("|", "/")


def _cell(text: str) -> str:
    return text.replace("\n", " ") or " "


def _ratio(peer: Any, ours: Any) -> str:
    if not isinstance(peer, (int, float)) or not isinstance(ours, (int, float)) or not ours or peer is None:
        return "–"
    value = peer / ours
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


#: Columns left out of a table when every row has the same value (said above the table instead).
CONSTANT_COLUMNS = ("algorithm", "d", "data")


def _table(rows: list[dict[str, Any]], spec: Spec) -> list[str]:
    columns = [(k, h) for k, h in spec.columns if any(k in row for row in rows)]
    constant = [
        (k, h) for k, h in columns
        if k in CONSTANT_COLUMNS and len(rows) > 1 and len({str(r.get(k)) for r in rows}) == 1
    ]
    columns = [c for c in columns if c not in constant]
    ratios = [(k, h) for k, h in spec.ratios if any(row.get(k) is not None for row in rows)]
    headers = [h for _, h in columns] + [h for _, h in ratios]
    lines = []
    if constant:
        lines += ["Every row: " + ", ".join(f"{h} = {_format(k, rows[0].get(k))}" for k, h in constant) + ".", ""]
    lines += [".. list-table::", "   :header-rows: 1", "   :class: hclust-bench", ""]
    lines.append("   * - " + "\n     - ".join(_cell(h) for h in headers))
    for row in rows:
        cells = [_format(k, row.get(k)) for k, _ in columns]
        cells += [_ratio(row.get(k), row.get(spec.baseline)) for k, _ in ratios]
        lines.append("   * - " + "\n     - ".join(_cell(c) for c in cells))
    return lines + [""]


def _plot(rows: list[dict[str, Any]], spec: Spec, target: Path) -> bool:
    """Time against n, log-log, one colour per series and one marker style per group."""
    usable = [r for r in rows if isinstance(r.get(spec.x), (int, float))]
    values = {r.get(spec.group) for r in usable} if spec.group else {None}
    numeric = all(isinstance(v, (int, float)) for v in values)
    groups = sorted(values, key=lambda v: (v if numeric else str(v)))
    if len({r[spec.x] for r in usable}) < 2:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = groups if spec.group and len(groups) <= 8 else [None]
    ncols = min(len(panels), 4)
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 3.0 * nrows), squeeze=False, sharey=True)
    for ax, group in zip(axes.ravel(), panels):
        subset = [r for r in usable if group is None or r.get(spec.group) == group]
        for index, (key, label) in enumerate(spec.series):
            points = sorted((r[spec.x], r[key]) for r in subset if isinstance(r.get(key), (int, float)))
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, "o-" if index == 0 else "s--", color=f"C{index}", label=label, markersize=4)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(spec.x)
        ax.set_title(f"{spec.group} = {group}" if group is not None else "", fontsize=9)
        ax.grid(True, which="both", linewidth=0.3)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("seconds")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes.ravel()[1: len(panels)]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08 if nrows == 1 else 0.05, 1, 1))
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return True


def _meta_lines(meta: dict[str, Any]) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())
    lines = [
        f"Measured {meta.get('date', 'on an unknown date')} on {meta.get('machine', 'an unknown machine')}"
        + (f", {meta['threads']} threads" if meta.get("threads") else "") + ".",
        "",
    ]
    if versions:
        lines += [f"Versions: {versions}.", ""]
    for key, label in (("data", "Data"), ("graph", "Graph"), ("peers", "Peers"), ("command", "Command"), ("note", "Note"),
                       ("memory", "Memory"), ("statistic", "Statistic"), ("source", "Source")):
        value = meta.get(key)
        if value:
            value = ", ".join(value) if isinstance(value, list) else value
            if key != "command":  # options as literals (no smart dashes)
                value = re.sub(r"(?<![`\w])(--[\w-]+)", r"``\1``", value)
            lines += [f"{label}: ``{value}``" if key == "command" else f"{label}: {value}", ""]
    return lines


def write_benchmark_pages(results: Path = RESULTS, out: Path = GENERATED, index: Path | None = None) -> list[Path]:
    """One ``.rst`` (and a plot where n varies) per result file; returns the pages written.

    ``others.rst`` includes the pages that ``index`` (default: the benchmarks page,
    ``out/../index.rst``) does not include itself.
    """
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        stale.unlink()
    pages = []
    for path in sorted(results.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        meta, rows = record["meta"], record["rows"]
        script = meta.get("script", path.stem)
        spec = SPECS.get(script) or Spec(script, [(k, k) for k in dict.fromkeys(k for r in rows for k in r)])
        title = spec.title
        lines = [f".. _bench-{path.stem}:", "", title, "-" * len(title), ""]
        lines += [f"``python benchmarks/{script}`` (results: ``docs/benchmarks/results/{path.name}``).", ""]
        lines += _meta_lines(meta)
        if spec.ratios:
            lines += ["Ratios are the peer's time divided by hclust's in the same run: above 1, hclust is faster.",
                      ""]
        lines += _table(rows, spec)
        plot = out / f"{path.stem}.png"
        if spec.series and _plot(rows, spec, plot):
            lines += [f".. figure:: /benchmarks/generated/{plot.name}", f"   :alt: {title}: time against {spec.x}", "",
                      f"   Time against {spec.x} (log scales), from the table above.", ""]
        page = out / f"{path.stem}.rst"
        page.write_text("\n".join(lines) + "\n", encoding="utf-8")
        pages.append(page)
    # the result files that the hand-written page does not place itself go to "others.rst"
    index = index or out.parent / "index.rst"
    placed = index.read_text(encoding="utf-8") if index.is_file() else ""
    others = [p for p in pages if f"/benchmarks/generated/{p.name}" not in placed]
    (out / "others.rst").write_text(
        "".join(f".. include:: /benchmarks/generated/{p.name}\n\n" for p in others) or "(none)\n",
        encoding="utf-8",
    )
    return pages


def _builder_inited(app) -> None:
    write_benchmark_pages()


def _copy_gallery_outputs(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in GALLERY.rglob("*.html"):
        target = Path(app.outdir) / GALLERY_OUT / page.parent.relative_to(GALLERY) / page.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)


def setup(app):
    app.connect("builder-inited", _builder_inited)
    app.connect("build-finished", _copy_gallery_outputs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

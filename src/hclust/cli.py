"""The ``hclust`` command: argv -> public API -> exit code.

User errors (bad files, bad options, bad data) print one line on stderr and
exit with status 1; Ctrl-C exits with 130; usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import __version__

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Where ``hclust demo`` writes its outputs unless ``--out`` says otherwise.
DEMO_FOLDER = Path("hclust-demo")


# --------------------------------------------------------------------------- arguments
def _add_source(parser: argparse.ArgumentParser, what: str = "customer table") -> None:
    parser.add_argument(
        "input",
        help=f"the {what}: CSV, Parquet or Excel file, a SQLite file, or a SQLAlchemy URL",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--table", help="SQL source: the table to read")
    group.add_argument("--query", help="SQL source: a SELECT query to read")


def _add_columns(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--columns", nargs="+", metavar="COL", help="columns to segment on (default: all usable)")
    group.add_argument("--exclude", nargs="+", metavar="COL", help="columns to leave out (ids, known labels, ...)")


def _add_output(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--out",
        required=required,
        help="output: a .csv, .parquet or .xlsx file, or a SQLite file / SQLAlchemy URL with --out-table",
    )
    parser.add_argument("--out-table", help="SQL output: table to write the rows to")
    parser.add_argument(
        "--if-exists",
        choices=("fail", "replace", "append"),
        default="fail",
        help="SQL output: what to do when the table exists (default fail)",
    )


def _ks(text: str) -> list[int]:
    """'2-10' or '2,3,5' -> list of ints (argparse type)."""
    try:
        if "-" in text:
            lo, hi = (int(part) for part in text.split("-", 1))
            values = list(range(lo, hi + 1))
        else:
            values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a range like 2-10 or a list like 2,4,6; got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"numbers of segments must be >= 1; got {text!r}")
    return values


def _metric(text: str) -> str:
    """A metric name or alias (scipy's, scikit-learn's) -> its canonical name (argparse type)."""
    from ._metrics import LINKAGE_ONLY, METRICS, normalize

    try:
        return str(normalize(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown metric {text!r}; choose one of {', '.join(METRICS + LINKAGE_ONLY)} "
            "(or an alias such as cos, cb, euclid, manhattan, l2)"
        ) from None


def _metric_help(default: str) -> str:
    from ._metrics import LINKAGE_ONLY, METRICS

    return (
        f"distance (default {default}): {', '.join(METRICS + LINKAGE_ONLY)}; scipy's and "
        "scikit-learn's aliases (cos, cb, euclid, manhattan, l2, ...) work too; "
        "'gower' for mixed data"
    )


def _parser() -> argparse.ArgumentParser:
    from .linkage import METHODS

    parser = argparse.ArgumentParser(
        prog="hclust", description="Exact, fast hierarchical clustering for customer segmentation."
    )
    parser.add_argument("--version", action="version", version=f"hclust {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="segment the bundled Wholesale customers data end to end")
    demo.add_argument("--k", type=int, default=4, help="number of segments (default 4)")
    demo.add_argument("--method", choices=METHODS, default="ward", help="linkage (default ward)")
    demo.add_argument("--out", type=Path, default=DEMO_FOLDER, help=f"output folder (default {DEMO_FOLDER})")
    demo.add_argument("--quiet", action="store_true", help="print nothing but errors")

    seg = commands.add_parser("segment", help="segment a customer table: labels, profiles, model, report")
    _add_source(seg)
    cut = seg.add_mutually_exclusive_group()
    cut.add_argument("--k", type=int, help="number of segments")
    cut.add_argument("--height", type=float, help="cut the tree at this height")
    cut.add_argument("--auto", action="store_true", help="choose k with hclust evaluate (the default)")
    seg.add_argument("--ks", type=_ks, default=list(range(2, 11)), help="candidates for --auto (default 2-10)")
    seg.add_argument("--method", choices=METHODS, default="ward", help="linkage (default ward)")
    seg.add_argument("--metric", type=_metric, default="euclidean", help=_metric_help("euclidean"))
    _add_columns(seg)
    seg.add_argument("--weights", metavar="COL", help="a column of counts: each row stands for that many customers")
    seg.add_argument("--scale", choices=("standard", "robust", "minmax", "none"), default="standard",
                     help="scaling of numeric columns (default standard)")
    seg.add_argument("--log1p", choices=("auto", "none"), default="auto",
                     help="log1p of skewed amounts (default auto)")
    _add_output(seg)
    seg.add_argument("--model", type=Path, help="folder to save the model in (for hclust assign)")
    seg.add_argument("--report", type=Path, help="HTML report to write")
    seg.add_argument("--quiet", action="store_true", help="no progress or summary")

    assign = commands.add_parser("assign", help="assign new customers to the segments of a saved model")
    assign.add_argument("model", type=Path, help="model folder written by hclust segment --model")
    _add_source(assign, "table of new customers")
    _add_output(assign)
    assign.add_argument("--quiet", action="store_true", help="no summary")

    evaluate = commands.add_parser("evaluate", help="score the cuts of the tree and recommend a number of segments")
    _add_source(evaluate)
    _add_columns(evaluate)
    evaluate.add_argument("--method", choices=METHODS, default="ward", help="linkage (default ward)")
    evaluate.add_argument("--ks", type=_ks, default=list(range(2, 16)), help="numbers of segments (default 2-15)")
    evaluate.add_argument("--no-gap", action="store_true", help="skip the gap statistic (the slowest index)")
    _add_output(evaluate, required=False)
    evaluate.add_argument("--quiet", action="store_true", help="no progress or table")

    compare = commands.add_parser("compare", help="compare linkages with k-means, GMM, DBSCAN and BIRCH")
    _add_source(compare)
    _add_columns(compare)
    compare.add_argument("--k", type=int, required=True, help="number of segments")
    compare.add_argument("--methods", nargs="+", metavar="NAME", help="methods to run (default: all)")
    compare.add_argument("--labels", metavar="COL", help="a column of known segments (left out of the features)")
    _add_output(compare, required=False)
    compare.add_argument("--quiet", action="store_true", help="no table")

    link = commands.add_parser("linkage", help="compute the linkage matrix Z of a table's numeric columns")
    _add_source(link)
    link.add_argument("--method", choices=METHODS, default="ward")
    link.add_argument("--metric", type=_metric, default="euclidean", help=_metric_help("euclidean"))
    _add_columns(link)
    link.add_argument("--out", type=Path, required=True, help="output .npy file for Z")
    link.add_argument("--quiet", action="store_true", help="no progress or summary")

    report = commands.add_parser("report", help="write the report of a saved model")
    report.add_argument("model", type=Path, help="model folder written by hclust segment --model")
    _add_source(report, "training table (for profiles in original units)")
    report.add_argument("--out", type=Path, required=True, help="report.html, or a folder for --format png|svg|pdf")
    report.add_argument("--format", choices=("html", "png", "svg", "pdf"), default="html")
    report.add_argument("--quiet", action="store_true")
    return parser


# --------------------------------------------------------------------------- helpers
def _say(args: argparse.Namespace, *lines: str) -> None:
    if not getattr(args, "quiet", False):
        for line in lines:
            print(line)


@contextlib.contextmanager
def _progress(args: argparse.Namespace, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr fed by ``progress(done, total)``; None when quiet."""
    if getattr(args, "quiet", False) or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _read(args: argparse.Namespace) -> Any:
    from .io import read_source

    return read_source(args.input, table=args.table, query=args.query)


def _numeric_columns(frame: Any, columns: list[str] | None, exclude: list[str] | None) -> Any:
    import pandas as pd

    _check_columns(frame, columns, exclude)
    if columns is not None:
        chosen = frame[columns]
        bad = [c for c in columns if not pd.api.types.is_numeric_dtype(chosen[c])]
        if bad:
            raise ValueError(f"column(s) {bad} are not numeric; this command needs numeric columns.")
        return chosen
    skip = set(exclude or ())
    numeric = [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
    if not numeric:
        raise ValueError("the table has no numeric columns; name them with --columns.")
    return frame[numeric]


def _check_columns(frame: Any, columns: list[str] | None, exclude: list[str] | None) -> None:
    for option, names in (("--columns", columns), ("--exclude", exclude)):
        unknown = [c for c in names or () if c not in frame.columns]
        if unknown:
            raise ValueError(f"{option}: unknown column(s) {unknown}; the table has {list(map(str, frame.columns))}.")


def _prepared_features(frame: Any, args: argparse.Namespace) -> tuple[np.ndarray, list[str]]:
    """Features as ``segment`` prepares them (impute, log1p auto, standardise, one-hot)."""
    from .segment import Preparer

    _check_columns(frame, args.columns, args.exclude)
    used = frame[args.columns] if args.columns else frame.drop(columns=list(args.exclude or ()))
    prepared = Preparer().fit_transform(used)
    return prepared.to_numpy(dtype=np.float64), [str(c) for c in prepared.columns]


def _is_sql_target(out: str, table: str | None) -> bool:
    from .io import is_sql_source

    return table is not None or is_sql_source(out)


def _write_rows(args: argparse.Namespace, frame: Any, inputs: Sequence[Any]) -> str:
    """Write a table to ``--out`` (file by ending, or SQL with ``--out-table``); returns where."""
    from .io import check_output, save_table, write_sql

    out = str(args.out)
    if _is_sql_target(out, args.out_table):
        if not args.out_table:
            raise ValueError(f"--out {out} is a SQL database: name the table to write with --out-table.")
        protect = (args.input, args.table) if getattr(args, "table", None) else None
        write_sql(frame, out, args.out_table, if_exists=args.if_exists, protect=protect)
        return f"{out} (table {args.out_table})"
    if args.out_table:
        raise ValueError(f"--out-table needs a SQL database as --out; {out} is a file name.")
    target = check_output(out, *inputs)
    save_table(target, frame)
    return str(target)


def _table_text(frame: Any) -> str:
    import pandas as pd

    with pd.option_context("display.width", 140, "display.max_columns", 30, "display.max_colwidth", 70):
        return frame.to_string()


# --------------------------------------------------------------------------- commands
def _run_demo(args: argparse.Namespace) -> int:
    from .datasets import WHOLESALE_SPENDING, load_wholesale
    from .segment import Preparer
    from .segment.model import SegmentationModel

    customers = load_wholesale()
    rng = np.random.default_rng(0)
    new = np.zeros(len(customers), dtype=bool)
    new[rng.choice(len(customers), size=20, replace=False)] = True
    known, arriving = customers[~new], customers[new]
    _say(
        args,
        f"Wholesale customers (440 clients, CC BY 4.0, Cardoso 2014): {args.method} linkage on the "
        f"log-scaled, standardised spending of {len(known)} clients; 20 held back as 'new customers'.",
        "",
    )
    model = SegmentationModel(
        args.k,
        method=args.method,
        columns=list(WHOLESALE_SPENDING),
        preparer=Preparer(log1p=list(WHOLESALE_SPENDING), scale="standard"),
    )
    with _progress(args, "Building the tree") as progress:
        model.fit(known, progress=progress)
    from .select import evaluate

    evaluation = evaluate(
        model.linkage_matrix_, model.features_, range(2, 11), method=args.method, gap_sample_size=400
    )
    model.evaluation_ = evaluation
    _say(args, "Choosing k (hclust evaluate):", *("  " + r for r in evaluation.reasons),
         f"  -> using k={model.n_clusters_} (--k to change)", "")
    summary = model.summary()
    summary["share"] = summary["share"].map("{:.0%}".format)
    _say(args, "Segments:", _table_text(summary.set_index("segment")), "")

    means = model.labelled().groupby("segment")[list(WHOLESALE_SPENDING)].mean().round(0)
    _say(args, "Mean annual spending per segment (monetary units):", _table_text(means), "")

    assigned = model.assign(arriving)
    shown = arriving[list(WHOLESALE_SPENDING)].join(assigned[["segment", "distance", "confidence"]]).head(8)
    _say(args, "New customers assigned to the segments (first 8):", _table_text(shown.round(2)), "")

    from .io import save_csv, save_npy

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = [
        save_csv(out / "segments.csv", model.labelled(known)),
        save_csv(out / "new_customers.csv", arriving.join(assigned)),
        save_npy(out / "linkage.npy", model.linkage_matrix_),
        model.save(out / "model"),
    ]
    with contextlib.suppress(ImportError):
        written.append(model.report(out / "report.html", title="Wholesale customers: demo segmentation"))
    _say(args, "Wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


def _run_segment(args: argparse.Namespace) -> int:
    from .io import check_output
    from .segment import Preparer
    from .segment.model import SegmentationModel

    inputs = [args.input]
    _check_plain_output(args, inputs)
    if args.model is not None:
        check_output(args.model, *inputs)
    if args.report is not None:
        check_output(args.report, *inputs)
    frame = _read(args)
    _check_columns(frame, args.columns, args.exclude)
    model = SegmentationModel(
        args.k,
        height=args.height,
        method=args.method,
        metric=args.metric,
        columns=args.columns,
        exclude=args.exclude,
        weight_column=args.weights,
        preparer=Preparer(
            log1p=None if args.log1p == "none" else "auto", scale=None if args.scale == "none" else args.scale
        ),
        ks=args.ks,
    )
    with _progress(args, "Building the tree") as progress:
        model.fit(frame, progress=progress)
    where = _write_rows(args, model.labelled(frame), inputs)
    written = [where]
    if args.model is not None:
        written.append(str(model.save(args.model)))
    if args.report is not None:
        written.append(str(model.report(args.report)))
    if model.evaluation_ is not None:
        _say(args, "Choosing k:", *("  " + r for r in model.evaluation_.reasons), "")
    summary = model.summary()
    summary["share"] = summary["share"].map("{:.1%}".format)
    _say(
        args,
        f"{len(model.labels_)} customers, {len(model.feature_names_)} features, {args.method} linkage "
        f"-> {model.n_clusters_} segments:",
        _table_text(summary.set_index("segment")),
        "",
        "Wrote " + ", ".join(written),
    )
    return EXIT_OK


def _check_plain_output(args: argparse.Namespace, inputs: Sequence[Any]) -> None:
    """Refuse a file output equal to an input before any work is done."""
    from .io import check_output

    if args.out is not None and not _is_sql_target(str(args.out), args.out_table):
        check_output(args.out, *inputs)


def _run_assign(args: argparse.Namespace) -> int:
    from .segment.model import SegmentationModel

    inputs = [args.input, args.model]
    _check_plain_output(args, inputs)
    model = SegmentationModel.load(args.model)
    frame = _read(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assigned = model.assign(frame)
    where = _write_rows(args, frame.join(assigned, rsuffix="_assigned"), inputs)
    counts = assigned["segment"].value_counts().sort_index()
    lines = [f"{len(frame)} customers assigned with {args.model}:"]
    lines += [f"  segment {s} ({model.names_.get(int(s), 'not assigned')}): {c}" for s, c in counts.items()]
    lines += [f"  note: {w.message}" for w in caught]
    lines.append(f"Wrote {where}")
    _say(args, *lines)
    return EXIT_OK


def _run_evaluate(args: argparse.Namespace) -> int:
    from .linkage import linkage
    from .select import evaluate

    if args.out is not None:
        _check_plain_output(args, [args.input])
    frame = _read(args)
    X, _ = _prepared_features(frame, args)
    with _progress(args, "Building the tree") as progress:
        Z = linkage(X, args.method, progress=progress)
    from .select import METRICS

    metrics = tuple(m for m in METRICS if not (args.no_gap and m == "gap"))
    result = evaluate(Z, X, args.ks, method=args.method, metrics=metrics, gap_sample_size=min(len(X), 2000))
    table = result.table.reset_index()
    written = [] if args.out is None else [_write_rows(args, table, [args.input])]
    _say(args, _table_text(result.table.round(4)), "", *result.reasons)
    if written:
        _say(args, "Wrote " + written[0])
    return EXIT_OK


def _run_compare(args: argparse.Namespace) -> int:
    from .compare import compare

    if args.out is not None:
        _check_plain_output(args, [args.input])
    frame = _read(args)
    truth = None
    if args.labels is not None:
        if args.labels not in frame.columns:
            raise ValueError(f"--labels: unknown column {args.labels!r}; the table has {list(map(str, frame.columns))}.")
        truth = frame[args.labels].astype(str).to_numpy()
        frame = frame.drop(columns=[args.labels])
    X, _ = _prepared_features(frame, args)
    result = compare(X, args.k, methods=args.methods, labels_true=truth)
    if args.out is not None:
        _say(args, "Wrote " + _write_rows(args, result.table.reset_index(), [args.input]))
    _say(args, result.to_string())
    return EXIT_OK


def _run_linkage(args: argparse.Namespace) -> int:
    from .io import check_output, save_npy
    from .linkage import linkage

    out = check_output(args.out, args.input)
    frame = _read(args)
    data = _numeric_columns(frame, args.columns, args.exclude)
    with _progress(args, "Building the tree") as progress:
        Z = linkage(data, args.method, args.metric, progress=progress)
    save_npy(out, Z)
    _say(args, f"{len(data)} rows x {data.shape[1]} columns -> {out} ({args.method}, {args.metric})")
    return EXIT_OK


def _run_report(args: argparse.Namespace) -> int:
    from .io import check_output
    from .segment.model import SegmentationModel

    if args.format == "html":
        check_output(args.out, args.input, args.model)
    model = SegmentationModel.load(args.model)
    frame = _read(args)
    if args.format == "html":
        written = [model.report(args.out, frame)]
    else:
        written = model.report_static(args.out, frame, fmt=args.format)
    _say(args, "Wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hclust`` console script; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    runners = {
        "demo": _run_demo,
        "segment": _run_segment,
        "assign": _run_assign,
        "evaluate": _run_evaluate,
        "compare": _run_compare,
        "linkage": _run_linkage,
        "report": _run_report,
    }
    try:
        with warnings.catch_warnings():
            # data warnings (unseen levels, dropped rows) reach the user as one line each
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            return runners[args.command](args)
    except KeyboardInterrupt:
        print("hclust: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, OSError, MemoryError, KeyError, RuntimeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"hclust: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    print(f"hclust: warning: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

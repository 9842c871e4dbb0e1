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


def _add_preparation(parser: argparse.ArgumentParser) -> None:
    """The same preparation options, with the same defaults, on every command that prepares a table."""
    group = parser.add_argument_group("preparation (the same for segment, evaluate, compare and linkage)")
    group.add_argument("--impute", choices=("median", "mean", "most_frequent", "drop", "none"), default="median",
                       help="missing values: fill with the median (default), mean or most frequent value, drop "
                            "the rows, or refuse them (none)")
    group.add_argument("--log1p", choices=("auto", "none"), default="auto",
                       help="log1p of skewed non-negative amounts (default auto)")
    group.add_argument("--scale", choices=("standard", "robust", "minmax", "none"), default="standard",
                       help="scaling of numeric columns (default standard)")


def _min_size(text: str) -> Any:
    """'5' (customers), '2%' or '0.02' (a share), '2%,5' (both), 'none' (argparse type)."""
    if text.strip().lower() in ("none", "0"):
        return None

    def one(part: str) -> Any:
        part = part.strip()
        if part.endswith("%"):
            return float(part[:-1]) / 100.0
        return float(part) if "." in part else int(part)

    try:
        parts = [one(p) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a count (5), a share (2% or 0.02), both (2%,5) or none; got {text!r}"
        ) from None
    if len(parts) == 2 and isinstance(parts[0], float) and isinstance(parts[1], int):
        spec: Any = (parts[0], parts[1])
    elif len(parts) == 1:
        spec = parts[0]
    else:
        raise argparse.ArgumentTypeError(f"expected SHARE,COUNT such as 2%,5; got {text!r}")
    from .select import min_segment_count

    try:
        min_segment_count(spec, 1.0)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return spec


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


def _parser() -> argparse.ArgumentParser:
    from .linkage import METHODS
    from .segment._assign import ASSIGN_RULES
    from .select import MIN_SEGMENT_SIZE

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
    seg.add_argument("--min-segment-size", type=_min_size, default=MIN_SEGMENT_SIZE, metavar="SIZE",
                     help="--auto: the smallest segment a chosen k may have: a count (5), a share (2%%), both "
                          "(2%%,5: the default) or none")
    seg.add_argument("--method", choices=METHODS, default="ward", help="linkage (default ward)")
    seg.add_argument("--metric", default="euclidean", help="distance (default euclidean; 'gower' for mixed data)")
    _add_columns(seg)
    seg.add_argument("--weights", metavar="COL", help="a column of counts: each row stands for that many customers")
    _add_preparation(seg)
    _add_output(seg)
    seg.add_argument("--model", type=Path, help="folder to save the model in (for hclust assign)")
    seg.add_argument("--report", type=Path, help="HTML report to write")
    seg.add_argument("--quiet", action="store_true", help="no progress or summary")

    assign = commands.add_parser("assign", help="assign new customers to the segments of a saved model")
    assign.add_argument("model", type=Path, help="model folder written by hclust segment --model")
    _add_source(assign, "table of new customers")
    assign.add_argument("--rule", choices=ASSIGN_RULES, default=ASSIGN_RULES[0],
                        help="how customers unlike any training customer are placed: nearest (the 15 nearest "
                             "training customers vote; default), linkage (the linkage's own join rule) or "
                             "centroid (the nearest segment centre)")
    _add_output(assign)
    assign.add_argument("--quiet", action="store_true", help="no summary")

    evaluate = commands.add_parser("evaluate", help="score the cuts of the tree and recommend a number of segments")
    _add_source(evaluate)
    _add_columns(evaluate)
    evaluate.add_argument("--method", choices=METHODS, default="ward", help="linkage (default ward)")
    evaluate.add_argument("--metric", default="euclidean",
                          help="distance (default euclidean; 'gower' for mixed data): the criteria use it too")
    evaluate.add_argument("--ks", type=_ks, default=list(range(2, 16)), help="numbers of segments (default 2-15)")
    evaluate.add_argument("--min-segment-size", type=_min_size, default=MIN_SEGMENT_SIZE, metavar="SIZE",
                          help="the smallest segment a recommended k may have (default 2%%,5; see segment)")
    evaluate.add_argument("--no-gap", action="store_true", help="skip the gap statistic (the slowest index)")
    _add_preparation(evaluate)
    _add_output(evaluate, required=False)
    evaluate.add_argument("--quiet", action="store_true", help="no progress or table")

    compare = commands.add_parser("compare", help="compare linkages with k-means, GMM, DBSCAN and BIRCH")
    _add_source(compare)
    _add_columns(compare)
    compare.add_argument("--k", type=int, required=True, help="number of segments")
    compare.add_argument("--methods", nargs="+", metavar="NAME", help="methods to run (default: all)")
    compare.add_argument("--labels", metavar="COL", help="a column of known segments (left out of the features)")
    _add_preparation(compare)
    _add_output(compare, required=False)
    compare.add_argument("--quiet", action="store_true", help="no table")

    link = commands.add_parser("linkage", help="compute the linkage matrix Z of a table, prepared as segment prepares it")
    _add_source(link)
    link.add_argument("--method", choices=METHODS, default="ward")
    link.add_argument("--metric", default="euclidean", help="distance (default euclidean; 'gower' for mixed data)")
    _add_columns(link)
    _add_preparation(link)
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


def _check_columns(frame: Any, columns: list[str] | None, exclude: list[str] | None) -> None:
    for option, names in (("--columns", columns), ("--exclude", exclude)):
        unknown = [c for c in names or () if c not in frame.columns]
        if unknown:
            raise ValueError(f"{option}: unknown column(s) {unknown}; the table has {list(map(str, frame.columns))}.")


def _preparer(args: argparse.Namespace) -> Any:
    """The Preparer the preparation options describe (one story for every command)."""
    from .segment import Preparer

    return Preparer(
        impute=None if args.impute == "none" else args.impute,
        log1p=None if args.log1p == "none" else "auto",
        scale=None if args.scale == "none" else args.scale,
    )


def _prepared_features(frame: Any, args: argparse.Namespace) -> tuple[Any, list[str], Any]:
    """What ``segment`` computes distances on: prepared features (impute, log1p, scale, one-hot), or
    for ``--metric gower`` the Gower distances of the raw columns. Returns the data (features, or a
    square distance matrix for Gower), the feature names and the preparation record."""
    from .segment.schema import infer_schema

    _check_columns(frame, args.columns, args.exclude)
    used = frame[args.columns] if args.columns else frame.drop(columns=list(args.exclude or ()))
    left_out = {str(c): ("excluded by you" if c in (args.exclude or ()) else "not in --columns")
                for c in frame.columns if c not in used.columns}
    if getattr(args, "metric", "euclidean") == "gower":
        from .gower import Gower
        from .segment.model import _gower_record

        schema = infer_schema(used)
        if not schema.used:
            raise ValueError(f"no usable columns: every column is excluded ({schema.kinds}).")
        gower = Gower(types={c: "ignore" for c in schema.excluded}).fit(used)
        return gower.pairwise(), [str(c) for c in gower.columns_], _gower_record(gower, schema, left_out, len(used))
    preparer = _preparer(args)
    prepared = preparer.fit_transform(used)
    record = preparer.record(excluded=left_out)
    return prepared.to_numpy(dtype=np.float64), [str(c) for c in prepared.columns], record


def _preparation_lines(record: Any) -> list[str]:
    return ["Preparation:", *("  " + line for line in record.lines()), ""]


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
    evaluation = model.evaluate(range(2, 11))  # on the model's own distances, with its minimum segment size
    model.evaluation_ = evaluation
    _say(args, "Choosing k (hclust evaluate):", *("  " + r for r in evaluation.reasons),
         f"  -> using k={model.n_clusters_} (--k to change)", "")
    summary = model.summary().segments
    summary["share"] = summary["share"].map("{:.0%}".format)
    summary["stability"] = summary["stability"].map("{:.2f}".format)
    _say(args, "Segments (stability: bootstrap Jaccard, above 0.85 highly stable):",
         _table_text(summary.set_index("segment")), "")

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
    from .segment.model import SegmentationModel, _assignment_lines

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
        preparer=_preparer(args),
        ks=args.ks,
        min_segment_size=args.min_segment_size,
    )
    with _progress(args, "Building the tree") as progress:
        model.fit(frame, progress=progress)
    where = _write_rows(args, model.labelled(frame), inputs)
    written = [where]
    if args.model is not None:
        written.append(str(model.save(args.model)))
    if args.report is not None:
        written.append(str(model.report(args.report)))
    summary = model.summary()
    segments = summary.segments
    segments["share"] = segments["share"].map("{:.1%}".format)
    segments["stability"] = segments["stability"].map(lambda v: "" if v != v else f"{v:.2f}")
    _say(
        args,
        f"{summary.data['rows']} customers, {summary.data['n_features']} features "
        f"({', '.join(summary.data['features'][:12])}{' ...' if summary.data['n_features'] > 12 else ''}), "
        f"{args.method} linkage on {summary.data['distance']}.",
        "",
        *_preparation_lines(summary.preparation),
        "Number of segments:",
        *("  " + line for line in summary.choice_of_k),
        "",
        f"{model.n_clusters_} segments (stability: bootstrap Jaccard, below 0.6 not stable, above 0.85 highly "
        "stable):",
        _table_text(segments.set_index("segment")),
        "",
        "Assigning customers (hclust assign):",
        *("  " + line for line in _assignment_lines(summary.assignment)),
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
        assigned = model.assign(frame, rule=args.rule)
    where = _write_rows(args, frame.join(assigned, rsuffix="_assigned"), inputs)
    counts = assigned["segment"].value_counts().sort_index()
    lines = [
        f"{len(frame)} customers assigned with {args.model} (rule {args.rule}; {int(assigned['known'].sum())} "
        "identical to training customers got their own segment):"
    ]
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
    X, names, record = _prepared_features(frame, args)
    gower = args.metric == "gower"
    with _progress(args, "Building the tree") as progress:
        Z = linkage(X, args.method, "precomputed" if gower else args.metric, progress=progress)
    from .select import METRICS

    metrics = tuple(m for m in METRICS if not ((args.no_gap or args.metric != "euclidean") and m == "gap"))
    distance = record.distance if gower else (
        f"{'Euclidean' if args.metric == 'euclidean' else args.metric} distances of the {len(names)} prepared features"
    )
    result = evaluate(
        Z, X, args.ks, method=args.method, metrics=metrics, gap_sample_size=min(len(X), 2000),
        metric="precomputed" if gower else args.metric, min_segment_size=args.min_segment_size,
        distance_name=distance,
    )
    table = result.table.reset_index()
    written = [] if args.out is None else [_write_rows(args, table, [args.input])]
    _say(args, *_preparation_lines(record), _table_text(result.table.round(4)), "", *result.reasons)
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
    X, _, record = _prepared_features(frame, args)
    result = compare(X, args.k, methods=args.methods, labels_true=truth)
    _say(args, *_preparation_lines(record))
    if args.out is not None:
        _say(args, "Wrote " + _write_rows(args, result.table.reset_index(), [args.input]))
    _say(args, result.to_string())
    return EXIT_OK


def _run_linkage(args: argparse.Namespace) -> int:
    from .io import check_output, save_npy
    from .linkage import linkage

    out = check_output(args.out, args.input)
    frame = _read(args)
    data, names, record = _prepared_features(frame, args)
    gower = args.metric == "gower"
    with _progress(args, "Building the tree") as progress:
        Z = linkage(data, args.method, "precomputed" if gower else args.metric, progress=progress)
    save_npy(out, Z)
    distances = record.distance if gower else f"{args.metric} distances"
    _say(args, *_preparation_lines(record), f"{len(data)} rows x {len(names)} features -> {out} "
         f"({args.method} linkage on {distances})")
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

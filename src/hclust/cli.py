"""The ``hclust`` command: argv -> public API -> exit code.

User errors (bad files, bad options, bad data) print one line on stderr, in
the command's own terms (the option to pass), and exit with status 1; Ctrl-C
exits with 130, at any time from start-up on; usage errors exit with 2. An
unexpected failure also prints one line (``HCLUST_DEBUG=1`` shows the
traceback). Every output is checked against the inputs, the model folder and
the other outputs before any work starts.

The module imports nothing heavy at load time, so ``hclust --help`` answers at
once; each command imports what it uses.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from ._version import __version__

if TYPE_CHECKING:
    import numpy as np

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Where ``hclust demo`` writes its outputs unless ``--out`` says otherwise.
DEMO_FOLDER = Path("hclust-demo")

#: File endings read as delimited text (where --sep/--decimal/--encoding apply).
_TEXT_ENDINGS = (".csv", ".csv.gz", ".tsv", ".txt")


# --------------------------------------------------------------------------- arguments
class _Choices(Sequence[str]):
    """The valid values of an option, read from hclust's registry when first needed, so
    that building the parser (and ``hclust --help``) does not load numba."""

    def __init__(self, module: str, name: str) -> None:
        self._module, self._name = module, name
        self._cache: tuple[str, ...] | None = None

    def _values(self) -> tuple[str, ...]:
        if self._cache is None:
            self._cache = tuple(getattr(importlib.import_module(self._module, __package__), self._name))
        return self._cache

    def __getitem__(self, index: Any) -> Any:
        return self._values()[index]

    def __len__(self) -> int:
        return len(self._values())

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __contains__(self, value: object) -> bool:
        return value in self._values()


_METHODS = _Choices("._methods", "METHODS")
_ASSIGN_RULES = _Choices(".segment._assign", "ASSIGN_RULES")


def _add_method(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", choices=_METHODS, metavar="METHOD", default="ward",
                        help="linkage: %(choices)s (default %(default)s)")


def _add_source(parser: argparse.ArgumentParser, what: str = "customer table") -> None:
    parser.add_argument(
        "input",
        help=f"the {what}: CSV, Parquet or Excel file, a SQLite file, or a SQLAlchemy URL",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--table", help="SQL source: the table to read")
    group.add_argument("--query", help="SQL source: a SELECT query to read")
    text = parser.add_argument_group("CSV and text files (detected when not given)")
    text.add_argument("--sep", type=_separator, metavar="CHAR",
                      help="field separator: ',' ';' '|' or tab (write \\t or tab)")
    text.add_argument("--decimal", choices=(".", ","), metavar="MARK", help="decimal mark of numbers: . or ,")
    text.add_argument("--encoding", metavar="NAME", help="text encoding, e.g. utf-8, cp1252, latin-1")


def _add_columns(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--columns", nargs="+", metavar="COL", help="columns to segment on (default: all usable)")
    group.add_argument("--exclude", nargs="+", metavar="COL", help="columns to leave out (ids, known labels, ...)")


def _add_feature_weights(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--feature-weights", nargs="+", type=_feature_weight, metavar="COL=W",
        help="multiply a column's features (or one feature, e.g. region=north=0.5) by W after scaling",
    )


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


def _add_keep_formulas(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep-formulas", action="store_true",
        help="write text starting with = + - @ as it is (by default CSV cells get a leading ' and "
             "Excel cells are stored as text, so that spreadsheets do not run them as formulas)",
    )


def _add_common(parser: argparse.ArgumentParser, quiet: str = "no progress or summary") -> None:
    parser.add_argument("--n-jobs", type=_n_jobs, metavar="N",
                        help="threads for the parallel parts (default: all cores; -1 all, -2 all but one)")
    parser.add_argument("--quiet", action="store_true", help=quiet)


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


def _separator(text: str) -> str:
    named = {"\\t": "\t", "tab": "\t", "TAB": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    value = named.get(text, text)
    if len(value) != 1 or value in "\r\n\"'":
        raise argparse.ArgumentTypeError(f"a separator is one character such as ';' or '|', or tab; got {text!r}")
    return value


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


#: --metric's help (static: reading the metric table would load numba for ``--help``).
_METRIC_HELP = (
    "distance (default euclidean): any of scipy's metrics (euclidean, sqeuclidean, cityblock, chebyshev, "
    "minkowski, cosine, correlation, ...), their aliases and scikit-learn's (cos, cb, manhattan, l1, l2, "
    "...), or 'gower' for mixed data"
)


def _n_jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a non-zero whole number of threads; got {text!r}")
    return value


def _feature_weight(text: str) -> tuple[str, float]:
    import math

    name, sep, weight = text.rpartition("=")
    try:
        value = float(weight)
    except ValueError:
        value = math.nan
    if not sep or not name or not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected COLUMN=WEIGHT with a weight >= 0, e.g. Fresh=2; got {text!r}")
    return name, value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hclust", description="Exact, fast hierarchical clustering for customer segmentation."
    )
    parser.add_argument("--version", action="version", version=f"hclust {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="segment the bundled Wholesale customers data end to end")
    demo.add_argument("--n-clusters", "--k", type=int, default=4, dest="n_clusters", metavar="N",
                      help="number of segments (default 4; --k is the same)")
    _add_method(demo)
    demo.add_argument("--out", type=Path, default=DEMO_FOLDER, help=f"output folder (default {DEMO_FOLDER})")
    _add_common(demo, "print nothing but errors")

    seg = commands.add_parser("segment", help="segment a customer table: labels, profiles, model, report")
    _add_source(seg)
    cut = seg.add_mutually_exclusive_group()
    cut.add_argument("--n-clusters", "--k", type=int, dest="n_clusters", metavar="N",
                     help="number of segments (--k is the same)")
    cut.add_argument("--height", type=float, help="cut the tree at this height")
    cut.add_argument("--auto", action="store_true", help="choose k with hclust evaluate (the default)")
    seg.add_argument("--ks", type=_ks, default=list(range(2, 11)), help="candidates for --auto (default 2-10)")
    seg.add_argument("--min-segment-size", type=_min_size, default="2%,5", metavar="SIZE",
                     help="--auto: the smallest segment a chosen k may have: a count (5), a share (2%%), both "
                          "(2%%,5: the default) or none")
    _add_method(seg)
    seg.add_argument("--metric", type=_metric, default="euclidean", help=_METRIC_HELP)
    _add_columns(seg)
    seg.add_argument("--weights", metavar="COL", help="a column of counts: each row stands for that many customers")
    _add_preparation(seg)
    _add_feature_weights(seg)
    _add_output(seg)
    seg.add_argument("--model", type=Path, help="folder to save the model in (for hclust assign); "
                     "an existing hclust model there is replaced")
    seg.add_argument("--report", type=Path, help="HTML report to write")
    _add_keep_formulas(seg)
    dask = seg.add_argument_group("on a Dask cluster (pip install \"hclust[dask]\"): the summary tier")
    dask.add_argument("--dask", metavar="CLUSTER",
                      help="local (a LocalCluster of 2 worker processes), local:N (N workers) or a scheduler "
                           "address tcp://HOST:8786; the input is Parquet (a file, folder or 'glob/*.parquet'), "
                           "--out a Parquet folder with one file per partition. The preparation options, --auto "
                           "(the default), --n-clusters, --height, --model and --report work as without --dask, on "
                           "micro-clusters of the prepared rows (the summary tier)")
    dask.add_argument("--scheduler", metavar="ADDRESS",
                      help="the same as --dask ADDRESS: a running scheduler, e.g. tcp://HOST:8786")
    dask.add_argument("--n-micro", type=int, metavar="M", help="--dask: micro-clusters at most (default 10000); the tree and k are computed on them")
    dask.add_argument("--id", metavar="COL", help="--dask: the ID column written beside the segment")
    _add_common(seg)

    assign = commands.add_parser("assign", help="assign new customers to the segments of a saved model")
    assign.add_argument("model", type=Path, help="model folder written by hclust segment --model")
    _add_source(assign, "table of new customers")
    assign.add_argument("--rule", choices=_ASSIGN_RULES, default="nearest", metavar="RULE",
                        help="how customers unlike any training customer are placed: nearest (the 15 nearest "
                             "training customers vote; default), linkage (the linkage's own join rule) or "
                             "centroid (the nearest segment centre)")
    _add_output(assign)
    _add_keep_formulas(assign)
    _add_common(assign, "no summary")

    evaluate = commands.add_parser("evaluate", help="score the cuts of the tree and recommend a number of segments")
    _add_source(evaluate)
    _add_columns(evaluate)
    _add_feature_weights(evaluate)
    _add_method(evaluate)
    evaluate.add_argument("--metric", type=_metric, default="euclidean", help=_METRIC_HELP + " (the criteria use it too)")
    evaluate.add_argument("--ks", type=_ks, default=list(range(2, 16)), help="numbers of segments (default 2-15)")
    evaluate.add_argument("--min-segment-size", type=_min_size, default="2%,5", metavar="SIZE",
                          help="the smallest segment a recommended k may have (default 2%%,5; see segment)")
    evaluate.add_argument("--no-gap", action="store_true", help="skip the gap statistic (the slowest index)")
    _add_preparation(evaluate)
    _add_output(evaluate, required=False)
    _add_keep_formulas(evaluate)
    _add_common(evaluate, "no progress or table")

    compare = commands.add_parser("compare", help="compare linkages with k-means, GMM, DBSCAN and BIRCH")
    _add_source(compare)
    _add_columns(compare)
    _add_feature_weights(compare)
    compare.add_argument("--n-clusters", "--k", type=int, required=True, dest="n_clusters", metavar="N",
                         help="number of segments (--k is the same)")
    compare.add_argument("--methods", nargs="+", metavar="NAME", help="methods to run (default: all)")
    compare.add_argument("--labels", metavar="COL", help="a column of known segments (left out of the features)")
    _add_preparation(compare)
    _add_output(compare, required=False)
    _add_keep_formulas(compare)
    _add_common(compare, "no table")

    link = commands.add_parser("linkage", help="compute the linkage matrix Z of a table, prepared as segment prepares it")
    _add_source(link)
    _add_method(link)
    link.add_argument("--metric", type=_metric, default="euclidean", help=_METRIC_HELP)
    _add_columns(link)
    _add_preparation(link)
    link.add_argument("--out", type=Path, required=True, help="output .npy file for Z")
    _add_common(link)

    report = commands.add_parser("report", help="write the report of a saved model")
    report.add_argument("model", type=Path, help="model folder written by hclust segment --model")
    _add_source(report, "training table (for profiles in original units)")
    report.add_argument("--out", type=Path, required=True, help="report.html, or a folder for --format png|svg|pdf")
    report.add_argument("--format", choices=("html", "png", "svg", "pdf"), default="html")
    _add_keep_formulas(report)
    _add_common(report, "print nothing but errors")
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


@contextlib.contextmanager
def _threads(n_jobs: int | None) -> Iterator[None]:
    """Limit numba's kernels and the BLAS / OpenMP pools (scikit-learn, numpy) to ``--n-jobs``."""
    if n_jobs is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    from ._threads import numba_threads

    with numba_threads(n_jobs) as count, threadpool_limits(limits=count):
        yield


def _is_text_file(source: str) -> bool:
    from .io import is_sql_url

    return not is_sql_url(source) and source.lower().endswith(_TEXT_ENDINGS)


def _read(args: argparse.Namespace) -> Any:
    """Read the input; say what was read (with the CSV dialect detected); keep what the
    query read in ``args._tables_read`` for the protection of SQL outputs."""
    from .io import read_source

    given = [f"--{name}" for name in ("sep", "decimal", "encoding") if getattr(args, name, None) is not None]
    if given and not _is_text_file(args.input):
        raise ValueError(f"{' '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to CSV and text files "
                         f"({', '.join(_TEXT_ENDINGS)}); {args.input} is not one.")
    frame, info = read_source(args.input, table=args.table, query=args.query, sep=args.sep,
                              decimal=args.decimal, encoding=args.encoding, return_info=True)
    args._tables_read = info.tables
    line = f"Read {info.description}: {len(frame):,} rows x {frame.shape[1]} columns"
    if info.dialect is not None:
        line += f"; {info.dialect.describe()}"
        if len(info.dialect.given) < 3:
            line += " (detected; --sep, --decimal and --encoding override)"
    _say(args, line + ".")
    return frame


def _check_columns(frame: Any, columns: list[str] | None, exclude: list[str] | None) -> None:
    for option, names in (("--columns", columns), ("--exclude", exclude)):
        unknown = [c for c in names or () if c not in frame.columns]
        if unknown:
            raise ValueError(f"{option}: unknown column(s) {unknown}; the table has {list(map(str, frame.columns))}.")


def _feature_weights(args: argparse.Namespace) -> dict[str, float] | None:
    pairs = getattr(args, "feature_weights", None)
    return None if not pairs else dict(pairs)


def _preparer(args: argparse.Namespace) -> Any:
    """The Preparer the preparation options describe (one story for every command)."""
    from .segment import Preparer

    return Preparer(
        impute=None if args.impute == "none" else args.impute,
        log1p=None if args.log1p == "none" else "auto",
        scale=None if args.scale == "none" else args.scale,
        feature_weights=_feature_weights(args),
    )


def _prepared_features(frame: Any, args: argparse.Namespace) -> tuple[Any, list[str], Any]:
    """What ``segment`` computes distances on: prepared features (impute, log1p, scale, one-hot), or
    for ``--metric gower`` the Gower distances of the raw columns. Returns the data (features, or a
    square distance matrix for Gower), the feature names and the preparation record."""
    import numpy as np

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


def _sql_protect(args: argparse.Namespace) -> tuple[Any, Any]:
    """(source, tables) the output must not replace: the --table, or the tables the
    --query read (every table when they are unknown)."""
    if getattr(args, "table", None):
        return (args.input, args.table)
    return (args.input, getattr(args, "_tables_read", None))


def _check_sql_out(args: argparse.Namespace) -> None:
    """Refuse a SQL output before the work: table exists, protected input, bad target."""
    from .io import check_sql_output

    out = str(args.out)
    if not args.out_table:
        raise ValueError(f"--out {out} is a SQL database: name the table to write with --out-table.")
    query_unread = getattr(args, "query", None) and not hasattr(args, "_tables_read")
    protect = None if query_unread else _sql_protect(args)
    check_sql_output(out, args.out_table, if_exists=args.if_exists, protect=protect)


def _write_rows(args: argparse.Namespace, frame: Any, inputs: Sequence[Any]) -> str:
    """Write a table to ``--out`` (file by ending, or SQL with ``--out-table``); returns where."""
    from .io import check_output, save_table, write_sql

    out = str(args.out)
    if _is_sql_target(out, args.out_table):
        if not args.out_table:
            raise ValueError(f"--out {out} is a SQL database: name the table to write with --out-table.")
        write_sql(frame, out, args.out_table, if_exists=args.if_exists, protect=_sql_protect(args))
        return f"{out} (table {args.out_table})"
    if args.out_table:
        raise ValueError(f"--out-table needs a SQL database as --out; {out} is a file name.")
    target = check_output(out, *inputs)
    save_table(target, frame, escape_formulas=not args.keep_formulas)
    return str(target)


def _table_text(frame: Any) -> str:
    import pandas as pd

    with pd.option_context("display.width", 140, "display.max_columns", 30, "display.max_colwidth", 70):
        return frame.to_string()


# --------------------------------------------------------------------------- output checks
def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(path))


def _same(a: Path, b: Path) -> bool:
    if _real(a) == _real(b):
        return True
    with contextlib.suppress(OSError):
        return a.exists() and b.exists() and os.path.samefile(a, b)
    return False


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (links resolved)."""
    real, top = _real(path), _real(folder)
    return real == top or top in real.parents


def _check_paths(
    outputs: Sequence[tuple[str, Path, str]],
    inputs: Sequence[tuple[str, Any]] = (),
    models_in: Sequence[tuple[str, Path]] = (),
) -> None:
    """Refuse, before any work, outputs that would destroy an input, a model or each other.

    ``outputs``: (option, path, kind) with kind ``"file"``, ``"model"`` (a model folder
    to write) or ``"sqlite"`` (a database file written with --out-table, which may
    be the input database: its tables are protected separately). ``inputs``:
    (option, source) of files read; ``models_in``: (option, folder) of models read.
    """
    from .io import is_sql_url

    files_in = [(option, Path(source)) for option, source in inputs
                if source is not None and not is_sql_url(str(source))]
    for i, (option, path, kind) in enumerate(outputs):
        where = f"{option} {path}"
        for _, source in files_in:
            if kind != "sqlite" and _same(path, source):
                raise ValueError(f"{where} is an input file; hclust never overwrites its input: choose "
                                 "another path.")
            if kind == "model" and source.exists() and _inside(source, path):
                raise ValueError(f"{where} holds the input file {source}; a model folder holds nothing but "
                                 "the model: choose another folder.")
        for _, folder in models_in:
            if _inside(path, folder) or _inside(folder, path):
                raise ValueError(f"{where} is inside the model folder {folder} that this command reads, and "
                                 "would damage it; choose a path outside the model folder.")
        for other_option, other, other_kind in outputs[i + 1:]:
            if _same(path, other):
                raise ValueError(f"{where} and {other_option} {other} are the same file; give each output "
                                 "its own path.")
            for model_option, model, first in ((option, path, kind), (other_option, other, other_kind)):
                if first == "model":
                    rest_option, rest = (other_option, other) if model is path else (option, path)
                    if _inside(rest, model):
                        raise ValueError(f"{rest_option} {rest} is inside the model folder {model_option} "
                                         f"{model}, which holds nothing but the model; choose a path outside it.")
        if kind == "model":
            from .segment.model import check_model_path

            check_model_path(path, option=option)
        elif kind == "file" and path.is_dir():
            raise ValueError(f"{where} is a folder; give a file name.")


def _file_outputs(args: argparse.Namespace) -> list[tuple[str, Path, str]]:
    """The --out of a table-writing command as an output to check (none for a server)."""
    from .io import is_sql_url

    if getattr(args, "out", None) is None:
        return []
    out = str(args.out)
    if _is_sql_target(out, args.out_table):
        return [] if is_sql_url(out) else [("--out", Path(out), "sqlite")]
    return [("--out", Path(out), "file")]


def _check_outputs_before_work(args: argparse.Namespace, extra: Sequence[tuple[str, Path, str]] = (),
                               models_in: Sequence[tuple[str, Path]] = ()) -> None:
    outputs = [*_file_outputs(args), *extra]
    inputs = [("input", args.input)]
    _check_paths(outputs, inputs, models_in)
    if getattr(args, "out", None) is not None and _is_sql_target(str(args.out), getattr(args, "out_table", None)):
        _check_sql_out(args)


# --------------------------------------------------------------------------- commands
def _run_demo(args: argparse.Namespace) -> int:
    import numpy as np

    from .datasets import WHOLESALE_SPENDING, load_wholesale
    from .segment import Preparer
    from .segment.model import SegmentationModel

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; the demo writes a folder of outputs.")
    _check_paths([("--out", out / "model", "model")])
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
        args.n_clusters,
        method=args.method,
        columns=list(WHOLESALE_SPENDING),
        preparer=Preparer(log1p=list(WHOLESALE_SPENDING), scale="standard"),
        n_jobs=args.n_jobs,
    )
    with _progress(args, "Building the tree") as progress:
        model.fit(known, progress=progress)
    evaluation = model.evaluate(range(2, 11))  # on the model's own distances, with its minimum segment size
    model.evaluation_ = evaluation
    _say(args, "Choosing k (hclust evaluate):", *("  " + r for r in evaluation.reasons),
         f"  -> using k={model.n_clusters_} (--n-clusters to change)", "")
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
    from .segment.model import SegmentationModel

    if args.scheduler is not None:
        if args.dask is not None:
            raise ValueError("give --dask or --scheduler, not both.")
        if "://" not in args.scheduler:
            raise ValueError(f"--scheduler {args.scheduler}: expected an address such as tcp://HOST:8786.")
        args.dask = args.scheduler
    if args.dask is not None:
        return _run_segment_dask(args)
    for option in ("n_micro", "id"):
        if getattr(args, option) is not None:
            raise ValueError(f"--{option.replace('_', '-')} goes with --dask.")
    extra = []
    if args.model is not None:
        extra.append(("--model", args.model, "model"))
    if args.report is not None:
        extra.append(("--report", args.report, "file"))
    _check_outputs_before_work(args, extra)
    frame = _read(args)
    _check_columns(frame, args.columns, args.exclude)
    if args.out_table or _is_sql_target(str(args.out), args.out_table):
        _check_sql_out(args)  # now with the tables the query read
    model = SegmentationModel(
        args.n_clusters,
        height=args.height,
        method=args.method,
        metric=args.metric,
        columns=args.columns,
        exclude=args.exclude,
        weight_column=args.weights,
        preparer=_preparer(args),
        ks=args.ks,
        min_segment_size=args.min_segment_size,
        n_jobs=args.n_jobs,
    )
    with _progress(args, "Building the tree") as progress:
        model.fit(frame, progress=progress)
    where = _write_rows(args, model.labelled(frame), [args.input])
    written = [where]
    if args.model is not None:
        written.append(str(model.save(args.model)))
    if args.report is not None:
        written.append(str(model.report(args.report, escape_formulas=not args.keep_formulas)))
    _say_model(args, model, written)
    return EXIT_OK


def _say_model(args: argparse.Namespace, model: Any, written: Sequence[str], *notes: str) -> None:
    """What ``segment`` prints: the data, preparation, choice of k, segments, assignment, files."""
    from .segment.model import _assignment_lines

    summary = model.summary()
    segments = summary.segments
    segments["share"] = segments["share"].map("{:.1%}".format)
    segments["stability"] = segments["stability"].map(lambda v: "" if v != v else f"{v:.2f}")
    _say(
        args,
        f"{summary.data['rows']} customers, {summary.data['n_features']} features "
        f"({', '.join(summary.data['features'][:12])}{' ...' if summary.data['n_features'] > 12 else ''}), "
        f"{args.method} linkage on {summary.data['distance']}.",
        *notes,
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
        *("  " + line for line in _assignment_lines(summary.assignment, summary.data.get("micro_clusters"))),
        "",
        "Wrote " + ", ".join(written),
    )


def _run_segment_dask(args: argparse.Namespace) -> int:
    """``hclust segment --dask``: SegmentationModel.fit on a dask DataFrame (the summary tier), every
    row's segment to a Parquet folder, the model and the report as without --dask."""
    unsupported = {"--weights": args.weights, "--out-table": args.out_table, "--table": args.table,
                   "--query": args.query}
    given = [name for name, value in unsupported.items() if value is not None]
    if args.metric != "euclidean":
        given.append(f"--metric {args.metric}")
    if given:
        raise ValueError(f"{', '.join(given)} not available with --dask (the summary tier clusters micro-clusters "
                         "of prepared features with Euclidean distances, read from Parquet).")
    if args.n_micro is not None and args.n_micro < 2:
        raise ValueError(f"--n-micro must be an integer >= 2; got {args.n_micro}.")
    from .summary import SUMMARY_METHODS

    if args.method not in SUMMARY_METHODS:
        raise ValueError(f"--method {args.method} is not available with --dask; choose one of {', '.join(SUMMARY_METHODS)}.")
    spec = args.dask.strip()
    workers = 2
    if spec == "local" or spec.startswith("local:"):
        try:
            workers = int(spec[6:]) if spec != "local" else 2
        except ValueError:
            workers = 0
        if workers < 1:
            raise ValueError(f"--dask {spec}: expected local, local:N (N >= 1 workers) or tcp://HOST:PORT.")
    elif "://" not in spec:
        raise ValueError(f"--dask {spec}: expected local, local:N or a scheduler address tcp://HOST:PORT.")
    out = Path(str(args.out))
    if out.suffix.lower() in (".csv", ".xlsx", ".tsv", ".gz", ".db", ".sqlite"):
        raise ValueError(f"--out {out}: with --dask the output is a Parquet folder; give a folder name.")
    extra = [("--out", out, "parquet")]
    if args.model is not None:
        extra.append(("--model", args.model, "model"))
    if args.report is not None:
        extra.append(("--report", args.report, "file"))
    _check_paths(extra, [("input", args.input)])
    import hclust.dask as hd
    import dask.dataframe as dd
    import distributed

    from .dask._summary import _check_parquet_target, _input_paths, write_segments
    from .segment.model import SegmentationModel

    # dask's Parquet reader calls reset_index(inplace=True), which pandas 3.1 deprecates: not the user's business
    warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.reset_index")
    try:
        frame = dd.read_parquet(args.input)
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"{args.input}: not a readable Parquet file or folder ({_first_line(error)}).") from None
    _check_parquet_target(out, _input_paths(frame))  # before any work
    names = [str(c) for c in frame.columns]
    for option, wanted in (("--columns", args.columns or []), ("--exclude", args.exclude or []),
                           ("--id", [args.id] if args.id else [])):
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise ValueError(f"{option}: no column(s) {missing} in {args.input}; its columns are {names}.")
    exclude = list(args.exclude or [])
    if args.id and args.id not in exclude and not (args.columns and args.id in args.columns):
        exclude.append(args.id)
    model = SegmentationModel(
        args.n_clusters,
        height=args.height,
        method=args.method,
        columns=args.columns,
        exclude=exclude or None,
        preparer=_preparer(args),
        ks=args.ks,
        min_segment_size=args.min_segment_size,
        n_jobs=args.n_jobs,
        n_micro=args.n_micro,
    )
    cluster = None
    with contextlib.ExitStack() as stack:
        if "://" in spec:
            client = stack.enter_context(hd._common.resolve_client(spec, hd._common.CONNECT_TIMEOUT)[0])
        else:
            local: Any = distributed.LocalCluster  # (untyped)
            connect: Any = distributed.Client
            cluster = stack.enter_context(local(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}))
            client = stack.enter_context(connect(cluster, set_as_default=False))
        with _progress(args, "Segmenting on the Dask cluster") as progress:
            model.fit(frame, client=client, progress=progress)
        k = model.n_clusters_
        segment_names = [model.names_.get(s, "") for s in range(k)]
        with _progress(args, "Labelling every row") as progress:
            write_segments(model.row_labels_, frame, out, k, frame[args.id] if args.id else None, segment_names,
                           client, progress)
    written = [str(out)]
    if args.model is not None:
        written.append(str(model.save(args.model)))
    if args.report is not None:
        written.append(str(model.report(args.report, escape_formulas=not args.keep_formulas)))
    where = f"a LocalCluster of {workers} worker{'s' if workers != 1 else ''}" if cluster else spec
    _say_model(args, model, written,
               f"On {where}: the summary tier, {model.summary_.quality.within_share:.1%} of the variance is within "
               "the micro-clusters.")
    return EXIT_OK


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def _run_assign(args: argparse.Namespace) -> int:
    import pandas as pd

    from .segment.model import SegmentationModel

    _check_outputs_before_work(args, models_in=[("model", args.model)])
    model = SegmentationModel.load(args.model)
    frame = _read(args)
    if args.out_table or _is_sql_target(str(args.out), args.out_table):
        _check_sql_out(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assigned = model.assign(frame, rule=args.rule)
    known = int(assigned["known"].sum())
    # the rows of `assigned` are those of `frame`, in order; clashing names get a suffix
    assigned = assigned.set_axis(frame.index).rename(
        columns={c: f"{c}_assigned" for c in assigned.columns if c in frame.columns}
    )
    where = _write_rows(args, pd.concat([frame, assigned], axis=1), [args.input, args.model])
    counts = assigned.iloc[:, 0].value_counts().sort_index()
    lines = [
        f"{len(frame)} customers assigned with {args.model} (rule {args.rule}; {known} identical to training "
        "customers got their own segment):"
    ]
    lines += [f"  segment {s} ({model.names_.get(int(s), 'not assigned')}): {c}" for s, c in counts.items()]
    lines += [f"  note: {_cli_terms(str(w.message))}" for w in caught]
    lines.append(f"Wrote {where}")
    _say(args, *lines)
    return EXIT_OK


def _run_evaluate(args: argparse.Namespace) -> int:
    from ._linkage import linkage
    from .select import evaluate

    _check_outputs_before_work(args)
    frame = _read(args)
    if args.out is not None and _is_sql_target(str(args.out), args.out_table):
        _check_sql_out(args)
    X, names, record = _prepared_features(frame, args)
    ks = [k for k in args.ks if k <= len(X)]
    if not ks:
        raise ValueError(f"--ks asks for {min(args.ks)} or more segments, but the table has {len(X)} rows; "
                         f"pass e.g. --ks 2-{len(X)}.")
    gower = args.metric == "gower"
    with _progress(args, "Building the tree") as progress:
        Z = linkage(X, args.method, "precomputed" if gower else args.metric, progress=progress, n_jobs=args.n_jobs)
    from .select import CRITERIA

    criteria = tuple(c for c in CRITERIA if not ((args.no_gap or args.metric != "euclidean") and c == "gap"))
    distance = record.distance if gower else (
        f"{'Euclidean' if args.metric == 'euclidean' else args.metric} distances of the {len(names)} prepared features"
    )
    result = evaluate(
        Z, X, ks, method=args.method, criteria=criteria, gap_sample_size=min(len(X), 2000),
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
    from ._compare import compare

    _check_outputs_before_work(args)
    frame = _read(args)
    if args.out is not None and _is_sql_target(str(args.out), args.out_table):
        _check_sql_out(args)
    truth = None
    if args.labels is not None:
        if args.labels not in frame.columns:
            raise ValueError(f"--labels: unknown column {args.labels!r}; the table has {list(map(str, frame.columns))}.")
        truth = frame[args.labels].astype(str).to_numpy()
        frame = frame.drop(columns=[args.labels])
    X, _, record = _prepared_features(frame, args)
    result = compare(X, args.n_clusters, methods=args.methods, labels_true=truth, n_jobs=args.n_jobs)
    _say(args, *_preparation_lines(record))
    if args.out is not None:
        _say(args, "Wrote " + _write_rows(args, result.table.reset_index(), [args.input]))
    _say(args, result.to_string())
    return EXIT_OK


def _run_linkage(args: argparse.Namespace) -> int:
    from .io import save_npy
    from ._linkage import linkage

    _check_paths([("--out", Path(args.out), "file")], [("input", args.input)])
    frame = _read(args)
    data, names, record = _prepared_features(frame, args)
    gower = args.metric == "gower"
    with _progress(args, "Building the tree") as progress:
        import pandas as pd

        # features as a table, so that an error names the column
        table = data if gower else pd.DataFrame(data, columns=names)
        Z = linkage(table, args.method, "precomputed" if gower else args.metric, progress=progress, n_jobs=args.n_jobs)
    save_npy(args.out, Z)
    distances = record.distance if gower else f"{args.metric} distances"
    _say(args, *_preparation_lines(record), f"{len(data)} rows x {len(names)} features -> {args.out} "
         f"({args.method} linkage on {distances})")
    return EXIT_OK


def _run_report(args: argparse.Namespace) -> int:
    from .segment.model import SegmentationModel

    if args.format == "html":
        outputs = [("--out", args.out, "file")]
    else:
        if args.out.exists() and not args.out.is_dir():
            raise ValueError(f"--out {args.out} is a file; --format {args.format} writes a folder of charts.")
        from .report.static import STATIC_CHARTS

        outputs = [("--out", args.out / f"{name}.{args.format}", "file") for name in STATIC_CHARTS]
    _check_paths(outputs, [("input", args.input)], [("model", args.model)])
    model = SegmentationModel.load(args.model)
    frame = _read(args)
    if args.format == "html":
        written = [model.report(args.out, frame, escape_formulas=not args.keep_formulas)]
    else:
        written = model.report_static(args.out, frame, fmt=args.format)
    _say(args, "Wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


_RUNNERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": _run_demo,
    "segment": _run_segment,
    "assign": _run_assign,
    "evaluate": _run_evaluate,
    "compare": _run_compare,
    "linkage": _run_linkage,
    "report": _run_report,
}


# --------------------------------------------------------------------------- messages
#: Python-API wording in library messages -> the command's options.
_TERMS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"hclust\.segment\.Preparer\(scale='(\w+)'\)"), r"--scale \1"),
    (re.compile(r"\bescape_formulas=False\b"), "--keep-formulas"),
    (re.compile(r"\bif_exists='(\w+)' or '(\w+)'"), r"--if-exists \1 or \2"),
    (re.compile(r"\bif_exists='?(\w+)'?"), r"--if-exists \1"),
    (re.compile(r"\bks=range\((\d+), (\d+)\)"), lambda m: f"--ks {m[1]}-{int(m[2]) - 1}"),
    (re.compile(r"\b(impute|scale|log1p)=None\b"), r"--\1 none"),
    (re.compile(r"\bmin_segment_size\b"), "--min-segment-size"),
    (re.compile(r"\bn_clusters=(?=[\w'\"(])"), "--n-clusters "),
    (re.compile(r"\bn_clusters\b"), "--n-clusters"),
    (re.compile(r"\b(table|query|sep|decimal|encoding|ks|method|metric|height|scale|log1p|impute|n_jobs)="
                r"(?=[\w'\"(\[])"), lambda m: "--" + m[1].replace("_", "-") + " "),
    (re.compile(r"\b(table|query)=(?![\w'\"(\[])"), r"--\1"),
    (re.compile(r"\bfeature_weights\b"), "--feature-weights"),
    (re.compile(r"\bweight_column\b"), "--weights"),
    (re.compile(r"\s*Override the schema \(infer_schema\(df, overrides=\{\.\.\.\}\)\) to keep some\."),
     " Choose the columns with --columns or --exclude."),
    (re.compile(r"\bpass it as df\b"), "pass the training table"),
)


def _cli_terms(message: str) -> str:
    """A library message in the command's terms (``table=`` -> ``--table``, ...)."""
    for pattern, replacement in _TERMS:
        message = pattern.sub(replacement, message)
    return message


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return _cli_terms(text) if text else type(exc).__name__


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    print(f"hclust: warning: {_cli_terms(' '.join(str(message).split()))}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hclust`` console script; returns the exit code."""
    try:
        parser = _parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
        with warnings.catch_warnings():
            # data warnings (unseen levels, dropped rows) reach the user as one line each
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            with _threads(getattr(args, "n_jobs", None)):
                return _RUNNERS[args.command](args)
    except KeyboardInterrupt:
        print("hclust: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, OSError, MemoryError, KeyError, RuntimeError, ImportError) as exc:
        if os.environ.get("HCLUST_DEBUG"):
            raise
        print(f"hclust: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as exc:  # a bug: one line for the user, the traceback on request
        if os.environ.get("HCLUST_DEBUG"):
            raise
        print(f"hclust: internal error: {type(exc).__name__}: {_one_line(exc)} "
              "(set HCLUST_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

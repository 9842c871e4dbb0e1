"""The ``hclust`` command: argv -> public API -> exit code.

User errors (bad files, bad options, bad data) print one line on stderr and
exit with status 1; Ctrl-C exits with 130; usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import __version__

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    from .linkage import METHODS

    parser = argparse.ArgumentParser(
        prog="hclust", description="Exact, fast hierarchical clustering for customer segmentation."
    )
    parser.add_argument("--version", action="version", version=f"hclust {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="segment the bundled Wholesale customers data end to end"
    )
    demo.add_argument("--k", type=int, default=4, help="number of segments (default 4)")
    demo.add_argument("--method", choices=METHODS, default="ward", help="linkage (default ward)")
    demo.add_argument("--out", type=Path, help="folder for segments.csv and linkage.npy")

    link = commands.add_parser("linkage", help="compute the linkage matrix Z of a table")
    link.add_argument("input", type=Path, help="CSV, Parquet or Excel file")
    link.add_argument("--method", choices=METHODS, default="ward")
    link.add_argument("--metric", default="euclidean")
    link.add_argument("--columns", nargs="+", help="numeric columns to use (default: all numeric)")
    link.add_argument("--out", type=Path, required=True, help="output .npy file for Z")
    link.add_argument("--quiet", action="store_true", help="no progress or summary")
    return parser


def _numeric_columns(frame: Any, requested: list[str] | None) -> Any:
    import pandas as pd

    if requested is not None:
        return frame[requested]
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    if not numeric:
        raise ValueError("The table has no numeric columns; name them with --columns.")
    return frame[numeric]


def _run_demo(args: argparse.Namespace) -> int:
    import pandas as pd

    from .datasets import WHOLESALE_SPENDING, load_wholesale
    from .linkage import linkage
    from .tree import cut

    frame = load_wholesale()
    spending = frame[list(WHOLESALE_SPENDING)].to_numpy(dtype=np.float64)
    # Spending is heavily right-skewed: log, then standardise each category.
    logged = np.log1p(spending)
    X = (logged - logged.mean(axis=0)) / logged.std(axis=0)
    Z = linkage(X, args.method)
    labels = cut(Z, n_clusters=args.k)

    table = frame.assign(segment=labels)
    summary = table.groupby("segment")[list(WHOLESALE_SPENDING)].mean().round(0)
    summary.insert(0, "customers", table.groupby("segment").size())
    summary.insert(1, "share", (summary["customers"] / len(table)).map("{:.0%}".format))
    print(
        f"Wholesale customers (440 clients, CC BY 4.0, Cardoso 2014): {args.method} linkage on "
        f"standardised log spending, cut into {args.k} segments.\n"
    )
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print("Mean annual spending per segment (monetary units):")
        print(summary.to_string())
    print(f"\nTop merge heights: {', '.join(f'{h:.2f}' for h in Z[-5:, 2][::-1])}")
    if args.out is not None:
        from .io import save_csv, save_npy

        args.out.mkdir(parents=True, exist_ok=True)
        save_csv(args.out / "segments.csv", table)
        save_npy(args.out / "linkage.npy", Z)
        print(f"Wrote {args.out / 'segments.csv'} and {args.out / 'linkage.npy'}")
    return EXIT_OK


def _print_progress(done: int, total: int) -> None:
    print(f"\r{done / total:6.1%} merged", end="", file=sys.stderr, flush=True)


def _run_linkage(args: argparse.Namespace) -> int:
    from .io import check_output, read_table, save_npy
    from .linkage import linkage

    out = check_output(args.out, args.input)
    frame = read_table(args.input, columns=args.columns)
    data = _numeric_columns(frame, args.columns)
    show = not args.quiet and len(data) > 20_000
    Z = linkage(data, args.method, args.metric, progress=_print_progress if show else None)
    if show:
        print(file=sys.stderr)
    save_npy(out, Z)
    if not args.quiet:
        print(f"{len(data)} rows x {data.shape[1]} columns -> {out} ({args.method}, {args.metric})")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hclust`` console script; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    runners = {"demo": _run_demo, "linkage": _run_linkage}
    try:
        return runners[args.command](args)
    except KeyboardInterrupt:
        print("hclust: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, OSError, MemoryError) as exc:
        print(f"hclust: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

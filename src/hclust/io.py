"""Reading tables and writing results: the only module that touches files.

Outputs are written atomically (a temporary file in the same folder, then a
rename), and never onto an input file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import numpy as np

#: File endings read by :func:`read_table`.
TABLE_FORMATS = (".csv", ".csv.gz", ".tsv", ".txt", ".parquet", ".pq", ".xlsx", ".xls")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for ending in sorted(TABLE_FORMATS, key=len, reverse=True):
        if name.endswith(ending):
            return ending
    return path.suffix.lower()


def read_table(path: str | os.PathLike[str], columns: list[str] | None = None) -> Any:
    """Read a CSV (optionally gzipped), TSV, Parquet or Excel file into a DataFrame.

    Parameters
    ----------
    path : path-like
        The file; its ending chooses the reader.
    columns : list of str, optional
        Keep only these columns; unknown names are an error that lists the
        available ones.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is not what its ending claims, is empty, or lacks a column.
    """
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"No such file: {file}")
    ending = _suffix(file)
    try:
        if ending in (".csv", ".csv.gz", ".txt"):
            frame = pd.read_csv(file, sep=None if ending == ".txt" else ",", engine="python" if ending == ".txt" else "c")
        elif ending == ".tsv":
            frame = pd.read_csv(file, sep="\t")
        elif ending in (".parquet", ".pq"):
            frame = pd.read_parquet(file)
        elif ending in (".xlsx", ".xls"):
            frame = pd.read_excel(file)
        else:
            raise ValueError(
                f"{file}: unknown file type {ending!r}; hclust reads {', '.join(TABLE_FORMATS)}."
            )
    except ImportError as exc:
        raise ValueError(f"{file}: reading {ending} files needs an extra package: {exc}") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        raise ValueError(f"{file} could not be read as {ending}: {exc}") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{file} has no data rows.")
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{file} has no column(s) {missing}; its columns are {list(map(str, frame.columns))}."
            )
        frame = frame[list(columns)]
    return frame


def check_output(out: str | os.PathLike[str], *inputs: str | os.PathLike[str] | None) -> Path:
    """Refuse an output path that is one of the inputs; return it as a Path."""
    target = Path(out)
    for source in inputs:
        if source is None:
            continue
        src = Path(source)
        if target.resolve() == src.resolve() or (
            target.exists() and src.exists() and os.path.samefile(target, src)
        ):
            raise ValueError(f"The output {target} is an input file; choose another path.")
    if target.is_dir():
        raise ValueError(f"The output {target} is a folder; give a file name.")
    return target


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the body succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, mode) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_atomic(path: str | os.PathLike[str], write: Callable[[IO[Any]], None], binary: bool = False) -> Path:
    """Call ``write(stream)`` on a temporary file, then move it to ``path``."""
    with atomic_open(path, "wb" if binary else "w") as stream:
        write(stream)
    return Path(path)


def save_npy(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Save one array in NumPy's .npy format, atomically."""
    return write_atomic(path, lambda stream: np.save(stream, array, allow_pickle=False), binary=True)


def save_csv(path: str | os.PathLike[str], frame: Any) -> Path:
    """Save a DataFrame as CSV, atomically."""
    return write_atomic(path, lambda stream: frame.to_csv(stream, index=False))

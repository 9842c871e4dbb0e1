"""Reading tables and writing results: the only module that touches files.

Outputs are written atomically (a temporary file in the same folder, then a
rename), and never onto an input file. Text cells that a spreadsheet would run
as a formula are neutralised in spreadsheet outputs (see :func:`save_table`).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io as _io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Callable, Collection, Iterator, Literal, cast

if TYPE_CHECKING:  # numpy and pandas load when a function needs them
    import numpy as np

#: File endings read by :func:`read_table`.
TABLE_FORMATS = (".csv", ".csv.gz", ".tsv", ".txt", ".parquet", ".pq", ".xlsx", ".xls")

#: Text endings whose dialect (separator, decimal mark, quoting, encoding) is sniffed.
TEXT_FORMATS = (".csv", ".csv.gz", ".tsv", ".txt")

#: Separators :func:`sniff_csv` considers, in order of preference on a tie.
SEPARATORS = (",", ";", "\t", "|")

#: Bytes of the file's start that :func:`sniff_csv` looks at.
SNIFF_BYTES = 256 * 1024

_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class FormulaWarning(UserWarning):
    """Text cells that spreadsheets would run as formulas were neutralised (see :func:`save_table`)."""


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for ending in sorted(TABLE_FORMATS, key=len, reverse=True):
        if name.endswith(ending):
            return ending
    return path.suffix.lower()


# --- CSV dialects ----------------------------------------------------------------------


@dataclass(frozen=True)
class CSVDialect:
    """How a delimited text file is written: what :func:`sniff_csv` found or was told.

    Attributes
    ----------
    sep : str
        Field separator: ``","``, ``";"``, ``"\\t"``, ``"|"`` (or any one character given).
    decimal : str
        Decimal mark of numbers, ``"."`` or ``","``.
    encoding : str
        Text encoding: ``"utf-8"``, ``"utf-8-sig"`` (UTF-8 with a byte-order mark),
        ``"cp1252"`` (Windows Western European, a superset of Latin-1's printable
        characters), ``"latin-1"``, ``"utf-16"``, or any Python codec given.
    quotechar : str
        Character that quotes fields holding separators or line breaks.
    thousands : str or None
        Thousands separator inside numbers (``"."`` with a decimal comma, as in
        ``1.234,56``), or None.
    given : tuple of str
        Which of ``sep``, ``decimal`` and ``encoding`` were given rather than detected.
    """

    sep: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    quotechar: str = '"'
    thousands: str | None = None
    given: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for people, e.g. ``"semicolon-separated, decimal comma, cp1252"``."""
        sep = _SEP_NAMES.get(self.sep, repr(self.sep))
        decimal = "decimal comma" if self.decimal == "," else "decimal point"
        if self.thousands:
            decimal += f" (thousands {self.thousands!r})"
        encoding = {"utf-8-sig": "UTF-8 with BOM", "utf-8": "UTF-8"}.get(self.encoding, self.encoding)
        quoting = "" if self.quotechar == '"' else f", quoted with {self.quotechar!r}"
        return f"{sep}-separated, {decimal}, {encoding}{quoting}"


def _open_raw(file: Path) -> IO[bytes]:
    if file.name.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.open(file, "rb"))  # a GzipFile is a binary stream (typeshed types it apart)
    return open(file, "rb")


def _check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ValueError(f"encoding={encoding!r} is not a text encoding Python knows (e.g. utf-8, cp1252, latin-1).") from None


def _detect_encoding(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # final=False: the sample may end inside a multi-byte character
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # cp1252 leaves five bytes undefined; a file using them is Latin-1 (ISO 8859-1)
    return "latin-1" if re.search(rb"[\x81\x8d\x8f\x90\x9d]", raw) else "cp1252"


#: Starts of common binary files, to say what a mis-named file is.
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx file?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (OLE) file"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"\x1f\x8b", "gzip-compressed (name it .csv.gz)"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def _refuse_binary(file: Path, raw: bytes) -> None:
    """A text reader fed binary data reads garbage: refuse, saying what the file looks like."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    kind = next((what for magic, what in _MAGIC if raw.startswith(magic)), None)
    if kind is None:
        sample = raw[:8192]
        control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
        if b"\x00" not in sample and control <= len(sample) // 20:
            return
        kind = "binary data"
    raise ValueError(
        f"{file} is not a text (CSV) file: it looks like {kind}. Check the path, or give the file its real ending."
    )


def _records(text: str, sep: str, quotechar: str, limit: int = 200) -> list[list[str]]:
    reader = csv.reader(_io.StringIO(text), delimiter=sep, quotechar=quotechar, strict=False)
    rows = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def _guess_sep(text: str, quotechar: str, default: str) -> str:
    """The candidate separator that splits every record into the same number (> 1) of fields;
    among those, the one giving most fields."""
    best, best_score = default, (0.0, 0)
    for sep in SEPARATORS:
        rows = _records(text, sep, quotechar)
        if len(rows) == 0:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        consistent = sum(len(row) == width for row in rows) / len(rows)
        score = (consistent, width)
        if consistent >= 0.9 and score > best_score:
            best, best_score = sep, score
    return best


_COMMA_NUMBER = re.compile(r"^\s*[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+\s*$")
_DOT_NUMBER = re.compile(r"^\s*[-+]?\d*\.\d+([eE][-+]?\d+)?\s*$")
_DOTTED_THOUSANDS = re.compile(r"^\s*[-+]?\d{1,3}(\.\d{3})+(,\d+)?\s*$")


def _guess_decimal(rows: list[list[str]]) -> tuple[str, str | None]:
    cells = [cell for row in rows[1:] for cell in row]
    comma = sum(bool(_COMMA_NUMBER.match(c)) for c in cells)
    dot = sum(bool(_DOT_NUMBER.match(c)) and not _DOTTED_THOUSANDS.match(c) for c in cells)
    if comma and not dot:
        thousands = "." if any(_DOTTED_THOUSANDS.match(c) for c in cells) else None
        return ",", thousands
    return ".", None


def sniff_csv(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> CSVDialect:
    """Detect the separator, decimal mark, quoting and encoding of a delimited text file.

    Parameters
    ----------
    path : path-like
        A ``.csv``, ``.csv.gz``, ``.tsv`` or ``.txt`` file.
    sep, decimal, encoding : str, optional
        Known values: used as given (and not detected).

    Returns
    -------
    CSVDialect

    Raises
    ------
    ValueError
        ``sep`` and ``decimal`` are the same character, ``decimal`` is not
        ``"."`` or ``","``, or ``encoding`` is unknown.

    Notes
    -----
    The first :data:`SNIFF_BYTES` bytes decide. Encoding: a byte-order mark
    says UTF-8 (``utf-8-sig``) or UTF-16; else UTF-8 when the bytes decode as
    UTF-8, else cp1252 (Latin-1 when the bytes use one of the five that
    cp1252 leaves undefined); :func:`read_table` falls back to cp1252 when a
    later part of the file is not UTF-8 after all. Separator: of ``,`` ``;``
    tab ``|``, the one that splits (quote-aware, with :mod:`csv`) at least 90%
    of the records into the header's number of fields, the most fields
    winning; ``,`` when none does (tab for ``.tsv``). Quote character:
    :class:`csv.Sniffer`'s guess, else ``"``. Decimal comma: with a separator
    other than ``,``, numbers written like ``12,5`` and none like ``12.5``
    (``1.234,5`` also sets the thousands separator to ``.``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "sales.csv"
    >>> _ = file.write_bytes("Kunde;Umsatz\\nMüller;1.234,50\\nSchmidt;99,90\\n".encode("cp1252"))
    >>> sniff_csv(file).describe()
    "semicolon-separated, decimal comma (thousands '.'), cp1252"
    """
    file = Path(path)
    given = tuple(name for name, value in (("sep", sep), ("decimal", decimal), ("encoding", encoding)) if value is not None)
    if sep is not None and (not isinstance(sep, str) or len(sep) != 1 or sep in "\r\n\"'"):
        raise ValueError(f"sep={sep!r} must be one character other than a quote or a line break (e.g. ';' or '\\t').")
    if decimal is not None and decimal not in (".", ","):
        raise ValueError(f"decimal={decimal!r} must be '.' or ','.")
    if sep is not None and decimal is not None and sep == decimal:
        raise ValueError(f"sep and decimal are both {sep!r}; they must differ.")
    if encoding is not None:
        encoding = _check_encoding(encoding)
    with _open_raw(file) as stream:
        raw = stream.read(SNIFF_BYTES)
        complete = not stream.read(1)
    if encoding is None or not codecs.lookup(encoding).name.startswith("utf-16"):
        _refuse_binary(file, raw)
    found = encoding or _detect_encoding(raw)
    text = raw.decode(found, errors="replace")
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # drop a cut last line
    quotechar = '"'
    with contextlib.suppress(csv.Error):
        guessed = csv.Sniffer().sniff(text[:65536], delimiters="".join(SEPARATORS)).quotechar
        if guessed in ("'", '"') and guessed != '"' and text.count(guessed) > text.count('"'):
            quotechar = guessed
    default = "\t" if _suffix(file) == ".tsv" else ","
    found_sep = sep if sep is not None else _guess_sep(text, quotechar, default)
    guessed, thousands = (".", None) if found_sep == "," else _guess_decimal(_records(text, found_sep, quotechar))
    if decimal is None:
        decimal = guessed
    elif decimal != guessed or found_sep == ".":
        thousands = None  # thousands dots only where the numbers show them with decimal commas
    if found_sep == decimal:
        raise ValueError(f"sep and decimal are both {found_sep!r}; they must differ.")
    return CSVDialect(sep=found_sep, decimal=decimal, encoding=found, quotechar=quotechar,
                      thousands=thousands, given=given)


def _read_text(file: Path, dialect: CSVDialect) -> tuple[Any, CSVDialect]:
    import pandas as pd

    def read(dialect: CSVDialect) -> Any:
        return pd.read_csv(file, sep=dialect.sep, decimal=dialect.decimal, thousands=dialect.thousands,
                           quotechar=dialect.quotechar, encoding=dialect.encoding)

    try:
        return read(dialect), dialect
    except UnicodeDecodeError:
        if "encoding" in dialect.given or dialect.encoding not in ("utf-8", "utf-8-sig"):
            raise
    # The sample was UTF-8 but a later part is not: a Windows export after all.
    dialect = replace(dialect, encoding="cp1252")
    return read(dialect), dialect


def read_table(
    path: str | os.PathLike[str],
    columns: list[str] | None = None,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    return_dialect: bool = False,
) -> Any:
    """Read a CSV (optionally gzipped), TSV, text, Parquet or Excel file into a DataFrame.

    Parameters
    ----------
    path : path-like
        The file; its ending chooses the reader.
    columns : list of str, optional
        Keep only these columns; unknown names are an error that lists the
        available ones.
    sep, decimal, encoding : str, optional
        For text files (``.csv``, ``.csv.gz``, ``.tsv``, ``.txt``): the field
        separator, decimal mark and encoding, detected by :func:`sniff_csv`
        when not given.
    return_dialect : bool, default=False
        Also return the :class:`CSVDialect` read with (None for other formats).

    Returns
    -------
    DataFrame, or (DataFrame, CSVDialect or None) with ``return_dialect``

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is not what its ending claims, is empty, or lacks a column;
        ``sep``/``decimal``/``encoding`` given for a file that is not text.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = file.write_text("id;spend\\n1;10,5\\n2;3,25\\n")
    >>> read_table(file)
       id  spend
    0   1  10.50
    1   2   3.25
    """
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"No such file: {file}")
    ending = _suffix(file)
    dialect = None
    overrides = [name for name, value in (("sep", sep), ("decimal", decimal), ("encoding", encoding)) if value is not None]
    if overrides and ending not in TEXT_FORMATS:
        raise ValueError(
            f"{'/'.join(o + '=' for o in overrides)} appl{'ies' if len(overrides) == 1 else 'y'} to CSV and text "
            f"files; {file} is read by its ending {ending!r}."
        )
    try:
        if ending in TEXT_FORMATS:
            dialect = sniff_csv(file, sep=sep, decimal=decimal, encoding=encoding)
            frame, dialect = _read_text(file, dialect)
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
    except (UnicodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError, EOFError) as exc:
        where = f" ({dialect.describe()})" if dialect is not None else ""
        raise ValueError(f"{file} could not be read as {ending}{where}: {_one_line(exc)}") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{file} has no data rows.")
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{file} has no column(s) {missing}; its columns are {list(map(str, frame.columns))}."
            )
        frame = frame[list(columns)]
    return (frame, dialect) if return_dialect else frame


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make the entries of ``folder`` (new, renamed or removed files) durable; a no-op where
    folders cannot be opened (Windows)."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


@contextlib.contextmanager
def locked_dir(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive advisory lock (``flock``) on ``folder`` for the body; other hclust
    processes that lock it wait. A no-op where ``fcntl`` is missing (Windows)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the body succeeds.

    The data are flushed to disk (``fsync``) before the rename, and the folder
    after it, so that a crash leaves either the old file or the new one.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
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
    fsync_dir(target.parent)


def write_atomic(path: str | os.PathLike[str], write: Callable[[IO[Any]], None], binary: bool = False) -> Path:
    """Call ``write(stream)`` on a temporary file, then move it to ``path``."""
    with atomic_open(path, "wb" if binary else "w") as stream:
        write(stream)
    return Path(path)


def save_npy(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Save one array in NumPy's .npy format, atomically."""
    import numpy as np

    return write_atomic(path, lambda stream: np.save(stream, array, allow_pickle=False), binary=True)


def save_csv(path: str | os.PathLike[str], frame: Any, *, escape_formulas: bool = True) -> Path:
    """Save a DataFrame as CSV, atomically (text cells neutralised as in :func:`save_table`)."""
    if escape_formulas:
        frame = neutralise_formulas(frame, what=str(path))
    return write_atomic(path, lambda stream: frame.to_csv(stream, index=False))


#: File endings written by :func:`save_table`.
WRITABLE_FORMATS = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq", ".xlsx")

#: First characters that make spreadsheet programs read a cell as a formula
#: (OWASP, "CSV Injection": = + - @, and tab and carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralise_formulas(frame: Any, *, what: str = "the table") -> Any:
    """A copy of ``frame`` whose text cells and column names that start like a formula
    (see :data:`FORMULA_STARTS`) are prefixed with ``'``; ``frame`` itself when none do.

    Spreadsheets (Excel, LibreOffice, Google Sheets) run a CSV cell such as
    ``=HYPERLINK("http://...")`` or ``@SUM(...)`` as a formula when the file
    is opened; the leading quote makes them show the text instead (OWASP's
    advice). Numbers are never changed, so ``-5`` stays a negative number. A
    :class:`FormulaWarning` says how many cells were changed.

    Examples
    --------
    >>> import pandas as pd, warnings
    >>> frame = pd.DataFrame({"name": ["=1+1", "Ann"], "spend": [-5, 3]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FormulaWarning)
    ...     neutralise_formulas(frame)
        name  spend
    0  '=1+1     -5
    1    Ann      3
    """
    import pandas as pd

    changed = 0
    columns: dict[Any, Any] = {}
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        if isinstance(series.dtype, pd.CategoricalDtype):
            categories = series.cat.categories
            if categories.dtype == object or pd.api.types.is_string_dtype(categories.dtype):
                hits = series.map(_is_formula, na_action="ignore").fillna(False).astype(bool)
                if hits.any():
                    changed += int(hits.sum())
                    columns[position] = series.astype(object).where(~hits, "'" + series.astype(object).astype(str))
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            hits = series.map(_is_formula, na_action="ignore").fillna(False).astype(bool)
            if hits.any():
                changed += int(hits.sum())
                columns[position] = series.where(~hits, "'" + series.astype(str))
    names = ["'" + c if _is_formula(c) else c for c in frame.columns]
    renamed = sum(_is_formula(c) for c in frame.columns)
    if not changed and not renamed:
        return frame
    out = frame.copy()
    for position, values in columns.items():
        out.isetitem(position, values)
    out.columns = names
    parts = []
    if changed:
        parts.append(f"{changed} text cell{'s' if changed != 1 else ''}")
    if renamed:
        parts.append(f"{renamed} column name{'s' if renamed != 1 else ''}")
    warnings.warn(
        f"{' and '.join(parts)} of {what} began with =, +, -, @, tab or CR, which spreadsheets run as "
        "formulas; they were written with a leading ' (escape_formulas=False writes them as they are).",
        FormulaWarning,
        stacklevel=3,
    )
    return out


def _excel_writer(frame: Any, what: str, escape_formulas: bool) -> Callable[[IO[Any]], None]:
    """Write .xlsx; with ``escape_formulas``, cells openpyxl would store as formulas are
    stored as text with Excel's quote prefix (they show as typed; nothing runs)."""
    import pandas as pd

    def write(stream: IO[Any]) -> None:
        changed = 0
        with pd.ExcelWriter(cast(BinaryIO, stream), engine="openpyxl") as writer:  # write_atomic opens it "wb"
            frame.to_excel(writer, index=False)
            if escape_formulas:
                for sheet in writer.sheets.values():
                    for row in sheet.iter_rows():
                        for cell in row:
                            if cell.data_type == "f":
                                cell.data_type = "s"
                                cell.quotePrefix = True
                                changed += 1
        if changed:
            warnings.warn(
                f"{changed} cell{'s' if changed != 1 else ''} of {what} began with =, which Excel runs as a "
                "formula; they were stored as text (escape_formulas=False writes them as formulas).",
                FormulaWarning,
                stacklevel=4,
            )

    return write


def save_table(path: str | os.PathLike[str], frame: Any, *, escape_formulas: bool = True) -> Path:
    """Save a DataFrame as CSV (optionally gzipped), TSV, Parquet or Excel, atomically.

    Parameters
    ----------
    path : path-like
        The file; its ending chooses the format (see :data:`WRITABLE_FORMATS`).
    frame : pandas.DataFrame
        The table; its index is not written.
    escape_formulas : bool, default=True
        Neutralise text that spreadsheets would run as a formula: in CSV and
        TSV files, text cells and column names starting with ``=``, ``+``,
        ``-``, ``@``, tab or CR get a leading ``'`` (see
        :func:`neutralise_formulas`); in ``.xlsx`` files, text starting with
        ``=`` is stored as a text cell with Excel's quote prefix instead of a
        formula. A :class:`FormulaWarning` says when this happens. Parquet
        files are written as they are. ``False`` writes the values unchanged.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        An ending hclust does not write, or a missing extra package (Parquet
        needs ``pyarrow``, Excel ``openpyxl``). Nothing is written then.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib, warnings
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "names.csv"
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = save_table(out, pd.DataFrame({"name": ['=HYPERLINK("http://x")', "Ann"]}))
    >>> print(out.read_text())
    name
    "'=HYPERLINK(""http://x"")"
    Ann
    <BLANKLINE>
    >>> caught[0].category.__name__
    'FormulaWarning'
    """
    target = Path(path)
    ending = _suffix(target)
    if ending not in WRITABLE_FORMATS:
        raise ValueError(
            f"{target}: hclust writes {', '.join(WRITABLE_FORMATS)} files, not {ending or 'no ending'!r}; "
            "choose one of those endings."
        )
    if escape_formulas and ending in (".csv", ".csv.gz", ".tsv"):
        frame = neutralise_formulas(frame, what=str(target))
    if ending in (".parquet", ".pq"):
        write: Callable[[IO[Any]], None] = lambda stream: frame.to_parquet(stream, index=False)
    elif ending == ".xlsx":
        write = _excel_writer(frame, str(target), escape_formulas)
    elif ending == ".csv.gz":
        write = lambda stream: frame.to_csv(stream, index=False, compression="gzip")
    else:
        sep = "\t" if ending == ".tsv" else ","
        write = lambda stream: frame.to_csv(stream, index=False, sep=sep, encoding="utf-8")
    try:
        return write_atomic(target, write, binary=True)
    except ImportError as exc:
        raise ValueError(f"{target}: writing {ending} files needs an extra package: {exc}") from None

# --- SQL sources and sinks ----------------------------------------------------------

#: File endings taken for SQLite databases (any file starting with the SQLite header is one too).
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")

#: The first 16 bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"

#: What :func:`write_sql` may do when the table exists.
IF_EXISTS = ("fail", "replace", "append")

_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")

_SQL_HINT = "install SQLAlchemy: pip install sqlalchemy (with the database's driver for a server)"


def is_sql_url(source: Any) -> bool:
    """Whether ``source`` is a string that looks like a SQLAlchemy URL (``dialect://...``)."""
    return isinstance(source, str) and _URL_SCHEME.match(source) is not None


def is_sql_source(source: Any) -> bool:
    """Whether ``source`` names a SQL database: a SQLAlchemy URL, a path with a SQLite
    ending (existing or not), or an existing file that starts with the SQLite header."""
    if is_sql_url(source):
        return True
    if not isinstance(source, (str, os.PathLike)):
        return False
    file = Path(source)
    return file.suffix.lower() in SQLITE_SUFFIXES or is_sqlite_file(file)


def is_sqlite_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a file that starts with the SQLite 3 header."""
    file = Path(path)
    if not file.is_file():
        return False
    try:
        with open(file, "rb") as stream:
            return stream.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


@dataclass(frozen=True)
class SourceInfo:
    """What :func:`read_source` read, for a summary and for protecting the input.

    Attributes
    ----------
    kind : {"text", "parquet", "excel", "sqlite", "sql"}
    description : str
        What was read, e.g. ``"customers.csv"`` or ``"shop.db (table 'customers')"``.
    dialect : CSVDialect or None
        For text files.
    tables : tuple of str or None
        For databases: the tables (and views) the read touched; None when
        they are unknown (a query on a server), so that every table of the
        database counts as input.
    """

    kind: str
    description: str
    dialect: CSVDialect | None = None
    tables: tuple[str, ...] | None = None


def read_source(
    source: str | os.PathLike[str],
    *,
    table: str | None = None,
    query: str | None = None,
    columns: list[str] | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    return_info: bool = False,
) -> Any:
    """Read a table from a file or a SQL database into a DataFrame.

    Parameters
    ----------
    source : path-like or str
        A CSV, TSV, Parquet or Excel file (read by :func:`read_table`); a
        SQLite database file (ending in ``.db``, ``.sqlite`` or ``.sqlite3``,
        or any file that starts with the SQLite header); or a SQLAlchemy URL
        such as ``"sqlite:///customers.db"`` or
        ``"postgresql://user@host/shop"``.
    table : str, optional
        For a database: the table (or view) to read. Give exactly one of
        ``table`` and ``query``; neither for a file.
    query : str, optional
        For a database: a SQL query whose result is the table, passed to
        the driver as it is (write its parameters into it).
    columns : list of str, optional
        Keep only these columns; unknown names are an error that lists the
        available ones.
    sep, decimal, encoding : str, optional
        For text files: as :func:`read_table` (detected when not given).
    return_info : bool, default=False
        Also return a :class:`SourceInfo`: the detected CSV dialect, or the
        tables a query read.

    Returns
    -------
    pandas.DataFrame, or (DataFrame, SourceInfo) with ``return_info``
        One row per record, with the database's column names.

    Raises
    ------
    FileNotFoundError
        A file or SQLite database that does not exist (hclust never creates
        one when reading).
    ValueError
        Neither or both of ``table`` and ``query`` for a database, either of
        them for a file; an unknown table (the message lists the database's
        tables); a file that claims to be SQLite but is not; a URL that
        SQLAlchemy cannot parse; a failed connection or query (the database's
        message on one line); no rows; unknown columns.
    ImportError
        SQLAlchemy, or the database's driver, is not installed.

    See Also
    --------
    read_table : the file formats.
    write_sql : write a DataFrame to a database table.

    Notes
    -----
    SQLite databases are opened read-only, so neither the file nor its
    tables can change; a query may only read (a ``SELECT`` or
    ``WITH ... SELECT``: ``ATTACH``, ``PRAGMA`` and the like are refused, so
    no file is created either), and SQLite reports the tables and views it
    read. A query on a server runs in a transaction that is
    rolled back at the end; give hclust an account that may only read all
    the same. Passwords in URLs are masked in error messages. SQLite has no
    boolean or date types: such columns come back as integers and text.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from hclust.io import read_source, write_sql
    >>> folder = tempfile.mkdtemp()
    >>> db = os.path.join(folder, "shop.db")
    >>> write_sql(pd.DataFrame({"id": [1, 2], "spend": [10.5, 3.0]}), db, "customers")
    >>> read_source(db, table="customers")
       id  spend
    0   1   10.5
    1   2    3.0
    >>> read_source(db, query="SELECT spend FROM customers WHERE id = 2")
       spend
    0    3.0
    """
    text_options = [name for name, value in (("sep", sep), ("decimal", decimal), ("encoding", encoding))
                    if value is not None]
    if is_sql_source(source) and not (isinstance(source, (str, os.PathLike)) and Path(source).is_dir()):
        if text_options:
            raise ValueError(
                f"{'/'.join(o + '=' for o in text_options)} appl{'ies' if len(text_options) == 1 else 'y'} to "
                f"CSV and text files; {_mask(str(source))} is a SQL database."
            )
        if not is_sql_url(source):
            file = Path(source)
            if not file.is_file():
                raise FileNotFoundError(f"No such SQLite database: {file}")
            _check_sqlite_file(file)
        frame, tables, where, sqlite = _read_sql(source, table, query, columns)
        if not return_info:
            return frame
        what = f"table {table!r}" if table is not None else "a query"
        return frame, SourceInfo("sqlite" if sqlite else "sql", f"{where} ({what})", None, tables)
    file = Path(source)
    if file.is_dir():
        raise ValueError(f"{file} is a folder; give a file, a SQLite database or a SQLAlchemy URL.")
    if table is not None or query is not None:
        given = "table" if table is not None else "query"
        raise ValueError(
            f"{given}= applies to SQL databases only, but {file} is a file read by its ending; "
            "leave it out, or give a SQLite database or a SQLAlchemy URL."
        )
    frame, dialect = read_table(file, columns, sep=sep, decimal=decimal, encoding=encoding, return_dialect=True)
    if not return_info:
        return frame
    ending = _suffix(file)
    kind = "text" if dialect is not None else "parquet" if ending in (".parquet", ".pq") else "excel"
    return frame, SourceInfo(kind, str(file), dialect, None)


def write_sql(
    frame: Any,
    target: str | os.PathLike[str],
    table: str,
    *,
    if_exists: str = "fail",
    protect: tuple[Any, Any] | None = None,
) -> None:
    """Write a DataFrame to a SQL table, all or nothing.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to write (for example the customers with their segment);
        the index is not written (call ``frame.reset_index()`` to keep it).
    target : path-like or str
        A SQLite database file (created when absent: its name must end in
        ``.db``, ``.sqlite`` or ``.sqlite3``; an existing file must be a
        SQLite database) or a SQLAlchemy URL.
    table : str
        Name of the table to write.
    if_exists : {"fail", "replace", "append"}, default="fail"
        When the table exists: refuse, replace it (drop, create, insert), or
        add the rows to it.
    protect : tuple (source, table), optional
        The database (path or URL) and table the data was read from: writing
        to that table is refused, whatever ``if_exists``. ``table`` may be a
        collection of names (the tables a query read, see
        :attr:`SourceInfo.tables`); ``None`` protects every table of that
        database.

    Raises
    ------
    ValueError
        The table exists and ``if_exists="fail"``; the target is the
        protected input; the target file is not a SQLite database; bad
        arguments; the database refused the data (its message on one line).
        Nothing has been written then.
    TypeError
        ``frame`` is not a DataFrame.
    ImportError
        SQLAlchemy, or the database's driver, is not installed.

    See Also
    --------
    read_source : read it back.

    Notes
    -----
    All statements (dropping the old table, creating the new one, inserting
    the rows) run in one transaction: if any fails, the database is left as
    it was, with neither a partial table nor a lost old one. SQLite's Python
    driver commits schema changes on its own by default, so hclust opens
    SQLite connections in autocommit mode and issues ``BEGIN`` itself, which
    makes ``DROP`` and ``CREATE`` part of the transaction. On servers, the
    same holds where the database has transactional DDL (PostgreSQL, SQL
    Server, SQLite; not MySQL).
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame; got {type(frame).__name__}.")
    if not isinstance(table, str) or not table.strip():
        raise ValueError(f"table must be a non-empty table name; got {table!r}.")
    if not isinstance(if_exists, str) or if_exists not in IF_EXISTS:
        raise ValueError(f"Unknown if_exists {if_exists!r}; valid values are: {', '.join(IF_EXISTS)}.")
    if frame.shape[1] == 0:
        raise ValueError("frame has no columns; there is nothing to write.")

    location = _sql_location(target, for_writing=True)
    if protect is not None:
        _check_protected(location, table, protect)
    sa = _sqlalchemy()
    engine = _engine(location, for_writing=True)
    where = _describe(location)
    try:
        with engine.begin() as connection:
            exists = sa.inspect(connection).has_table(table)
            if exists and if_exists == "fail":
                raise ValueError(
                    f"Table {table!r} already exists in {where}; pass if_exists='replace' or "
                    "'append', or choose another name."
                )
            mode = cast(Literal["fail", "replace", "append"], if_exists)  # checked above
            frame.to_sql(table, connection, if_exists=mode, index=False)
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        raise ValueError(f"Writing table {table!r} to {where} failed: {_db_message(exc)}") from None
    finally:
        engine.dispose()


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise ImportError(f"Reading and writing SQL databases needs SQLAlchemy; {_SQL_HINT}.") from None
    return sqlalchemy


def _check_sqlite_file(file: Path) -> None:
    """Refuse a file with a SQLite ending that is not a SQLite database."""
    if file.stat().st_size == 0:
        raise ValueError(f"{file} is empty (0 bytes), not a SQLite database with tables.")
    if not is_sqlite_file(file):
        with open(file, "rb") as stream:
            start = stream.read(len(SQLITE_HEADER))
        raise ValueError(
            f"{file} is not a SQLite database (it starts with {start!r}, not the SQLite header); "
            "check the path, or rename a CSV/Parquet/Excel file to its real ending."
        )


class _Location:
    """Where a SQL table lives: a SQLite file (``path``) or a server URL (``url``)."""

    def __init__(self, path: Path | None = None, url: Any = None) -> None:
        self.path = path
        self.url = url


def _sql_location(source: str | os.PathLike[str], for_writing: bool) -> _Location:
    """Classify a SQL source or target; SQLite URLs naming a file become that file."""
    if not is_sql_url(source):
        file = Path(source)
        if file.is_dir():
            raise ValueError(f"{file} is a folder; give a SQLite database file or a SQLAlchemy URL.")
        if file.exists():
            # An empty file with a SQLite ending is an empty database to write into.
            empty = file.stat().st_size == 0 and file.suffix.lower() in SQLITE_SUFFIXES
            if not (for_writing and empty):
                _check_sqlite_file(file)
        elif not for_writing:
            raise FileNotFoundError(f"No such SQLite database: {file}")
        elif file.suffix.lower() not in SQLITE_SUFFIXES:
            raise ValueError(
                f"{file} does not exist and does not end in {', '.join(SQLITE_SUFFIXES)}; "
                "name a new SQLite database with one of those endings, or give a SQLAlchemy URL."
            )
        return _Location(path=file)
    sa = _sqlalchemy()
    try:
        url = sa.engine.make_url(str(source))
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise ValueError(f"{_mask(str(source))} is not a valid SQLAlchemy URL: {_one_line(exc)}") from None
    database = url.database
    in_memory = not database or database == ":memory:" or database.startswith("file:")
    if url.get_backend_name() == "sqlite" and not in_memory:
        return _sql_location(database, for_writing)
    return _Location(url=url)


def _mask(text: str) -> str:
    """A URL with its password replaced by ***."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)


def _describe(location: _Location) -> str:
    if location.path is not None:
        return str(location.path)
    return str(location.url.render_as_string(hide_password=True))


def _engine(location: _Location, for_writing: bool) -> Any:
    """A SQLAlchemy engine without pooling; SQLite files open read-only unless writing."""
    sa = _sqlalchemy()
    from sqlalchemy.pool import NullPool

    if location.path is not None:
        import sqlite3

        path = location.path
        if for_writing:
            path.parent.mkdir(parents=True, exist_ok=True)

            def connect() -> Any:
                return sqlite3.connect(str(path))

        else:
            uri = path.resolve().as_uri() + "?mode=ro"

            def connect() -> Any:
                return sqlite3.connect(uri, uri=True)

        engine = sa.create_engine("sqlite://", creator=connect, poolclass=NullPool)
        _transactional_ddl(engine)
        return engine
    try:
        return sa.create_engine(location.url, poolclass=NullPool)
    except ImportError as exc:
        module = getattr(exc, "name", None) or ""
        package = _DRIVER_PACKAGES.get(module.split(".")[0], module.split(".")[0] or "the driver")
        raise ImportError(
            f"Connecting to {_describe(location)} needs the database driver {module or ''}, which is not "
            f"installed: pip install {package}"
        ) from None
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise ValueError(f"Cannot connect to {_describe(location)}: {_one_line(exc)}") from None


#: Driver module -> the package that installs it.
_DRIVER_PACKAGES = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "'psycopg[binary]'",
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
    "pyodbc": "pyodbc",
    "oracledb": "oracledb",
    "cx_Oracle": "cx_Oracle",
    "pymssql": "pymssql",
    "asyncpg": "asyncpg",
    "pg8000": "pg8000",
}


def _transactional_ddl(engine: Any) -> None:
    """Make SQLite's DROP/CREATE part of the transaction: the driver no longer begins
    (or commits) on its own, and each SQLAlchemy transaction starts with BEGIN."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def _one_line(exc: BaseException | str) -> str:
    text = " ".join(str(exc).split())
    # SQLAlchemy appends a link to its documentation; the message is enough.
    text = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text)
    return text or type(exc).__name__


def _db_message(exc: BaseException) -> str:
    """The database driver's own message when there is one, on one line."""
    seen: BaseException | None = exc
    while seen is not None:
        original = getattr(seen, "orig", None)
        if isinstance(original, BaseException):
            return _one_line(original)
        seen = seen.__cause__ or seen.__context__
    return _one_line(exc)


#: What a --query may do on SQLite (authorizer action codes): read, select, call
#: functions, recurse, and the transaction hclust wraps it in. ATTACH (which
#: creates a file), PRAGMA and every write are refused.
_QUERY_ACTIONS = frozenset({"SQLITE_READ", "SQLITE_SELECT", "SQLITE_FUNCTION", "SQLITE_RECURSIVE",
                            "SQLITE_TRANSACTION", "SQLITE_SAVEPOINT"})


#: SQLite's authorizer action codes by name (other SQLITE_ constants share their numbers).
_AUTHORIZER_ACTIONS = (
    "CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE", "CREATE_TEMP_TRIGGER",
    "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE", "DROP_INDEX", "DROP_TABLE",
    "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER", "DROP_TEMP_VIEW", "DROP_TRIGGER",
    "DROP_VIEW", "INSERT", "PRAGMA", "READ", "SELECT", "TRANSACTION", "UPDATE", "ATTACH", "DETACH",
    "ALTER_TABLE", "REINDEX", "ANALYZE", "CREATE_VTABLE", "DROP_VTABLE", "FUNCTION", "SAVEPOINT",
    "RECURSIVE",
)


class _QueryGuard:
    """SQLite authorizer for a read-only query: records the tables read, refuses the rest."""

    def __init__(self) -> None:
        import sqlite3

        self.allowed = {getattr(sqlite3, name) for name in _QUERY_ACTIONS if hasattr(sqlite3, name)}
        self.names = {getattr(sqlite3, f"SQLITE_{name}"): name for name in _AUTHORIZER_ACTIONS
                      if hasattr(sqlite3, f"SQLITE_{name}")}
        self.read_code = sqlite3.SQLITE_READ
        self.ok, self.deny = sqlite3.SQLITE_OK, sqlite3.SQLITE_DENY
        self.tables: set[str] = set()
        self.refused: list[str] = []

    def __call__(self, action: int, arg1: str | None, arg2: str | None, database: str | None, trigger: str | None) -> int:
        if action == self.read_code and arg1:
            self.tables.add(arg1)
        if action in self.allowed:
            return int(self.ok)
        name = self.names.get(action, f"action {action}")
        self.refused.append(name + (f" {arg1}" if arg1 else ""))
        return int(self.deny)


def _read_sql(
    source: str | os.PathLike[str],
    table: str | None,
    query: str | None,
    columns: list[str] | None,
) -> tuple[Any, tuple[str, ...] | None, str, bool]:
    """(frame, tables read or None when unknown, description of the database, is SQLite)."""
    import pandas as pd

    if table is not None and query is not None:
        raise ValueError("Give either table= or query= for a SQL source, not both.")
    if table is not None and (not isinstance(table, str) or not table):
        raise ValueError(f"table must be a non-empty table name; got {table!r}.")
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise ValueError(f"query must be a non-empty SQL string; got {query!r}.")
    location = _sql_location(source, for_writing=False)
    where = _describe(location)
    sa = _sqlalchemy()
    engine = _engine(location, for_writing=False)
    guard = _QueryGuard() if query is not None and location.path is not None else None
    tables: tuple[str, ...] | None = None if query is not None else (str(table),)
    try:
        with engine.connect() as connection:
            if query is None:
                inspector = sa.inspect(connection)
                names = sorted(inspector.get_table_names()) + sorted(inspector.get_view_names())
                listing = ", ".join(names) if names else "none"
                if table is None:
                    raise ValueError(
                        f"{where} is a database: say which table to read with table= "
                        f"(its tables: {listing}) or give a query=."
                    )
                if table not in names:
                    raise ValueError(f"{where} has no table {table!r}; its tables are: {listing}.")
                available = [column["name"] for column in inspector.get_columns(table)]
                if columns is not None:
                    _check_columns(columns, available, f"Table {table!r} of {where}")
                wanted = available if columns is None else list(columns)
                statement = sa.select(*[sa.column(name) for name in wanted]).select_from(sa.table(table))
                frame = pd.read_sql(statement, connection)
            else:
                if guard is not None:
                    connection.connection.driver_connection.set_authorizer(guard)
                try:
                    frame = pd.read_sql_query(query, connection)
                finally:
                    if guard is not None:
                        connection.connection.driver_connection.set_authorizer(None)
                if guard is not None:
                    tables = tuple(sorted(guard.tables))
            # Leave the connection without committing: anything the query changed is rolled back.
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        what = "the query" if query is not None else f"table {table!r}"
        if guard is not None and guard.refused:
            raise ValueError(
                f"Reading {what} from {where} refused: hclust opens databases read-only and a query may only "
                "read (SELECT or WITH ... SELECT); "
                f"it asked for {', '.join(dict.fromkeys(guard.refused))}."
            ) from None
        raise ValueError(f"Reading {what} from {where} failed: {_db_message(exc)}") from None
    finally:
        engine.dispose()
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        what = "The query" if query is not None else f"Table {table!r}"
        raise ValueError(f"{what} in {where} has no data rows.")
    if query is not None and columns is not None:
        _check_columns(columns, [str(c) for c in frame.columns], f"The query's result from {where}")
        frame = frame[list(columns)]
    return frame, tables, where, location.path is not None


def _check_columns(columns: list[str], available: list[str], what: str) -> None:
    missing = [c for c in columns if c not in available]
    if missing:
        raise ValueError(f"{what} has no column(s) {missing}; its columns are {available}.")


def _same_database(a: _Location, b: _Location) -> bool:
    if a.path is not None and b.path is not None:
        if a.path.exists() and b.path.exists():
            return os.path.samefile(a.path, b.path)
        return a.path.resolve() == b.path.resolve()
    if a.url is not None and b.url is not None:
        return bool(
            a.url.get_backend_name() == b.url.get_backend_name()
            and (a.url.host or "") == (b.url.host or "")
            and a.url.port == b.url.port
            and (a.url.database or "") == (b.url.database or "")
        )
    return False


def _check_protected(location: _Location, table: str, protect: tuple[Any, Any]) -> None:
    """Refuse to write to a table the data came from."""
    if not isinstance(protect, tuple) or len(protect) != 2:
        raise ValueError(f"protect must be a (source, table) pair; got {protect!r}.")
    source, protected = protect
    if protected is None or isinstance(protected, str):
        protected_tables = None if protected is None else (protected,)
    elif isinstance(protected, Collection) and all(isinstance(name, str) for name in protected):
        protected_tables = tuple(protected)
    else:
        raise TypeError(f"protect's table must be a table name, a collection of names or None; got {protected!r}.")
    try:
        input_location = _sql_location(source, for_writing=True)
    except ValueError:
        return  # not a database (a CSV file, say), so it cannot hold the target table
    if not _same_database(location, input_location):
        return
    if protected_tables is None:
        raise ValueError(
            f"Refusing to write table {table!r} to {_describe(location)}: the input data comes "
            "from that database and the tables it read are not known (every table is protected), "
            "and hclust never overwrites input data. Choose another database."
        )
    # SQLite and unquoted PostgreSQL names ignore case: refuse on any spelling.
    for name in protected_tables:
        if name.casefold() == table.casefold():
            what = "is the input data" if len(protected_tables) == 1 else "was read for the input data"
            raise ValueError(
                f"Refusing to write table {table!r} to {_describe(location)}: table "
                f"{name!r} {what}, which hclust never overwrites. "
                "Choose another table name or database."
            )


def check_sql_output(
    target: str | os.PathLike[str],
    table: str,
    *,
    if_exists: str = "fail",
    protect: tuple[Any, Any] | None = None,
) -> None:
    """Check, without writing, what :func:`write_sql` would refuse: a bad target or
    table name, a protected input table, or an existing table with ``if_exists="fail"``.

    Commands call it before long work, so that a refusal costs nothing.

    Raises
    ------
    ValueError, TypeError, ImportError
        As :func:`write_sql`.
    """
    if not isinstance(table, str) or not table.strip():
        raise ValueError(f"table must be a non-empty table name; got {table!r}.")
    if not isinstance(if_exists, str) or if_exists not in IF_EXISTS:
        raise ValueError(f"Unknown if_exists {if_exists!r}; valid values are: {', '.join(IF_EXISTS)}.")
    location = _sql_location(target, for_writing=True)
    if protect is not None:
        _check_protected(location, table, protect)
    if if_exists != "fail":
        return
    if location.path is not None and (not location.path.exists() or location.path.stat().st_size == 0):
        return
    sa = _sqlalchemy()
    engine = _engine(location, for_writing=False)
    try:
        with engine.connect() as connection:
            exists = sa.inspect(connection).has_table(table)
    except sa.exc.SQLAlchemyError as exc:
        raise ValueError(f"Cannot check table {table!r} in {_describe(location)}: {_db_message(exc)}") from None
    finally:
        engine.dispose()
    if exists:
        raise ValueError(
            f"Table {table!r} already exists in {_describe(location)}; pass if_exists='replace' or "
            "'append', or choose another name."
        )

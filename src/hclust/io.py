"""Reading tables and writing results: the only module that touches files.

Outputs are written atomically (a temporary file in the same folder, then a
rename), and never onto an input file.
"""

from __future__ import annotations

import contextlib
import os
import re
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the body succeeds."""
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


#: File endings written by :func:`save_table`.
WRITABLE_FORMATS = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq", ".xlsx")


def save_table(path: str | os.PathLike[str], frame: Any) -> Path:
    """Save a DataFrame as CSV (optionally gzipped), TSV, Parquet or Excel, atomically.

    Parameters
    ----------
    path : path-like
        The file; its ending chooses the format (see :data:`WRITABLE_FORMATS`).
    frame : pandas.DataFrame
        The table; its index is not written.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        An ending hclust does not write, or a missing extra package (Parquet
        needs ``pyarrow``, Excel ``openpyxl``). Nothing is written then.
    """
    target = Path(path)
    ending = _suffix(target)
    if ending not in WRITABLE_FORMATS:
        raise ValueError(
            f"{target}: hclust writes {', '.join(WRITABLE_FORMATS)} files, not {ending or 'no ending'!r}; "
            "choose one of those endings."
        )
    if ending in (".parquet", ".pq"):
        write: Callable[[IO[Any]], None] = lambda stream: frame.to_parquet(stream, index=False)
    elif ending == ".xlsx":
        write = lambda stream: frame.to_excel(stream, index=False, engine="openpyxl")
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


def read_source(
    source: str | os.PathLike[str],
    *,
    table: str | None = None,
    query: str | None = None,
    columns: list[str] | None = None,
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

    Returns
    -------
    pandas.DataFrame
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
    tables can change. A query on a server runs in a transaction that is
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
    if is_sql_url(source):
        return _read_sql(str(source), table, query, columns)
    file = Path(source)
    if file.is_dir():
        raise ValueError(f"{file} is a folder; give a file, a SQLite database or a SQLAlchemy URL.")
    if file.suffix.lower() in SQLITE_SUFFIXES or is_sqlite_file(file):
        if not file.is_file():
            raise FileNotFoundError(f"No such SQLite database: {file}")
        _check_sqlite_file(file)
        return _read_sql(file, table, query, columns)
    if table is not None or query is not None:
        given = "table" if table is not None else "query"
        raise ValueError(
            f"{given}= applies to SQL databases only, but {file} is a file read by its ending; "
            "leave it out, or give a SQLite database or a SQLAlchemy URL."
        )
    return read_table(file, columns)


def write_sql(
    frame: Any,
    target: str | os.PathLike[str],
    table: str,
    *,
    if_exists: str = "fail",
    protect: tuple[str | os.PathLike[str], str | None] | None = None,
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
        to that table is refused, whatever ``if_exists``. ``table=None``
        protects every table of that database.

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
            frame.to_sql(table, connection, if_exists=if_exists, index=False)
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
        raise ImportError(
            f"Connecting to {_describe(location)} needs the database driver: {_one_line(exc)} "
            "(install it with pip)."
        ) from None
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise ValueError(f"Cannot connect to {_describe(location)}: {_one_line(exc)}") from None


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


def _read_sql(
    source: str | Path,
    table: str | None,
    query: str | None,
    columns: list[str] | None,
) -> Any:
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
                frame = pd.read_sql(query, connection)
            # Leave the connection without committing: anything the query changed is rolled back.
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        what = "the query" if query is not None else f"table {table!r}"
        raise ValueError(f"Reading {what} from {where} failed: {_db_message(exc)}") from None
    finally:
        engine.dispose()
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        what = "The query" if query is not None else f"Table {table!r}"
        raise ValueError(f"{what} in {where} has no data rows.")
    if query is not None and columns is not None:
        _check_columns(columns, [str(c) for c in frame.columns], f"The query's result from {where}")
        frame = frame[list(columns)]
    return frame


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


def _check_protected(
    location: _Location, table: str, protect: tuple[str | os.PathLike[str], str | None]
) -> None:
    """Refuse to write to the table the data came from."""
    if not isinstance(protect, tuple) or len(protect) != 2:
        raise ValueError(f"protect must be a (source, table) pair; got {protect!r}.")
    source, protected_table = protect
    if protected_table is not None and not isinstance(protected_table, str):
        raise TypeError(f"protect's table must be a table name or None; got {protected_table!r}.")
    try:
        input_location = _sql_location(source, for_writing=True)
    except ValueError:
        return  # not a database (a CSV file, say), so it cannot hold the target table
    if not _same_database(location, input_location):
        return
    if protected_table is None:
        raise ValueError(
            f"Refusing to write table {table!r} to {_describe(location)}: the input data comes "
            "from that database (every table is protected), and hclust never overwrites input "
            "data. Choose another database."
        )
    # SQLite and unquoted PostgreSQL names ignore case: refuse on any spelling.
    if protected_table.casefold() == table.casefold():
        raise ValueError(
            f"Refusing to write table {table!r} to {_describe(location)}: table "
            f"{protected_table!r} is the input data, which hclust never overwrites. "
            "Choose another table name or database."
        )

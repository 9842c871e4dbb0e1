"""SQL sources and sinks (read_source, write_sql), and the Parquet and Excel readers."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hclust.io as io
from hclust.io import (
    is_sql_source,
    is_sqlite_file,
    read_source,
    read_table,
    save_table,
    write_sql,
)

needs_sqlalchemy = pytest.mark.skipif(
    importlib.util.find_spec("sqlalchemy") is None,
    reason="SQL sources need SQLAlchemy (pip install sqlalchemy)",
)


@pytest.fixture
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, 41),
            "age": rng.integers(18, 80, size=40),
            "income": rng.normal(50.0, 12.0, size=40).round(2),
            "region": rng.choice(["north", "south", "east"], size=40),
        }
    )


@pytest.fixture
def database(tmp_path, customers) -> str:
    path = tmp_path / "shop.db"
    write_sql(customers, path, "customers")
    return str(path)


def _tables(path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        connection.close()
    return sorted(name for (name,) in rows)


def _count(path, table: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])
    finally:
        connection.close()


@needs_sqlalchemy
def test_csv_to_sqlite_round_trip(tmp_path, customers):
    csv = tmp_path / "customers.csv"
    customers.to_csv(csv, index=False)
    frame = read_source(csv)
    pd.testing.assert_frame_equal(frame, read_table(csv))
    for name in ("a.db", "a.sqlite", "a.sqlite3"):
        write_sql(frame, tmp_path / name, "customers")
        assert is_sqlite_file(tmp_path / name)
        pd.testing.assert_frame_equal(read_source(tmp_path / name, table="customers"), frame)
    assert list(read_source(tmp_path / "a.db", table="customers", columns=["age", "region"]).columns) == [
        "age",
        "region",
    ]


@needs_sqlalchemy
def test_sqlite_detected_by_header(tmp_path, customers, database):
    renamed = tmp_path / "export.data"
    renamed.write_bytes(Path(database).read_bytes())
    pd.testing.assert_frame_equal(read_source(renamed, table="customers"), customers)


@needs_sqlalchemy
def test_query(database, customers):
    query = "SELECT region, COUNT(*) AS n FROM customers GROUP BY region ORDER BY region"
    frame = read_source(database, query=query)
    expected = customers.groupby("region").size()
    assert frame["region"].tolist() == sorted(expected.index)
    assert frame["n"].tolist() == expected.sort_index().tolist()
    # Colons inside literals are not taken for bind parameters: the query goes to the driver as is.
    assert read_source(database, query="SELECT 'a:b' AS text").iloc[0, 0] == "a:b"
    older = read_source(database, query="SELECT * FROM customers WHERE age > 50", columns=["age"])
    assert (older["age"] > 50).all() and list(older.columns) == ["age"]


@needs_sqlalchemy
def test_views_are_tables(database, customers):
    connection = sqlite3.connect(database)
    connection.execute("CREATE VIEW older AS SELECT * FROM customers WHERE age > 50")
    connection.commit()
    connection.close()
    assert len(read_source(database, table="older")) == int((customers["age"] > 50).sum())


@needs_sqlalchemy
def test_table_or_query_required(database):
    with pytest.raises(ValueError, match=r"say which table to read with table= \(its tables: customers\)"):
        read_source(database)
    with pytest.raises(ValueError, match="not both"):
        read_source(database, table="customers", query="SELECT 1")
    with pytest.raises(ValueError, match="query must be a non-empty"):
        read_source(database, query="  ")


@needs_sqlalchemy
def test_unknown_table_lists_tables(database, customers):
    write_sql(customers.head(3), database, "archive")
    with pytest.raises(ValueError, match=r"has no table 'customer'; its tables are: archive, customers\."):
        read_source(database, table="customer")


@needs_sqlalchemy
def test_unknown_column(database):
    with pytest.raises(ValueError, match=r"has no column\(s\) \['spend'\]; its columns are \['customer_id'"):
        read_source(database, table="customers", columns=["spend"])


@needs_sqlalchemy
def test_query_error_is_one_line(database):
    with pytest.raises(ValueError) as info:
        read_source(database, query="SELECT spend\nFROM customers")
    message = str(info.value)
    assert "\n" not in message
    assert "no such column: spend" in message and "sqlalche.me" not in message
    with pytest.raises(ValueError, match="no rows|no data rows"):
        read_source(database, query="SELECT * FROM customers WHERE age > 1000")


@needs_sqlalchemy
def test_reading_never_writes(database):
    before = Path(database).read_bytes()
    with pytest.raises(ValueError, match="readonly|read-only"):
        read_source(database, query="DELETE FROM customers")
    assert Path(database).read_bytes() == before
    assert _count(database, "customers") == 40


@needs_sqlalchemy
def test_not_a_database(tmp_path):
    fake = tmp_path / "fake.db"
    fake.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="is not a SQLite database"):
        read_source(fake, table="t")
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(ValueError, match="is empty"):
        read_source(empty, table="t")
    with pytest.raises(FileNotFoundError, match="No such SQLite database"):
        read_source(tmp_path / "missing.db", table="t")
    # Reading never creates a database.
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(ValueError, match="is not a SQLite database"):
        write_sql(pd.DataFrame({"a": [1]}), fake, "t")
    assert fake.read_text() == "a,b\n1,2\n"


def test_file_sources_take_no_table(tmp_path, customers):
    csv = tmp_path / "c.csv"
    customers.to_csv(csv, index=False)
    with pytest.raises(ValueError, match="table= applies to SQL databases only"):
        read_source(csv, table="customers")
    with pytest.raises(ValueError, match="query= applies to SQL databases only"):
        read_source(csv, query="SELECT 1")
    with pytest.raises(ValueError, match="is a folder"):
        read_source(tmp_path)


@needs_sqlalchemy
def test_url_form(tmp_path, database, customers):
    url = f"sqlite:///{database}"
    pd.testing.assert_frame_equal(read_source(url, table="customers"), customers)
    write_sql(customers.head(5), f"sqlite:///{tmp_path / 'out.db'}", "top")
    assert _count(tmp_path / "out.db", "top") == 5
    with pytest.raises(FileNotFoundError):
        read_source(f"sqlite:///{tmp_path / 'nothing.db'}", table="t")
    with pytest.raises(ValueError, match="has no table"):
        read_source("sqlite://", table="t")  # an in-memory database: no tables
    with pytest.raises(ValueError, match="not a valid SQLAlchemy URL|Cannot connect"):
        read_source("nosuchdialect://host/db", table="t")


@needs_sqlalchemy
def test_url_password_is_masked():
    import importlib.util

    if importlib.util.find_spec("psycopg") is not None:
        pytest.skip("psycopg is installed: the URL would try to connect to a server")
    with pytest.raises(ImportError) as info:
        read_source("postgresql+psycopg://analyst:s3cret@localhost:5432/shop", table="customers")
    assert "s3cret" not in str(info.value) and "***" in str(info.value)
    assert "driver" in str(info.value)


@needs_sqlalchemy
def test_write_if_exists_modes(database, customers):
    with pytest.raises(ValueError, match="already exists.*if_exists='replace'"):
        write_sql(customers, database, "customers")
    write_sql(customers.head(10), database, "customers", if_exists="append")
    assert _count(database, "customers") == 50
    write_sql(customers.head(7), database, "customers", if_exists="replace")
    pd.testing.assert_frame_equal(read_source(database, table="customers"), customers.head(7))
    with pytest.raises(ValueError, match="Unknown if_exists 'overwrite'; valid values are: fail, replace"):
        write_sql(customers, database, "customers", if_exists="overwrite")


@needs_sqlalchemy
def test_write_arguments(tmp_path, customers):
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        write_sql(customers.to_numpy(), tmp_path / "a.db", "t")
    with pytest.raises(ValueError, match="table must be a non-empty"):
        write_sql(customers, tmp_path / "a.db", " ")
    with pytest.raises(ValueError, match="does not end in .db"):
        write_sql(customers, tmp_path / "labels.csv", "t")
    with pytest.raises(ValueError, match="is a folder"):
        write_sql(customers, tmp_path, "t")
    assert list(tmp_path.iterdir()) == []
    # A new database goes into new folders, as the file writers do.
    write_sql(customers, tmp_path / "out" / "segments.db", "t")
    assert _count(tmp_path / "out" / "segments.db", "t") == 40


@needs_sqlalchemy
def test_failed_write_leaves_no_partial_table(database, customers):
    bad = customers.assign(extra=[{"not": "storable"}] * len(customers))
    with pytest.raises(ValueError, match=r"Writing table 'labelled' to .* failed: .*dict"):
        write_sql(bad, database, "labelled")
    assert _tables(database) == ["customers"]


@needs_sqlalchemy
def test_failed_replace_keeps_the_old_table(database, customers):
    # The old table is dropped and the new one created before the rows fail to insert;
    # the transaction must undo both (SQLite's driver would otherwise commit the DROP).
    bad = customers.assign(extra=[{"not": "storable"}] * len(customers))
    with pytest.raises(ValueError, match="failed"):
        write_sql(bad, database, "customers", if_exists="replace")
    pd.testing.assert_frame_equal(read_source(database, table="customers"), customers)


@needs_sqlalchemy
def test_failed_append_adds_nothing(database, customers, monkeypatch):
    calls = []
    original = pd.DataFrame.to_sql

    def failing(self, *args, **kwargs):
        calls.append(1)
        original(self, *args, **kwargs)  # the rows go in...
        raise RuntimeError("disk full")  # ...then something fails before the commit

    monkeypatch.setattr(pd.DataFrame, "to_sql", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        write_sql(customers, database, "customers", if_exists="append")
    assert calls and _count(database, "customers") == 40


@needs_sqlalchemy
def test_protect_the_input(tmp_path, database, customers):
    for target in (database, f"sqlite:///{database}"):
        for mode in ("replace", "append"):
            with pytest.raises(ValueError, match="is the input data, which hclust never overwrites"):
                write_sql(customers, target, "Customers", if_exists=mode, protect=(database, "customers"))
    with pytest.raises(ValueError, match="every table is protected"):
        write_sql(customers, database, "other", protect=(f"sqlite:///{database}", None))
    assert _count(database, "customers") == 40
    # Another table, or another database, is fine.
    write_sql(customers, database, "segments", protect=(database, "customers"))
    write_sql(customers, tmp_path / "copy.db", "customers", protect=(database, "customers"))
    csv = tmp_path / "in.csv"
    customers.to_csv(csv, index=False)
    write_sql(customers, tmp_path / "copy.db", "from_csv", protect=(str(csv), None))
    with pytest.raises(ValueError, match="protect must be a"):
        write_sql(customers, database, "x", protect=database)  # type: ignore[arg-type]


def test_parquet_round_trip(tmp_path, customers):
    pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (pip install pyarrow)")
    path = tmp_path / "customers.parquet"
    customers.to_parquet(path, index=False)
    frame = read_source(path)
    pd.testing.assert_frame_equal(frame, customers, check_dtype=False)
    assert frame["age"].dtype.kind == "i" and frame["income"].dtype == np.float64
    assert list(read_source(path, columns=["income"]).columns) == ["income"]
    saved = save_table(tmp_path / "saved.pq", customers)
    pd.testing.assert_frame_equal(read_source(saved), customers, check_dtype=False)


def test_excel_round_trip(tmp_path, customers):
    pytest.importorskip("openpyxl", reason="Excel (.xlsx) needs openpyxl (pip install openpyxl)")
    path = tmp_path / "customers.xlsx"
    customers.to_excel(path, index=False)
    pd.testing.assert_frame_equal(read_source(path), customers, check_dtype=False)
    save_table(tmp_path / "saved.xlsx", customers)
    pd.testing.assert_frame_equal(read_source(tmp_path / "saved.xlsx"), customers, check_dtype=False)


@pytest.mark.parametrize("ending", ["csv", "csv.gz", "tsv"])
def test_save_table_text_formats(tmp_path, customers, ending):
    path = save_table(tmp_path / f"out.{ending}", customers)
    pd.testing.assert_frame_equal(read_source(path), customers)
    assert [p.name for p in tmp_path.iterdir()] == [f"out.{ending}"]  # no temporary file left


def test_save_table_refuses_unknown_endings(tmp_path, customers):
    with pytest.raises(ValueError, match="hclust writes .csv"):
        save_table(tmp_path / "out.xls", customers)
    with pytest.raises(ValueError, match="no ending"):
        save_table(tmp_path / "out", customers)
    assert list(tmp_path.iterdir()) == []


@needs_sqlalchemy
def test_is_sql_source(tmp_path, database):
    assert is_sql_source("postgresql://host/db") and is_sql_source("sqlite:///x.db")
    assert is_sql_source(database) and is_sql_source(tmp_path / "new.sqlite3")
    renamed = tmp_path / "export.data"
    renamed.write_bytes(Path(database).read_bytes())
    assert is_sql_source(renamed)
    assert not is_sql_source(tmp_path / "x.csv") and not is_sql_source(None)


def test_missing_extra_package_is_a_clear_error(tmp_path, customers, monkeypatch):
    path = tmp_path / "customers.parquet"
    path.write_bytes(b"PAR1")

    def no_engine(*args, **kwargs):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow', 'fastparquet'.")

    monkeypatch.setattr(pd, "read_parquet", no_engine)
    with pytest.raises(ValueError, match="needs an extra package"):
        read_source(path)


@needs_sqlalchemy
@pytest.mark.shared
def test_mall_customers_through_sqlite(shared_data, tmp_path):
    csv = shared_data / "mall_customers" / "Mall_Customers.csv"
    frame = read_source(csv)
    write_sql(frame, tmp_path / "mall.db", "customers")
    back = read_source(f"sqlite:///{tmp_path / 'mall.db'}", table="customers")
    pd.testing.assert_frame_equal(back, frame)
    assert back.shape == (200, 5)


def test_sqlalchemy_missing_message(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def without_sqlalchemy(name, *args, **kwargs):
        if name == "sqlalchemy" or name.startswith("sqlalchemy."):
            raise ImportError("No module named 'sqlalchemy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_sqlalchemy)
    with pytest.raises(ImportError, match="needs SQLAlchemy; install SQLAlchemy"):
        io.read_source("sqlite:///x.db", table="t")


# --------------------------------------------------------------------------- queries only read
@needs_sqlalchemy
def test_query_reports_the_tables_it_read(database, customers):
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE orders (customer_id INTEGER, amount REAL)")
    connection.execute("INSERT INTO orders VALUES (1, 9.5), (2, 3.0)")
    connection.execute("CREATE VIEW big AS SELECT c.customer_id, o.amount FROM customers c JOIN orders o "
                       "ON c.customer_id = o.customer_id")
    connection.commit()
    connection.close()
    _, info = read_source(database, query="SELECT * FROM customers WHERE age > 30", return_info=True)
    assert info.kind == "sqlite" and info.tables == ("customers",)
    _, info = read_source(database, query="WITH t AS (SELECT * FROM big) SELECT * FROM t", return_info=True)
    assert info.tables == ("big", "customers", "orders")  # a view protects what it reads too
    _, info = read_source(database, table="customers", return_info=True)
    assert info.tables == ("customers",)


@needs_sqlalchemy
@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("ATTACH DATABASE '{folder}/new.db' AS other", "ATTACH"),
        ("PRAGMA table_info(customers)", "PRAGMA"),
        ("CREATE TEMP TABLE t AS SELECT * FROM customers", "(INSERT|CREATE_TEMP_TABLE)"),
    ],
)
def test_query_that_does_more_than_read_is_refused(database, tmp_path, query, refused):
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ValueError, match=f"may only read .*asked for {refused}") as info:
        read_source(database, query=query.format(folder=tmp_path))
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no 0-byte new.db


@needs_sqlalchemy
def test_protect_every_table_a_query_read(database, customers):
    protect = (database, ("customers", "orders"))
    with pytest.raises(ValueError, match="was read for the input data"):
        write_sql(customers.head(5), database, "ORDERS", if_exists="replace", protect=protect)
    with pytest.raises(ValueError, match="tables it read are not known"):
        write_sql(customers.head(5), database, "segments", protect=(database, None))
    write_sql(customers.head(5), database, "segments", protect=protect)
    assert _count(database, "customers") == 40
    with pytest.raises(TypeError, match="collection of names"):
        write_sql(customers, database, "x", protect=(database, [1, 2]))


@needs_sqlalchemy
def test_check_sql_output_refuses_before_writing(database, tmp_path, customers):
    from hclust.io import check_sql_output

    with pytest.raises(ValueError, match="already exists"):
        check_sql_output(database, "customers")
    with pytest.raises(ValueError, match="is the input data"):
        check_sql_output(database, "customers", if_exists="replace", protect=(database, "customers"))
    check_sql_output(database, "segments")
    check_sql_output(tmp_path / "new.db", "segments")
    assert not (tmp_path / "new.db").exists()  # checking creates nothing
    (tmp_path / "notes.db").write_text("not sqlite")
    with pytest.raises(ValueError, match="not a SQLite database"):
        check_sql_output(tmp_path / "notes.db", "x")


@needs_sqlalchemy
@pytest.mark.parametrize(
    ("url", "package"),
    [("postgresql+psycopg2://me@localhost/crm", "psycopg2-binary"), ("mysql+mysqldb://me@localhost/crm", "mysqlclient")],
)
def test_missing_driver_is_one_line(url, package):
    driver = {"psycopg2-binary": "psycopg2", "mysqlclient": "MySQLdb"}[package]
    if importlib.util.find_spec(driver) is not None:
        pytest.skip(f"{driver} is installed here")
    with pytest.raises(ImportError, match=f"needs the database driver {driver}, which is not installed: pip install {package}") as info:
        read_source(url, table="customers")
    assert "\n" not in str(info.value)

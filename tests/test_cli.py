"""The hclust command, through main(argv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.cluster import hierarchy as sch

from hclust.cli import main
from hclust.datasets import load_wholesale


def test_demo_runs_the_workflow(capsys, tmp_path):
    out = tmp_path / "out"
    assert main(["demo", "--k", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Wholesale customers" in printed and "CC BY 4.0" in printed
    assert "Choosing k" in printed and "Recommended k=" in printed
    assert "Mean annual spending per segment" in printed
    assert "New customers assigned" in printed
    segments = pd.read_csv(out / "segments.csv")
    assert len(segments) == 420 and segments["segment"].nunique() == 3
    new = pd.read_csv(out / "new_customers.csv")
    assert len(new) == 20 and new["confidence"].between(0, 1).all()
    Z = np.load(out / "linkage.npy")
    assert sch.is_valid_linkage(Z) and Z.shape == (419, 4)
    assert (out / "model" / "model.json").is_file()
    assert (out / "report.html").stat().st_size > 10_000


def test_demo_quiet(capsys, tmp_path):
    assert main(["demo", "--quiet", "--out", str(tmp_path / "o")]) == 0
    assert capsys.readouterr().out == ""


def test_linkage_command(tmp_path, capsys):
    source = tmp_path / "customers.csv"
    load_wholesale().to_csv(source, index=False)
    out = tmp_path / "Z.npy"
    assert main(["linkage", str(source), "--method", "average", "--columns", "Fresh", "Milk", "--out", str(out)]) == 0
    Z = np.load(out)
    X = load_wholesale()[["Fresh", "Milk"]].to_numpy(float)
    np.testing.assert_allclose(Z, sch.linkage(X, "average"), rtol=1e-12)
    assert "440 rows x 2 columns" in capsys.readouterr().out


def test_metric_names_and_aliases(tmp_path, capsys):
    source = tmp_path / "customers.csv"
    load_wholesale().to_csv(source, index=False)
    X = load_wholesale()[["Fresh", "Milk", "Grocery"]].to_numpy(float)
    for metric, scipy_name in (("manhattan", "cityblock"), ("cos", "cosine"), ("braycurtis", "braycurtis")):
        out = tmp_path / f"Z-{metric}.npy"
        argv = ["linkage", str(source), "--method", "average", "--metric", metric, "--columns", "Fresh", "Milk", "Grocery"]
        assert main([*argv, "--out", str(out), "--quiet"]) == 0
        np.testing.assert_allclose(np.load(out), sch.linkage(X, "average", scipy_name), rtol=1e-12)
    capsys.readouterr()
    assert main(["linkage", str(source), "--metric", "manhatan", "--out", str(tmp_path / "Z.npy")]) == 2
    err = capsys.readouterr().err
    assert "unknown metric 'manhatan'" in err and "cityblock" in err and "jensenshannon" in err


def test_output_equal_to_input_is_refused(tmp_path, capsys):
    source = tmp_path / "customers.csv"
    load_wholesale().to_csv(source, index=False)
    before = source.read_bytes()
    assert main(["linkage", str(source), "--out", str(source)]) == 1
    assert "is an input file" in capsys.readouterr().err
    assert source.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "fake.csv", "could not be read"),
        (b"", "empty.csv", "could not be read|no data"),
        (b"a,b\n1,2\n", "table.json", "unknown file type"),
    ],
)
def test_bad_files_give_one_line(tmp_path, capsys, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["linkage", str(path), "--out", str(tmp_path / "Z.npy")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hclust: error:") and err.count("\n") == 1
    assert pytest.importorskip("re").search(message, err)
    assert not (tmp_path / "Z.npy").exists()


def test_missing_file_and_unknown_column(tmp_path, capsys):
    assert main(["linkage", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "Z.npy")]) == 1
    assert "No such file" in capsys.readouterr().err
    source = tmp_path / "c.csv"
    source.write_text("x,y\n1,2\n3,4\n5,7\n")
    assert main(["linkage", str(source), "--columns", "z", "--out", str(tmp_path / "Z.npy")]) == 1
    assert "unknown column(s) ['z']" in capsys.readouterr().err


def test_non_numeric_and_nan_data(tmp_path, capsys):
    source = tmp_path / "c.csv"
    source.write_text("x,y\n1,2\n3,\n5,7\n")
    assert main(["linkage", str(source), "--out", str(tmp_path / "Z.npy")]) == 1
    assert "NaN at row 1, column 1 ('y')" in capsys.readouterr().err
    source.write_text("name,city\na,b\nc,d\n")
    assert main(["linkage", str(source), "--out", str(tmp_path / "Z.npy")]) == 1
    assert "no numeric columns" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["demo", "--method", "wards"]) == 2
    assert "invalid choice" in capsys.readouterr().err


# --------------------------------------------------------------------------- segment / assign
@pytest.fixture()
def customers_csv(tmp_path):
    source = tmp_path / "customers.csv"
    load_wholesale().to_csv(source, index=False)
    return source


def test_segment_assign_round_trip(tmp_path, customers_csv, capsys):
    out, model = tmp_path / "labelled.csv", tmp_path / "model"
    code = main([
        "segment", str(customers_csv), "--k", "4", "--exclude", "Channel", "Region",
        "--out", str(out), "--model", str(model), "--report", str(tmp_path / "r.html"),
    ])
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "440 customers" in printed and "4 segments" in printed
    labelled = pd.read_csv(out)
    assert list(labelled.columns[-2:]) == ["segment", "segment_name"]
    assert labelled["segment"].nunique() == 4 and len(labelled) == 440
    assert (tmp_path / "r.html").is_file()
    new = tmp_path / "new.csv"
    load_wholesale().head(25).to_csv(new, index=False)
    assigned = tmp_path / "assigned.parquet"
    pytest.importorskip("pyarrow")
    assert main(["assign", str(model), str(new), "--out", str(assigned)]) == 0
    result = pd.read_parquet(assigned)
    assert {"segment", "segment_name", "distance", "confidence"} <= set(result.columns)
    assert len(result) == 25 and "25 customers assigned" in capsys.readouterr().out


def test_segment_auto_and_quiet(tmp_path, customers_csv, capsys):
    out = tmp_path / "labelled.csv"
    assert main(["segment", str(customers_csv), "--columns", "Fresh", "Milk", "Grocery", "--ks", "2-5",
                 "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert 2 <= pd.read_csv(out)["segment"].nunique() <= 5


def test_segment_refuses_before_working(tmp_path, customers_csv, capsys):
    before = customers_csv.read_bytes()
    assert main(["segment", str(customers_csv), "--k", "3", "--out", str(customers_csv)]) == 1
    assert "is an input file" in capsys.readouterr().err
    assert customers_csv.read_bytes() == before
    assert main(["segment", str(customers_csv), "--k", "3", "--columns", "Nope", "--out", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown column" in err
    assert not (tmp_path / "o.csv").exists()
    assert main(["segment", str(customers_csv), "--k", "3", "--height", "2", "--out", "x.csv"]) == 2


def test_segment_gower(tmp_path, capsys):
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"age": rng.integers(18, 80, 60), "plan": rng.choice(["a", "b", "c"], 60)})
    source = tmp_path / "mixed.csv"
    table.to_csv(source, index=False)
    out = tmp_path / "labelled.csv"
    assert main(["segment", str(source), "--k", "3", "--method", "average", "--metric", "gower",
                 "--out", str(out), "--quiet"]) == 0
    assert pd.read_csv(out)["segment"].nunique() == 3


def test_sql_in_and_out(tmp_path, capsys):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    db = tmp_path / "shop.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    load_wholesale().to_sql("customers", engine, index=False)
    engine.dispose()
    args = ["segment", str(db), "--table", "customers", "--k", "3", "--exclude", "Channel", "Region",
            "--out", str(db), "--out-table", "segments", "--quiet"]
    assert main(args) == 0
    assert main(args) == 1  # the table exists now
    assert "exists" in capsys.readouterr().err
    assert main([*args, "--if-exists", "replace"]) == 0
    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        written = pd.read_sql("SELECT * FROM segments", connection)
        original = pd.read_sql("SELECT * FROM customers", connection)
    engine.dispose()
    assert len(written) == 440 and written["segment"].nunique() == 3
    assert "segment" not in original.columns  # the input table is untouched
    # the input table is never replaced
    bad = ["segment", str(db), "--table", "customers", "--k", "3", "--out", str(db),
           "--out-table", "customers", "--if-exists", "replace", "--quiet"]
    assert main(bad) == 1
    # a query as the source
    out = tmp_path / "q.csv"
    assert main(["segment", f"sqlite:///{db}", "--query", "SELECT Fresh, Milk FROM customers WHERE Channel = 1",
                 "--k", "2", "--out", str(out), "--quiet"]) == 0
    assert len(pd.read_csv(out)) == (load_wholesale()["Channel"] == 1).sum()


def test_evaluate_and_compare_commands(tmp_path, customers_csv, capsys):
    table = tmp_path / "ev.csv"
    assert main(["evaluate", str(customers_csv), "--exclude", "Channel", "Region", "--ks", "2-6", "--no-gap",
                 "--out", str(table)]) == 0
    printed = capsys.readouterr().out
    assert "Recommended k=" in printed
    assert list(pd.read_csv(table)["k"]) == [2, 3, 4, 5, 6]
    assert main(["compare", str(customers_csv), "--k", "3", "--exclude", "Region", "--labels", "Channel",
                 "--methods", "kmeans", "ward"]) == 0
    printed = capsys.readouterr().out
    assert "kmeans" in printed and "ward" in printed


def test_assign_with_a_bad_model(tmp_path, customers_csv, capsys):
    (tmp_path / "m").mkdir()
    assert main(["assign", str(tmp_path / "m"), str(customers_csv), "--out", str(tmp_path / "a.csv")]) == 1
    assert "not a saved hclust model" in capsys.readouterr().err


def test_report_command_html_and_static(tmp_path, customers_csv, capsys):
    model = tmp_path / "model"
    assert main(["segment", str(customers_csv), "--k", "3", "--exclude", "Channel", "Region",
                 "--out", str(tmp_path / "l.csv"), "--model", str(model), "--quiet"]) == 0
    page = tmp_path / "r.html"
    assert main(["report", str(model), str(customers_csv), "--out", str(page), "--quiet"]) == 0
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") or "<html" in text[:500]
    charts = tmp_path / "charts"
    assert main(["report", str(model), str(customers_csv), "--format", "svg", "--out", str(charts)]) == 0
    assert sorted(p.suffix for p in charts.iterdir()) == [".svg"] * len(list(charts.iterdir()))
    assert len(list(charts.iterdir())) >= 4
    # the report of a table that is not the training table is refused in one line
    other = tmp_path / "other.csv"
    load_wholesale().head(30).to_csv(other, index=False)
    assert main(["report", str(model), str(other), "--out", str(tmp_path / "x.html")]) == 1
    assert "training table" in capsys.readouterr().err

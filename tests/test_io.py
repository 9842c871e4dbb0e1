"""Files: reading tables, atomic writes, never overwriting inputs."""

from __future__ import annotations

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

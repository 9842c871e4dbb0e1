"""One preparation story on the command line (issue 19): the same options and defaults on segment,
evaluate, compare and linkage, each saying what it did; --min-segment-size; assign --rule."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hclust.cli import _min_size, main
from hclust.segment import Preparer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import bank_like  # noqa: E402


@pytest.fixture()
def credit_csv(tmp_path) -> Path:
    """A credit-card-like table: an id, skewed amounts, a few missing values."""
    rng = np.random.default_rng(0)
    n = 300
    table = pd.DataFrame(
        {
            "CUST_ID": [f"C{10001 + i}" for i in range(n)],
            "BALANCE": rng.lognormal(7, 1.2, n).round(2),
            "PURCHASES": rng.lognormal(6, 1.5, n).round(2),
            "CREDIT_LIMIT": rng.normal(4500, 1500, n).round(-2),
            "MINIMUM_PAYMENTS": rng.lognormal(5, 1, n).round(2),
            "TENURE": rng.choice([6, 12], n, p=[0.2, 0.8]),
        }
    )
    table.loc[[3, 50, 77], "MINIMUM_PAYMENTS"] = np.nan
    table.loc[[9], "CREDIT_LIMIT"] = np.nan
    path = tmp_path / "credit.csv"
    table.to_csv(path, index=False)
    return path


def _prepared(path: Path) -> np.ndarray:
    frame = pd.read_csv(path).drop(columns=["CUST_ID"])
    return Preparer().fit_transform(frame).to_numpy()


@pytest.mark.parametrize(
    "command",
    [
        ["segment", "--k", "3", "--out", "{tmp}/l.csv"],
        ["evaluate", "--ks", "2-4", "--no-gap"],
        ["compare", "--k", "3", "--methods", "ward", "kmeans"],
        ["linkage", "--out", "{tmp}/Z.npy"],
    ],
)
def test_gh19_every_command_prepares_the_same_way_and_says_so(command, credit_csv, tmp_path, capsys):
    argv = [command[0], str(credit_csv), *[a.format(tmp=tmp_path) for a in command[1:]]]
    assert main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "Preparation:" in printed
    assert "300 rows in, 300 used." in printed
    assert "Missing values filled with the median: CREDIT_LIMIT 1, MINIMUM_PAYMENTS 3." in printed
    assert "CUST_ID (identifier: unique value per row)" in printed
    assert "log1p before scaling (" in printed and "Numbers standardised" in printed
    if command[0] == "linkage":
        import hclust

        np.testing.assert_allclose(np.load(tmp_path / "Z.npy"), hclust.linkage(_prepared(credit_csv), "ward"),
                                   rtol=1e-12)


def test_gh19_preparation_options_are_shared(credit_csv, tmp_path, capsys):
    for command in (["segment", "--k", "2", "--out", str(tmp_path / "a.csv")], ["evaluate", "--ks", "2-3", "--no-gap"],
                    ["compare", "--k", "2", "--methods", "ward"], ["linkage", "--out", str(tmp_path / "Z.npy")]):
        assert main([command[0], str(credit_csv), *command[1:], "--impute", "drop", "--log1p", "none",
                     "--scale", "robust"]) == 0, capsys.readouterr().err
        printed = capsys.readouterr().out
        assert "300 rows in, 296 used: 4 dropped for missing values (CREDIT_LIMIT 1, MINIMUM_PAYMENTS 3)." in printed
        assert "No log1p transform." in printed and "Numbers robust-scaled" in printed
    assert main(["linkage", str(credit_csv), "--out", str(tmp_path / "Z.npy"), "--impute", "none"]) == 1
    assert "--impute none" in capsys.readouterr().err  # in the command's terms


def test_gh19_segment_summary_states_everything(credit_csv, tmp_path, capsys):
    assert main(["segment", str(credit_csv), "--ks", "2-5", "--out", str(tmp_path / "l.csv")]) == 0
    printed = capsys.readouterr().out
    assert "customers, 5 features (BALANCE, PURCHASES, CREDIT_LIMIT, MINIMUM_PAYMENTS, TENURE=12)" in printed
    assert "Criteria on Euclidean distances of the 5 prepared features:" in printed
    assert "Minimum segment size 6 customers (2% of 300, and at least 5)" in printed
    for criterion in ("silhouette", "Calinski-Harabasz", "Davies-Bouldin", "gap statistic", "height jump"):
        assert criterion in printed
    assert "stability" in printed and "Held-out agreement" in printed


def test_gh19_min_segment_size_option(tmp_path, capsys):
    bank = bank_like(400, seed=3)
    source = tmp_path / "bank.csv"
    bank.to_csv(source, index=False)
    out = tmp_path / "l.csv"
    assert main(["segment", str(source), "--metric", "gower", "--method", "average", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no number of segments in --ks 2..10 gives segments of at least 8 customers" in err
    assert not out.exists()
    assert main(["segment", str(source), "--metric", "gower", "--method", "average", "--min-segment-size", "none",
                 "--out", str(out), "--quiet"]) == 0
    assert main(["evaluate", str(source), "--metric", "gower", "--method", "complete", "--ks", "2-5",
                 "--min-segment-size", "10%"]) == 0
    printed = capsys.readouterr().out
    assert "Criteria on Gower distances over 17 columns" in printed
    assert "Minimum segment size 40 customers (10% of 400)" in printed
    assert "gap statistic: not computed (it needs Euclidean features)." in printed
    assert main(["segment", str(source), "--min-segment-size", "lots", "--out", str(out)]) == 2
    assert "expected a count (5), a share (2% or 0.02), both (2%,5) or none" in capsys.readouterr().err


def test_gh19_min_size_parsing():
    assert _min_size("5") == 5 and _min_size("2%") == pytest.approx(0.02) and _min_size("0.02") == 0.02
    assert _min_size("2%,5") == (pytest.approx(0.02), 5) and _min_size("none") is None and _min_size("0") is None
    import argparse

    for bad in ("-3", "150%", "1,2,3", "5,2%"):
        with pytest.raises(argparse.ArgumentTypeError):
            _min_size(bad)


def test_gh19_assign_rule_option(credit_csv, tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["segment", str(credit_csv), "--k", "3", "--out", str(tmp_path / "l.csv"), "--model", str(model),
                 "--quiet"]) == 0
    labelled = pd.read_csv(tmp_path / "l.csv")
    for rule in ("nearest", "linkage", "centroid"):
        out = tmp_path / f"{rule}.csv"
        assert main(["assign", str(model), str(credit_csv), "--rule", rule, "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert f"(rule {rule}; 300 identical to training customers got their own segment)" in printed
        scored = pd.read_csv(out)
        assert (scored["segment"] == labelled["segment"]).all() and scored["known"].all()
    assert main(["assign", str(model), str(credit_csv), "--rule", "knn", "--out", str(tmp_path / "x.csv")]) == 2


def test_gh19_bundled_data_prepared_alike_by_every_command(tmp_path, capsys):
    from hclust.datasets import load_wholesale

    source = tmp_path / "wholesale.csv"
    load_wholesale().to_csv(source, index=False)
    expected = "log1p before scaling (6 of 7 numeric columns): Fresh, Milk, Grocery, Frozen, Detergents_Paper, Delicassen."
    for argv in (["segment", "--k", "3", "--out", str(tmp_path / "l.csv")], ["evaluate", "--ks", "2-4", "--no-gap"],
                 ["compare", "--k", "3", "--methods", "ward"], ["linkage", "--out", str(tmp_path / "Z.npy")]):
        assert main([argv[0], str(source), *argv[1:]]) == 0
        printed = capsys.readouterr().out
        assert expected in printed and "8 features: Channel=2, Region, Fresh, Milk" in printed

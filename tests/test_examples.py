"""The README tutorials (examples/*.py) run and say what the README quotes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wholesale_tutorial(capsys):
    model = load("wholesale").main()
    printed = capsys.readouterr().out
    assert "Recommended k=2" in printed
    sizes = sorted(model.summary().segments["size"])
    assert sizes == [53, 54, 125, 208]
    assert "High Detergents_Paper, High Grocery" in printed


@pytest.mark.shared
def test_insurance_tutorial(shared_data, capsys):
    onehot, gower = load("insurance").main(str(shared_data / "insurance" / "insurance.csv"))
    printed = capsys.readouterr().out
    assert "agreement between the two segmentations (ARI): 0.083" in printed
    assert onehot.n_clusters_ == gower.n_clusters_ == 4
    assert "smoker=yes" in gower.names_[0]


def test_synthetic_tutorial(capsys):
    result = load("synthetic").main()
    table = result.table
    assert table.loc["gmm", "ari"] > 0.75 and table.loc["ward", "ari"] > 0.6
    assert table.loc["single", "largest_share"] > 0.99  # chaining
    assert "Agreement" in capsys.readouterr().out

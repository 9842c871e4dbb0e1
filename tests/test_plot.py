"""hclust.plot: drawing, atomic saving, orientations (Agg backend)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import scipy.cluster.hierarchy as sch

matplotlib = pytest.importorskip("matplotlib", reason="matplotlib is an optional dependency (hclust[plot])")
matplotlib.use("Agg")

from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from hclust import plot  # noqa: E402
from hclust.layout import dendrogram_layout  # noqa: E402


@pytest.fixture
def Z() -> np.ndarray:
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(c, 0.5, size=(8, 2)) for c in ([0, 0], [5, 0], [0, 5])])
    return sch.linkage(X, "ward")


def test_draws_links_coloured_by_cluster(Z):
    ax = Figure().add_subplot()
    out = plot.dendrogram(Z, ax=ax, n_clusters=3, labels=[f"c{i}" for i in range(24)])
    assert out is ax
    collections = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(collections) == 1 and len(collections[0].get_segments()) == 23
    colours = {tuple(np.round(c, 6)) for c in collections[0].get_colors()}
    assert len(colours) == 4  # three clusters and the grey links above the cut
    assert [t.get_text() for t in ax.get_xticklabels()] == dendrogram_layout(Z, labels=[f"c{i}" for i in range(24)]).leaf_labels
    cut = dendrogram_layout(Z, n_clusters=3).cut_height
    assert any(np.allclose(line.get_ydata(), cut) for line in ax.lines)


@pytest.mark.parametrize("orientation", ["top", "bottom", "left", "right"])
def test_orientations(Z, orientation):
    ax = plot.dendrogram(Z, ax=Figure().add_subplot(), orientation=orientation, color_threshold=3.0)
    segments = ax.collections[0].get_segments()
    heights = np.concatenate([s[:, 1 if orientation in ("top", "bottom") else 0] for s in segments])
    assert heights.max() == pytest.approx(Z[:, 2].max())
    line = ax.lines[0]
    data = line.get_ydata() if orientation in ("top", "bottom") else line.get_xdata()
    assert np.allclose(data, 3.0)


def test_no_cut_line_without_cut(Z):
    ax = plot.dendrogram(Z, ax=Figure().add_subplot())
    assert len(ax.lines) == 0
    ax = plot.dendrogram(Z, ax=Figure().add_subplot(), n_clusters=3, cut_line=False)
    assert len(ax.lines) == 0


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_saves_atomically(Z, tmp_path, suffix, magic):
    path = tmp_path / f"tree{suffix}"
    path.write_bytes(b"old")
    plot.dendrogram(Z, n_clusters=3, path=path, title="segments")
    assert path.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary left behind
    assert (os.stat(path).st_mode & 0o777) != 0o600


def test_save_errors_leave_nothing(Z, tmp_path):
    with pytest.raises(ValueError, match=r"use a \.png, \.svg or \.pdf path"):
        plot.dendrogram(Z, path=tmp_path / "tree.gif")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot.dendrogram(Z, path=tmp_path / "missing" / "tree.png")
    assert list(tmp_path.iterdir()) == []


def test_large_tree_hides_labels_and_truncation_labels():
    rng = np.random.default_rng(0)
    Z = sch.linkage(rng.normal(size=(400, 2)), "single")
    ax = plot.dendrogram(Z, ax=Figure().add_subplot())
    assert ax.get_xticklabels() == [] or all(t.get_text() == "" for t in ax.get_xticklabels())
    ax = plot.dendrogram(Z, ax=Figure().add_subplot(), truncate_mode="lastp", p=12)
    texts = [t.get_text() for t in ax.get_xticklabels()]
    assert len(texts) == 12 and any(t.startswith("(") for t in texts)


def test_pyplot_figure_when_no_axes(Z):
    import matplotlib.pyplot as plt

    ax = plot.dendrogram(Z)
    assert plt.fignum_exists(ax.figure.number)
    plt.close(ax.figure)


def test_missing_matplotlib_hint(monkeypatch, Z):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install hclust\[plot\]"):
        plot.dendrogram(Z)

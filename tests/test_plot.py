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

import hclust  # noqa: E402
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
    assert out.ax is ax
    collections = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(collections) == 1 and len(collections[0].get_segments()) == 23
    colours = {tuple(np.round(c, 6)) for c in collections[0].get_colors()}
    assert len(colours) == 4  # three clusters and the grey links above the cut
    assert [t.get_text() for t in ax.get_xticklabels()] == dendrogram_layout(Z, labels=[f"c{i}" for i in range(24)]).leaf_labels
    cut = dendrogram_layout(Z, n_clusters=3).cut_height
    assert any(np.allclose(line.get_ydata(), cut) for line in ax.lines)


@pytest.mark.parametrize("orientation", ["top", "bottom", "left", "right"])
def test_orientations(Z, orientation):
    ax = plot.dendrogram(Z, ax=Figure().add_subplot(), orientation=orientation, color_threshold=3.0).ax
    segments = ax.collections[0].get_segments()
    heights = np.concatenate([s[:, 1 if orientation in ("top", "bottom") else 0] for s in segments])
    assert heights.max() == pytest.approx(Z[:, 2].max())
    line = ax.lines[0]
    data = line.get_ydata() if orientation in ("top", "bottom") else line.get_xdata()
    assert np.allclose(data, 3.0)


def test_no_cut_line_without_cut(Z):
    ax = plot.dendrogram(Z, ax=Figure().add_subplot()).ax
    assert len(ax.lines) == 0
    ax = plot.dendrogram(Z, ax=Figure().add_subplot(), n_clusters=3, cut_line=False).ax
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
    R = plot.dendrogram(Z, ax=Figure().add_subplot())
    ax = R.ax
    assert ax.get_xticklabels() == [] or all(t.get_text() == "" for t in ax.get_xticklabels())
    assert len(R["ivl"]) == 400  # the dictionary has every label
    ax = plot.dendrogram(Z, ax=Figure().add_subplot(), truncate_mode="lastp", p=12).ax
    texts = [t.get_text() for t in ax.get_xticklabels()]
    assert len(texts) == 12 and any(t.startswith("(") for t in texts)


def test_current_pyplot_axes_when_no_axes(Z):
    import matplotlib.pyplot as plt

    figure = plt.figure()
    try:
        ax = plot.dendrogram(Z).ax
        assert ax is plt.gca() and ax.figure is figure  # as scipy: the current Axes
    finally:
        plt.close(figure)


def test_missing_matplotlib_hint(monkeypatch, Z):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install hclust\[plot\]"):
        plot.dendrogram(Z)
    # the dictionary alone needs no matplotlib
    assert plot.dendrogram(Z, no_plot=True)["leaves"] == sch.dendrogram(Z, no_plot=True)["leaves"]


# --------------------------------------------------------------------------- scipy's arguments


def _trees() -> list[tuple[str, np.ndarray]]:
    """Trees with ties, zero heights (duplicate rows) and inversions (centroid, median)."""
    rng = np.random.default_rng(7)
    out = []
    for n in (2, 3, 6, 25):
        X = rng.normal(size=(n, 2))
        if n >= 6:
            X[1] = X[0]  # a merge at height 0
        for method in ("single", "average", "ward", "centroid", "median"):
            out.append((f"{method}-{n}", sch.linkage(X, method)))
    return out


TREES = _trees()
TRUNCATIONS = [(None, 30), ("lastp", 4), ("lastp", 1), ("lastp", 0), ("level", 2), ("level", 0), ("mtica", 1), ("none", 3)]
SORTS = [(False, False), (True, False), ("descending", False), (False, True), (False, "descending"), ("ascending", "descending")]


def _same_as_scipy(Z: np.ndarray, **kwargs) -> None:
    ours = plot.dendrogram(Z, no_plot=True, **kwargs)
    theirs = sch.dendrogram(Z, no_plot=True, **kwargs)
    assert list(ours) == list(theirs)  # the same keys, in scipy's order
    for key, value in theirs.items():
        if key in ("icoord", "dcoord"):
            np.testing.assert_array_equal(np.asarray(ours[key]), np.asarray(value), err_msg=key)
        else:
            assert list(ours[key]) == list(value), (key, kwargs)


@pytest.mark.parametrize("name, Z", TREES, ids=[name for name, _ in TREES])
@pytest.mark.parametrize("truncate_mode, p", TRUNCATIONS)
def test_dictionary_equals_scipys(name, Z, truncate_mode, p):
    thresholds = [None, "default", 0.0, -1.0, float(np.median(Z[:, 2])), float(Z[:, 2].max()), 1e9]
    for count_sort, distance_sort in SORTS:
        for threshold in thresholds:
            _same_as_scipy(
                Z, truncate_mode=truncate_mode, p=p, count_sort=count_sort, distance_sort=distance_sort,
                color_threshold=threshold,
            )
    n = Z.shape[0] + 1
    _same_as_scipy(Z, truncate_mode=truncate_mode, p=p, above_threshold_color="k", show_leaf_counts=False)
    _same_as_scipy(Z, truncate_mode=truncate_mode, p=p, labels=[f"c{i}" for i in range(n)])
    _same_as_scipy(Z, truncate_mode=truncate_mode, p=p, labels=np.arange(n) * 10)  # labels kept as given
    _same_as_scipy(Z, truncate_mode=truncate_mode, p=p, leaf_label_func=lambda node: f"node {node}")
    _same_as_scipy(Z, truncate_mode=truncate_mode, p=p, link_color_func=lambda node: "r" if node % 3 else "b")


def test_palette_follows_set_link_color_palette():
    _, Z = TREES[-5]  # single linkage, 25 points
    try:
        for palette in (["c", "m", "y", "k"], ("r",), None):
            plot.set_link_color_palette(palette)
            sch.set_link_color_palette(palette)
            _same_as_scipy(Z, color_threshold=float(np.quantile(Z[:, 2], 0.8)), above_threshold_color="g")
    finally:
        plot.set_link_color_palette(None)
        sch.set_link_color_palette(None)
    with pytest.raises(TypeError, match="list or tuple"):
        plot.set_link_color_palette("rgb")
    with pytest.raises(TypeError, match="colour strings"):
        plot.set_link_color_palette([1, 2])


def test_scipys_positional_call_and_get_leaves(Z):
    R = plot.dendrogram(Z, 5, "lastp", no_plot=True)  # p and truncate_mode by position
    assert R == sch.dendrogram(Z, 5, "lastp", no_plot=True)
    assert plot.dendrogram(Z, no_plot=True, get_leaves=False)["leaves"] is None
    assert R.ax is None


@pytest.mark.parametrize("orientation", ["top", "bottom", "left", "right"])
def test_drawing_arguments_as_scipy(Z, orientation):
    import matplotlib.pyplot as plt

    ax = Figure().add_subplot()
    R = plot.dendrogram(Z, ax=ax, orientation=orientation, leaf_font_size=7, leaf_rotation=30)
    ticks = ax.get_xticklabels() if orientation in ("top", "bottom") else ax.get_yticklabels()
    assert [t.get_text() for t in ticks] == R["ivl"]
    assert {t.get_rotation() for t in ticks} == {30} and {t.get_size() for t in ticks} == {7}
    segments = ax.collections[0].get_segments()
    assert len(segments) == len(R["icoord"])
    # the same colours scipy draws, link for link
    reference = plt.figure()
    try:
        scipy_ax = reference.add_subplot()
        sch.dendrogram(Z, ax=scipy_ax, orientation=orientation)
        scipy_colours = {}
        for collection in scipy_ax.collections:  # one collection per colour
            scipy_segments = collection.get_segments()
            colours = np.broadcast_to(collection.get_colors(), (len(scipy_segments), 4))
            for segment, colour in zip(scipy_segments, colours):
                scipy_colours[tuple(np.round(segment.ravel(), 9))] = tuple(colour)
        ours = {tuple(np.round(s.ravel(), 9)): tuple(c) for s, c in zip(segments, ax.collections[0].get_colors())}
        assert ours == scipy_colours
        assert [t.get_text() for t in ticks] == [
            t.get_text() for t in (scipy_ax.get_xticklabels() if orientation in ("top", "bottom") else scipy_ax.get_yticklabels())
        ]
    finally:
        plt.close(reference)
    ax = plot.dendrogram(Z, ax=Figure().add_subplot(), orientation=orientation, no_labels=True).ax
    assert (ax.get_xticklabels() if orientation in ("top", "bottom") else ax.get_yticklabels()) == []


def test_show_contracted_marks_the_hidden_merges():
    import matplotlib.pyplot as plt
    from matplotlib.collections import EllipseCollection
    from matplotlib.patches import Ellipse

    _, Z = TREES[-5]
    for truncate_mode, p in (("lastp", 6), ("level", 2)):
        ax = plot.dendrogram(Z, ax=Figure().add_subplot(), truncate_mode=truncate_mode, p=p, show_contracted=True).ax
        marks = [c for c in ax.collections if isinstance(c, EllipseCollection)][0].get_offsets()
        figure = plt.figure()
        try:
            scipy_ax = figure.add_subplot()
            sch.dendrogram(Z, ax=scipy_ax, truncate_mode=truncate_mode, p=p, show_contracted=True)
            expected = sorted(tuple(np.round(e.center, 9)) for e in scipy_ax.patches if isinstance(e, Ellipse))
        finally:
            plt.close(figure)
        assert sorted(tuple(np.round(xy, 9)) for xy in np.asarray(marks)) == expected
        assert len(expected) > 0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"orientation": "up"}, ValueError, "orientation must be one of"),
        ({"truncate_mode": "last"}, ValueError, "Invalid truncation mode 'last'"),
        ({"p": "30"}, TypeError, "must be a number"),
        ({"labels": ["a"]}, ValueError, "Dimensions of Z and labels must be consistent"),
        ({"count_sort": "up"}, ValueError, "count_sort must be False, True, 'ascending' or 'descending'"),
        ({"count_sort": True, "leaf_order": "count_ascending"}, ValueError, "or leaf_order, not both"),
        ({"n_clusters": 3, "color_threshold": 1.0}, ValueError, "not both"),
        ({"color_threshold": float("nan")}, ValueError, "NaN"),
        ({"color_threshold": "high"}, TypeError, "number or 'default'"),
        ({"link_color_func": lambda node: 3}, TypeError, "colour string"),
    ],
)
def test_bad_arguments(Z, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.dendrogram(Z, no_plot=True, **kwargs)


def test_labels_checked_before_the_tree_as_scipy():
    # scipy's gh-12418 test: a Z whose sizes are impossible still gets the labels error first
    link = np.array([[0, 1, 1.0, 4], [2, 3, 1.0, 5], [4, 5, 2.0, 6]])
    with pytest.raises(ValueError, match="Dimensions of Z and labels must be consistent"):
        plot.dendrogram(link, labels=list(range(100)), no_plot=True)
    with pytest.raises(ValueError, match="excessive observations"):
        plot.dendrogram(link, no_plot=True)


@pytest.mark.slow
def test_100k_leaves_without_recursion():
    """A chain of 100 000 leaves (scipy's recursion fails on it) and a random tree."""
    n = 100_000
    chain = np.column_stack([np.r_[0, np.arange(n, 2 * n - 2)], np.arange(1, n), np.arange(1.0, n), np.arange(2.0, n + 1)])
    R = plot.dendrogram(chain, no_plot=True)
    assert R["leaves"] == list(range(n)) and len(R["color_list"]) == n - 1
    assert R["icoord"][0] == [5.0, 5.0, 15.0, 15.0]
    rng = np.random.default_rng(0)
    Z = hclust.linkage(rng.normal(size=(n, 2)), "single")
    R = plot.dendrogram(Z, no_plot=True)
    assert sorted(R["leaves"]) == list(range(n)) and None not in R["leaves_color_list"]
    ax = plot.dendrogram(Z, ax=Figure().add_subplot(), truncate_mode="lastp", p=50).ax
    assert len(ax.get_xticklabels()) == 50


def test_docstring_examples():
    import doctest

    failures, tested = doctest.testmod(plot, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tested > 0 and failures == 0

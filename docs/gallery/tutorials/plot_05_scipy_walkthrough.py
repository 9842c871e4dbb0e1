"""
From scipy's linkage, fcluster and dendrogram to hclust
=======================================================

The scipy tutorial: points in the plane, scaled; ``linkage`` builds the
tree, ``fcluster`` turns it into labels, ``dendrogram`` draws it. hclust
has the same three steps with the same inputs and outputs, so an existing
scipy script changes its import and keeps working, and every hclust result
can go back to scipy.
"""

# %%
# Three groups of points, scaled
# ------------------------------
import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.cluster import hierarchy as sch
from scipy.cluster.vq import whiten

import hclust

rng = np.random.default_rng(2)
data = np.vstack([
    rng.normal([1.0, 1.0], 0.35, size=(40, 2)),
    rng.normal([3.5, 1.5], 0.50, size=(40, 2)),
    rng.normal([2.0, 4.0], 0.45, size=(40, 2)),
])
# scipy's whiten divides each column by its standard deviation
data = whiten(data)

# %%
# ``linkage``: the same matrix
# ----------------------------
Z_scipy = sch.linkage(data, method="ward", metric="euclidean")
Z = hclust.linkage(data, method="ward", metric="euclidean")
print("same merges:", np.array_equal(Z[:, :2], Z_scipy[:, :2]),
      "| largest height difference:", np.abs(Z[:, 2] - Z_scipy[:, 2]).max())
Z[-3:]

# %%
# ``fcluster``: the same labels
# -----------------------------
# ``hclust.fcluster`` takes scipy's five criteria and returns identical
# labels (numbered from 1, as scipy does). ``hclust.cut`` is the
# segmentation-minded version: exactly ``k`` segments numbered from 0 in
# the order the customers appear.
labels_scipy = sch.fcluster(Z_scipy, 3, criterion="maxclust")
labels = hclust.fcluster(Z, 3, criterion="maxclust")
print("identical fcluster labels:", np.array_equal(labels, labels_scipy))
segments = hclust.cut(Z, n_clusters=3)
print("cut labels (first 5 of each group):", segments[:5], segments[40:45], segments[80:85])

fig, ax = plt.subplots(figsize=(5, 4.5))
ax.scatter(data[:, 0], data[:, 1], c=[f"C{s}" for s in segments], s=14)
ax.set(title="Three segments from Ward's tree", xlabel="x (whitened)", ylabel="y (whitened)")
plt.show()

# %%
# ``dendrogram``: the same call, the same dictionary
# --------------------------------------------------
# :func:`hclust.dendrogram` takes every argument of scipy's ``dendrogram``
# and returns its dictionary (``icoord``, ``dcoord``, ``ivl``, ``leaves``,
# ``color_list``, ``leaves_color_list``), computed without recursion (a
# million leaves are fine). :func:`hclust.dendrogram_layout` gives the same
# coordinates as plain data, with colours that are the segments of
# ``cut(Z, n_clusters=k)``.
ours = hclust.dendrogram(Z, truncate_mode="lastp", p=20, no_plot=True)
reference = sch.dendrogram(Z, truncate_mode="lastp", p=20, no_plot=True)
print("same dictionary as scipy:", all(ours[key] == reference[key] for key in reference))
layout = hclust.dendrogram_layout(Z, truncate_mode="lastp", p=20, n_clusters=3)
print("same coordinates in the layout:",
      np.allclose(layout.icoord, reference["icoord"]) and np.allclose(layout.dcoord, reference["dcoord"]))

# %%
# Drawn, the dictionary's ``ax`` is the Axes it drew on. With
# ``n_clusters=k`` the links are coloured by the segments of ``cut`` (the
# report's colours) instead of scipy's ``color_threshold``.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
sch.dendrogram(Z_scipy, truncate_mode="lastp", p=20, ax=left)
left.set_title("scipy.cluster.hierarchy.dendrogram")
drawn = hclust.dendrogram(Z, truncate_mode="lastp", p=20, ax=right, n_clusters=3,
                          title="hclust.dendrogram, 3 segments")
print("drawn on the right-hand Axes:", drawn.ax is right)
fig.tight_layout()
plt.show()

# %%
# Where hclust goes further
# -------------------------
# The same calls on more data. hclust's Ward linkage works on the points
# themselves, in memory linear in their number; scipy and every
# matrix-based library store the n x n distances. Timed here, on the
# machine that built this page:
bigger = np.vstack([rng.normal(c, 0.5, size=(2_000, 8)) for c in rng.uniform(-4, 4, size=(5, 8))])
hclust.linkage(bigger[:500], "ward")  # compile (or load) the kernels before timing
for name, run in (("scipy", lambda: sch.linkage(bigger, "ward")), ("hclust", lambda: hclust.linkage(bigger, "ward"))):
    start = time.perf_counter()
    result = run()
    print(f"{name:6}: {len(bigger):,} x 8 ward in {time.perf_counter() - start:5.2f} s")

# %%
# * ``hclust.optimal_leaf_ordering(Z, y)`` orders the leaves so that
#   neighbours are similar (same as scipy's, faster);
# * ``hclust.cophenet(Z, y)`` measures how faithfully the tree keeps the
#   distances;
# * ``hclust.leaves_list``, ``inconsistent``, ``is_valid_linkage`` are
#   there under scipy's names; the :ref:`migrating` page lists them all.
y = hclust.pdist(data)
correlation, _ = hclust.cophenet(Z, y)
print(f"cophenetic correlation of Ward's tree: {correlation:.3f}")
Z_ordered = hclust.optimal_leaf_ordering(Z, y)
print("first leaves in optimal order:", hclust.leaves_list(Z_ordered)[:10])

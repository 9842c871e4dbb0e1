"""
Seven linkages and their metrics on a small table
=================================================

The survey-style tutorial: a handful of customers, the matrix of distances
between them, and what each linkage makes of it, step by step, up to the
cut of the tree at a chosen height.

Eight customers with a yearly income (thousands) and a spending score
(0-100) are small enough to follow every merge by eye.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# The table and its distance matrix
# ---------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.cluster import hierarchy as sch
from scipy.spatial.distance import squareform

import hclust
import hclust.plot

customers = pd.DataFrame(
    {"income": [21, 24, 33, 57, 61, 69, 60, 88], "spending": [72, 80, 66, 22, 31, 14, 59, 84]},
    index=list("ABCDEFGH"),
)
X = customers.to_numpy(dtype=float)

# %%
# :func:`hclust.pdist` gives the condensed distances (the upper triangle,
# row by row), equal to ``scipy.spatial.distance.pdist`` within 1e-12;
# ``squareform`` shows them as a matrix.
y = hclust.pdist(X, "euclidean")
D = pd.DataFrame(squareform(y), index=customers.index, columns=customers.index)
fig, ax = plt.subplots(figsize=(5.5, 4.5))
image = ax.imshow(D, cmap="viridis_r")
for i in range(len(D)):
    for j in range(len(D)):
        ax.text(j, i, f"{D.iat[i, j]:.0f}", ha="center", va="center", fontsize=7,
                color="white" if D.iat[i, j] < 40 else "black")
ax.set(xticks=range(8), yticks=range(8), xticklabels=D.columns, yticklabels=D.index,
       title="Euclidean distances between the customers")
fig.colorbar(image, ax=ax, shrink=0.8)
plt.show()

# %%
# The first merge is the same for every linkage: the closest pair of
# customers. After it, each linkage answers differently the question "how
# far is the new pair from the others?".
i, j = np.unravel_index(np.argmin(D.to_numpy() + np.diag([np.inf] * 8)), D.shape)
print(f"closest pair: {D.index[i]} and {D.columns[j]}, {D.iat[i, j]:.2f} apart")

# %%
# The seven linkages (and flexible-beta)
# --------------------------------------
# * **single**: the distance between the closest members (chains easily);
# * **complete**: between the farthest members (compact, equal-diameter groups);
# * **average** (UPGMA): the mean of all member-to-member distances;
# * **weighted** (WPGMA): the mean of the two parts' distances, whatever their sizes;
# * **centroid** (UPGMC): between the cluster means;
# * **median** (WPGMC): between the midpoints of the merged parts;
# * **ward**: the increase in the within-cluster sum of squares;
# * **flexible** (Lance and Williams' beta, default -0.25), which hclust adds.
#
# :func:`hclust.linkage` returns scipy's linkage matrix: row ``i`` merges
# nodes ``Z[i, 0]`` and ``Z[i, 1]`` at height ``Z[i, 2]`` into node
# ``8 + i`` holding ``Z[i, 3]`` customers.
methods = ["single", "complete", "average", "weighted", "centroid", "median", "ward", "flexible"]
trees = {method: hclust.linkage(X, method) for method in methods}
trees["average"]

# %%
# The heights at which each linkage merges, merge by merge:
pd.DataFrame({method: Z[:, 2] for method, Z in trees.items()},
             index=pd.RangeIndex(1, 8, name="merge")).round(2)

# %%
# The trees side by side, each cut into three segments. Customer G sits
# between the groups: where it goes, and how high the last merges are,
# is what the linkages disagree on.
fig, axes = plt.subplots(2, 4, figsize=(12, 6), sharey=False)
for ax, (method, Z) in zip(axes.ravel(), trees.items()):
    hclust.plot.dendrogram(Z, ax=ax, labels=list(customers.index), n_clusters=3, title=method)
fig.tight_layout()
plt.show()

# %%
# Every hclust tree here is the tree scipy builds (same merges, heights
# within 1e-12 relative); scipy has no flexible-beta.
for method in methods[:-1]:
    Z_scipy = sch.linkage(X, method)
    assert np.allclose(trees[method], Z_scipy, rtol=1e-12, atol=0), method
print("same trees as scipy.cluster.hierarchy.linkage for", ", ".join(methods[:-1]))

# %%
# Metrics
# -------
# Single, complete, average and weighted work on any distance; ward,
# centroid and median are defined on Euclidean distances (hclust refuses
# another metric with them rather than returning a tree without meaning).
# Here the three common metrics with average linkage, cut into three
# segments: customer G, between the groups, joins a different segment
# under each.
metric_labels = {
    metric: hclust.cut(hclust.linkage(X, "average", metric=metric), n_clusters=3)
    for metric in ("euclidean", "cityblock", "chebyshev")
}
pd.DataFrame(metric_labels, index=customers.index)

# %%
try:
    hclust.linkage(X, "ward", metric="cityblock")
except ValueError as error:
    print(error)

# %%
# Cutting the tree at a height
# ----------------------------
# A horizontal cut at height ``h`` keeps the merges below it:
# ``hclust.cut(Z, height=h)`` gives the same partition as scipy's
# ``fcluster(Z, h, "distance")``, numbered from 0 in order of first
# appearance.
Z = trees["average"]
height = 30.0
labels = hclust.cut(Z, height=height)
fig, ax = plt.subplots(figsize=(6, 3.5))
hclust.plot.dendrogram(Z, ax=ax, labels=list(customers.index), color_threshold=height,
                       title=f"average linkage cut at height {height:g}")
ax.axhline(height, color="black", linestyle="--", linewidth=1)
plt.show()
print(dict(zip(customers.index, labels.tolist())))
assert hclust.fcluster(Z, height, "distance").tolist() == sch.fcluster(Z, height, "distance").tolist()

# %%
# Where hclust goes further
# -------------------------
# Centroid and median linkage can merge *lower* than an earlier merge (an
# inversion): the centre of a new pair can be closer to a third point than
# the pair's members were to each other. A cut at a height is then
# ambiguous, and scipy's ``cut_tree`` can return the wrong number of
# clusters. ``hclust.cut(Z, n_clusters=k)`` undoes the ``k - 1`` merges with
# the highest subtrees and always returns exactly ``k`` segments.
heights = trees["centroid"][:, 2]
print(f"on the table above, centroid's last merge ({heights[-1]:.2f}) is lower than the one "
      f"before it ({heights[-2]:.2f})")

# %%
# On 60 random points the inversions are many, and ``cut_tree`` miscounts:
rng = np.random.default_rng(3)
points = rng.normal(size=(60, 2))
Z_centroid = hclust.linkage(points, "centroid")
print("monotonic heights:", hclust.is_monotonic(Z_centroid))
rows = []
for k in range(2, 13):
    scipy_k = len(np.unique(sch.cut_tree(Z_centroid, n_clusters=k)))
    rows.append({"k asked": k, "scipy cut_tree": scipy_k,
                 "hclust.cut": len(np.unique(hclust.cut(Z_centroid, n_clusters=k)))})
pd.DataFrame(rows).set_index("k asked").T

"""
A million customers: linear-memory engines and summaries
========================================================

The classic tutorials stop at a few thousand rows, because the distance
matrix they build grows with the square of the number of customers: a
million customers would need 4 terabytes for it. hclust's Ward, single,
centroid and median linkages work on the customers' features instead, in
memory that grows linearly, and :func:`hclust.summarize` goes further with
micro-clusters when even an exact tree would take too long.

To keep this page quick to build, the exact trees below run on 100,000
customers and the summary on the full million; the figures measured on a
million rows are quoted at the end.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# Customers with eight features
# -----------------------------
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import hclust
import hclust.plot

N_CUSTOMERS = 1_000_000
N_EXACT = 100_000  # the exact trees; set to N_CUSTOMERS on a machine with a few minutes to spare

rng = np.random.default_rng(42)
centres = rng.uniform(-3, 3, size=(10, 8))
spread = rng.uniform(0.5, 1.0, size=10)
segment_true = rng.choice(10, size=N_CUSTOMERS, p=rng.dirichlet(np.full(10, 3.0)))
X = centres[segment_true] + rng.normal(size=(N_CUSTOMERS, 8)) * spread[segment_true, None]
print(f"{X.shape[0]:,} customers x {X.shape[1]} features, {X.nbytes / 1e6:.0f} MB")

# %%
# The distance matrix is refused before it is allocated
# ------------------------------------------------------
# Average and complete linkage need every pairwise distance. hclust
# estimates the memory first and refuses with the size and the
# alternatives, instead of swapping the machine to a halt:
try:
    hclust.linkage(X, "average")
except hclust.InsufficientMemoryError as error:
    print(error)

# %%
# Exact trees in linear memory
# ----------------------------
# Single linkage is a minimum spanning tree, found with Borůvka's algorithm
# on a kd-tree; Ward's linkage merges reciprocal nearest neighbours on
# cluster centroids, pruned with a kd-tree. Both give exactly the tree
# scipy would give, without the matrix. ``algorithm="auto"`` (the default)
# picks them for these methods.
subset = X[:N_EXACT]
hclust.linkage(subset[:2_000], "ward"), hclust.linkage(subset[:2_000], "single")  # compile first
timings = {}
for method in ("single", "ward"):
    start = time.perf_counter()
    Z = hclust.linkage(subset, method)
    timings[method] = time.perf_counter() - start
    print(f"{method:6}: {N_EXACT:,} customers in {timings[method]:.1f} s")

# %%
# Ward's tree of 100,000 customers, cut into ten segments:
fig, ax = plt.subplots(figsize=(10, 3.8))
hclust.plot.dendrogram(Z, ax=ax, truncate_mode="lastp", p=40, n_clusters=10,
                       title=f"Ward linkage of {N_EXACT:,} customers, last 40 merges")
plt.show()
labels = hclust.cut(Z, n_clusters=10)
print("segment sizes:", np.bincount(labels))

# %%
# A million customers in seconds: summaries
# -----------------------------------------
# :func:`hclust.summarize` reads the rows once into weighted micro-clusters
# (count, mean, sum of squares: BIRCH's clustering features), builds the
# exact weighted tree over them, and gives every row the segment of its
# micro-cluster. It is an approximation and says how good: the share of
# the variance that stays inside micro-clusters (lost to the tree) and the
# largest micro-cluster radius.
start = time.perf_counter()
summary = hclust.summarize(X, method="ward")
segments = summary.labels(10)
seconds = time.perf_counter() - start
print(f"{N_CUSTOMERS:,} customers -> {summary.n_micro:,} micro-clusters -> 10 segments "
      f"in {seconds:.1f} s")
print(summary.quality)

# %%
# The segments found from the summary against the generated ones (the
# adjusted Rand index is 1 for a perfect match, 0 for chance):
from sklearn.metrics import adjusted_rand_score  # noqa: E402

print(f"adjusted Rand index against the true segments: {adjusted_rand_score(segment_true, segments):.3f}")
sizes = pd.Series(np.bincount(segments), name="customers").rename_axis("segment")
means = pd.DataFrame(X).groupby(segments).mean().round(2)
pd.concat([sizes, means], axis=1)

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
hclust.plot.dendrogram(summary.Z, ax=left, truncate_mode="lastp", p=30, n_clusters=10,
                       title=f"tree over {summary.n_micro:,} micro-clusters")
sample = rng.choice(N_CUSTOMERS, 5_000, replace=False)
right.scatter(X[sample, 0], X[sample, 1], c=[f"C{s % 10}" for s in segments[sample]], s=3)
right.set(title="5,000 of the customers, first two features", xlabel="feature 0", ylabel="feature 1")
fig.tight_layout()
plt.show()

# %%
# Measured on a million customers
# -------------------------------
# On the project's 2-core benchmark machine (``benchmarks/bench_ward.py``,
# ``bench_single.py`` and ``bench_summary.py``; see :ref:`benchmarks`):
#
# =========================== ========== ================
# 1,000,000 x 8 customers      time       peak memory
# =========================== ========== ================
# single linkage (exact)       16 s       0.20 GB
# ward linkage (exact)         82 s       0.42 GB
# summarize + 10 segments      9 s        (the data)
# average linkage (matrix)     refused    4,000 GB needed
# =========================== ========== ================
#
# At 32 features the kd-tree prunes less and exact Ward takes about an
# hour for a million rows: that is where :func:`hclust.summarize` is the
# practical route.

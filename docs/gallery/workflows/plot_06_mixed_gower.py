"""
Mixed customer data with Gower's distance
=========================================

Customer tables mix numbers (spending, age), categories (region, channel),
yes/no flags and missing values. One-hot encoding turns them into numbers
but weighs a category by its number of levels; Gower's distance compares
each column in its own terms and averages: a scaled difference for numbers,
0 or 1 for a category match, a missing value simply skipped.

The *Wholesale customers* table bundled with hclust has both kinds: the
sales channel and the region are categories, the six spending columns are
amounts.
"""

# %%
# The table, with its categories named
# ------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import hclust
import hclust.plot
from hclust.datasets import WHOLESALE_SPENDING, load_wholesale

customers = load_wholesale()
customers["Channel"] = customers["Channel"].map({1: "Horeca", 2: "Retail"}).astype("category")
customers["Region"] = customers["Region"].map({1: "Lisbon", 2: "Oporto", 3: "Other"}).astype("category")
# a few missing values, as real exports have
rng = np.random.default_rng(0)
customers.loc[rng.choice(len(customers), 12, replace=False), "Frozen"] = np.nan
customers.head()

# %%
# Gower, fitted
# -------------
# :class:`hclust.Gower` learns each column's type and, for numbers, its
# range; the distance of two customers is the mean over the columns of
# their difference divided by the range (numbers) or their mismatch
# (categories), skipping a column missing in either. Spending is very
# skewed, so its logarithm is compared (a difference of ratios rather than
# of amounts); the numbers are what R's ``cluster::daisy(metric="gower")``
# gives.
table = customers.copy()
table[list(WHOLESALE_SPENDING)] = np.log1p(table[list(WHOLESALE_SPENDING)])
gower = hclust.Gower().fit(table)
pd.Series(gower.feature_types_, name="type used")

# %%
y = gower.condensed()  # condensed distances, as hclust.linkage and scipy take them
print(f"{len(y):,} distances between {gower.n_samples_} customers, from {y.min():.3f} to {y.max():.3f}")

# %%
# A tree and its cut
# ------------------
# Gower distances are not Euclidean, so Ward, centroid and median do not
# apply; average and complete linkage do. Average linkage on Gower
# distances tends to split a few unusual customers off first, so let
# :class:`hclust.SegmentationModel` choose k with a minimum segment size
# (2% of the customers), on the same distances.
model = hclust.SegmentationModel(method="complete", metric="gower", ks=range(2, 9)).fit(table)
print(*model.evaluation_.reasons, sep="\n")
model.summary().segments

# %%
# The dendrogram with the chosen cut, and the distance matrix in the tree's
# leaf order: segments show as dark blocks on the diagonal.
Z = model.linkage_matrix_
from scipy.spatial.distance import squareform  # noqa: E402

order = hclust.leaves_list(Z)
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
hclust.plot.dendrogram(Z, ax=left, truncate_mode="lastp", p=40, n_clusters=model.n_clusters_,
                       title=f"complete linkage on Gower distances, k = {model.n_clusters_}")
image = right.imshow(squareform(y)[np.ix_(order, order)], cmap="magma")
right.set(title="Gower distances, customers in tree order", xticks=[], yticks=[])
fig.colorbar(image, ax=right, shrink=0.8)
fig.tight_layout()
plt.show()

# %%
# The segments' names say what sets them apart; against the channel:
pd.crosstab(model.labelled(customers)["segment_name"], customers["Channel"])

# %%
# Gower or one-hot?
# -----------------
# The same table prepared with one-hot features and clustered with Ward.
# Both split by the sales channel: Gower exactly (a category mismatch costs
# a full unit on one of eight columns), one-hot + Ward through the spending
# that goes with it, so a few customers change sides. With Gower every
# column weighs the same; with one-hot features the six spending columns
# dominate. Neither is wrong; the profiles show which question each
# answers, and
# ``Gower(weights={"Region": 0.5})`` or ``Preparer(feature_weights=...)``
# change the balance.
onehot = hclust.SegmentationModel(model.n_clusters_, method="ward").fit(customers)
pd.crosstab(model.labels_, onehot.labels_, rownames=["Gower + complete"], colnames=["one-hot + ward"])

# %%
# New customers are measured on the fitted scale (ranges and levels from
# the fit), so their distances match the tree's:
new = table.sample(3, random_state=1)
pd.DataFrame(gower.cdist(new)[:, :6], index=new.index).round(3)

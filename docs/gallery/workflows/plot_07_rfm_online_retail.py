"""
RFM segments from transactions (Online Retail)
==============================================

Shops rarely have a customer table; they have transactions. Recency (days
since the last purchase), frequency (number of orders) and monetary value
(total spent) summarise each customer's behaviour, and clustering them
gives the classic RFM segments: loyal big spenders, new customers, those
drifting away.

The data is a sample of the *Online Retail* transactions (a UK online
shop, December 2010 to December 2011; Chen 2015, UCI Machine Learning
Repository, :doi:`10.24432/C5BW33`, CC BY 4.0): every transaction of 500
customers and a few lines without a customer id, bundled with these docs.
The full file (541,909 lines) takes about a second in :func:`hclust.rfm`.
"""

# %%
# Transactions in, customers out
# ------------------------------
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import hclust
import hclust.plot

path = Path("../data/online_retail_sample.csv.gz")  # beside the gallery's sources
transactions = pd.read_csv(path, dtype={"InvoiceNo": str})
print(f"{len(transactions):,} transaction lines")
transactions.head()

# %%
# :func:`hclust.rfm` builds one row per customer. Invoices whose number
# starts with "C" are cancellations and count against the customer's total
# (not as orders); lines without a customer id cannot be attributed and are
# counted, not guessed. The report says what was done with every line.
customers, report = hclust.rfm(
    transactions, customer="CustomerID", date="InvoiceDate",
    quantity="Quantity", price="UnitPrice", invoice="InvoiceNo",
)
print(f"{report.n_rows_used:,} of {report.n_rows:,} lines used; "
      f"{report.n_missing_customer:,} without a customer id "
      f"(worth {report.missing_customer_amount:,.0f}) dropped; "
      f"{report.n_cancelled_invoices} cancelled invoices ({report.n_cancelled_rows} lines) "
      f"netted against their customers' totals.")
print(f"{report.n_customers} customers; recency measured from {report.as_of[:10]}.")
print("Policy:", report.policy)
customers.describe().round(1)

# %%
# Preparing RFM features
# ----------------------
# All three are skewed (a few wholesale buyers order every week; many
# customers bought once, long ago), so ``log1p="auto"`` takes their
# logarithm before standardising. A customer whose returns exceed their purchases has a
# negative total; we keep only customers with a positive one.
customers = customers[customers["monetary"] > 0]
features = ["recency", "frequency", "monetary"]
model = hclust.SegmentationModel(
    n_clusters=None, method="ward", columns=features, ks=range(3, 8),
).fit(customers)
print(*model.preparation_.lines(), sep="\n")

# %%
# How many segments, and which
# ----------------------------
# ``n_clusters=None`` chooses k on the model's own features, with the
# reasons kept:
print(*model.evaluation_.reasons, sep="\n")
model.summary().segments

# %%
# The segments in the original units: median recency, frequency and
# spend of each, the way an RFM table is usually read.
labelled = model.labelled(customers)
rfm_table = labelled.groupby("segment_name")[features].median()
rfm_table.insert(0, "customers", labelled["segment_name"].value_counts())
rfm_table.sort_values("monetary", ascending=False).round(1)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
for segment, rows in labelled.groupby("segment"):
    axes[0].scatter(rows["recency"], rows["frequency"], s=10, label=model.names_[segment])
    axes[1].scatter(rows["frequency"], rows["monetary"], s=10)
axes[0].set(xlabel="recency (days)", ylabel="orders", yscale="log", title="Recency and frequency")
axes[1].set(xlabel="orders", ylabel="spend", xscale="log", yscale="log", title="Frequency and spend")
axes[0].legend(fontsize=7)
fig.tight_layout()
plt.show()

# %%
# Where hclust goes further
# -------------------------
# The tree keeps the finer structure: cutting it again gives sub-segments
# of a segment without refitting, nested in the coarser ones.
fine = hclust.cut(model.linkage_matrix_, n_clusters=2 * model.n_clusters_)
pd.crosstab(model.labels_, fine, rownames=["segment"], colnames=["finer cut"])

# %%
# The tree itself, with the cut and the number of customers under each
# collapsed branch:
fig, ax = plt.subplots(figsize=(10, 4))
hclust.plot.dendrogram(model.linkage_matrix_, ax=ax, truncate_mode="lastp", p=30,
                       n_clusters=model.n_clusters_, title="Ward tree of the RFM features")
plt.show()
np.unique(model.labels_, return_counts=True)

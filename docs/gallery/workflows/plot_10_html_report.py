"""
The HTML report for stakeholders
================================

The people who act on segments rarely read Python. ``model.report(path)``
writes one self-contained HTML file: an interactive dendrogram (zoom, pan,
collapse branches, drag the cut line), the segment table with names and
sizes, a heatmap of what sets each segment apart, a PCA scatter, the
choose-k charts, and a "Download labels (CSV)" button. It needs no server
and makes no network request, so it can be mailed or put on a shared
drive.

This example writes the report for the *Wholesale customers* and shows a
screenshot of it, taken with Playwright in headless Chromium.
"""

# %%
# Write the report
# ----------------
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import hclust
from hclust.datasets import WHOLESALE_SPENDING, load_wholesale

customers = load_wholesale()
customers["Channel"] = customers["Channel"].map({1: "Horeca", 2: "Retail"})
model = hclust.SegmentationModel(
    4, method="ward", columns=list(WHOLESALE_SPENDING),
).fit(customers)
model.rename({0: "Grocery retailers", 1: "Fresh and frozen buyers", 2: "Small accounts", 3: "Light fresh buyers"})
report = model.report("wholesale_report.html", customers, title="Wholesale customers: four segments")
print(f"{report.name}: {report.stat().st_size / 1e6:.1f} MB, self-contained")

# %%
# `Open the report written by this example <wholesale_report.html>`_ (it
# was copied into this site when the site was built; in your own run it is
# ``wholesale_report.html`` in the working folder).
#
# A look at it
# ------------
# A screenshot of the top of the page in headless Chromium, with every
# request that is not the file itself refused (the report makes none).
# Without Playwright and Chromium (``pip install playwright`` and, on
# Debian, ``apt-get install chromium``), the same charts are drawn with
# matplotlib by ``model.report_static``.


def screenshot(page_path: Path, png: Path, width: int = 1280, height: int = 1500) -> bool:
    """Save a screenshot of ``page_path``; False when no browser is available."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    chromium = Path("/usr/bin/chromium")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(chromium) if chromium.exists() else None,
                args=["--no-sandbox", "--disable-gpu"],
            )
            context = browser.new_context(viewport={"width": width, "height": height})
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:"))
                          else r.abort())
            page = context.new_page()
            page.goto(page_path.resolve().as_uri())
            page.evaluate("window.hclustReport.ready")  # the charts are drawn
            page.screenshot(path=str(png))
            browser.close()
    except Exception as error:  # noqa: BLE001 - no browser installed: say so, draw the charts instead
        print(f"no screenshot ({type(error).__name__}): {str(error).splitlines()[0]}")
        return False
    return True


shot = Path(tempfile.mkdtemp()) / "wholesale_report.png"
if screenshot(report, shot):
    image = plt.imread(shot)
    fig = plt.figure(figsize=(12.8, 15), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.imshow(image)
    ax.axis("off")
    plt.show()
else:
    for chart in model.report_static(tempfile.mkdtemp(), customers):
        image = plt.imread(chart)
        fig = plt.figure(figsize=(image.shape[1] / 150, image.shape[0] / 150), dpi=150)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.imshow(image)
        ax.axis("off")
    plt.show()

# %%
# Reading it
# ----------
# * **The dendrogram** starts from the top merges; scroll to zoom, drag to
#   pan, click a merge to collapse it into a triangle with its count. The
#   k selector and the dashed cut line recolour the segments live, and the
#   table follows.
# * **The segment table** gives each segment's name, size, share,
#   stability (mean bootstrap Jaccard; below 0.6 the segment is not
#   stable) and the features that set it apart, in standard deviations of
#   all customers.
# * **The heatmap** shows every feature's standardised difference per
#   segment; **the PCA scatter** a seeded sample of at most 5,000
#   customers; **the choose-k charts** the criteria of
#   :func:`hclust.evaluate` for each k.
# * **Download labels (CSV)** saves every customer's segment for the cut on
#   screen, without a server.
#
# The :ref:`reading-the-report` page of the user guide goes through each
# part. From the command line::
#
#     hclust segment customers.csv --n-clusters 4 --report report.html
#     hclust report model/ customers.csv --out report.html

# %%
# The numbers behind the page
# ---------------------------
# Every number the report shows is computed once, into a
# :class:`hclust.SegmentationSummary`; the report only renders it. The
# model keeps its summary and saves it with itself, so a loaded model
# reports without its table. :func:`hclust.write_report` renders any
# summary, also one that :func:`hclust.segmentation_summary` made from a
# tree built elsewhere: ``hclust.write_report("report.html", summary)``.
import pandas as pd

summary = model.segmentation_summary()
print("k offered in the report:", summary.ks)
pd.DataFrame(summary.chosen.heatmap, index=summary.chosen.names, columns=summary.heatmap_columns).round(2)

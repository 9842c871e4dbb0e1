"""Make ``docs/_static/report_screenshot.png``: the top of the Wholesale report in headless Chromium.

Usage: python docs/tools/report_screenshot.py

The picture on the README and the docs' front page. Needs playwright and
Debian's Chromium (``/usr/bin/chromium``); the report makes no network request.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import hclust
from hclust.datasets import WHOLESALE_SPENDING, load_wholesale

TARGET = Path(__file__).resolve().parents[1] / "_static" / "report_screenshot.png"


def main() -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    customers = load_wholesale()
    model = hclust.SegmentationModel(4, method="ward", columns=list(WHOLESALE_SPENDING)).fit(customers)
    with tempfile.TemporaryDirectory() as folder:
        report = model.report(Path(folder) / "report.html", customers, title="Wholesale customers: four segments")
        shot = Path(folder) / "shot.png"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 1200, "height": 1030}, device_scale_factor=1)
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:"))
                          else r.abort())
            page = context.new_page()
            page.goto(report.as_uri())
            page.evaluate("window.hclustReport.ready")
            page.screenshot(path=str(shot))
            browser.close()
        image = Image.open(shot).convert("RGB")
        image = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT)
        image.save(TARGET, optimize=True)
    print(f"{TARGET}: {TARGET.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()

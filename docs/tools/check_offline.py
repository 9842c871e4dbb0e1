"""Load built pages in headless Chromium with every non-file request blocked.

Usage: python docs/tools/check_offline.py BUILD_DIR [PAGE ...] [--screenshot DIR]

Fails (exit 1) when a page asks for anything outside the build folder, when a
page script raises, or when a page does not render its main content (and,
on pages with math, when MathJax did not typeset it). Screenshots are
written on request, for a person to look at.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_PAGES = [
    "index.html",
    "api/index.html",
    "api/generated/hclust.linkage.html",
    "api/generated/hclust.Gower.html",
    "auto_examples/index.html",
    "benchmarks/index.html",
    "user_guide/engines.html",
    "user_guide/report.html",
    "auto_examples/tutorials/plot_02_seven_linkages.html",
    "auto_examples/workflows/plot_10_html_report.html",
    "auto_examples/workflows/wholesale_report.html",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("pages", nargs="*", default=DEFAULT_PAGES)
    parser.add_argument("--screenshot", type=Path, help="write a full-page PNG of each page here")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    root = args.build.resolve()
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        blocked: list[str] = []

        def route(r):  # anything but a file of the build is refused
            url = r.request.url
            if url.startswith("file://") or url.startswith("data:") or url.startswith("blob:"):
                r.continue_()
            else:
                blocked.append(url)
                r.abort()

        context.route("**/*", route)
        for page_name in args.pages:
            path = root / page_name
            if not path.is_file():
                problems.append(f"{page_name}: not built")
                continue
            page = context.new_page()
            errors: list[str] = []
            failed: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.on("requestfailed", lambda r, failed=failed: failed.append(r.url))
            blocked.clear()
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            has_math = page.locator(".math").count() > 0
            if has_math:
                try:
                    page.wait_for_selector("mjx-container", timeout=10_000)
                except Exception:  # noqa: BLE001 - reported below
                    problems.append(f"{page_name}: MathJax did not typeset the math")
            if page.evaluate("typeof window.hclustReport") != "undefined":  # a report hclust wrote
                page.evaluate("window.hclustReport.ready")
                if page.evaluate("window.hclustReport.errors.length"):
                    problems.append(f"{page_name}: the report recorded errors")
            else:
                article = page.locator("article.bd-article")
                if article.count() == 0 or len(article.first.inner_text().strip()) < 20:
                    problems.append(f"{page_name}: no content rendered")
            for url in blocked:
                problems.append(f"{page_name}: asked the network for {url}")
            for url in failed:
                if url.startswith("file://"):
                    problems.append(f"{page_name}: missing file {url}")
            for error in errors:
                problems.append(f"{page_name}: script error {error}")
            if args.screenshot:
                args.screenshot.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.screenshot / (page_name.replace("/", "_") + ".png")), full_page=True)
            page.close()
        browser.close()
    for line in problems:
        print(line)
    print(f"{len(args.pages)} pages loaded offline, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

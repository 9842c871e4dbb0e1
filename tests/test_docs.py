"""The documentation's sources: every public name has a page, the README's links resolve,
the user guide's examples run, the benchmark results render, the gallery has its workflows.

The Sphinx build itself runs in CI (``bash .ci/docs``); these checks need no Sphinx.
"""

from __future__ import annotations

import ast
import doctest
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hclust

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GALLERY = DOCS / "gallery"


def _autosummary_entries(rst: str) -> dict[str, set[str]]:
    """Module -> names listed in the autosummary blocks under each ``currentmodule``/``module``."""
    entries: dict[str, set[str]] = {}
    module = None
    in_block = False
    for line in rst.splitlines():
        directive = re.match(r"\.\. (?:current)?module:: (\S+)", line)
        if directive:
            module = directive.group(1)
            continue
        if line.startswith(".. autosummary::"):
            in_block = True
            continue
        if in_block:
            if line.startswith("   :") or not line.strip():
                continue
            if line.startswith("   "):
                entries.setdefault(module, set()).add(line.strip())
                continue
            in_block = False
    return entries


def test_every_public_name_has_an_api_page():
    entries = _autosummary_entries((DOCS / "api" / "index.rst").read_text(encoding="utf-8"))
    listed = entries.get("hclust", set())
    missing = sorted(set(hclust.__all__) - listed)
    assert missing == [], f"public names without an API page: {missing}"
    unknown = sorted(name for name in listed if not hasattr(hclust, name))
    assert unknown == []
    for module, names in entries.items():  # hclust.plot, hclust.datasets: names that exist
        imported = importlib.import_module(module)
        assert all(hasattr(imported, name) for name in names), module


def test_api_groups_follow_the_design():
    text = (DOCS / "api" / "index.rst").read_text(encoding="utf-8")
    sections = re.findall(r"^([^\n]+)\n=+\n", text, re.M)
    for title in ("The engine", "Tree tools", "Data preparation", "Workflow", "Report",
                  "Divisive clustering and summaries"):
        assert title in sections


def _markdown_links(text: str) -> list[str]:
    return re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", text)


def test_readme_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = _markdown_links(readme)
    local = [link for link in links if not re.match(r"[a-z]+:", link) and not link.startswith("#")]
    assert local, "the README links into the docs"
    for link in local:
        target = (ROOT / link.split("#")[0]).resolve()
        assert target.exists(), f"README links to {link}, which does not exist"
        assert ROOT in target.parents


def test_readme_keeps_its_commands_first():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", readme, re.S)
    assert commands[:2] == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/hclust demo",
        'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && .venv/bin/python -m pytest',
    ]
    assert any("sphinx-build" in c and ".[docs]" in c for c in commands[2:3]), "third command builds the docs"
    assert len(readme.splitlines()) < 200


def test_readme_example_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks and len(blocks[0].splitlines()) <= 16
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102 - the README's own example


def _doc_examples() -> list[tuple[str, str]]:
    found = []
    for page in sorted((DOCS / "user_guide").glob("*.md")):
        for i, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)):
            if ">>>" in block:
                found.append((f"{page.name}[{i}]", block))
    return found


@pytest.mark.parametrize(("name", "block"), _doc_examples(), ids=[n for n, _ in _doc_examples()])
def test_user_guide_examples(name, block):
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block, {}, name, name, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0 and result.attempted > 0


def _load_docs_extension():
    spec = importlib.util.spec_from_file_location("hclust_docs", DOCS / "_ext" / "hclust_docs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


RESULTS = sorted((DOCS / "benchmarks" / "results").glob("*.json"))


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_benchmark_results_say_when_and_where(path):
    record = json.loads(path.read_text(encoding="utf-8"))
    meta, rows = record["meta"], record["rows"]
    assert (ROOT / "benchmarks" / meta["script"]).is_file()
    assert re.match(r"\d{4}-\d{2}-\d{2}", meta["date"]) and meta["machine"]
    assert rows and all(isinstance(row, dict) for row in rows)


def test_benchmark_pages_render(tmp_path):
    pytest.importorskip("matplotlib")
    extension = _load_docs_extension()
    index = DOCS / "benchmarks" / "index.rst"
    pages = extension.write_benchmark_pages(out=tmp_path, index=index)
    assert {p.stem for p in pages} == {p.stem for p in RESULTS}
    for page in pages:
        record = json.loads((DOCS / "benchmarks" / "results" / f"{page.stem}.json").read_text(encoding="utf-8"))
        text = page.read_text(encoding="utf-8")
        assert text.count("   * - ") == len(record["rows"]) + 1  # header + one line per row
        assert record["meta"]["date"] in text
    for name in ("linkage", "ward", "single"):  # time against n
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    placed = set(re.findall(r"/benchmarks/generated/(\w+)\.rst", index.read_text(encoding="utf-8")))
    others = (tmp_path / "others.rst").read_text(encoding="utf-8")
    for page in pages:  # every result is on the page, once
        assert (page.stem in placed) != (f"/{page.name}" in others)


def test_benchmark_scripts_write_json(tmp_path):
    scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    assert all("--json" in s.read_text(encoding="utf-8") for s in scripts)
    out = tmp_path / "tree.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_tree.py"), "--n", "3000", "--small", "300", "--json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["meta"]["script"] == "bench_tree.py" and record["meta"]["versions"]["hclust"] == hclust.__version__
    assert {"operation", "n", "hclust_s"} <= set(record["rows"][0])


def _examples() -> list[Path]:
    return sorted(GALLERY.rglob("plot_*.py"))


def test_gallery_has_the_tutorial_workflows():
    names = {p.stem for p in _examples()}
    for expected in ("plot_01_insurance_onehot_ward", "plot_02_seven_linkages", "plot_03_choosing_k",
                     "plot_04_fruit_weighted_onehot", "plot_05_scipy_walkthrough", "plot_06_mixed_gower",
                     "plot_07_rfm_online_retail", "plot_08_million_customers", "plot_09_save_and_score",
                     "plot_10_html_report"):
        assert expected in names
    for path in (GALLERY / "tutorials").glob("plot_*.py"):
        assert "Where hclust goes further" in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("path", _examples(), ids=[p.stem for p in _examples()])
def test_gallery_example_is_a_titled_script(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree)
    title, underline = docstring.splitlines()[:2]
    assert title and set(underline) == {"="} and len(underline) >= len(title)
    assert "plt.show()" in path.read_text(encoding="utf-8")  # a figure


def test_bundled_docs_data_is_small_and_attributed():
    data = GALLERY / "data"
    for file in data.glob("*.gz"):
        assert file.stat().st_size < 1_000_000
    attribution = (data / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in attribution and "10.24432/C5BW33" in attribution

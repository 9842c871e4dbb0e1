"""The package's layers: every import in ``src/hclust`` points down (or within its layer), none makes a cycle.

The layers are those of DESIGN.md ("Layers (imports point down only)"): front ends render
what the analysis produced, the analysis uses the engines and tree tools, everything uses
the kernels. Each module's imports are read from its source with :mod:`ast` (nothing is
imported), including the lazy ones inside functions and those under ``TYPE_CHECKING``.
An import may go to a lower layer or to the same layer; an import that goes up, or a
cycle of imports (within a layer too), fails the test unless it is one of the documented
``EXCEPTIONS`` below, each with the reason it is there. A new module must be given a
layer (the test says which is missing); a private module ``hclust._name`` without an entry
of its own belongs where ``hclust.name`` does (so renaming a module private keeps its layer).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "hclust"

#: Bottom to top. An entry covers the module of that name and, for a package, its modules.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("hclust._version", "hclust._deprecation", "hclust._config", "hclust._typing", "hclust._column_kinds", "hclust.io",
              "hclust.datasets", "hclust.data")),
    ("kernels", ("hclust._kernels",)),
    ("validation", ("hclust._validation", "hclust._threads")),
    ("engines and tree tools", ("hclust._methods", "hclust._metrics", "hclust.metrics", "hclust.gower",
                                "hclust._inputs", "hclust._connectivity",
                                "hclust._linkage", "hclust._linkage_vector", "hclust._emst", "hclust.divisive",
                                "hclust.summary", "hclust.tree", "hclust.layout", "hclust.dynamic")),
    ("analysis", ("hclust.estimator", "hclust.select", "hclust._compare")),
    ("segments", ("hclust.segment",)),
    ("distributed", ("hclust.dask",)),
    ("front ends", ("hclust.report", "hclust.plot", "hclust.cli")),
    ("package", ("hclust",)),
)

#: (importer, imported) -> why this import is allowed to go up or to close a cycle.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("hclust.segment.model", "hclust.report"): (
        "SegmentationModel.report() and .report_static() are conveniences that hand the model's "
        "SegmentationSummary (computed in the segment layer) to the renderer, imported lazily inside "
        "those two methods; no number flows back up. hclust.write_report(path, model.segmentation_summary()) "
        "is the same without it."
    ),
    ("hclust.segment.model", "hclust.dask._model"): (
        "SegmentationModel.fit(dask DataFrame) hands the fit to the summary tier (issue 23): a lazy import "
        "inside fit, only for a dask DataFrame, so that the model has one fit method for pandas and Dask "
        "tables; hclust.dask._model then fills the model with the segment layer's own methods (the cycle "
        "closes there). SegmentationModel.assign on a dask DataFrame needs no hclust.dask at all."
    ),
    ("hclust._linkage", "hclust.tree"): (
        "linkage(..., optimal_ordering=True), scipy's argument, reorders the tree with "
        "tree.optimal_leaf_ordering (a lazy import), while tree.fclusterdata builds its tree with linkage: "
        "the cycle closes here, on the engine's side (_linkage.py is being restructured in issue 21's "
        "registry work, which can move the ordering below both)."
    ),
}


def _module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str, src: Path) -> bool:
    path = src.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path: Path, src: Path = SRC) -> set[str]:
    """The hclust modules ``path`` imports, wherever the import statement stands."""
    name = _module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "hclust")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "hclust":
                continue
            for alias in node.names:
                # `from . import _assign` imports a module; `from .tree import cut` imports from one
                found.add(f"{source}.{alias.name}" if _is_module(f"{source}.{alias.name}", src) else source)
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (length of the entry, layer)
    for level, (_, entries) in enumerate(LAYERS):
        for entry in entries:
            if module == entry or (entry != "hclust" and module.startswith(entry + ".")):
                if best is None or len(entry) > best[0]:
                    best = (len(entry), level)
    if best is None:
        head, _, tail = module.partition("hclust._")
        if not head and tail:  # hclust._name: where hclust.name is
            return _layer("hclust." + tail)
        return None
    return best[1]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        out.append(sorted(component))
    return out


def _allowed(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    return {module: {t for t in targets if (module, t) not in EXCEPTIONS} for module, targets in graph.items()}


def test_every_module_has_a_layer():
    missing = sorted(module for module in _graph() if _layer(module) is None)
    assert not missing, f"modules in no layer: {missing}; add them to LAYERS in tests/test_layers.py (see DESIGN.md)"


def test_imports_point_down():
    upward = []
    for module, targets in _allowed(_graph()).items():
        for target in sorted(targets):
            mine, theirs = _layer(module), _layer(target)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{module} ({LAYERS[mine][0]}) imports {target} ({LAYERS[theirs][0]})")
    assert not upward, "imports that point up:\n" + "\n".join(upward)


def test_no_import_cycles():
    cycles = _cycles(_allowed(_graph()))
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_exceptions_are_still_needed():
    """An exception whose import is gone must leave the list (so the list only shrinks)."""
    graph = _graph()
    stale = [edge for edge in EXCEPTIONS if edge[1] not in graph.get(edge[0], set())]
    assert not stale, f"EXCEPTIONS lists imports that no longer exist: {stale}"


def test_version_has_its_own_module():
    """``__version__`` is read from hclust._version, never from the package (an upward import)."""
    import hclust
    from hclust._version import __version__

    assert hclust.__version__ == __version__
    assert "hclust._version" in _graph()["hclust"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .. import __version__", {"hclust"}),
        ("from ..tree import cut", {"hclust.tree"}),
        ("from . import _assign", {"hclust.segment._assign"}),
        ("def f():\n    from ..report import write_report", {"hclust.report"}),
        ("import hclust._linkage", {"hclust._linkage"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..select import Evaluation", {"hclust.select"}),
    ],
)
def test_the_reader_sees_every_kind_of_import(tmp_path, source, expected):
    """Lazy, relative, type-only and plain imports all count (the checker is itself checked)."""
    for name in ("hclust/__init__.py", "hclust/segment/__init__.py", "hclust/segment/_assign.py", "hclust/tree.py",
                 "hclust/_linkage.py", "hclust/select.py", "hclust/report/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    module = tmp_path / "hclust" / "segment" / "model.py"
    module.write_text(source + "\n")
    assert _imports(module, tmp_path) == expected


def test_an_upward_import_and_a_cycle_are_caught():
    graph = {"hclust.tree": {"hclust.select"}, "hclust.select": {"hclust.tree"}, "hclust.segment.model": set()}
    assert _cycles(graph) == [["hclust.select", "hclust.tree"]]
    assert _layer("hclust.select") > _layer("hclust.tree")  # the first edge points up
    assert _layer("hclust._divisive") == _layer("hclust.divisive")  # a private twin keeps its layer
    assert _layer("hclust.segment._summary") == _layer("hclust.segment")
    assert _layer("hclust") == len(LAYERS) - 1 and _layer("hclust.unknown") is None

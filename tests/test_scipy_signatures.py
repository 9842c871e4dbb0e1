"""hclust's functions that scipy also has take scipy's arguments: names, positions, defaults.

A scipy call written with positional arguments or scipy's keywords works unchanged;
hclust's own options come after scipy's, keyword-only.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import pytest
import scipy.cluster.hierarchy as sch
import scipy.spatial.distance as ssd

import hclust
import hclust.plot

PAIRS: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (hclust.linkage, sch.linkage),
    (hclust.fcluster, sch.fcluster),
    (hclust.fclusterdata, sch.fclusterdata),
    (hclust.cut_tree, sch.cut_tree),
    (hclust.cophenet, sch.cophenet),
    (hclust.inconsistent, sch.inconsistent),
    (hclust.leaves_list, sch.leaves_list),
    (hclust.optimal_leaf_ordering, sch.optimal_leaf_ordering),
    (hclust.is_valid_linkage, sch.is_valid_linkage),
    (hclust.is_monotonic, sch.is_monotonic),
    (hclust.plot.dendrogram, sch.dendrogram),
    (hclust.dendrogram, sch.dendrogram),
    (hclust.plot.set_link_color_palette, sch.set_link_color_palette),
    (hclust.pdist, ssd.pdist),
    (hclust.cdist, ssd.cdist),
]

POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@pytest.mark.parametrize("ours, theirs", PAIRS, ids=[f"{ours.__module__}.{ours.__name__}" for ours, _ in PAIRS])
def test_signature_is_scipys_then_keyword_only_extras(ours, theirs):
    mine = list(inspect.signature(ours).parameters.values())
    scipy_parameters = list(inspect.signature(theirs).parameters.values())
    scipy_positional = [p for p in scipy_parameters if p.kind in POSITIONAL]
    # scipy's positional parameters, in scipy's order, with scipy's names and defaults
    assert [(p.name, p.kind, p.default) for p in mine[: len(scipy_positional)]] == [
        (p.name, p.kind, p.default) for p in scipy_positional
    ]
    # everything after them is keyword-only (or **kwargs): no scipy call can land on it
    extras = mine[len(scipy_positional) :]
    assert all(p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD) for p in extras), extras
    # scipy's keyword-only parameters and **kwargs exist here too, with scipy's defaults
    by_name = {p.name: p for p in mine}
    for p in scipy_parameters:
        if p.kind == inspect.Parameter.KEYWORD_ONLY:
            assert by_name[p.name].kind == p.kind and by_name[p.name].default == p.default, p.name
        elif p.kind == inspect.Parameter.VAR_KEYWORD:
            assert any(q.kind == inspect.Parameter.VAR_KEYWORD for q in mine)

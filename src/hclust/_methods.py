"""The one table of linkage methods: what every layer asks about a method.

``hclust.linkage`` (input checks, engine choice, the kernels' codes), the
estimator's ``predict``, the segmentation model (Gower), the summary tier,
the connectivity engine, the command line's choices and the tests'
parametrisation all read this table. A new linkage method is an entry here
plus its kernel code in ``hclust._kernels.lance_williams`` (scikit-learn's
``_TREE_BUILDERS`` and scipy's ``_LINKAGE_METHODS`` are the idea).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._kernels import lance_williams as _lw


@dataclass(frozen=True)
class LinkageMethod:
    """How one linkage method behaves.

    Attributes
    ----------
    name : str
        The method's name, as scipy spells it (``"flexible"``: Lance-Williams
        flexible-beta).
    code : int
        Its Lance-Williams update in the kernels (``lance_williams.METHOD_*``).
    squared : bool
        Defined through Euclidean geometry (centroids, variances): its engines
        work on squared Euclidean distances and report their square roots, and
        it needs ``metric="euclidean"``.
    reducible : bool
        Merging reciprocal nearest neighbours in any order gives its tree, so
        the nearest-neighbour chain may finish what the generic algorithm
        started (flexible is reducible for beta <= 0 but its update depends on
        the order of such merges, so it is not listed).
    monotone : bool
        Heights never decrease (no inversions).
    weights : str
        ``"change"`` (observation weights change the tree), ``"ignored"``
        (they do not) or ``"refused"`` (no weighted form).
    vector_engine : str or None
        The linear-memory engine on observations: ``"single"`` (minimum
        spanning tree), ``"ward"`` (reciprocal-nearest-neighbour rounds) or
        ``"centroid"`` (the generic algorithm on cluster centres); None: a
        matrix is needed.
    gower : bool
        Meaningful on Gower (non-Euclidean) distances.
    connectivity : bool
        Runs under a connectivity graph (``linkage(..., connectivity=)``).
    summary : bool
        Available to ``hclust.summarize`` on weighted micro-clusters.
    join : str
        The rule ``predict``/``assign`` use to join a new observation to a
        segment: ``"min"`` (nearest member), ``"max"`` (farthest member),
        ``"linear"`` (a fixed combination of the members' distances: average,
        weighted, flexible), ``"ward"`` (least increase of the within-cluster
        sum of squares), ``"centroid"`` (centre), ``"median"`` (WPGMC midpoint).
    """

    name: str
    code: int
    squared: bool
    reducible: bool
    monotone: bool
    weights: str
    vector_engine: str | None
    gower: bool
    connectivity: bool
    summary: bool
    join: str


#: Every linkage method, in scipy's order.
METHOD_TABLE: tuple[LinkageMethod, ...] = (
    LinkageMethod("single", _lw.METHOD_SINGLE, squared=False, reducible=True, monotone=True, weights="ignored",
                  vector_engine="single", gower=True, connectivity=True, summary=True, join="min"),
    LinkageMethod("complete", _lw.METHOD_COMPLETE, squared=False, reducible=True, monotone=True,
                  weights="ignored", vector_engine=None, gower=True, connectivity=True, summary=True, join="max"),
    LinkageMethod("average", _lw.METHOD_AVERAGE, squared=False, reducible=True, monotone=True, weights="change",
                  vector_engine=None, gower=True, connectivity=True, summary=True, join="linear"),
    LinkageMethod("weighted", _lw.METHOD_WEIGHTED, squared=False, reducible=True, monotone=True,
                  weights="ignored", vector_engine=None, gower=True, connectivity=False, summary=False, join="linear"),
    LinkageMethod("centroid", _lw.METHOD_CENTROID, squared=True, reducible=False, monotone=False,
                  weights="change", vector_engine="centroid", gower=False, connectivity=False, summary=True,
                  join="centroid"),
    LinkageMethod("median", _lw.METHOD_MEDIAN, squared=True, reducible=False, monotone=False, weights="ignored",
                  vector_engine="centroid", gower=False, connectivity=False, summary=False, join="median"),
    LinkageMethod("ward", _lw.METHOD_WARD, squared=True, reducible=True, monotone=True, weights="change",
                  vector_engine="ward", gower=False, connectivity=True, summary=True, join="ward"),
    LinkageMethod("flexible", _lw.METHOD_FLEXIBLE, squared=False, reducible=False, monotone=False,
                  weights="refused", vector_engine=None, gower=True, connectivity=False, summary=False,
                  join="linear"),
)

_BY_NAME = {method.name: method for method in METHOD_TABLE}

#: Names of the linkage methods (sorted).
METHODS: tuple[str, ...] = tuple(sorted(_BY_NAME))


def methods_where(**properties: object) -> tuple[str, ...]:
    """Names (sorted) of the methods with these properties, e.g. ``methods_where(gower=True)``."""
    return tuple(
        sorted(m.name for m in METHOD_TABLE if all(getattr(m, key) == value for key, value in properties.items()))
    )


def method_info(name: str) -> LinkageMethod:
    """The table's entry for ``name``; a ValueError listing the valid names otherwise."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown method {name!r}; valid values are: {', '.join(METHODS)}.") from None

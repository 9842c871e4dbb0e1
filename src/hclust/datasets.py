"""Sample data bundled with hclust (CC BY 4.0; attribution in ``hclust/data/README.md``)."""

from __future__ import annotations

from importlib import resources
from typing import Any

#: Columns of annual spending in the Wholesale customers data.
WHOLESALE_SPENDING = ("Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen")


def load_wholesale() -> Any:
    """The Wholesale customers data: 440 clients of a Portuguese distributor.

    Returns
    -------
    pandas.DataFrame
        440 rows: ``Channel`` (1 = Horeca, 2 = Retail), ``Region`` (1 = Lisbon,
        2 = Oporto, 3 = Other) and annual spending in monetary units on
        ``Fresh``, ``Milk``, ``Grocery``, ``Frozen``, ``Detergents_Paper``,
        ``Delicassen``.

    Notes
    -----
    Cardoso, M. (2014). Wholesale customers. UCI Machine Learning Repository.
    :doi:`10.24432/C5030X`. Licensed under CC BY 4.0.

    Examples
    --------
    >>> from hclust.datasets import load_wholesale
    >>> load_wholesale().shape
    (440, 8)
    """
    import pandas as pd

    with resources.files("hclust.data").joinpath("wholesale_customers.csv").open("r") as stream:
        return pd.read_csv(stream)

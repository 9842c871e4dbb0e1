"""Generated customer tables that reproduce the shapes of real ones (no real data needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def bank_like(n: int = 4521, seed: int = 0) -> pd.DataFrame:
    """A table shaped like UCI's bank-marketing sample (4,521 clients, 17 columns).

    Mostly categorical columns with skewed level frequencies, plus heavy-tailed
    numbers (balance, duration, campaign, previous) whose few extreme values make
    Gower + average linkage split a handful of clients off the rest: the
    degenerate split of hclust issue 19.
    """
    rng = np.random.default_rng(seed)

    def pick(levels: list[str], p: list[float]) -> np.ndarray:
        p_arr = np.asarray(p, dtype=float)
        return rng.choice(np.asarray(levels, dtype=object), size=n, p=p_arr / p_arr.sum())

    pdays = np.where(rng.random(n) < 0.82, -1, rng.integers(1, 872, n))
    previous = np.where(pdays < 0, 0, np.minimum(rng.geometric(0.35, n), 25))
    balance = np.round(rng.lognormal(6.4, 1.4, n) - rng.exponential(300.0, n)).astype(np.int64)
    balance[rng.choice(n, size=3, replace=False)] = [71188, 42045, 26965]
    campaign = np.minimum(rng.geometric(0.38, n), 50)
    campaign[rng.choice(n, size=2, replace=False)] = [50, 44]
    return pd.DataFrame(
        {
            "age": np.clip(np.round(rng.normal(41, 10.5, n)), 19, 87).astype(np.int64),
            "job": pick(
                ["admin.", "blue-collar", "entrepreneur", "housemaid", "management", "retired",
                 "self-employed", "services", "student", "technician", "unemployed", "unknown"],
                [10.6, 20.9, 3.7, 2.5, 21.4, 5.1, 4.1, 9.2, 1.9, 17.0, 2.8, 0.8],
            ),
            "marital": pick(["married", "single", "divorced"], [61.9, 26.4, 11.7]),
            "education": pick(["secondary", "tertiary", "primary", "unknown"], [51.0, 29.9, 15.0, 4.1]),
            "default": pick(["no", "yes"], [98.3, 1.7]),
            "balance": balance,
            "housing": pick(["yes", "no"], [56.6, 43.4]),
            "loan": pick(["no", "yes"], [84.7, 15.3]),
            "contact": pick(["cellular", "unknown", "telephone"], [64.1, 29.3, 6.6]),
            "day": rng.integers(1, 32, n),
            "month": pick(
                ["may", "jul", "aug", "jun", "nov", "apr", "feb", "jan", "oct", "sep", "mar", "dec"],
                [30.9, 15.6, 14.0, 11.8, 8.6, 6.5, 4.9, 3.3, 1.8, 1.2, 1.1, 0.4],
            ),
            "duration": np.minimum(np.round(rng.lognormal(5.2, 0.8, n)), 3025).astype(np.int64),
            "campaign": campaign,
            "pdays": pdays,
            "previous": previous,
            "poutcome": np.where(
                pdays < 0, "unknown", pick(["failure", "other", "success"], [60.0, 22.0, 18.0])
            ).astype(object),
            "y": pick(["no", "yes"], [88.5, 11.5]),
        }
    )

"""How well does ``SegmentationModel.assign`` reproduce the tree? (run: python benchmarks/bench_assign.py)

For each data set, linkage and assignment rule it prints

* **training agreement**: the share of the training customers that
  ``model.assign(training table)`` puts back in their own segment;
* **held-out ARI**: fit on a random 80 % of the customers, assign the other
  20 % with the rule, and compare with the labels those customers get from a
  fit on all rows (adjusted Rand index on the held-out customers), mean and
  minimum over ``--splits`` seeded splits;
* **fits agree**: the ARI of the 80 % fit's own segments with the full fit's on
  the customers they share: how much the tree itself moves, which limits
  every rule.

All fits use the same k (``--k``, default 4; ``--k 0``: the automatic k of the
full fit, which may refuse when no k meets the minimum segment size). Data: the bundled Wholesale
customers (the six spending columns), and from ``../shared/data`` when present
the insurance table (all columns: one-hot + standardised, or Gower) and the mall
customers (gender, age, income, spending score). ``--quick`` runs Wholesale only.
"""

from __future__ import annotations

import argparse
import inspect
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

import hclust
from hclust.datasets import WHOLESALE_SPENDING, load_wholesale

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

#: (label, SegmentationModel keyword arguments)
SETUPS = (
    ("ward", {"method": "ward"}),
    ("average", {"method": "average"}),
    ("gower average", {"method": "average", "metric": "gower"}),
    ("gower complete", {"method": "complete", "metric": "gower"}),
)


def data_sets(quick: bool) -> list[tuple[str, pd.DataFrame, dict]]:
    out = [("wholesale", load_wholesale(), {"columns": list(WHOLESALE_SPENDING)})]
    if quick:
        return out
    insurance = SHARED / "insurance" / "insurance.csv"
    if insurance.is_file():
        out.append(("insurance", pd.read_csv(insurance), {}))
    mall = SHARED / "mall_customers" / "Mall_Customers.csv"
    if mall.is_file():
        out.append(("mall", pd.read_csv(mall), {"exclude": ["CustomerID"]}))
    return out


def rules() -> list[str]:
    parameters = inspect.signature(hclust.SegmentationModel.assign).parameters
    if "rule" not in parameters:
        return ["linkage"]  # hclust before the rules of issue 19
    from hclust.segment._assign import ASSIGN_RULES

    return list(ASSIGN_RULES)


def assign(model: hclust.SegmentationModel, frame: pd.DataFrame, rule: str) -> np.ndarray:
    if "rule" in inspect.signature(model.assign).parameters:
        return model.assign(frame, rule=rule)["segment"].to_numpy()
    return model.assign(frame)["segment"].to_numpy()


def model(k: int | None, **params: object) -> hclust.SegmentationModel:
    """A SegmentationModel without the fit-time checks (measured here directly)."""
    if "holdout" in inspect.signature(hclust.SegmentationModel).parameters:
        params = {**params, "n_boot": 0, "holdout": None}
    return hclust.SegmentationModel(k, **params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=4, help="segments (default 4); 0: automatic k of the full fit")
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    names = rules()
    rows = []
    for data_name, frame, options in data_sets(args.quick):
        for label, setup in SETUPS:
            params = {**options, **setup}
            if data_name == "wholesale" and setup.get("metric") == "gower":
                continue  # all-numeric: Gower is a scaled Manhattan distance, not the use case
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    full = model(args.k or None, **params).fit(frame)
                except ValueError as exc:  # automatic k refused: no k meets the minimum segment size
                    rows.append({"data": data_name, "linkage": label, "rule": "-",
                                 "sizes": "refused: " + str(exc).split(":")[0][:60]})
                    continue
                k = full.n_clusters_
                labels = pd.Series(full.labels_, index=full.row_index_)
                training = frame.loc[full.row_index_]
                held: dict[str, list[float]] = {rule: [] for rule in names}
                fits = []
                for seed in range(args.splits):
                    rng = np.random.default_rng(seed)
                    test = np.zeros(len(frame), dtype=bool)
                    test[rng.choice(len(frame), size=len(frame) // 5, replace=False)] = True
                    part = model(k, **params).fit(frame[~test])
                    fits.append(adjusted_rand_score(labels.loc[part.row_index_], part.labels_))
                    for rule in names:
                        got = assign(part, frame[test], rule)
                        ok = got >= 0
                        truth = labels.reindex(frame.index[test]).to_numpy()
                        held[rule].append(adjusted_rand_score(truth[ok], got[ok]))
                for rule in names:
                    own = np.mean(assign(full, training, rule) == full.labels_)
                    rows.append({
                        "data": data_name, "linkage": label, "rule": rule,
                        "sizes": "/".join(str(s) for s in sorted(np.bincount(full.labels_), reverse=True)),
                        "training agreement": f"{own:.1%}",
                        "held-out ARI mean": round(float(np.mean(held[rule])), 3),
                        "held-out ARI min": round(float(np.min(held[rule])), 3),
                        "fits agree (ARI)": round(float(np.mean(fits)), 3),
                    })
            print(f"# {data_name} / {label}: {time.perf_counter() - start:.1f} s", flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    if args.json:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _measure import write_json

        write_json(args.json, "bench_assign.py", rows, k=args.k, splits=args.splits, quick=args.quick)


if __name__ == "__main__":
    main()

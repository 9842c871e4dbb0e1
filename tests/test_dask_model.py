"""SegmentationModel.fit on a dask DataFrame (the summary tier) and ``hclust segment --dask``.

A real LocalCluster of two worker processes on loopback. The Dask-fitted model
is compared with the pandas-fitted one on tables that fit in memory: the
preparation's statistics exactly where the arithmetic is the same (levels,
missing counts, means, standard deviations, skewness; medians with one
partition), the segments by the adjusted Rand index where micro-clusters
approximate the rows.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")

from sklearn.metrics import adjusted_rand_score  # noqa: E402

import hclust  # noqa: E402
import hclust.dask as hd  # noqa: E402
from hclust.cli import main  # noqa: E402
from hclust.datasets import load_wholesale  # noqa: E402
from hclust.segment import Preparer, PreparerWarning  # noqa: E402
from hclust.segment.model import SegmentationModel  # noqa: E402

#: Dask's Parquet reader calls reset_index(inplace=True), which pandas deprecates.
PARQUET_NOISE = "ignore:The inplace keyword in DataFrame.reset_index"


def _table(n: int, seed: int, missing: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
    """Three well-separated groups of customers (skewed amounts, a category, a few gaps), and the groups."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    centre = np.array([[50.0, 5.0], [400.0, 40.0], [3000.0, 300.0]])
    spend = centre[group, 0] * rng.lognormal(0.0, 0.15, n)
    visits = centre[group, 1] * rng.lognormal(0.0, 0.15, n)
    plan = np.array(["basic", "plus", "pro"])[np.where(rng.random(n) < 0.85, group, rng.integers(0, 3, n))]
    table = pd.DataFrame({"customer": [f"C{i:06d}" for i in range(n)], "spend": spend, "visits": visits,
                          "plan": plan})
    if missing:
        table.loc[rng.choice(n, n // 50, replace=False), "visits"] = np.nan
        table.loc[rng.choice(n, n // 80, replace=False), "plan"] = None
    return table, group


def _same_spec(a: dict, b: dict, exact: tuple = ("name", "kind", "levels", "as_text", "log1p", "features")) -> None:
    for key in exact:
        assert a.get(key) == b.get(key), (a["name"], key, a.get(key), b.get(key))
    for key in ("fill", "center", "scale"):
        if key in b:
            assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-12), (a["name"], key)


# ----------------------------------------------------------------------------- the fit


def test_one_partition_equals_the_pandas_preparation_and_segments(client):
    customers = load_wholesale()
    frame = dd.from_pandas(customers, npartitions=1)
    model = SegmentationModel(4, exclude=["Channel", "Region"], n_micro=440, n_boot=0)
    model.fit(frame, client=client)
    ref = SegmentationModel(4, exclude=["Channel", "Region"], n_boot=0, holdout=None).fit(customers)
    # the statistics: exact (medians too, with one partition) up to summation order
    assert model.preparer_.feature_names_out_ == ref.preparer_.feature_names_out_
    for a, b in zip(model.preparer_.specs_, ref.preparer_.specs_, strict=True):
        _same_spec(a, b)
    # one micro-cluster per customer: the tree is the rows' own (the same summary as in memory)
    prepared = ref.preparer_.transform(customers[ref.columns_]).to_numpy()
    S = hclust.summarize(prepared, n_micro=440)
    assert model.n_micro_ == S.n_micro == 440
    np.testing.assert_allclose(model.linkage_matrix_[:, 2], S.Z[:, 2], rtol=1e-9)
    rows = client.compute(model.row_labels_).result()
    assert adjusted_rand_score(rows, ref.labels_) == 1.0
    # the profile in the table's units: the same statistics as the pandas model's, segment by segment
    by_size = lambda p: sorted(p.sizes["size"].tolist())  # noqa: E731
    assert by_size(model.profile_) == by_size(ref.profile_)
    assert sorted(model.profile_.numeric["mean"].round(6)) == sorted(ref.profile_.numeric["mean"].round(6))
    assert sorted(model.names_.values()) == sorted(ref.names_.values())
    assert model.summary().data["rows"] == 440 and "micro-clusters" in model.summary().data["distance"]


def test_several_partitions_agree_with_the_pandas_fit(client):
    table, group = _table(6_000, seed=1)
    frame = dd.from_pandas(table, npartitions=5, sort=False)
    prep = dict(impute="mean", log1p="auto", scale="standard")
    model = SegmentationModel(3, preparer=Preparer(**prep), n_micro=400, n_boot=0).fit(frame, client=client)
    ref = SegmentationModel(3, preparer=Preparer(**prep), n_boot=0, holdout=None).fit(table)
    assert "customer" in model.preparation_.excluded  # the ID column, left out as in memory
    # means, standard deviations, skewness (the log1p choice), levels: the same arithmetic
    assert model.preparer_.missing_counts_ == ref.preparer_.missing_counts_
    for a, b in zip(model.preparer_.specs_, ref.preparer_.specs_, strict=True):
        _same_spec(a, b)
    rows = client.compute(model.row_labels_).result()
    assert rows.shape == (6_000,) and rows.min() >= 0
    assert adjusted_rand_score(rows, ref.labels_) >= 0.98
    # as close to the generating groups as the in-memory fit (the plans' noise blurs both alike)
    assert abs(adjusted_rand_score(rows, group) - adjusted_rand_score(ref.labels_, group)) < 0.02
    sizes = model.profile_.sizes.set_index("segment")["size"]
    assert sizes.sum() == 6_000 and sorted(sizes) == sorted(np.bincount(rows))


def test_medians_and_quartiles_are_close_with_several_partitions(client):
    table, group = _table(4_000, seed=2)
    frame = dd.from_pandas(table, npartitions=4, sort=False)
    prep = dict(impute="median", log1p=None, scale="robust")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreparerWarning)
        model = SegmentationModel(3, preparer=Preparer(**prep), n_micro=200, n_boot=0).fit(frame, client=client)
        ref = SegmentationModel(3, preparer=Preparer(**prep), n_boot=0, holdout=None).fit(table)
    for a, b in zip(model.preparer_.specs_, ref.preparer_.specs_, strict=True):
        if a["kind"] != "numeric":
            _same_spec(a, b)  # levels and the most frequent level: exact
        else:
            column = table[a["name"]].dropna()
            # within half a percentile of rank of the exact value (the sketches are every 0.1 percentile)
            for key, q in (("fill", 0.5), ("center", 0.5)):
                rank = (column < a[key]).mean()
                assert abs(rank - q) < 0.005, (a["name"], key, rank)
            assert a["scale"] == pytest.approx(b["scale"], rel=0.02)
    rows = client.compute(model.row_labels_).result()
    assert adjusted_rand_score(rows, ref.labels_) >= 0.95


def test_automatic_k_drop_and_progress(client):
    table, group = _table(3_000, seed=3)
    frame = dd.from_pandas(table, npartitions=3, sort=False)
    calls = []
    options = dict(columns=["spend", "visits"], preparer=Preparer(impute="drop"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreparerWarning)
        model = SegmentationModel(**options, n_micro=300, n_boot=5)
        model.fit(frame, client=client, progress=lambda done, total: calls.append((done, total)))
        ref = SegmentationModel(**options, n_boot=0, holdout=None).fit(table)
    # k chosen by hclust.evaluate on the micro-clusters: WSS, Calinski-Harabasz and pseudo-t² are the
    # rows' own exactly (the micro-clusters' sums of squares add up), the tree's heights too
    assert model.evaluation_ is not None and model.n_clusters_ == ref.n_clusters_
    assert "chosen automatically" in model.summary().choice_of_k[0]
    exact = ["wss", "calinski_harabasz", "pseudo_t2"]  # (the height jump at k also needs the k+1 cut)
    k_same = [2, 3]  # cuts that no micro-cluster straddles (at k=4 one does: WSS 156.4 against 158.6)
    pd.testing.assert_frame_equal(model.evaluation_.table.loc[k_same, exact], ref.evaluation_.table.loc[k_same, exact],
                                  rtol=1e-9)
    # rows with a gap were dropped: segment -1, as the pandas model's labelled table
    rows = client.compute(model.row_labels_).result()
    dropped = table["visits"].isna().to_numpy()  # (the plan is not used here)
    assert np.array_equal(rows < 0, dropped)
    assert model.preparation_.rows_in == 3_000 and model.preparation_.rows_used == int((~dropped).sum())
    assert adjusted_rand_score(rows[~dropped], ref.labels_) >= 0.98
    assert model.stability_ is not None and len(model.stability_) == model.n_clusters_
    # progress: the cluster's task completions, never backwards, ending at the total
    done = [d for d, _ in calls]
    assert len(calls) > 10 and done == sorted(done) and calls[-1][0] == calls[-1][1]


def test_save_load_assign_and_report(client, tmp_path):
    table, group = _table(3_000, seed=4, missing=False)
    frame = dd.from_pandas(table, npartitions=3, sort=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreparerWarning)
        model = SegmentationModel(3, n_micro=250, n_boot=0).fit(frame, client=client)
    rows = client.compute(model.row_labels_).result()
    folder = model.save(tmp_path / "model")
    loaded = SegmentationModel.load(folder)
    assert loaded.n_micro_ == model.n_micro_ <= 250 and loaded.n_micro == 250
    assert np.array_equal(loaded.within_ss_, model.summary_.ssd)
    assert loaded.evaluate().table.equals(model.evaluate().table)  # the same evidence after loading
    assert np.array_equal(loaded.labels_, model.labels_) and loaded.names_ == model.names_
    # assigning the table back: the micro-clusters' segments for (almost) every row, in pandas and Dask
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreparerWarning)
        assigned = loaded.assign(table)["segment"].to_numpy()
    lazily = client.compute(loaded.assign(frame)).result()["segment"].to_numpy()
    assert np.array_equal(assigned, lazily)
    assert (assigned == rows).mean() >= 0.99
    assert "micro-clusters" in str(loaded.summary())
    page = loaded.report(tmp_path / "report.html").read_text(encoding="utf-8")
    assert "micro-clusters" in page
    sizes = loaded.segmentation_summary().chosen.sizes
    assert sum(sizes) == 3_000 and sorted(sizes) == sorted(np.bincount(rows))
    # no rows to match a table to: a clear error, not labels on the wrong rows
    for call in (lambda: model.labelled(table), lambda: loaded.labelled(table), lambda: loaded.report(
            tmp_path / "r.html", table)):
        with pytest.raises(ValueError, match="built from .* micro-clusters"):
            call()


def test_bad_input_is_refused_clearly(client):
    table, group = _table(500, seed=5)
    frame = dd.from_pandas(table, npartitions=2, sort=False)
    with pytest.raises(ValueError, match=r"columns names unknown column\(s\) \['nope'\]"):
        SegmentationModel(2, columns=["spend", "nope"]).fit(frame, client=client)
    with pytest.raises(ValueError, match="missing values .* and impute=None"), warnings.catch_warnings():
        warnings.simplefilter("ignore", PreparerWarning)
        SegmentationModel(2, preparer=Preparer(impute=None)).fit(frame, client=client)
    with pytest.raises(ValueError, match="weight_column is not available"):
        SegmentationModel(2, weight_column="spend").fit(frame, client=client)
    with pytest.raises(ValueError, match="metric='gower' is not available"):
        SegmentationModel(2, metric="gower", method="average").fit(frame, client=client)
    with pytest.raises(ValueError, match="method='median' is not available"):
        SegmentationModel(2, method="median").fit(frame, client=client)
    with pytest.raises(ValueError, match="n_micro must be a positive integer"):
        SegmentationModel(2, n_micro=0).fit(frame, client=client)
    with pytest.raises(ValueError, match="client= goes with a dask DataFrame"):
        SegmentationModel(2).fit(table, client=client)
    infinite = table.copy()
    infinite.loc[400, "spend"] = np.inf
    with pytest.raises(ValueError, match="'spend' holds infinite values"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # infer_schema's RuntimeWarning on inf, as in memory
        SegmentationModel(2).fit(dd.from_pandas(infinite, npartitions=2, sort=False), client=client)
    assert np.isinf(infinite.loc[400, "spend"]) and not table.isin([np.inf]).any().any()  # inputs unchanged


def test_row_counts_are_computed_by_the_client(client):
    def on_a_worker(block):
        distributed.get_worker()  # raises ValueError outside a worker: counted anywhere else, this fails
        return block

    rng = np.random.default_rng(6)
    X = rng.normal(size=(2_000, 3)) + 20.0 * (np.arange(2_000) % 2)[:, None]
    arr = da.from_array(X, chunks=(500, 3)).map_blocks(on_a_worker, dtype=np.float64)
    unknown = arr[arr[:, 0] > -np.inf]  # unknown row counts
    assert np.isnan(unknown.chunks[0]).all()
    s = hd.summarize(unknown, n_micro=50, client=client)
    assert s.counts.sum() == 2_000
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=3)
    frame = frame.map_partitions(on_a_worker, meta=frame._meta)
    assert hd.summarize(frame, n_micro=50, client=client).counts.sum() == 2_000
    # the exact tier counts them on the client's workers too, and gives the in-memory tree
    for method in ("single", "ward"):
        np.testing.assert_array_equal(hd.linkage(unknown, method, client=client), hclust.linkage(X, method))
        np.testing.assert_array_equal(hd.linkage(frame, method, client=client), hclust.linkage(X, method))


# ----------------------------------------------------------------------------- CLI


def _digest(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.filterwarnings(PARQUET_NOISE)
@pytest.mark.filterwarnings("ignore::hclust.segment.PreparerWarning")
def test_cli_segment_dask_auto_k_model_and_report(client, tmp_path, capsys, monkeypatch):
    import contextlib

    import hclust.cli

    bars: dict[str, list] = {}

    @contextlib.contextmanager
    def recording(args, label):  # the CLI's rich bar, as the calls it gets
        bars[label] = []
        yield lambda done, total: bars[label].append((done, total))

    monkeypatch.setattr(hclust.cli, "_progress", recording)
    table, group = _table(3_000, seed=7)
    source = tmp_path / "customers"
    source.mkdir()
    for i in range(3):
        table.iloc[i * 1_000:(i + 1) * 1_000].to_parquet(source / f"part{i}.parquet", index=False)
    before = _digest(source)
    out, model_dir, report = tmp_path / "segments", tmp_path / "model", tmp_path / "report.html"
    pattern = str(source / "*.parquet")
    assert main(["segment", pattern, "--dask", "local:2", "--n-micro", "300", "--id", "customer",
                 "--columns", "spend", "visits", "--impute", "drop", "--log1p", "auto", "--out", str(out),
                 "--model", str(model_dir), "--report", str(report)]) == 0
    said = capsys.readouterr().out
    dropped = table["visits"].isna().to_numpy()
    assert f"{int((~dropped).sum())} customers" in said and "micro-clusters" in said
    assert "chosen automatically" in said
    assert f"Wrote {out}, {model_dir}, {report}" in said
    # the bar followed the cluster's task completions: fitting, then labelling every row (3 partitions)
    assert sorted(bars) == ["Labelling every row", "Segmenting on the Dask cluster"]
    for calls in bars.values():
        done = [d for d, _ in calls]
        assert done == sorted(done) and calls[-1][0] == calls[-1][1] > 0
    assert bars["Labelling every row"][-1] == (3, 3)
    assert _digest(source) == before  # the input is untouched
    got = pd.read_parquet(out)
    assert list(got.columns) == ["customer", "segment", "segment_name"]
    assert got["customer"].tolist() == table["customer"].tolist()
    assert np.array_equal(got["segment"].to_numpy() < 0, dropped)
    assert (got.loc[dropped, "segment_name"] == "").all() and (got.loc[~dropped, "segment_name"] != "").all()
    model = SegmentationModel.load(model_dir)
    ref = SegmentationModel(columns=["spend", "visits"], preparer=Preparer(impute="drop"), n_boot=0,
                            holdout=None).fit(table)
    assert model.n_clusters_ == ref.n_clusters_ and model.n_micro_ <= 300
    assert adjusted_rand_score(got.loc[~dropped, "segment"], ref.labels_) >= 0.98
    assert "micro-clusters" in report.read_text(encoding="utf-8")
    # hclust assign with the saved model, on the same rows
    assert main(["assign", str(model_dir), str(source / "part0.parquet"), "--out", str(tmp_path / "a.csv")]) == 0
    capsys.readouterr()
    scored = pd.read_csv(tmp_path / "a.csv")
    kept = ~dropped[:1_000]
    agree = (scored["segment"].to_numpy()[kept] == got["segment"].to_numpy()[:1_000][kept]).mean()
    assert agree >= 0.99


@pytest.mark.filterwarnings(PARQUET_NOISE)
@pytest.mark.filterwarnings("ignore::hclust.segment.PreparerWarning")
def test_cli_segment_dask_bad_input(tmp_path, capsys):
    table, group = _table(400, seed=8)
    source = tmp_path / "customers.parquet"
    table.to_parquet(source, index=False)
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"customer,spend\nC1,abc\n")
    before = {source.name: source.read_bytes(), junk.name: junk.read_bytes()}
    out = str(tmp_path / "out")
    for argv, message in [
        ([str(source), "--columns", "spend", "nope"], "--columns: no column(s) ['nope']"),
        ([str(source), "--impute", "none", "--k", "2"], "and --impute none"),
        ([str(junk), "--k", "2"], "not a readable Parquet file"),
        ([str(source), "--k", "2", "--weights", "spend"], "--weights not available with --dask"),
        ([str(source), "--k", "2", "--metric", "cityblock"], "--metric cityblock not available with --dask"),
        ([str(source), "--k", "2", "--method", "median"], "--method median is not available with --dask"),
        ([str(source), "--k", "2", "--n-micro", "1"], "--n-micro must be an integer >= 2"),
        ([str(source), "--k", "2", "--out", str(tmp_path / "s.csv")], "the output is a Parquet folder"),
        ([str(source), "--k", "2", "--model", str(source)], "--model"),
    ]:
        argv = [*argv, "--out", out] if "--out" not in argv else argv
        assert main(["segment", *argv[:1], "--dask", "local:1", *argv[1:]]) == 1, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, err
    assert {p.name: p.read_bytes() for p in (source, junk)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.parquet", "junk.parquet"]


def test_evaluate_on_summaries_gives_the_rows_sums_of_squares():
    # micro-clusters that no cut of interest straddles: WSS, Calinski-Harabasz, pseudo-t² of the rows, exactly
    rng = np.random.default_rng(9)
    X = np.vstack([rng.normal(c, 0.3, (400, 2)) for c in ([0, 0], [6, 0], [0, 6])])
    S = hclust.summarize(X, n_micro=60)
    rows_labels = S.labels(3)
    on_summaries = hclust.evaluate(S.Z, S.means, ks=[2, 3], weights=S.counts, within_ss=S.ssd,
                                   criteria=("wss", "calinski_harabasz", "pseudo_t2"), min_segment_size=None)
    Z_rows = hclust.linkage(X, "ward")
    on_rows = hclust.evaluate(Z_rows, X, ks=[2, 3], criteria=("wss", "calinski_harabasz", "pseudo_t2"),
                              min_segment_size=None)
    assert adjusted_rand_score(rows_labels, hclust.cut(Z_rows, n_clusters=3)) == 1.0
    pd.testing.assert_frame_equal(on_summaries.table[["wss", "calinski_harabasz", "pseudo_t2"]],
                                  on_rows.table[["wss", "calinski_harabasz", "pseudo_t2"]], rtol=1e-9)
    with pytest.raises(ValueError, match="within_ss describes summaries"):
        hclust.evaluate(S.Z, S.means, ks=[2], within_ss=S.ssd)
    with pytest.raises(ValueError, match=f"within_ss must hold {S.n_micro} finite"):
        hclust.evaluate(S.Z, S.means, ks=[2], weights=S.counts, within_ss=-S.ssd)


def test_empty_and_uneven_partitions(client):
    table, _ = _table(1_200, seed=10, missing=False)
    frame = dd.from_pandas(table, npartitions=4, sort=True)
    frame = frame.map_partitions(lambda part: part[part.index >= 300], meta=frame._meta)  # partition 0: empty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreparerWarning)
        model = SegmentationModel(3, n_micro=120, n_boot=0).fit(frame, client=client)
        ref = SegmentationModel(3, n_boot=0, holdout=None).fit(table.iloc[300:])
    rows = client.compute(model.row_labels_).result()
    assert rows.shape == (900,) and model.row_labels_.chunks[0][0] == 0
    assert adjusted_rand_score(rows, ref.labels_) >= 0.95

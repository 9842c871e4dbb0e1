"""SegmentationModel: fit, assign, labelled output, save/load and refusal of bad files."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.cluster import hierarchy as sch

from hclust.datasets import WHOLESALE_SPENDING, load_wholesale
from hclust.segment import Preparer
from hclust.segment.model import MODEL_FORMAT_VERSION, SegmentationModel


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return load_wholesale()


@pytest.fixture(scope="module")
def fitted(customers) -> SegmentationModel:
    return SegmentationModel(4, columns=list(WHOLESALE_SPENDING)).fit(customers)


def _arrays(folder: Path) -> Path:
    """The arrays file of a saved model."""
    (found,) = folder.glob("arrays*.npz")
    return found


def mixed_table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "age": 25 + 20 * group + rng.normal(0, 3, n),
            "income": 30_000 + 25_000 * group + rng.normal(0, 2_000, n),
            "plan": np.array(["basic", "plus", "premium"])[group],
            "smoker": rng.choice(["yes", "no"], n),
        }
    )


def test_fit_matches_scipy_on_the_prepared_features(fitted, customers):
    X = fitted.features_
    expected = Preparer().fit_transform(customers[list(WHOLESALE_SPENDING)]).to_numpy(float)
    np.testing.assert_allclose(X, expected, rtol=1e-12)
    np.testing.assert_allclose(fitted.linkage_matrix_, sch.linkage(X, "ward"), rtol=1e-12)
    labels = sch.fcluster(sch.linkage(X, "ward"), 4, "maxclust")
    assert sch.is_isomorphic(labels, fitted.labels_)
    assert fitted.n_clusters_ == 4 and len(fitted.names_) == 4
    assert list(fitted.summary()["size"]) == list(np.bincount(fitted.labels_))


def test_assign_returns_segment_distance_confidence(fitted, customers):
    out = fitted.assign(customers)
    assert list(out.columns) == ["segment", "segment_name", "distance", "confidence", "runner_up"]
    heights = fitted.join_heights(customers).to_numpy()
    np.testing.assert_array_equal(out["segment"], heights.argmin(axis=1))
    np.testing.assert_allclose(out["distance"], heights.min(axis=1))
    assert ((out["confidence"] >= 0) & (out["confidence"] <= 1)).all()
    assert (out["runner_up"] != out["segment"]).all()
    # ward's join height: sqrt(2 W/(W+1)) * distance to the centroid
    c = fitted.estimator_.centroids_
    W = fitted.estimator_.segment_weights_
    x = fitted.features_[:3]
    manual = np.sqrt(2 * W / (W + 1)) * np.linalg.norm(x[:, None, :] - c[None], axis=2)
    np.testing.assert_allclose(heights[:3], manual, rtol=1e-12)
    # most training customers join their own segment (not a theorem for ward)
    assert (out["segment"].to_numpy() == fitted.labels_).mean() > 0.8
    assert out["segment_name"].iloc[0] == fitted.names_[int(out["segment"].iloc[0])]


def test_assign_confidence_is_one_at_a_centroid_and_zero_halfway():
    X = pd.DataFrame({"x": [0.0, 0.1, 0.2, 10.0, 10.1, 10.2]})
    model = SegmentationModel(2, method="centroid", preparer=Preparer(scale=None, log1p=None)).fit(X)
    out = model.assign(pd.DataFrame({"x": [0.1, 5.1, 10.1]}))
    np.testing.assert_allclose(out["confidence"], [1.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(out["distance"], [0.0, 5.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("method", ["single", "average", "complete"])
def test_single_average_complete_models(method, customers):
    model = SegmentationModel(3, method=method, columns=list(WHOLESALE_SPENDING)).fit(customers)
    out = model.assign(customers)
    if method == "single":  # nearest member: the training customers keep their segment
        np.testing.assert_array_equal(out["segment"], model.labels_)
    assert out["distance"].notna().all()


def test_automatic_k_keeps_the_evaluation(customers):
    model = SegmentationModel(columns=list(WHOLESALE_SPENDING), ks=range(2, 7)).fit(customers)
    assert model.evaluation_ is not None
    assert model.n_clusters_ == model.evaluation_.recommended_k
    assert any("Recommended" in r for r in model.evaluation_.reasons)


def test_height_cut(customers):
    model = SegmentationModel(height=15.0, columns=list(WHOLESALE_SPENDING)).fit(customers)
    expected = sch.fcluster(model.linkage_matrix_, 15.0, "distance")
    assert sch.is_isomorphic(expected, model.labels_)


def test_weight_column_equals_repeated_rows():
    table = mixed_table(60)[["age", "income"]]
    counts = np.tile([1, 2, 3], 20)
    repeated = table.loc[table.index.repeat(counts)].reset_index(drop=True)
    pre = Preparer(scale=None, log1p=None)
    weighted = SegmentationModel(3, preparer=pre, weight_column="n").fit(table.assign(n=counts))
    plain = SegmentationModel(3, preparer=pre).fit(repeated)
    assert "n" not in weighted.columns_
    # same segments for the distinct rows
    first = repeated.drop_duplicates().index
    assert sch.is_isomorphic(weighted.labels_, plain.labels_[first])


def test_gower_model_saves_and_assigns(tmp_path):
    table = mixed_table()
    model = SegmentationModel(3, method="average", metric="gower").fit(table)
    assert model.preparer_ is None and model.gower_ is not None
    assert sch.is_isomorphic(model.labels_, table["plan"].map({"basic": 0, "plus": 1, "premium": 2}))
    out = model.assign(table)
    assert (out["segment"].to_numpy() == model.labels_).mean() > 0.95
    loaded = SegmentationModel.load(model.save(tmp_path / "gower"))
    pd.testing.assert_frame_equal(loaded.assign(table), out)
    with pytest.raises(ValueError, match="Euclidean"):
        SegmentationModel(3, method="ward", metric="gower").fit(table)


def test_mixed_table_with_preparation_and_missing_values():
    table = mixed_table()
    table.loc[3, "income"] = np.nan
    model = SegmentationModel(3).fit(table)
    assert any(name.startswith("plan=") for name in model.feature_names_)
    new = table.head(4).copy()
    new.loc[0, "plan"] = "platinum"  # unseen level: reported, still assigned
    with pytest.warns(UserWarning, match="not seen in fit"):
        out = model.assign(new)
    assert (out["segment"] >= 0).all()


def test_labelled_adds_segment_columns(fitted, customers):
    out = fitted.labelled(customers)
    assert list(out.columns[-2:]) == ["segment", "segment_name"]
    np.testing.assert_array_equal(out["segment"], fitted.labels_)
    assert list(customers.columns) == list(out.columns[:-2])  # the input is untouched
    with pytest.raises(ValueError, match="already has a 'segment'"):
        fitted.labelled(out)


def test_rename(customers):
    model = SegmentationModel(3, columns=list(WHOLESALE_SPENDING)).fit(customers)
    model.rename({0: "Cafés"})
    assert model.names_[0] == "Cafés"
    assert model.assign(customers.head(40)).query("segment == 0")["segment_name"].eq("Cafés").all()


# --------------------------------------------------------------------------- save / load
def test_save_load_round_trip(fitted, customers, tmp_path):
    folder = fitted.save(tmp_path / "model")
    names = sorted(p.name for p in folder.iterdir())
    document = json.loads((folder / "model.json").read_text())
    assert names == [document["arrays"]["file"], "model.json"]
    assert re.fullmatch(r"arrays-[0-9a-f]{16}\.npz", names[0])
    assert document["format"] == "hclust.SegmentationModel"
    assert document["format_version"] == MODEL_FORMAT_VERSION
    loaded = SegmentationModel.load(folder)
    pd.testing.assert_frame_equal(loaded.assign(customers), fitted.assign(customers))
    np.testing.assert_array_equal(loaded.linkage_matrix_, fitted.linkage_matrix_)
    assert loaded.names_ == fitted.names_
    pd.testing.assert_frame_equal(loaded.summary(), fitted.summary())
    np.testing.assert_array_equal(loaded.labelled(customers)["segment"], fitted.labels_)
    with pytest.raises(ValueError, match="does not keep the training table"):
        loaded.labelled()


def test_save_replaces_a_model_but_nothing_else(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    fitted.save(folder)  # a model folder may be replaced
    assert SegmentationModel.load(folder).n_clusters_ == 4
    precious = tmp_path / "data.csv"
    precious.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a saved hclust model"):
        fitted.save(precious)
    assert precious.read_text() == "a,b\n1,2\n"
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="not a saved hclust model"):
        fitted.save(other)
    assert [p.name for p in other.iterdir()] == ["cat.jpg"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "model.json").write_text("{not json"), "not valid JSON"),
        (lambda f: (f / "model.json").write_text('{"format": "other"}'), "not an hclust segmentation model"),
        (lambda f: _arrays(f).write_bytes(b"garbage"), "checksum"),
        (lambda f: _arrays(f).unlink(), "missing"),
        (lambda f: (f / "model.json").unlink(), "no model.json"),
    ],
)
def test_corrupt_models_are_refused(fitted, tmp_path, damage, message):
    folder = fitted.save(tmp_path / "model")
    damage(folder)
    with pytest.raises(ValueError, match=message):
        SegmentationModel.load(folder)


def test_newer_format_is_refused(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    document = json.loads((folder / "model.json").read_text())
    document["format_version"] = MODEL_FORMAT_VERSION + 1
    (folder / "model.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="Upgrade hclust"):
        SegmentationModel.load(folder)
    del document["params"]
    document["format_version"] = MODEL_FORMAT_VERSION
    (folder / "model.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="corrupt or incomplete"):
        SegmentationModel.load(folder)


def test_load_missing_or_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        SegmentationModel.load(tmp_path / "nope")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ValueError, match="not a saved hclust model"):
        SegmentationModel.load(tmp_path / "f.txt")


# --------------------------------------------------------------------------- bad input
def test_bad_input(customers):
    with pytest.raises(ValueError, match="unknown column"):
        SegmentationModel(3, columns=["Fresh", "Nope"]).fit(customers)
    with pytest.raises(ValueError, match="not both"):
        SegmentationModel(3, height=2.0).fit(customers)
    with pytest.raises(ValueError, match="out of range"):
        SegmentationModel(1000, columns=list(WHOLESALE_SPENDING)).fit(customers)
    with pytest.raises(ValueError, match="at least 2"):
        SegmentationModel(1).fit(customers.head(1))
    with pytest.raises(TypeError, match="DataFrame"):
        SegmentationModel(2).fit(customers.to_numpy())
    with pytest.raises(ValueError, match="positive numbers"):
        SegmentationModel(2, weight_column="Fresh").fit(customers.assign(Fresh=-1))
    with pytest.raises(ValueError, match="method"):
        SegmentationModel(2, method="wardd").fit(customers)
    with pytest.raises(RuntimeError, match="not fitted"):
        SegmentationModel(2).assign(customers)


def test_assign_needs_the_model_columns(fitted, customers):
    with pytest.raises(ValueError, match="lack the model's column"):
        fitted.assign(customers.drop(columns=["Fresh"]))
    empty = fitted.assign(customers.head(0))
    assert len(empty) == 0


def test_no_warnings_on_clean_data(customers):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SegmentationModel(3, columns=list(WHOLESALE_SPENDING)).fit(customers).assign(customers)


# --------------------------------------------------------------------------- the model folder
def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_symlinked_folder_is_followed(fitted, tmp_path):
    real = fitted.save(tmp_path / "real")
    link = tmp_path / "current"
    link.symlink_to(real, target_is_directory=True)
    SegmentationModel(3, columns=list(WHOLESALE_SPENDING)).fit(load_wholesale()).save(link)
    assert link.is_symlink() and SegmentationModel.load(real).n_clusters_ == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "real"]  # no .old-PID, no staging
    dangling = tmp_path / "next"
    dangling.symlink_to(tmp_path / "made-by-save", target_is_directory=True)
    fitted.save(dangling)
    assert SegmentationModel.load(dangling).n_clusters_ == 4 and dangling.is_symlink()


def test_foreign_files_are_refused_and_kept(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    (folder / "notes.txt").write_text("my notes")
    with pytest.raises(ValueError, match=r"is an hclust model but also holds notes\.txt.*nothing was written"):
        fitted.save(folder)
    assert (folder / "notes.txt").read_text() == "my notes"
    (folder / "notes.txt").unlink()
    (folder / ".DS_Store").write_bytes(b"finder")  # operating-system litter is tolerated and kept
    fitted.save(folder)
    assert (folder / ".DS_Store").exists()


def test_save_into_the_current_folder(fitted, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert fitted.save(".") == Path(".")
    assert SegmentationModel.load(".").n_clusters_ == 4
    fitted.save(".")  # and again: the model there is replaced
    assert len(list(empty.glob("arrays*.npz"))) == 1
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "data.csv").write_text("a\n1\n")
    monkeypatch.chdir(busy)
    with pytest.raises(ValueError, match=r"\S+busy exists and is not a saved hclust model \(it holds data\.csv\)"):
        fitted.save(".")


def test_leftovers_of_interrupted_saves_are_cleaned(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    dead = _dead_pid()
    staging = tmp_path / f".model.{dead}.x1y2z3.tmp"
    staging.mkdir()
    (staging / "model.json").write_text("{}")
    legacy_old = tmp_path / f".model.old-{dead}"
    legacy_old.mkdir()
    (legacy_old / "arrays.npz").write_bytes(b"x")
    (folder / ".model.json.abc123.tmp").write_text("partial")
    (folder / "arrays-0123456789abcdef.npz").write_bytes(b"orphan")
    someone_elses = tmp_path / ".model.notes"  # not a staging folder: left alone
    someone_elses.mkdir()
    fitted.save(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.notes", "model"]
    assert len(list(folder.iterdir())) == 2


def test_legacy_interrupted_save_is_recovered(fitted, tmp_path):
    """An earlier hclust renamed the model away, then died before renaming the new one in."""
    folder = fitted.save(tmp_path / "model")
    folder.rename(tmp_path / f".model.old-{_dead_pid()}")
    with pytest.warns(RuntimeWarning, match="was put back"):
        loaded = SegmentationModel.load(tmp_path / "model")
    assert loaded.n_clusters_ == 4 and (tmp_path / "model").is_dir()


_CRASH = """
import os, sys
from hclust.segment.model import SegmentationModel
source, target, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = SegmentationModel.load(source)
count = 0
def crashing(real):
    def op(*args, **kwargs):
        global count
        count += 1
        if count == step:
            os._exit(137)  # like kill -9: no cleanup, no finally
        return real(*args, **kwargs)
    return op
for name in ("replace", "rename", "unlink", "rmdir"):
    setattr(os, name, crashing(getattr(os, name)))
model.save(target)
"""


@pytest.mark.parametrize("existing", [True, False], ids=["replace-a-model", "new-folder"])
def test_save_survives_a_crash_at_every_step(fitted, tmp_path, existing):
    """Killed before any rename, unlink or rmdir of a save, the folder holds the old model or the
    new one (or, for a new folder, none yet); the next save leaves exactly one model."""
    import subprocess
    import sys

    new_model = SegmentationModel(3, columns=list(WHOLESALE_SPENDING)).fit(load_wholesale())
    source = new_model.save(tmp_path / "source")
    script = tmp_path / "crash.py"
    script.write_text(_CRASH)
    outcomes = set()
    for step in range(1, 20):
        work = tmp_path / f"run{step}"
        work.mkdir()
        target = work / "model"
        if existing:
            fitted.save(target)
        done = subprocess.run([sys.executable, str(script), str(source), str(target), str(step)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, 137), done.stderr
        if target.exists():
            outcomes.add(SegmentationModel.load(target).n_clusters_)
        else:
            assert not existing
            outcomes.add(None)
        new_model.save(target)  # the next save cleans up
        assert sorted(p.suffix for p in target.iterdir()) == [".json", ".npz"]
        assert [p.name for p in work.iterdir()] == ["model"]
        if done.returncode == 0:
            break
    else:
        pytest.fail("the save never finished")
    assert outcomes == ({4, 3} if existing else {None, 3})


def test_concurrent_saves_take_turns(fitted, tmp_path):
    import threading

    other = SegmentationModel(3, columns=list(WHOLESALE_SPENDING)).fit(load_wholesale())
    folder = tmp_path / "model"
    fitted.save(folder)
    errors: list[BaseException] = []

    def work(model: SegmentationModel) -> None:
        try:
            for _ in range(5):
                model.save(folder)
                assert SegmentationModel.load(folder).n_clusters_ in (3, 4)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m,)) for m in (fitted, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(folder.iterdir())) == 2


# --------------------------------------------------------------------------- load checks everything
def _document(folder: Path) -> dict:
    return json.loads((folder / "model.json").read_text())


def _rewrite(folder: Path, text_edit=None, **arrays) -> None:
    """Replace arrays (name=value, or name=None to drop) with a consistent checksum, and/or
    edit model.json's text."""
    import io as _io

    document = _document(folder)
    if arrays:
        with np.load(_arrays(folder)) as archive:
            current = {name: archive[name] for name in archive.files}
        for name, value in arrays.items():
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value
        buffer = _io.BytesIO()
        np.savez(buffer, **current)
        _write_blob(folder, document, buffer.getvalue())
        document = _document(folder)
    text = json.dumps(document)
    if text_edit is not None:
        text = text_edit(text)
    (folder / "model.json").write_text(text)


def _write_blob(folder: Path, document: dict, blob: bytes) -> None:
    import hashlib

    _arrays(folder).unlink()
    name = "arrays.npz"
    (folder / name).write_bytes(blob)
    document["arrays"]["file"] = name
    document["arrays"]["sha256"] = hashlib.sha256(blob).hexdigest()
    (folder / "model.json").write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('"beta": -0.25', '"beta": NaN'), r"non-finite number \(NaN\)"),
        (lambda t: re.sub(r'"ks": \[[^\]]*\]', '"ks": [Infinity]', t), r"non-finite number \(Infinity\)"),
        (lambda t: t.replace('"beta": -0.25', '"beta": 1e999'), "out of range"),
        (lambda t: re.sub(r'("scale": )\d[\d.e+-]*', r"\1-Infinity", t, count=1), r"non-finite number \(-Infinity\)"),
        (lambda t: re.sub(r'"ks": \[[^\]]*\]', '"ks": [2.5]', t), "params.ks must be a whole number"),
        (lambda t: t.replace('"method": "ward"', '"method": "wards"'), "unknown method 'wards'"),
        (lambda t: re.sub(r'"file": "[^"]*"', '"file": "../sparse.bin"', t), "arrays file '../sparse.bin'"),
        (lambda t: re.sub(r'"file": "[^"]*"', '"file": "/etc/passwd"', t), "arrays file '/etc/passwd'"),
        (lambda t: re.sub(r'"n_clusters": 4,\s*"names"', '"n_clusters": 0, "names"', t), "n_clusters is 0"),
        (lambda t: re.sub(r'"stop": 440', '"stop": 441', t), "implies shape"),
    ],
)
def test_load_refuses_bad_values_in_one_line(fitted, tmp_path, edit, message):
    folder = fitted.save(tmp_path / "model")
    _rewrite(folder, text_edit=edit)
    with pytest.raises(ValueError, match=message) as info:
        SegmentationModel.load(folder)
    assert "\n" not in str(info.value)


def test_scale_parameters_are_in_the_json(fitted, tmp_path):
    """The -Infinity case above edits the preparer's fitted scale: make sure it exists."""
    text = (fitted.save(tmp_path / "model") / "model.json").read_text()
    assert re.search(r'"scale": \d', text)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"labels": np.r_[np.zeros(439, np.int64), 4]}, "labels run from 0 to 4"),
        ({"labels": np.r_[np.zeros(439, np.int64), -1]}, "labels run from -1"),
        ({"labels": np.full(440, 0.5)}, "array 'labels' is declared as float64"),
        ({"weights": np.r_[np.ones(439), -1.0]}, "weights must be positive"),
        ({"weights": np.r_[np.ones(439), np.nan]}, "weights must be positive"),
        ({"features": np.full((440, 6), np.inf)}, "features hold NaN or infinite"),
        ({"linkage": np.zeros((439, 4))}, "linkage matrix is not valid"),
        ({"linkage": None}, "lacks linkage"),
        ({"extra": np.zeros(3)}, "unexpected array 'extra.npy'"),
        ({"features": np.zeros((440, 7))}, r"declared as float64 of shape \(440, 7\)"),
    ],
)
def test_load_refuses_arrays_that_do_not_make_a_model(fitted, tmp_path, arrays, message):
    folder = fitted.save(tmp_path / "model")
    _rewrite(folder, **arrays)
    with pytest.raises(ValueError, match=message) as info:
        SegmentationModel.load(folder)
    assert "\n" not in str(info.value)


def test_array_sizes_are_checked_before_inflating(fitted, tmp_path):
    """A small file that declares a huge array is refused from its header alone."""
    import io as _io
    import zipfile

    folder = fitted.save(tmp_path / "model")
    header = _io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**8, 4)})
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("linkage.npy", header.getvalue() + bytes(3_000_000))
    _write_blob(folder, _document(folder), buffer.getvalue())
    with pytest.raises(ValueError, match=r"'linkage' is declared as float64 of shape \(100000000, 4\)"):
        SegmentationModel.load(folder)


def test_array_file_linked_outside_is_refused(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    outside = tmp_path / "elsewhere.npz"
    arrays = _arrays(folder)
    arrays.rename(outside)
    arrays.symlink_to(outside)
    with pytest.raises(ValueError, match="link to a file outside the model folder"):
        SegmentationModel.load(folder)


def test_old_models_with_arrays_npz_still_load(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    _write_blob(folder, _document(folder), _arrays(folder).read_bytes())
    assert (folder / "arrays.npz").exists()
    assert SegmentationModel.load(folder).n_clusters_ == 4
    fitted.save(folder)  # replaced by the current naming, the old file removed
    assert not (folder / "arrays.npz").exists() and len(list(folder.iterdir())) == 2

"""Run records: kept bounded, round-tripped through runs files and experiment files, and
hostile or damaged runs refused with ModelFileError before anything is allocated for them."""

import csv
import io
import json
from dataclasses import replace

import numpy as np
import pytest

from core.archive import META, Archive, ModelFileError
from core.experiment import load_experiment, save_experiment
from core.model import Sequential
from core.runs import MAX_HISTORY_ROWS, RunRecord, kept_columns, kept_history, runs_csv
from core.runs_archive import load_runs, save_runs
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.history import History
from core.training.trainer import build_trainer
from tests.core.archives import add_zero_member, counting_decompression, rewrite

SPEC = mlp_spec(2, [4], 2)


def history(epochs: int) -> np.ndarray:
    rows = np.full((epochs, len(History.COLUMNS)), np.nan)
    e = np.arange(1, epochs + 1)
    rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3] = e, 10 * e, 0.01 * e, 0.03
    rows[:, 4], rows[:, 5] = 1.0 / e, 1 - 0.5 / e
    return rows


def record(i: int, pinned: bool = False) -> RunRecord:
    weights = Sequential(SPEC, rng=np.random.default_rng(i)).get_state() if pinned else None
    return RunRecord(
        id=f"run{i}",
        name=f"adam lr 0.0{i}",
        mode="plane",
        settings={"training": {"optimizer": "adam", "lr": 0.01 * i}},
        history=history(3 + i),
        epochs=3 + i,
        steps=10 * (3 + i),
        wall_time=0.5 * i,
        n_params=22,
        pinned=pinned,
        created=1000.0 + i,
        spec=SPEC if pinned else None,
        weights=weights,
    )


def same(a: RunRecord, b: RunRecord) -> bool:
    fields = ("id", "name", "mode", "settings", "epochs", "steps", "wall_time", "n_params")
    if any(getattr(a, f) != getattr(b, f) for f in fields) or a.pinned != b.pinned:
        return False
    if not np.array_equal(a.history, b.history, equal_nan=True):
        return False
    if (a.weights is None) != (b.weights is None):
        return False
    return a.weights is None or all(np.array_equal(a.weights[k], b.weights[k]) for k in a.weights)


def test_a_long_history_is_thinned_to_its_cap_keeping_the_first_and_last_epochs():
    rows = history(3 * MAX_HISTORY_ROWS)
    rows[5, 4] = np.inf  # a diverged epoch
    kept = kept_history(rows)
    assert len(kept) == MAX_HISTORY_ROWS
    assert kept[0, 0] == 1 and kept[-1, 0] == 3 * MAX_HISTORY_ROWS
    assert np.all(np.diff(kept[:, 0]) > 0) and not np.isinf(kept).any()
    assert kept_history(rows[:10]).shape == (10, 8)
    columns = dict(zip(History.COLUMNS, rows.T, strict=True))  # as a snapshot has it
    np.testing.assert_array_equal(kept_columns(columns), kept)


def test_runs_file_round_trip_keeps_weights_of_pinned_runs_only(tmp_path):
    runs = [record(1), record(2, pinned=True), record(3)]
    unpinned_weights = record(4, pinned=True)
    runs.append(RunRecord(**{**unpinned_weights.__dict__, "pinned": False}))
    save_runs(tmp_path / "runs" / "plane.npz", runs)
    back, skipped = load_runs(tmp_path / "runs" / "plane.npz")
    assert skipped == []
    assert [r.id for r in back] == ["run1", "run2", "run3", "run4"]
    assert all(same(a, b) for a, b in zip(runs[:3], back[:3], strict=True))
    assert back[1].weights is not None and back[1].spec == SPEC
    assert back[3].weights is None and back[3].spec is None  # not pinned: no weights kept


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"not a zip at all"),
        lambda p: p.write_bytes(p.read_bytes()[:200]),  # truncated
        lambda p: rewrite(p, lambda a, m: m.update(format="nn-playground/model")),
        lambda p: rewrite(p, lambda a, m: m.update(version=7)),
    ],
)
def test_a_damaged_runs_file_is_refused(tmp_path, damage):
    path = tmp_path / "plane.npz"
    save_runs(path, [record(1), record(2, pinned=True)])
    damage(path)
    with pytest.raises(ModelFileError):
        load_runs(path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a, m: m.update(runs="many"), "not a list"),
        (lambda a, m: m["runs"].extend([m["runs"][0]] * 300), "302 runs"),
        (lambda a, m: a.update({"7/history": a["0/history"]}), "unexpected"),
    ],
)
def test_a_runs_file_whose_list_is_hostile_is_refused(tmp_path, change, message):
    path = tmp_path / "plane.npz"
    save_runs(path, [record(1), record(2, pinned=True)])
    rewrite(path, change)
    with pytest.raises(ModelFileError, match=message):
        load_runs(path)


@pytest.mark.parametrize(
    "run, change, message",
    [
        (1, lambda a, m: m["runs"][0].update(rows=10**12), "rows"),
        (1, lambda a, m: m["runs"][0].update(epochs="3"), "epochs"),
        (1, lambda a, m: m["runs"][0].update(wall_time=float("inf")), "wall_time"),
        (1, lambda a, m: m["runs"][0].update(name=["x"]), "name"),
        (1, lambda a, m: m["runs"][0].update(name="a\x1b[31mb"), "control characters"),
        (1, lambda a, m: m["runs"][0].update(mode="bogus"), "mode is 'bogus'; allowed: plane"),
        (1, lambda a, m: m["runs"][0].update(id="../../etc"), "id"),
        (2, lambda a, m: m["runs"][1].update(id="run1"), "twice"),
        (2, lambda a, m: m["runs"][1].update(spec={"input_shape": [10**9], "layers": []}), ""),
        (1, lambda a, m: m["runs"][0].update(rows=2), "shape"),  # its member holds 4 rows
        (1, lambda a, m: a.update({"0/history": -a["0/history"]}), "epoch"),
        (2, lambda a, m: a.update({"1/param/0.W": a["1/param/0.W"] * np.nan}), "NaN"),
        (2, lambda a, m: a.pop("1/param/0.W"), "missing"),
        (
            1,
            lambda a, m: m["runs"][0]["settings"]["training"].update(lr=float("nan")),
            "settings hold a value that is not finite",
        ),
    ],
)
def test_a_hostile_run_is_skipped_and_named_the_others_kept(tmp_path, run, change, message):
    path = tmp_path / "plane.npz"
    runs = [record(1), record(2, pinned=True), record(3)]
    save_runs(path, runs)
    rewrite(path, change)
    back, skipped = load_runs(path)
    assert [r.id for r in back] == [r.id for r in runs if r.id != f"run{run}"]
    assert len(skipped) == 1 and f"run {run}: " in skipped[0] and message in skipped[0]


def test_runs_past_the_pinned_cap_are_read_without_their_weights(tmp_path):
    path = tmp_path / "plane.npz"
    save_runs(path, [record(1, pinned=True), record(2, pinned=True)])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("core.runs_archive.MAX_PINNED", 1)
        back, skipped = load_runs(path)
    assert [r.weights is not None for r in back] == [True, False]
    assert back[1].pinned and len(skipped) == 1 and "run 2: past 1 runs with weights" in skipped[0]


def test_the_writer_never_writes_what_its_reader_refuses(tmp_path, monkeypatch):
    path = tmp_path / "plane.npz"
    monkeypatch.setattr("core.runs_archive.MAX_PINNED", 2)
    save_runs(path, [record(i, pinned=True) for i in range(1, 5)])  # 4 pinned, 2 keep weights
    back, skipped = load_runs(path)
    assert skipped == [] and [r.weights is not None for r in back] == [True, True, False, False]
    assert all(r.pinned for r in back)
    nan = replace(record(1), settings={"training": {"lr": float("nan")}})
    with pytest.raises(ValueError, match="run 1 .*settings hold a value that is not finite"):
        save_runs(path, [nan])
    with pytest.raises(ValueError, match="mode"):
        save_runs(path, [replace(record(1), mode="bogus")])
    assert len(load_runs(path)[0]) == 4  # the file stays as it was


def test_a_history_member_declaring_gigabytes_is_skipped_before_decompression(tmp_path):
    path = tmp_path / "plane.npz"
    save_runs(path, [record(1), record(2)])

    def drop_history(arrays, meta):
        del arrays["0/history"]

    rewrite(path, drop_history)
    add_zero_member(path, "0/history.npy", 64 * 1024**2, shape=(1024**2, 8))
    with counting_decompression() as inflated:
        back, skipped = load_runs(path)
    assert [r.id for r in back] == ["run2"] and "run 1: 0/history is larger" in skipped[0]
    assert inflated[0] < 64 * 1024  # meta.json and run 2 only


def small_trainer():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 2)).astype(np.float32), rng.integers(0, 2, 20)
    trainer = build_trainer(SPEC, TrainConfig(optimizer="adam", batch_size=5, seed=1), x, y)
    trainer.run_epoch()
    return trainer


def test_experiment_files_round_trip_their_runs_section(tmp_path):
    trainer, runs = small_trainer(), [record(1), record(2, pinned=True)]
    save_experiment(tmp_path / "e.npz", trainer, {"name": "test"}, runs=runs)
    back = load_experiment(tmp_path / "e.npz").runs
    assert len(back) == 2 and all(same(a, b) for a, b in zip(runs, back, strict=True))
    save_experiment(tmp_path / "plain.npz", trainer, {"name": "test"})
    assert load_experiment(tmp_path / "plain.npz").runs == ()  # no section: no runs


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a, m: m.update(runs={"0": 1}), "not a list"),
        (lambda a, m: m["runs"][0].update(rows=2**40), "rows"),
        (lambda a, m: m["runs"][0].update(settings="adam"), "settings"),
        (lambda a, m: a.update({"runs/9/history": a["runs/0/history"]}), "unexpected"),
        (lambda a, m: a.pop("runs/1/param/0.W"), "missing"),
    ],
)
def test_a_hostile_runs_section_refuses_the_experiment_file(tmp_path, change, message):
    path = tmp_path / "e.npz"
    save_experiment(path, small_trainer(), {"name": "t"}, runs=[record(1), record(2, True)])
    rewrite(path, change)
    reads = []
    real_read = Archive.read

    def counting_read(self, key, expected):
        reads.append(key)
        return real_read(self, key, expected)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Archive, "read", counting_read)
        with pytest.raises(ModelFileError, match=message):
            load_experiment(path)
    assert reads == ["meta.json"]  # refused before any array was read


def test_runs_csv_has_one_row_per_run_with_its_final_metrics():
    rows = list(csv.reader(io.StringIO(runs_csv([record(1), record(2, pinned=True)]))))
    assert rows[0][:4] == ["name", "mode", "epochs", "steps"]
    assert rows[1][0] == "adam lr 0.01" and rows[1][2] == "4"
    assert float(rows[1][4]) == pytest.approx(0.25) and rows[1][5] == ""  # no test set
    assert rows[2][-2] == "1"  # pinned


def test_runs_csv_keeps_full_precision_and_defuses_formulas():
    run = replace(record(1), name="=HYPERLINK(1)", wall_time=0.1 + 0.2)
    rows = list(csv.reader(io.StringIO(runs_csv([run, replace(record(2), name="-lr")]))))
    assert rows[1][0] == "'=HYPERLINK(1)" and rows[2][0] == "'-lr"
    assert float(rows[1][8]) == 0.1 + 0.2  # repr: reads back as the same float
    assert float(rows[1][4]) == run.last("train_loss")


def test_an_experiment_file_with_runs_is_version_3_and_a_runs_key_needs_it(tmp_path):
    trainer = small_trainer()
    with_runs = save_and_meta(tmp_path / "runs.npz", trainer, [record(1)])
    assert with_runs["version"] == 3
    assert save_and_meta(tmp_path / "plain.npz", trainer, [])["version"] == 2
    for version in (1, 2):
        path = rewrite(
            tmp_path / "runs.npz",
            lambda a, m, v=version: m.update(version=v),
            tmp_path / f"v{version}.npz",
        )
        with pytest.raises(ModelFileError, match=f"a version {version} file with runs"):
            load_experiment(path)


def save_and_meta(path, trainer, runs) -> dict:
    save_experiment(path, trainer, {"name": "t"}, runs=runs)
    with Archive(path, "experiment file") as archive:
        return json.loads(str(archive.read("meta.json", META)))

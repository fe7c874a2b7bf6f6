"""Experiment files: save, reopen and continue gives bit for bit the losses of the uninterrupted
run (every layer type, mid-epoch and at epoch boundaries, with augmentation, through train_iter
and through the command line); what does not fit is refused and changes nothing."""

import hashlib
import io
import json

import numpy as np
import pytest
from layer_cases import activation_cases

from core import cli, cli_options
from core.archive import ModelFileError
from core.data.toy2d import make_dataset
from core.experiment import file_sha256, load_experiment, save_experiment
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.loop import train_iter
from core.training.trainer import build_trainer
from tests.core.archives import rewrite

CNN = {
    "input_shape": [2, 7, 7],
    "layers": [
        {"type": "conv", "filters": 3, "kernel_size": 3, "padding": "same"},
        {"type": "batchnorm"},
        {"type": "relu"},
        {"type": "maxpool", "pool_size": 2},
        {"type": "conv", "filters": 3, "kernel_size": 2, "padding": 1},
        {"type": "avgpool", "pool_size": 2, "stride": 1},
        {"type": "flatten"},
        {"type": "dropout", "rate": 0.3},
        {"type": "dense", "units": 3},
    ],
    "loss": "softmax_ce",
}


CASES = {
    **activation_cases(n_inputs=2, units=6),
    "cnn": CNN,
}


def data_for(spec, n=60, seed=0):
    rng = np.random.default_rng(seed)
    shape = tuple(spec["input_shape"])
    x = rng.normal(0, 1.5, (n, *shape)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return x[:45], y[:45], x[45:], y[45:]


def snapshot(trainer):
    """Everything a continued run depends on, as comparable values."""
    s = trainer.state_dict()
    return (
        {k: v.copy() for k, v in s["model"].items()},
        {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s["optimizer"].items()},
        json.dumps(s["rng"]),
        s["steps"],
        s["epoch"],
        s["position"],
        None if s["permutation"] is None else s["permutation"].copy(),
        s["batch_loss"],
        np.delete(s["history"], 2, axis=1),  # every column but the wall-clock time
    )


def same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return a == b


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("stop_at", [17, 15])  # mid-epoch, and an epoch boundary (batch 9)
def test_continue_gives_identical_losses(case, stop_at, tmp_path):
    spec = CASES[case]
    config = TrainConfig(optimizer="adam", lr=0.01, batch_size=9, epochs=6, seed=4, l2=1e-3)
    data = data_for(spec)
    full = build_trainer(spec, config, *data)
    expected = [full.step() for _ in range(30)]

    first = build_trainer(spec, config, *data)
    losses = [first.step() for _ in range(stop_at)]
    path = tmp_path / "run.npz"
    save_experiment(path, first, {"kind": "arrays"}, {"class_names": ["a", "b", "c"]})
    exp = load_experiment(path)
    assert exp.steps == stop_at and exp.data == {"kind": "arrays"}
    resumed = exp.build_trainer(*data)
    losses += [resumed.step() for _ in range(30 - stop_at)]
    assert losses == expected  # bit for bit
    assert same(snapshot(resumed), snapshot(full))


@pytest.mark.parametrize(
    "optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adamw"]
)
def test_every_optimizer_continues_exactly(optimizer, tmp_path):
    spec = mlp_spec(2, [5], 3, batchnorm=True, dropout=0.1)
    config = TrainConfig(optimizer=optimizer, lr=0.05, batch_size=8, seed=1, clip_norm=1.0)
    config.schedule = {"name": "cosine", "total_epochs": 5, "warmup": 1}
    data = data_for(spec)
    full = build_trainer(spec, config, *data)
    expected = [full.step() for _ in range(20)]
    first = build_trainer(spec, config, *data)
    losses = [first.step() for _ in range(11)]
    save_experiment(tmp_path / "e.npz", first, {})
    resumed = load_experiment(tmp_path / "e.npz").build_trainer(*data)
    losses += [resumed.step() for _ in range(9)]
    assert losses == expected


def test_augmentation_live_changes_and_history_continue(tmp_path):
    def augment(x, rng):  # random shifts, as image augmentation would draw
        return x + rng.normal(0, 0.1, x.shape).astype(x.dtype)

    spec = mlp_spec(2, [6], 3, dropout=0.2)
    config = TrainConfig(lr=0.02, batch_size=7, seed=2)
    data = data_for(spec)

    def make():
        trainer = build_trainer(spec, config, *data, augment=augment)
        trainer.set_lr(0.03)  # changed live, as the app allows
        trainer.set_regularization(l1=1e-4, l2=2e-3)
        return trainer

    full = make()
    expected = [full.step() for _ in range(25)]
    first = make()
    losses = [first.step() for _ in range(10)]
    save_experiment(tmp_path / "e.npz", first, {})
    exp = load_experiment(tmp_path / "e.npz")
    with pytest.raises(ModelFileError, match="augmentation"):
        exp.build_trainer(*data)  # the same run needs the same augmentation
    resumed = exp.build_trainer(*data, augment=augment)
    assert (resumed.base_lr, resumed.l1, resumed.l2) == (0.03, 1e-4, 2e-3)
    losses += [resumed.step() for _ in range(15)]
    assert losses == expected
    assert same(snapshot(resumed), snapshot(full))
    assert np.array_equal(resumed.history.columns()["epoch"], [1, 2, 3])


def test_train_iter_stops_where_the_uninterrupted_run_stops(tmp_path):
    """Early stopping's patience is part of the run: a continued run stops at the same epoch."""
    d = make_dataset("gauss", n_samples=120, noise=0.3, seed=1)
    spec = mlp_spec(2, [4], 2)
    config = TrainConfig(lr=0.05, batch_size=10, epochs=200, patience=3, seed=0)
    data = (d.x_train, d.y_train, d.x_test, d.y_test)
    full = build_trainer(spec, config, *data)
    end = list(train_iter(full, interval=1e9, detail=False))[-1]
    assert end.reason == "early_stopping"
    first = build_trainer(spec, config, *data)
    for _ in range(end.epoch - 2):  # stop two epochs before the end
        first.run_epoch()
    first.step()
    save_experiment(tmp_path / "e.npz", first, {})
    resumed = load_experiment(tmp_path / "e.npz").build_trainer(*data)
    last = list(train_iter(resumed, interval=1e9, detail=False))[-1]
    assert (last.reason, last.epoch, last.step) == (end.reason, end.epoch, end.step)
    assert same(snapshot(resumed), snapshot(full))


def test_file_layout_is_plain_numpy(tmp_path):
    spec = mlp_spec(2, [4], 3, batchnorm=True)
    trainer = build_trainer(spec, TrainConfig(batch_size=8), *data_for(spec))
    for _ in range(9):
        trainer.step()
    save_experiment(tmp_path / "e.npz", trainer, {"kind": "toy", "name": "xor"}, {"x": 1})
    with np.load(tmp_path / "e.npz", allow_pickle=False) as f:
        meta = json.loads(str(f["meta.json"]))
        assert meta["format"] == "nn-playground/experiment" and meta["version"] == 2
        assert meta["data"] == {"kind": "toy", "name": "xor"} and meta["metadata"] == {"x": 1}
        assert meta["trainer"]["steps"] == 9 and meta["trainer"]["position"] == 24
        assert meta["config"]["batch_size"] == 8 and meta["optimizer"]["name"] == "adam"
        assert f["optimizer/exp_avg"].shape == (trainer.model.n_params,)
        assert f["history"].shape == (1, 8) and f["permutation"].shape == (45,)
        assert f["param/0.W"].shape == (2, 4) and "buffer/1.running_mean" in f.files
        assert f["trace/steps"].tolist() == list(range(1, 10)) and f["trace/loss"].shape == (9,)
        assert meta["trace"] == {"width": 1, "sum": 0.0, "count": 0, "points": 9}
    model = load_experiment(tmp_path / "e.npz").model()  # for inference or export
    x = np.random.default_rng(0).normal(size=(10, 2))
    assert np.array_equal(model.predict_proba(x), trainer.model.predict_proba(x))


def test_refuses_other_data_or_settings_and_changes_nothing(tmp_path):
    spec = mlp_spec(2, [4], 3)
    config = TrainConfig(batch_size=8, seed=0)
    data = data_for(spec)
    trainer = build_trainer(spec, config, *data)
    for _ in range(3):
        trainer.step()
    save_experiment(tmp_path / "e.npz", trainer, {})
    exp = load_experiment(tmp_path / "e.npz")
    other = data_for(spec, seed=1)
    with pytest.raises(ModelFileError, match="data differ"):
        exp.build_trainer(*other)
    with pytest.raises(ModelFileError, match="batch"):
        exp.build_trainer(*data, config=TrainConfig(batch_size=9, seed=0))
    with pytest.raises(ModelFileError, match="optimizer"):
        exp.build_trainer(*data, config=TrainConfig(optimizer="sgd", batch_size=8))
    # a state that does not fit leaves an existing trainer as it was
    target = build_trainer(spec, config, *other)
    target.step()
    before = snapshot(target)
    with pytest.raises(ValueError):
        target.load_state_dict(trainer.state_dict())
    assert same(snapshot(target), before)


def test_diverged_run_is_not_saved(tmp_path):
    spec = mlp_spec(2, [4], 3)
    trainer = build_trainer(spec, TrainConfig(batch_size=8), *data_for(spec))
    trainer.model.theta[0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        save_experiment(tmp_path / "e.npz", trainer, {})
    with pytest.raises(ValueError, match="JSON"):
        save_experiment(
            tmp_path / "e.npz", build_trainer(spec, TrainConfig(), *data_for(spec)), {"x": {1, 2}}
        )
    assert not list(tmp_path.iterdir())


# -- command line --------------------------------------------------------------------------------
def run_cli(*args):
    out = io.StringIO()
    parsed = cli_options.build_parser().parse_args([str(a) for a in args])
    return cli.run(parsed, out), out.getvalue()


TOY = [
    "--dataset",
    "spiral",
    "--samples",
    "200",
    "--noise",
    "0.2",
    "--batch-size",
    "7",
    "--batchnorm",
    "--dropout",
    "0.1",
    "--schedule",
    "cosine",
    "--progress",
    "none",
]


def test_cli_resume_continues_exactly(tmp_path):
    code, _ = run_cli(*TOY, "--epochs", "8", "--save-experiment", tmp_path / "full.npz")
    assert code == 0
    code, _ = run_cli(
        *TOY, "--epochs", "8", "--target-loss", "100", "--save-experiment", tmp_path / "part.npz"
    )
    assert code == 0 and load_experiment(tmp_path / "part.npz").epoch == 1
    code, text = run_cli(
        "--resume",
        tmp_path / "part.npz",
        "--progress",
        "none",
        "--target-loss",
        "0",
        "--json",
        "--save-experiment",
        tmp_path / "cont.npz",
        "--out",
        tmp_path / "m.npz",
    )
    result = json.loads(text)
    assert code == 0 and result["epochs"] == 8 and result["reason"] == "epochs"
    full, cont = load_experiment(tmp_path / "full.npz"), load_experiment(tmp_path / "cont.npz")
    h_full, h_cont = full.history(), cont.history()
    for column in ("step", "lr", "train_loss", "train_acc", "test_loss", "test_acc"):
        assert np.array_equal(h_full[column], h_cont[column])
    assert same(full.state["model"], cont.state["model"])
    assert same(full.state["optimizer"], cont.state["optimizer"])
    assert cont.data == full.data and cont.data["kind"] == "toy"
    # --epochs extends a finished run
    code, text = run_cli(
        "--resume", tmp_path / "cont.npz", "--epochs", "10", "--json", "--progress", "none"
    )
    assert code == 0 and json.loads(text)["epochs"] == 10


def test_cli_resume_refuses_conflicting_options_and_changed_csv(tmp_path, capsys):
    code, _ = run_cli(*TOY, "--epochs", "1", "--save-experiment", tmp_path / "e.npz")
    assert cli.main(["--resume", str(tmp_path / "e.npz"), "--lr", "0.5"]) == 2
    assert "--lr: cannot be combined with --resume" in capsys.readouterr().err
    assert cli.main(["--resume", str(tmp_path / "missing.npz")]) == 2
    assert "no such file" in capsys.readouterr().err

    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a:.3f},{b:.3f},{int(a > b)}" for a, b in rng.uniform(-5, 5, (60, 2)))
    csv = tmp_path / "pts.csv"
    csv.write_text("x1,x2,label\n" + rows + "\n")
    code, _ = run_cli(
        "--csv", csv, "--epochs", "2", "--progress", "none", "--save-experiment", tmp_path / "c.npz"
    )
    exp = load_experiment(tmp_path / "c.npz")
    assert exp.data["kind"] == "csv" and exp.data["sha256"] == file_sha256(csv)
    code, _ = run_cli("--resume", tmp_path / "c.npz", "--epochs", "3")
    assert code == 0
    csv.write_text("x1,x2,label\n" + rows + "\n1,1,0\n")
    assert cli.main(["--resume", str(tmp_path / "c.npz"), "--epochs", "4"]) == 2
    assert "changed since the experiment was saved" in capsys.readouterr().err


# -- finite but invalid values -------------------------------------------------------------------
BN_MLP = mlp_spec(2, [6], 3, batchnorm=True)


def _saved_run(path, optimizer, steps=5, **params):
    config = TrainConfig(optimizer=optimizer, batch_size=10, optimizer_params=params)
    trainer = build_trainer(BN_MLP, config, *data_for(BN_MLP))
    for _ in range(steps):
        trainer.step()
    save_experiment(path, trainer, {"name": "test"})
    return trainer


def _negative(key):
    def change(arrays, meta):
        arrays[key] = arrays[key].copy()
        arrays[key][1] = -0.5

    return change


def _set(section, field, value):
    def change(arrays, meta):
        target = meta
        for name in section:
            target = target[name]
        target[field] = value

    return change


def _float64_param(arrays, meta):
    arrays["param/0.W"] = arrays["param/0.W"].astype(np.float64)
    arrays["param/0.W"][0, 0] = 1e308


def _steps_ahead(arrays, meta):
    meta["trainer"]["steps"] += 1


@pytest.mark.parametrize(
    ("optimizer", "change", "message"),
    [
        ("adam", _negative("buffer/1.running_var"), r"buffer/1.running_var holds -0.5; allowed"),
        ("adam", _negative("optimizer/exp_avg_sq"), r"exp_avg_sq.* holds -0.5; allowed"),
        ("rmsprop", _negative("optimizer/square_avg"), r"square_avg.* holds -0.5; allowed"),
        (
            "momentum",
            _set(["optimizer"], "weight_decay", 1e308),
            r"weight_decay: 1e\+308 is out of range; allowed: a number in \[0, 1\]",
        ),
        (
            "momentum",
            _set(["config", "optimizer_params"], "weight_decay", 1e308),
            r"weight_decay: 1e\+308 is out of range",
        ),
        ("adam", _set(["optimizer"], "eps", 1e-50), r"eps: 1e-50 is out of range"),
        ("adam", _set([], "version", 1.0), r"format version 1.0 is not supported"),
        ("adam", _steps_ahead, r"trainer\['steps'\]: 6 training steps, but the optimizer's"),
        ("adam", _set(["config"], "epochs", 2**63), r"epochs: 9223372036854775808 is out of"),
        ("adam", _set(["trainer"], "epoch", 2**63), r"trainer.epoch is 9223372036854775808"),
        ("adam", _float64_param, r"param/0.W holds values beyond float32's range"),
    ],
)
def test_finite_but_invalid_values_are_refused_naming_the_field(
    optimizer, change, message, tmp_path
):
    path = tmp_path / "e.npz"
    _saved_run(path, optimizer)
    rewrite(path, change)
    with pytest.raises(ModelFileError, match=message):
        load_experiment(path)


def test_model_files_refuse_negative_variances_and_values_beyond_their_dtype(tmp_path):
    from core.io import load_model, save_model

    path = tmp_path / "m.npz"
    for change, message in [
        (_negative("buffer/1.running_var"), "running_var holds -0.5"),
        (_float64_param, "param/0.W holds values beyond float32's range"),
        (_set([], "version", 1.0), "format version 1.0"),
    ]:
        save_model(_saved_run(tmp_path / "e.npz", "adam").model, path)
        rewrite(path, change)
        with pytest.raises(ModelFileError, match=message):
            load_model(path)


@pytest.mark.parametrize(
    ("name", "hyper", "message"),
    [
        ("momentum", {"weight_decay": 1e308}, r"weight_decay: 1e\+308 is out of range"),
        ("adamw", {"weight_decay": 1.5}, r"allowed: a number in \[0, 1\]"),
        ("adam", {"eps": 0.0}, "eps: 0.0 is out of range"),
        ("sgd", {"weight_decay": 3.0}, "weight_decay: 3.0 is out of range"),
    ],
)
def test_hyperparameter_ranges_are_the_same_for_the_app_the_cli_and_files(name, hyper, message):
    """The training panel, --opt on the command line and a file's configuration all go through
    TrainConfig.validate and the optimizer's own checks."""
    with pytest.raises(ValueError, match=message):
        TrainConfig(optimizer=name, optimizer_params=hyper).validate()
    args = cli_options.build_parser().parse_args(
        ["--optimizer", name, *[f"--opt={k}={v}" for k, v in hyper.items()]]
    )
    cli_options.apply_defaults(args, images=False)
    with pytest.raises(ValueError, match=message):
        cli_options.build_config(args).validate()


def test_counters_that_no_run_gives_are_refused(tmp_path):
    path = tmp_path / "e.npz"
    _saved_run(path, "adam", steps=7)  # 45 samples in batches of 10: epoch 1 and 2 of 5 steps

    def both(arrays, meta):
        meta["trainer"]["steps"] = meta["optimizer"]["step"] = 9

    rewrite(path, both)
    with pytest.raises(ModelFileError, match=r"9 training steps do not fit 1 epochs .* expected 7"):
        load_experiment(path)


@pytest.mark.parametrize("steps", [4, 5, 6])  # the merged last batch, an epoch's end, mid-epoch
def test_a_batch_norm_run_whose_last_batch_joins_the_one_before_reopens_exactly(steps, tmp_path):
    # 41 samples in batches of 10: four steps an epoch, the last one of 11 samples.
    config = TrainConfig(optimizer="adam", batch_size=10, seed=3)
    x, y, _, _ = data_for(BN_MLP)
    whole = build_trainer(BN_MLP, config, x[:41], y[:41])
    expected = [whole.step() for _ in range(10)]
    first = build_trainer(BN_MLP, config, x[:41], y[:41])
    losses = [first.step() for _ in range(steps)]
    path = tmp_path / "bn.npz"
    save_experiment(path, first, {"name": "test"})
    resumed = load_experiment(path).build_trainer(x[:41], y[:41])
    losses += [resumed.step() for _ in range(10 - steps)]
    assert first.steps_per_epoch == 4 and losses == expected  # bit for bit

    def lone_sample_left(arrays, meta):  # a position no run stops at: one sample left
        meta["trainer"]["position"] = 40

    rewrite(path, lone_sample_left)
    with pytest.raises(ModelFileError, match="position"):
        load_experiment(path)


def test_a_data_file_larger_than_the_csv_importer_takes_is_refused_unread(tmp_path, monkeypatch):
    from core.data.csv import MAX_FILE_BYTES

    big = tmp_path / "points.csv"
    with open(big, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    reads = []
    real_sha = hashlib.sha256

    class Counting:
        def __init__(self):
            self.h = real_sha()

        def update(self, block):
            reads.append(len(block))
            self.h.update(block)

    monkeypatch.setattr(hashlib, "sha256", Counting)
    with pytest.raises(ModelFileError, match="larger than"):
        file_sha256(big)
    assert reads == []


def test_the_per_step_losses_come_back_and_go_on_as_in_the_uninterrupted_run(tmp_path):
    config = TrainConfig(optimizer="adam", batch_size=3, seed=2)
    whole = build_trainer(BN_MLP, config, *data_for(BN_MLP))
    for _ in range(2100):  # past the trace's 2048 points: two steps a point from there on
        whole.step()
    first = build_trainer(BN_MLP, config, *data_for(BN_MLP))
    for _ in range(2051):  # half-way through a point
        first.step()
    assert first.loss_trace.width == 2 and first.loss_trace.state()["count"] == 1
    save_experiment(tmp_path / "e.npz", first, {"name": "test"})
    resumed = load_experiment(tmp_path / "e.npz").build_trainer(*data_for(BN_MLP))
    assert same(resumed.loss_trace.state(), first.loss_trace.state())
    for _ in range(2100 - 2051):
        resumed.step()
    assert same(resumed.loss_trace.state(), whole.loss_trace.state())  # bit for bit


def test_version_1_files_without_a_trace_still_open(tmp_path):
    path = tmp_path / "e.npz"
    trainer = _saved_run(path, "adam", steps=7)

    def as_version_1(arrays, meta):
        del arrays["trace/steps"], arrays["trace/loss"], meta["trace"]
        meta["version"] = 1

    rewrite(path, as_version_1)
    resumed = load_experiment(path).build_trainer(*data_for(BN_MLP))
    assert resumed.steps == trainer.steps and resumed.loss_trace.size == 0  # a new trace
    resumed.step()
    assert resumed.loss_trace.arrays()[0].tolist() == [8]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a, m: m["trace"].update(points=3000), "trace.points"),
        (lambda a, m: m["trace"].update(width=3), "power of two"),
        (lambda a, m: m["trace"].update(count=5), "count"),
        (lambda a, m: a.update({"trace/steps": a["trace/steps"][::-1].copy()}), "grow"),
        (lambda a, m: m.pop("trace"), "'trace'"),
    ],
)
def test_bad_traces_are_refused_naming_them(tmp_path, change, message):
    path = tmp_path / "e.npz"
    _saved_run(path, "adam", steps=7)
    rewrite(path, change)
    with pytest.raises(ModelFileError, match=message):
        load_experiment(path)

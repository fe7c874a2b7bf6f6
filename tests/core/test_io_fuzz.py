"""Generated corrupt files: loading a model or experiment file raises ModelFileError and nothing
else, refuses every file known to be bad, and changes nothing (the file, the folder, a model or
trainer that exists already).

Corruptions: truncation, flipped and spliced bytes, random bytes, pickles, arrays replaced by
ones of other shapes or dtypes (objects, records, strings, NaN/inf...), arrays removed or
added, meta.json replaced by arbitrary JSON or with fields changed, spec entries changed to
arbitrary JSON or to absurd dimensions, hand-made ``.npy`` headers that lie, odd zip members,
zip bombs and members whose declared size lies, finite values out of their range (negative
variances and sums of squares, huge hyper-parameters, scaled optimizer buffers). No load
decompresses more than twice the valid file's size, and one training step from any accepted
experiment leaves every weight finite.

The app's side (the session in an experiment's ``data`` section, File ▸ Open) is fuzzed in
tests/playground/test_open_fuzz.py.
"""

import io
import json
import pickle
import struct
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from layer_cases import small_cnn

from core.archive import META, ModelFileError
from core.experiment import load_experiment, save_experiment
from core.io import load_model, save_model
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import Trainer, build_trainer
from tests.core.archives import counting_decompression

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TINY_CNN = small_cnn(5, filters=2, kernel=3, n_out=3, dropout=0.2)
MLP = mlp_spec(2, [4], 3, batchnorm=True, dropout=0.1)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, -1, 10**6, 10**9, 2**64, 10**400])
    | st.floats()
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
BAD_DTYPES = st.sampled_from(
    ["int32", "int64", "uint8", "bool", "complex64", "float16", "<U3", "S4", "O", "f4,i4", "m8"]
)


def data_for(spec, n=30):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1.5, (n, *spec["input_shape"])).astype(np.float32)
    return x[:24], rng.integers(0, 3, n)[:24], x[24:], rng.integers(0, 3, n)[24:]


def trained(spec, steps, optimizer="adam"):
    trainer = build_trainer(
        spec, TrainConfig(optimizer=optimizer, batch_size=5, seed=1), *data_for(spec)
    )
    for _ in range(steps):
        trainer.step()
    return trainer


def npz_bytes(arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def arrays_of(blob: bytes) -> dict:
    with np.load(io.BytesIO(blob), allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


class Bases(dict):
    """Valid files by kind: ``[(name, bytes)]`` (with a short repr for failure reports)."""

    def __repr__(self) -> str:
        return "Bases(...)"


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """Two valid model files and two experiments (mid-epoch, and at an epoch boundary)."""
    folder = tmp_path_factory.mktemp("bases")
    out = Bases(model=[], experiment=[])
    for name, spec in (("mlp", MLP), ("cnn", TINY_CNN)):
        save_model(trained(spec, 3).model, folder / f"{name}.npz", {"class_names": ["a", "b"]})
        out["model"].append((name, (folder / f"{name}.npz").read_bytes()))
    for name, spec, steps, opt in (("mlp", MLP, 7, "adam"), ("cnn", TINY_CNN, 5, "momentum")):
        save_experiment(folder / f"e{name}.npz", trained(spec, steps, opt), {"kind": "arrays"})
        out["experiment"].append((name, (folder / f"e{name}.npz").read_bytes()))
    return out


@pytest.fixture(scope="module")
def current():
    """The model a GUI would hold while the user opens a bad file."""
    return trained(MLP, 1).model


# -- corruptions ---------------------------------------------------------------------------------
def _npy(header: str, data: bytes = b"", version: bytes = b"\x01\x00") -> bytes:
    head = header.encode("latin1")
    head += b" " * (-(len(head) + 11) % 64) + b"\n"
    return b"\x93NUMPY" + version + len(head).to_bytes(2, "little") + head + data


LYING_HEADERS = [
    _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (10**6, 10**6), }", b"\0" * 16),
    _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", b"\0" * 8),
    _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", b"\0" * 16),
    _npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", pickle.dumps([1])),
    _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }", b"\0" * 12),
    _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", b"\0" * 12),
    _npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", b"\0" * 8),
    _npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", b"\0" * 16, b"\x09\x00"),
    _npy("[1, 2, 3]", b""),
    _npy("{'descr': '<f4'" + "(" * 500, b""),
    b"\x93NUMPZ\x01\x00",
    b"",
]


def corrupt(data, blob: bytes, experiment: bool) -> tuple[bytes, bool]:
    """A corrupted copy of ``blob`` and whether it is certainly invalid."""
    kind = data.draw(
        st.sampled_from(
            [
                "truncate",
                "flip",
                "splice",
                "random",
                "pickle",
                "array",
                "meta",
                "spec",
                "absurd",
                "header",
                "zip",
                "bomb",
                "values",
            ]
            + (["trainer", "optimizer", "config"] if experiment else [])
        ),
        label="kind",
    )
    if kind == "truncate":
        return blob[: data.draw(st.integers(0, len(blob) - 1))], True
    if kind == "flip":
        out = bytearray(blob)
        for pos in data.draw(st.lists(st.integers(0, len(blob) - 1), min_size=1, max_size=8)):
            out[pos] ^= data.draw(st.integers(1, 255))
        return bytes(out), False
    if kind == "splice":
        start = data.draw(st.integers(0, len(blob) - 1))
        junk = data.draw(st.binary(min_size=1, max_size=64))
        return blob[:start] + junk + blob[start + len(junk) :], False
    if kind == "random":
        return data.draw(st.binary(max_size=300)), True
    if kind == "pickle":
        return pickle.dumps(data.draw(st.sampled_from([arrays_of(blob), [1, 2], "x"]))), True

    arrays = arrays_of(blob)
    meta = json.loads(str(arrays["meta.json"]))
    must_fail = True
    if kind == "array":
        keys = sorted(k for k in arrays if k != "meta.json")
        key = data.draw(st.sampled_from(keys))
        old = arrays[key]
        op = data.draw(st.sampled_from(["shape", "nonfinite", "dtype", "delete", "add", "scalar"]))
        if op == "shape":
            shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, max_side=5))
            arrays[key] = np.ones(shape, old.dtype)
            must_fail = shape != old.shape
        elif op == "nonfinite" and old.dtype.kind == "f" and old.size:
            bad = old.copy()
            bad.flat[data.draw(st.integers(0, old.size - 1))] = data.draw(
                st.sampled_from([np.nan, np.inf, -np.inf])
            )
            arrays[key] = bad
            must_fail = key != "history"  # history may hold nan (no test set)
        elif op == "dtype":
            dtype = np.dtype(data.draw(BAD_DTYPES))
            arrays[key] = np.zeros(old.shape, dtype) if dtype.kind != "O" else np.array([{}])
            must_fail = not (key == "permutation" and dtype.kind in "iu")
        elif op == "delete":
            del arrays[key]
            must_fail = (
                key != "permutation" or meta["trainer"]["position"] < meta["trainer"]["n_train"]
            )
        elif op == "add":
            name = data.draw(st.sampled_from(["param/9.W", "buffer/0.x", "extra", "optimizer/m"]))
            arrays[name] = np.zeros(3, np.float32)
        else:
            arrays[key] = np.float32(1.0)
            must_fail = old.shape != ()
    elif kind == "meta":
        op = data.draw(st.sampled_from(["replace", "field", "delete", "not_string"]))
        if op == "replace":
            meta = data.draw(JSON)
        elif op == "field":
            field = data.draw(st.sampled_from(sorted(meta)))
            value = data.draw(JSON)
            if value == meta[field] or field == "config":
                must_fail = False  # the same, or maybe a valid configuration
            elif field in ("metadata", "data"):
                must_fail = not isinstance(value, dict)
            elif field == "dtype":
                must_fail = value not in ("float32", "float64")
            meta[field] = value
        elif op == "delete":
            field = data.draw(st.sampled_from(sorted(meta)))
            del meta[field]
            must_fail = experiment or field not in ("dtype", "metadata")
        else:
            arrays["meta.json"] = np.array([1.0, 2.0])
    elif kind == "spec":
        spec = meta["spec"]
        op = data.draw(st.sampled_from(["input", "entry", "insert", "delete", "loss"]))
        must_fail = False  # some changes keep a valid file (another init, another rate)
        if op == "input":
            spec["input_shape"] = data.draw(JSON)
        elif op == "entry":
            entry = data.draw(st.sampled_from(spec["layers"]))
            entry[data.draw(st.sampled_from([*entry, "extra"]))] = data.draw(JSON)
        elif op == "insert":
            spec["layers"].insert(data.draw(st.integers(0, len(spec["layers"]))), data.draw(JSON))
        elif op == "delete":
            del spec["layers"][data.draw(st.integers(0, len(spec["layers"]) - 1))]
        else:
            spec["loss"] = data.draw(JSON)
    elif kind == "absurd":
        spec = meta["spec"]
        big = data.draw(st.sampled_from([10**6, 999_999, 65536]))
        if data.draw(st.booleans()):
            spec["input_shape"] = [big] * data.draw(st.integers(1, 3))
            spec["layers"].insert(0, {"type": "flatten"})
        else:
            dense = [e for e in spec["layers"] if e["type"] in ("dense", "conv")]
            entry = data.draw(st.sampled_from(dense))
            entry["units" if entry["type"] == "dense" else "filters"] = big
    elif kind == "header":
        key = data.draw(st.sampled_from(sorted(arrays)))
        raw = data.draw(st.sampled_from(LYING_HEADERS))
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            members = {i.filename: zf.read(i) for i in zf.infolist()}
        members[key + ".npy"] = raw
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, content in members.items():
                zf.writestr(name, content)
        return buf.getvalue(), True
    elif kind == "bomb":
        key = data.draw(st.sampled_from([*sorted(arrays), "extra", "optimizer/sum"]))
        declared = data.draw(st.sampled_from([2**31 - 1, 2**30, 10**8, 4 * 1024**2]))
        return bomb(blob, key, declared, zeros=data.draw(st.booleans())), True
    elif kind == "values":
        must_fail = out_of_range(data, arrays, meta)
    elif kind == "zip":
        op = data.draw(st.sampled_from(["duplicate", "member", "folder", "compressed"]))
        if op == "compressed":  # still a valid file
            buf = io.BytesIO()
            np.savez_compressed(buf, **arrays)
            return buf.getvalue(), False
        buf = io.BytesIO(blob)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(buf, "a") as zf:
                if op == "duplicate":
                    zf.writestr("meta.json.npy", zf.read("meta.json.npy"))
                elif op == "member":
                    name = data.draw(
                        st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1)
                    )
                    zf.writestr(name, b"data")
                else:
                    zf.writestr("folder/", b"")
        return buf.getvalue(), True
    else:  # experiment-only sections: trainer, optimizer, config
        section = meta[kind]
        field = data.draw(st.sampled_from([*sorted(section), "extra"]))
        value = data.draw(JSON)
        must_fail = False  # e.g. another lr or epochs count is a valid file
        if data.draw(st.booleans()) and field in section:
            del section[field]
            optional = field in Trainer.STATE_DEFAULTS  # states saved before it existed
            must_fail = kind != "config" and field != "extra" and not optional
        else:
            section[field] = value
    if arrays["meta.json"].dtype.kind == "U":  # not replaced by a non-string array
        arrays["meta.json"] = np.array(json.dumps(meta))
    return npz_bytes(arrays), must_fail


def bomb(blob: bytes, key: str, declared: int, zeros: bool) -> bytes:
    """``blob`` with member ``key`` replaced: either deflated zeros of ``declared`` bytes (a real
    bomb; at most 4 MiB, to stay fast) or a few bytes whose declared size is ``declared`` (a
    lying central directory)."""
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist() if i.filename != key + ".npy"}
    head = _npy(f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({declared // 4},), }}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
        if zeros:
            zf.writestr(key + ".npy", head + bytes(min(declared, 4 * 1024**2)))
        else:
            zf.writestr(key + ".npy", head + bytes(64))
    out = bytearray(buf.getvalue())
    if not zeros:  # the central directory's uncompressed size of the last member
        entry = out.rindex(b"PK\x01\x02")
        struct.pack_into("<I", out, entry + 24, declared)
    return bytes(out)


def out_of_range(data, arrays: dict, meta: dict) -> bool:
    """Change one value to another finite one, maybe out of its range; whether it certainly is."""
    floats = [k for k in sorted(arrays) if k.startswith(("param/", "buffer/", "optimizer/"))]
    hyper = [
        k
        for k in ("lr", "eps", "weight_decay", "momentum", "alpha")
        if k in meta.get("optimizer", {})
    ]
    target = data.draw(st.sampled_from(floats + [f"hyper:{k}" for k in hyper]))
    if target.startswith("hyper:"):
        key = target.partition(":")[2]
        value = data.draw(st.floats(-1e308, 1e308) | st.sampled_from([1e-50, 1e308, -0.0]))
        meta["optimizer"][key] = value
        if key in ("momentum", "alpha"):
            return not 0 <= value < 1
        low, high = {"lr": (0, 100), "eps": (1e-30, 1), "weight_decay": (0, 1)}[key]
        return not low <= value <= high
    scale = data.draw(st.sampled_from([-1.0, -1e-3, 0.0, 1e-3, 10.0, 1e3]))
    arrays[target] = (arrays[target] * scale).astype(arrays[target].dtype)
    squares = ("running_var", "exp_avg_sq", "sum", "square_avg")
    return scale < 0 and target.endswith(squares) and bool(np.any(arrays[target] < 0))


def corrupted_file(data, bases, kind, tmp_path_factory):
    """A corrupted copy of one of the valid ``kind`` files (``"model"``, ``"experiment"``), alone
    in a folder of its own: ``(base name, valid bytes, bad bytes, must_fail, path)``."""
    name, blob = bases[kind][data.draw(st.integers(0, 1), label="base")]
    bad, must_fail = corrupt(data, blob, experiment=kind == "experiment")
    folder = tmp_path_factory.getbasetemp() / f"fuzz_{kind}"
    folder.mkdir(exist_ok=True)
    path = folder / f"{kind}.npz"
    path.write_bytes(bad)
    return name, blob, bad, must_fail, path


def allowed_inflation(valid: bytes, bad: bytes) -> int:
    """Bytes a load of ``bad`` may decompress: twice the valid file it was made from, plus its
    own ``meta.json`` (read whole, whatever it says; capped by the reader's own limit)."""
    try:
        with zipfile.ZipFile(io.BytesIO(bad)) as zf:
            meta = zf.getinfo("meta.json.npy").file_size
    except Exception:  # a damaged archive: its meta.json is not read whole either
        meta = 0
    return 2 * len(valid) + min(meta, META.nbytes)


# -- properties ----------------------------------------------------------------------------------
@SETTINGS
@given(data=st.data())
def test_corrupt_model_files_raise_model_file_error_only(bases, current, tmp_path_factory, data):
    _, blob, bad, must_fail, path = corrupted_file(data, bases, "model", tmp_path_factory)
    folder = path.parent
    before = current.get_state()
    try:
        with counting_decompression() as inflated:
            model, _ = load_model(path)
    except ModelFileError as exc:
        assert str(path) in str(exc)
    else:
        assert not must_fail, "a bad file loaded"
        with np.errstate(all="ignore"):
            model.predict_proba(np.zeros((2, *model.input_shape)))
    assert inflated[0] <= allowed_inflation(blob, bad)
    assert path.read_bytes() == bad
    assert [p.name for p in folder.iterdir()] == ["model.npz"]
    assert all(np.array_equal(v, current.get_state()[k]) for k, v in before.items())


@SETTINGS
@given(data=st.data())
def test_corrupt_experiment_files_raise_model_file_error_only(bases, tmp_path_factory, data):
    name, blob, bad, must_fail, path = corrupted_file(data, bases, "experiment", tmp_path_factory)
    folder = path.parent
    try:
        with counting_decompression() as inflated:
            exp = load_experiment(path)
        spec = MLP if name == "mlp" else TINY_CNN
        trainer = exp.build_trainer(*data_for(spec))
    except ModelFileError as exc:
        assert str(path) in str(exc)
    else:
        assert not must_fail, "a bad file loaded"
        with np.errstate(all="ignore"):
            trainer.step()
        assert np.all(np.isfinite(trainer.model.theta)), "an accepted file trained to NaN"
    assert inflated[0] <= allowed_inflation(blob, bad)
    assert path.read_bytes() == bad
    assert [p.name for p in folder.iterdir()] == ["experiment.npz"]


def _trainer_state(trainer: Trainer):
    s = trainer.state_dict()
    s["history"] = np.delete(s["history"], 2, axis=1)
    del s["train_time"]
    return s


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return a == b


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_states_leave_the_trainer_unchanged(data):
    """Trainer.load_state_dict validates everything first: a bad state raises ValueError and
    the trainer (weights, optimizer, generator, counters, history) is as it was."""
    source = trained(MLP, 7)
    state = source.state_dict()
    key = data.draw(st.sampled_from(sorted(state)), label="key")
    op = data.draw(st.sampled_from(["json", "array", "delete", "inner"]), label="op")
    if op == "json":
        state[key] = data.draw(JSON)
    elif op == "array":
        state[key] = data.draw(
            hnp.arrays(
                st.sampled_from([np.float32, np.float64, np.int64]),
                hnp.array_shapes(min_dims=0, max_dims=2, max_side=4),
            )
        )
    elif op == "delete":
        del state[key]
    elif isinstance(state[key], dict):
        inner = data.draw(st.sampled_from(sorted(state[key])))
        state[key][inner] = data.draw(
            JSON | hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=2, max_side=9))
        )
    target = trained(MLP, 3)
    before = _trainer_state(target)
    try:
        target.load_state_dict(state)
    except ValueError:
        assert _same(_trainer_state(target), before)

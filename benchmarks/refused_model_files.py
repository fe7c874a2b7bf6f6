"""Time and peak memory to refuse hostile model and experiment files: a 1.9 GB zero-filled extra
member in a model and in an experiment (the reported bombs), a weight member declaring 2 GB, a
weight whose .npy header claims 10^12 floats, an experiment whose meta.json claims 2^20 epochs
with a matching zero-filled history, and a FIFO. Each file is loaded by a fresh process (median
of 3); memory is its peak RSS above a process loading the valid file."""

from __future__ import annotations

import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from core.experiment import save_experiment
from core.io import save_model
from core.spec import mlp_spec
from core.training import TrainConfig, build_trainer

ROOT = Path(__file__).resolve().parents[1]
MB = 1024**2
CHILD = """
import resource, sys, time
from core.experiment import load_experiment
from core.archive import ModelFileError
from core.io import load_model
load = load_experiment if sys.argv[2] == "experiment" else load_model
t0 = time.perf_counter()
try:
    load(sys.argv[1])
    refused = False
except ModelFileError:
    refused = True
print(refused, time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def npy_header(shape: tuple[int, ...]) -> bytes:
    head = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape!r}, }}".encode()
    head += b" " * (-(len(head) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head


def add_zeros(path: Path, name: str, n_bytes: int, shape: tuple[int, ...] | None = None) -> None:
    zeros = bytes(4 * MB)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open(name, "w", force_zip64=True) as f,
    ):
        f.write(npy_header(shape or (n_bytes // 4,)))
        for _ in range(n_bytes // len(zeros)):
            f.write(zeros)


def rewrite(source: Path, target: Path, change) -> Path:
    with np.load(source, allow_pickle=False) as archive:
        arrays = dict(archive)
    meta = json.loads(str(arrays["meta.json"]))
    change(arrays, meta)
    arrays["meta.json"] = np.array(json.dumps(meta))
    np.savez(target, **arrays)
    return target


def make_files(folder: Path) -> tuple[dict[str, tuple[Path, str]], dict[str, Path]]:
    """The hostile files by name (path, kind) and the valid ones by kind."""
    spec = mlp_spec(2, [64, 64], 3, batchnorm=True)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(100, 2)).astype(np.float32), rng.integers(0, 3, 100)
    trainer = build_trainer(spec, TrainConfig(batch_size=10), x, y)
    trainer.run_epoch()
    experiment = folder / "experiment.npz"
    save_experiment(experiment, trainer, {"name": "bench"})
    model = folder / "model.npz"
    save_model(trainer.model, model)
    files: dict[str, tuple[Path, str]] = {}

    bomb = rewrite(model, folder / "bomb-model.npz", lambda a, m: None)
    add_zeros(bomb, "extra.npy", 1900 * MB)
    files["1.9 GB extra member (model)"] = (bomb, "model")
    bomb = rewrite(experiment, folder / "bomb-experiment.npz", lambda a, m: None)
    add_zeros(bomb, "extra.npy", 1900 * MB)
    files["1.9 GB extra member (experiment)"] = (bomb, "experiment")

    lying = rewrite(model, folder / "lying-size.npz", lambda a, m: a.pop("param/0.W"))
    with zipfile.ZipFile(lying, "a") as zf:
        zf.writestr("param/0.W.npy", npy_header((2, 64)) + bytes(512))
    data = bytearray(lying.read_bytes())
    struct.pack_into("<I", data, data.rindex(b"PK\x01\x02") + 24, 2**31 - 1)
    lying.write_bytes(bytes(data))
    files["weight declaring 2 GB"] = (lying, "model")

    header = rewrite(model, folder / "lying-header.npz", lambda a, m: a.pop("param/0.W"))
    with zipfile.ZipFile(header, "a") as zf:
        zf.writestr("param/0.W.npy", npy_header((10**6, 10**6)) + bytes(8))
    files["header claiming 10^12 floats"] = (header, "model")

    epochs = 2**20

    def claim(arrays, meta):
        arrays.pop("history")
        meta["trainer"].update(epoch=epochs, steps=epochs * 10)
        meta["optimizer"]["step"] = epochs * 10

    history = rewrite(experiment, folder / "history.npz", claim)
    add_zeros(history, "history.npy", epochs * 64, shape=(epochs, 8))
    files["2^20 epochs of zero history"] = (history, "experiment")

    fifo = folder / "fifo.npz"
    os.mkfifo(fifo)
    files["FIFO"] = (fifo, "model")
    return files, {"model": model, "experiment": experiment}


def measure(path: Path, kind: str) -> tuple[bool, float, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), kind],
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout.split()
    return out[0] == b"True", float(out[1]), int(out[2]) * 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files, valid = make_files(folder)
        baseline = {
            kind: statistics.median(measure(path, kind)[2] for _ in range(3))
            for kind, path in valid.items()
        }
        figures = []
        for name, (path, kind) in files.items():
            runs = [measure(path, kind) for _ in range(3)]
            assert all(refused for refused, _, _ in runs), f"{name} was not refused"
            seconds = statistics.median(r[1] for r in runs)
            above = statistics.median(r[2] for r in runs) - baseline[kind]
            figures.append(f"{name} {seconds * 1000:.0f} ms {above / MB:+.1f} MB")
    print("refused model files (time, peak RSS above a valid load): " + "; ".join(figures))


if __name__ == "__main__":
    main()

"""Time and peak memory to refuse hostile model and experiment files: a 1.9 GB zero-filled extra
member in a model and in an experiment (the reported bombs), a weight member declaring 2 GB, a
weight whose .npy header claims 10^12 floats, an experiment whose meta.json claims 2^20 epochs
with a matching zero-filled history, and a FIFO. Each file is loaded by a fresh process (median
of 3); memory is its peak RSS above a process loading the valid file."""

from __future__ import annotations

import os
import statistics
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

# The hostile files and the refusal probe are the tests' own (tests/core/archives.py): one copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.experiment import save_experiment  # noqa: E402
from core.io import save_model  # noqa: E402
from core.spec import mlp_spec  # noqa: E402
from core.training.config import TrainConfig  # noqa: E402
from core.training.trainer import build_trainer  # noqa: E402
from tests.core.archives import (  # noqa: E402
    MB,
    add_zero_member,
    load_cost,
    npy_header,
    rewrite,
)


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

    bomb = rewrite(model, lambda a, m: None, folder / "bomb-model.npz")
    add_zero_member(bomb, "extra.npy", 1900 * MB)
    files["1.9 GB extra member (model)"] = (bomb, "model")
    bomb = rewrite(experiment, lambda a, m: None, folder / "bomb-experiment.npz")
    add_zero_member(bomb, "extra.npy", 1900 * MB)
    files["1.9 GB extra member (experiment)"] = (bomb, "experiment")

    lying = rewrite(model, lambda a, m: a.pop("param/0.W"), folder / "lying-size.npz")
    with zipfile.ZipFile(lying, "a") as zf:
        zf.writestr("param/0.W.npy", npy_header((2, 64)) + bytes(512))
    data = bytearray(lying.read_bytes())
    struct.pack_into("<I", data, data.rindex(b"PK\x01\x02") + 24, 2**31 - 1)
    lying.write_bytes(bytes(data))
    files["weight declaring 2 GB"] = (lying, "model")

    header = rewrite(model, lambda a, m: a.pop("param/0.W"), folder / "lying-header.npz")
    with zipfile.ZipFile(header, "a") as zf:
        zf.writestr("param/0.W.npy", npy_header((10**6, 10**6)) + bytes(8))
    files["header claiming 10^12 floats"] = (header, "model")

    epochs = 2**20

    def claim(arrays, meta):
        arrays.pop("history")
        meta["trainer"].update(epoch=epochs, steps=epochs * 10)
        meta["optimizer"]["step"] = epochs * 10

    history = rewrite(experiment, claim, folder / "history.npz")
    add_zero_member(history, "history.npy", epochs * 64, shape=(epochs, 8))
    files["2^20 epochs of zero history"] = (history, "experiment")

    fifo = folder / "fifo.npz"
    os.mkfifo(fifo)
    files["FIFO"] = (fifo, "model")
    return files, {"model": model, "experiment": experiment}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files, valid = make_files(folder)
        baseline = {
            kind: statistics.median(load_cost(path, kind)[2] for _ in range(3))
            for kind, path in valid.items()
        }
        figures = []
        for name, (path, kind) in files.items():
            runs = [load_cost(path, kind) for _ in range(3)]
            assert all(refused for refused, _, _ in runs), f"{name} was not refused"
            seconds = statistics.median(r[1] for r in runs)
            above = statistics.median(r[2] for r in runs) - baseline[kind]
            figures.append(f"{name} {seconds * 1000:.0f} ms {above / MB:+.1f} MB")
    print("refused model files (time, peak RSS above a valid load): " + "; ".join(figures))


if __name__ == "__main__":
    main()

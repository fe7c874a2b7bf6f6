"""What refusing hostile image data costs: for each bomb (built here, about 2 MB on disk each),
the median time and peak memory above a baseline process (one that reads a tiny valid folder)
to get its MnistError, in a fresh process each time; then the median Cancel latency of a
download from a local mirror trickling 2 bytes per second, in the engine and in the dialog."""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The hostile files and the local mirror are the tests' own (tests/idx_server.py): one copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.download import DownloadCancelled, download
from core.data.idx import IMAGES_MAGIC, NPZ_KEYS
from tests.idx_server import (  # noqa: E402
    EMPTY_MEMBER,
    GZIP_NAME_HEADER,
    gz,
    npy_bytes,
    refusal_cost,
    running_server,
    tiny_files,
    tiny_spec,
    write_folder,
)

REPEATS = 5
MB = 1024**2
N_BOMB = 2_500_000  # 28 x 28 images: 1.96 GB, just inside core.data.idx.MAX_BYTES


def zeros_gzip(n_bytes: int) -> bytes:
    one = gz(bytes(16 * MB))
    full, rest = divmod(n_bytes, 16 * MB)
    return one * full + gz(bytes(rest))


def bombs(folder: Path) -> dict[str, tuple[Path, str]]:
    """Name -> (file, how to read it)."""
    header = IMAGES_MAGIC.to_bytes(4, "big") + b"".join(
        d.to_bytes(4, "big") for d in (N_BOMB, 28, 28)
    )
    idx = folder / "declared-idx3-ubyte.gz"
    idx.write_bytes(gz(header) + zeros_gzip(N_BOMB * 784))
    past = folder / "past-idx3-ubyte.gz"
    small = IMAGES_MAGIC.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (10, 28, 28))
    past.write_bytes(gz(small + bytes(7840)) + zeros_gzip(N_BOMB * 784))
    npz = folder / "mnist.npz"
    shape = f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({N_BOMB}, 28, 28)}}"
    with zipfile.ZipFile(
        npz,
        "w",
        zipfile.ZIP_DEFLATED,
    ) as zf:
        with zf.open("x_train.npy", "w", force_zip64=True) as f:
            f.write(npy_bytes(shape))
            block = bytes(16 * MB)
            for start in range(0, N_BOMB * 784, len(block)):
                f.write(block[: N_BOMB * 784 - start])
        for key in ("y_train", "x_test", "y_test"):
            zf.writestr(f"{key}.npy", npy_bytes("{'descr': '<i8', 'shape': (0,)}"))
    lying = folder / "lying.npz"
    huge = "{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000,)}"
    with zipfile.ZipFile(lying, "w") as zf:
        for key in NPZ_KEYS:
            zf.writestr(f"{key}.npy", npy_bytes(huge, bytes(16)))
    field = folder / "field-idx3-ubyte.gz"
    field.write_bytes(GZIP_NAME_HEADER + b"a" * (2 * MB))
    members = folder / "members-idx3-ubyte.gz"
    members.write_bytes(EMPTY_MEMBER * (2 * MB // len(EMPTY_MEMBER)))
    return {
        "idx declaring 1.96 GB": (idx, "idx"),
        "idx going on past its images": (past, "idx"),
        "npz of 1.96 GB zeros": (npz, "folder"),
        "npz declaring 80 GB in 16 B": (lying, "folder"),
        "gzip endless name field": (field, "idx"),
        "gzip empty members": (members, "idx"),
    }


def core_cancel_latency(cache: Path) -> float:
    """Seconds from Cancel to DownloadCancelled, mirror trickling 2 bytes per second."""
    files = tiny_files()
    with running_server() as server:
        server.serve("m1", files, mode="throttle")
        server.piece, server.pace = 1, 0.5
        event, when = threading.Event(), []

        def cancel() -> None:
            when.append(time.perf_counter())
            event.set()

        def progress(done: int, total: int) -> None:
            if done and not when and not timer.is_alive():
                timer.start()

        # Cancel some way into the 0.5 s between two bytes (a new phase each repeat).
        timer = threading.Timer(0.3 + 0.1 * random.random(), cancel)
        try:
            download(tiny_spec(files, (server.url("m1"),)), cache, cancel=event, progress=progress)
        except DownloadCancelled:
            pass
        return time.perf_counter() - when[0]


def dialog_cancel_latency(cache: Path) -> float:
    """Seconds from clicking Cancel to the dialog's finished signal (same mirror)."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from playground.panels.download_dialog import DownloadDialog

    QApplication.instance() or QApplication([])
    files = tiny_files()
    with running_server() as server:
        server.serve("m1", files, mode="throttle")
        server.piece, server.pace = 1, 0.5
        dialog = DownloadDialog(tiny_spec(files, (server.url("m1"),)), cache_dir=cache)
        loop = QEventLoop()
        dialog.finished.connect(loop.quit)
        dialog.show()
        dialog.start()
        clicked: list[float] = []

        def click_when_receiving() -> None:
            if dialog.done_bytes > 0:
                clicked.append(time.perf_counter())
                dialog.cancel_button.click()
            else:
                QTimer.singleShot(20, click_when_receiving)

        QTimer.singleShot(20, click_when_receiving)
        loop.exec()
        latency = time.perf_counter() - clicked[0]
        dialog.deleteLater()
        return latency


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        good = write_folder(root / "good", tiny_files())
        base = statistics.median(refusal_cost(good, "folder")[1] for _ in range(REPEATS))
        parts = []
        for name, (path, how) in bombs(root).items():
            runs = [refusal_cost(path, how) for _ in range(REPEATS)]
            seconds = statistics.median(r[0] for r in runs)
            extra = statistics.median(r[1] for r in runs) - base
            size = path.stat().st_size / MB
            parts.append(f"{name} ({size:.1f} MB) {seconds * 1e3:.0f} ms {extra / 1024:+.1f} MB")
        core = statistics.median(core_cancel_latency(root / f"c{i}") for i in range(REPEATS))
        dialog = statistics.median(dialog_cancel_latency(root / f"d{i}") for i in range(REPEATS))
        leftovers = [p for p in root.rglob("*.tmp")]
    print(
        "refusing (median time, peak RSS above baseline): "
        + "; ".join(parts)
        + f" | Cancel at 2 B/s: core {core * 1e3:.0f} ms, dialog {dialog * 1e3:.0f} ms, "
        f"{len(leftovers)} temporary files left"
    )


if __name__ == "__main__":
    main()

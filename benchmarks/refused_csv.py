"""Time and peak memory of reading hostile CSV files: floods of comment, blank or CR-only lines
before four data rows, a file over the size cap, one line of 100 MB, and a million legitimate
rows for scale. Each file is read by a fresh interpreter (so its peak RSS is its own); figures
are medians of 3 runs, the peak RSS (VmHWM) above that of an interpreter reading a 4-row file."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

DATA = b"1,2,0\n3,4,1\n5,6,0\n7,8,1\n"
MIB = 2**20
READ = """
import resource, sys, time
from core.data.csv import read_points_csv

def peak_kib():  # VmHWM: ru_maxrss would count the parent's memory at fork time
    try:
        with open("/proc/self/status") as f:
            return int(next(l for l in f if l.startswith("VmHWM:")).split()[1])
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

start = time.perf_counter()
try:
    read_points_csv(sys.argv[1])
    outcome = "read"
except ValueError:
    outcome = "refused"
seconds = time.perf_counter() - start
print(seconds, peak_kib(), outcome)
"""


def repeat(line: bytes, total: int) -> Callable[[BinaryIO], None]:
    def write(f: BinaryIO) -> None:
        block = line * (MIB // len(line))
        for _ in range(total // len(block)):
            f.write(block)
        f.write(DATA)

    return write


def million_rows(f: BinaryIO) -> None:
    x = np.random.default_rng(0).normal(size=(1_000_000, 2)).tolist()
    f.write(b"x1,x2,label\n")
    f.writelines(f"{a!r},{b!r},{int(a > 0)}\n".encode() for a, b in x)


CASES: dict[str, Callable[[BinaryIO], None]] = {
    "comments 100 MB": repeat(b"# exported by some tool\n", 100 * MIB),
    "blank 120 MB": repeat(b"\n", 120 * MIB),
    "CR-only 120 MB": repeat(b"\r", 120 * MIB),
    "blank 200 MB (over the cap)": repeat(b"\n", 200 * MIB),
    "one 100 MB line": repeat(b"9" * 1000, 100 * MIB),
    "1M rows (41 MB)": million_rows,
}


def measure(path: Path) -> tuple[float, int, str]:
    """Median seconds and peak RSS (KiB) of reading ``path`` in a fresh interpreter."""
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", READ, str(path)], capture_output=True, text=True, check=True
        )
        seconds, rss, outcome = out.stdout.split()
        runs.append((float(seconds), int(rss), outcome))
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        runs[0][2],
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base.csv"
        base.write_bytes(DATA)
        _, base_rss, _ = measure(base)
        figures = []
        for name, write in CASES.items():
            path = Path(folder) / "hostile.csv"
            with path.open("wb") as f:
                write(f)
            seconds, rss, outcome = measure(path)
            figures.append(
                f"{name}: {outcome} in {seconds:.2f} s, {(rss - base_rss) / 1024:+.0f} MB"
            )
            path.unlink()
    print(
        f"hostile CSV (median of 3; peak RSS relative to a 4-row read, {base_rss / 1024:.0f} MB): "
        + "; ".join(figures)
    )


if __name__ == "__main__":
    main()

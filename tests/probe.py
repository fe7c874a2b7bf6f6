"""A fresh Python process running a snippet with this checkout's ``core``: how the tests and the
benchmarks measure what a piece of work costs on its own (time, peak memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child_env() -> dict[str, str]:
    """This environment with the checkout first on PYTHONPATH, so a child imports this ``core``."""
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def run_probe(code: str, *args: str, timeout: float = 120) -> list[str]:
    """The words (split at whitespace) that ``python -c code *args`` prints; CalledProcessError
    if it fails."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
        env=child_env(),
    ).stdout.split()

"""The command line of the app: the offscreen screenshot writes a real picture of the window."""

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

from playground.app import MODES, parse_args


def test_screenshot_command_writes_a_non_blank_png(tmp_path, qapp):
    out = tmp_path / "window.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "playground.app",
            "--preset",
            "xor",
            "--train-seconds",
            "1",
            "--screenshot",
            str(out),
            "--size",
            "1280x800",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    colors = {image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 800, 16)}
    assert len(colors) > 200  # a rendered window, not a blank or single-colour image


def test_size_argument_is_checked():
    assert (parse_args(["--size", "1600x1000"]).width, parse_args([]).height) == (1600, 900)
    with pytest.raises(SystemExit):
        parse_args(["--size", "big"])


def test_mode_argument_names_the_mode_box_modes():
    from playground.main_window import WORKSPACES

    assert parse_args(["--mode", "lab"]).mode == "lab" and parse_args([]).mode is None
    assert MODES == tuple(kind.mode for kind in WORKSPACES)
    with pytest.raises(SystemExit):
        parse_args(["--mode", "toys"])


def test_the_app_starts_in_the_mode_asked_for(qapp, monkeypatch, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from playground import app

    seen = []

    def close_soon():
        window = next(w for w in QApplication.topLevelWidgets() if hasattr(w, "lab"))
        seen.append((window.mode, window.lab.page.isVisible()))
        window.close()

    monkeypatch.setenv("HOME", str(tmp_path))
    QTimer.singleShot(0, close_soon)
    assert app.main(["--mode", "lab", "--fresh", "--size", "1024x700"]) == 0
    assert seen == [("lab", True)]

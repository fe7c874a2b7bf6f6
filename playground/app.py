"""Application entry point: ``nn-playground`` (also ``make run``).

``--preset NAME --train-seconds N --screenshot out.png`` builds a preset, trains for N seconds,
renders the whole window to a PNG and exits; it works offscreen (``QT_QPA_PLATFORM=offscreen``).
``--mode lab`` starts in another mode (here the Lab).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from core import __version__
from playground.presets import all_presets

#: The Mode box's modes (``main_window.WORKSPACES``' ``mode``s), named here without loading Qt.
MODES = ("plane", "images", "lab")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="nn-playground", description="NN Playground desktop app")
    flags: dict[str, dict] = {  # flag -> how argparse reads it
        "--preset": {"choices": sorted(all_presets()), "help": "start from a preset"},
        "--train-seconds": {
            "type": float,
            "default": 0.0,
            "help": "start training at once and pause after this many seconds",
        },
        "--mode": {
            "choices": MODES,
            "help": "start in this mode (default: the one last used, at first plane)",
        },
        "--screenshot": {"metavar": "PNG", "help": "save the window to PNG and exit"},
        "--draw": {
            "metavar": "SAMPLE",
            "help": "image mode: show the Draw tab with a sample drawn (e.g. 7) before the "
            "screenshot",
        },
        "--theme": {
            "choices": ("system", "light", "dark"),
            "help": "colours (default: as last chosen in View ▸ Theme, at first the system's)",
        },
        "--size": {"default": "1440x900", "help": "window size WxH"},
        "--fresh": {
            "action": "store_true",
            "help": "ignore and don't overwrite saved settings (for scripted screenshots)",
        },
        "--install-desktop": {
            "action": "store_true",
            "help": "add NN Playground to the desktop's application menu (Linux: a desktop "
            "entry and the icon in the user's XDG folders), then exit",
        },
        "--uninstall-desktop": {
            "action": "store_true",
            "help": "remove what --install-desktop added, then exit",
        },
        "--version": {"action": "version", "version": f"%(prog)s {__version__}"},
    }
    for flag, how in flags.items():
        p.add_argument(flag, **how)
    args = p.parse_args(argv)
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        p.error(f"--size: {args.size!r} is not WxH, e.g. 1280x800")
    args.width, args.height = w, h
    return args


def chosen_theme(flag: str | None, settings) -> str:
    """``--theme`` if given, else the one last chosen in View ▸ Theme (kept in ``settings``),
    else the system's."""
    from playground.theme import THEMES

    saved = settings.value("theme", "system")
    return flag or (saved if saved in THEMES else "system")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.install_desktop or args.uninstall_desktop:
        from playground import desktop_entry

        return desktop_entry.run(install_it=args.install_desktop)
    if args.screenshot and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no screen: render offscreen
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from playground.icon import app_icon
    from playground.main_window import MainWindow
    from playground.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("NN Playground")
    app.setDesktopFileName("nn-playground")  # the desktop entry's name: the task bar's icon
    app.setWindowIcon(app_icon())
    settings = None
    if args.fresh or args.screenshot:
        settings = QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, "nn-playground", "scratch"
        )
        settings.clear()
    apply_theme(app, chosen_theme(args.theme, settings or QSettings("nn-playground", "app")))
    window = MainWindow(settings=settings, preset=args.preset)
    if args.mode and args.mode != window.mode:
        window.set_mode(args.mode)
    window.resize(args.width, args.height)
    window.show()

    def train() -> None:  # once the run is set up (its images may be loading)
        if window.workspace.loading:
            QTimer.singleShot(50, train)
            return
        if args.train_seconds > 0:
            window.controller.start()
            QTimer.singleShot(int(args.train_seconds * 1000), window.controller.pause)
        if args.screenshot:
            QTimer.singleShot(int(args.train_seconds * 1000) + 300, shoot)

    if args.screenshot:

        def shoot() -> None:
            if window.controller.state == "running":
                QTimer.singleShot(50, shoot)
                return
            if args.draw:
                try:
                    window.images.show_drawing(args.draw)
                except ValueError as exc:
                    print(f"--draw: {exc}", file=sys.stderr)
            window.flush_views()
            app.processEvents()
            window.grab().save(args.screenshot, "PNG")
            window.close()

    train()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())

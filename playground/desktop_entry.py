"""The Linux desktop entry: ``nn-playground --install-desktop`` puts the app in the desktop's
application menu (a ``.desktop`` file and the icon in the user's XDG folders);
``--uninstall-desktop`` takes both away again."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.atomic import atomic_write

APP_ID = "nn-playground"


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when unset or not absolute (the XDG rule)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def entry_path() -> Path:
    return data_home() / "applications" / f"{APP_ID}.desktop"


def icon_target() -> Path:
    return data_home() / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"


#: characters the Desktop Entry Specification reserves in an Exec argument (quote it then)
RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def exec_argument(arg: str) -> str:
    """``arg`` as the Desktop Entry Specification's Exec key wants it: in double quotes when it
    holds a reserved character, with ``"``, ``\\``, backquote and ``$`` escaped by a backslash;
    ``%`` doubled (field codes); then the string value's own escape of the backslash."""
    if RESERVED & set(arg):
        arg = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return arg.replace("%", "%%").replace("\\", "\\\\")


def launch_command() -> str:
    """How the menu starts the app: the installed ``nn-playground`` launcher beside this Python,
    else this Python running the module (a source checkout)."""
    launcher = Path(sys.executable).with_name("nn-playground")
    if launcher.is_file() and os.access(launcher, os.X_OK):
        return exec_argument(str(launcher))
    return f"{exec_argument(sys.executable)} -m playground.app"


def desktop_entry(exec_line: str) -> str:
    """The text of the ``.desktop`` file (freedesktop.org Desktop Entry Specification)."""
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=NN Playground\n"
        "GenericName=Neural network playground\n"
        "Comment=Build a neural network and watch it learn\n"
        f"Exec={exec_line}\n"
        f"Icon={APP_ID}\n"
        "Terminal=false\n"
        "Categories=Education;Science;ArtificialIntelligence;\n"
        "Keywords=neural;network;deep learning;backpropagation;MNIST;\n"
    )


def install(icon: Path) -> list[Path]:
    """Write the desktop entry and copy ``icon``; the files written."""
    target = icon_target()
    target.parent.mkdir(parents=True, exist_ok=True)
    data = icon.read_bytes()
    atomic_write(target, lambda f: f.write(data))
    entry = entry_path()
    entry.parent.mkdir(parents=True, exist_ok=True)
    text = desktop_entry(launch_command()).encode()
    atomic_write(entry, lambda f: f.write(text))
    return [entry, target]


def uninstall() -> list[Path]:
    """Remove the desktop entry and the icon; the files removed (none if not installed)."""
    removed = []
    for path in (entry_path(), icon_target()):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def run(install_it: bool) -> int:
    """``--install-desktop`` / ``--uninstall-desktop``: do it and say what was done."""
    from playground.icon import icon_path

    if install_it:
        for path in install(icon_path()):
            print(f"wrote {path}")
        return 0
    removed = uninstall()
    print("\n".join(f"removed {p}" for p in removed) or "no desktop entry was installed")
    return 0

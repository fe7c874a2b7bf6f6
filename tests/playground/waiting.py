"""Waiting for work the app does off the GUI thread: a file opened, a folder checked, the
images of a run loaded, a file written. Each waits for the signal that ends the work."""

from __future__ import annotations

TIMEOUT = 20000  # ms: a loaded machine reads 70,000 images slowly


def open_file(qtbot, window, path) -> bool:
    """File ▸ Open ``path``; whether it opened (a refused file's dialog has been shown)."""
    with qtbot.waitSignal(window.files.openFinished, timeout=TIMEOUT) as blocker:
        assert window.files.open(str(path))
    return blocker.args[1]


def check_folder(qtbot, panel, choose, *args) -> bool:
    """``choose(*args)`` (Load from folder…'s choose_folder or choose_npz); whether the folder
    was accepted (False after a dialog: refused)."""
    with qtbot.waitSignal(panel.folderChecked, timeout=TIMEOUT) as blocker:
        assert choose(*args)
    return blocker.args[1]


def loaded(qtbot, workspace) -> None:
    """Until the workspace's next run has its images (no more loading)."""
    qtbot.waitUntil(lambda: not workspace.loading, timeout=TIMEOUT)


def written(qtbot, files, action) -> str:
    """Run ``action`` (an export written off the GUI thread); the error it reports ("": none)."""
    with qtbot.waitSignal(files.written, timeout=TIMEOUT) as blocker:
        assert action()
    return blocker.args[1]


def exported(qtbot, files, widget, name, path) -> str:
    """File ▸ Export plots of ``widget`` to ``path``; the error it reports ("": none)."""
    return written(qtbot, files, lambda: files.export_view(widget, name, str(path)))

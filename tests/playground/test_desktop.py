"""The app as a desktop application: its icon from the shipped SVG, the Linux desktop entry in
a fresh user's XDG folders, and the About box."""

from pathlib import Path

import pytest
from PySide6.QtGui import QIcon

import core
from playground import app, desktop_entry, icon
from playground.about import AboutDialog, show_about, versions

REPO_ICON = Path(__file__).parents[2] / "assets" / "icon.svg"


def test_the_icon_is_the_shipped_svg(qapp):
    assert icon.icon_path() == REPO_ICON  # a source checkout: assets/ beside playground/
    app_icon = icon.app_icon()
    assert not app_icon.isNull()
    image = app_icon.pixmap(64, 64).toImage()
    assert image.width() == 64 and image.pixelColor(32, 4).alpha() > 0  # drawn, not empty


def test_an_installed_package_uses_its_own_copy(tmp_path, monkeypatch):
    """In a wheel the icon sits in playground/assets/ inside the package."""
    package = tmp_path / "playground"
    (package / "assets").mkdir(parents=True)
    (package / "assets" / "icon.svg").write_bytes(REPO_ICON.read_bytes())
    monkeypatch.setattr(icon, "__file__", str(package / "icon.py"))
    assert icon.icon_path() == package / "assets" / "icon.svg"


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def test_install_and_uninstall_the_desktop_entry(xdg, capsys):
    assert desktop_entry.run(install_it=True) == 0
    entry = xdg / "applications" / "nn-playground.desktop"
    svg = xdg / "icons" / "hicolor" / "scalable" / "apps" / "nn-playground.svg"
    text = entry.read_text()
    assert text.startswith("[Desktop Entry]\n") and "Name=NN Playground\n" in text
    assert "Icon=nn-playground\n" in text and "Type=Application\n" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert "nn-playground" in exec_line or "playground.app" in exec_line
    assert svg.read_bytes() == REPO_ICON.read_bytes()
    assert str(entry) in capsys.readouterr().out
    assert desktop_entry.run(install_it=False) == 0
    assert not entry.exists() and not svg.exists()
    assert desktop_entry.uninstall() == []  # nothing left to remove


def test_xdg_data_home_must_be_absolute(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop_entry.data_home() == tmp_path / ".local" / "share"


def test_about_box_shows_the_icon_and_the_versions(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert not dialog.icon.pixmap().isNull()
    listed = versions()
    assert listed["NN Playground"] == core.__version__
    assert {"NumPy", "Qt", "PySide6", "pyqtgraph"} <= set(listed)
    for name, version in listed.items():
        assert name in dialog.text.text() and version in dialog.text.text()


def test_window_and_application_icons_come_from_the_svg(make_window, qapp):
    window = make_window()
    expected = QIcon(str(icon.icon_path())).pixmap(48, 48).toImage()
    assert not window.windowIcon().isNull()
    assert window.windowIcon().pixmap(48, 48).toImage() == expected
    help_menu = window.menuBar().actions()[-1].menu()
    assert [a.text() for a in help_menu.actions()] == ["About NN Playground"]
    help_menu.actions()[0].trigger()  # opens the box over the window
    assert any(isinstance(w, AboutDialog) for w in window.findChildren(AboutDialog))
    dialog = show_about(window)
    assert dialog.icon.pixmap().toImage() == QIcon(str(icon.icon_path())).pixmap(96, 96).toImage()
    dialog.close()


def test_command_line_version_and_desktop_entry(xdg, capsys):
    with pytest.raises(SystemExit) as exit_:
        app.main(["--version"])
    assert (
        exit_.value.code == 0 and capsys.readouterr().out == f"nn-playground {core.__version__}\n"
    )
    assert app.main(["--install-desktop"]) == 0
    assert (xdg / "applications" / "nn-playground.desktop").is_file()
    assert app.main(["--uninstall-desktop"]) == 0
    assert not (xdg / "applications" / "nn-playground.desktop").exists()


@pytest.mark.parametrize(
    ("path", "exec_arg"),
    [
        ("/usr/bin/nn-playground", "/usr/bin/nn-playground"),
        ("/home/u/My Projects/nn$x/50%/bin/py", '"/home/u/My Projects/nn\\\\$x/50%%/bin/py"'),
        ('/a"b\\c d', '"/a\\\\"b\\\\\\\\c d"'),
    ],
)
def test_exec_line_quotes_as_the_desktop_entry_specification_says(path, exec_arg):
    """Double quotes around a path with reserved characters, ``"`` ``$`` `` ` `` ``\\`` escaped
    inside them, ``%`` doubled, then the string value's escape of each backslash."""
    assert desktop_entry.exec_argument(path) == exec_arg

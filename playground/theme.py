"""Light and dark themes (or the system's choice of the two): a Qt palette, a little style sheet,
pyqtgraph colours, and a style that keeps check boxes readable on a dark background."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory, QWidget

#: Theme names and their View ▸ Theme menu labels.
THEMES = {"system": "Follow the System", "light": "Light", "dark": "Dark"}

STYLE = """
QGroupBox { font-weight: 600; margin-top: 10px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
#viewTitle, #sectionTitle { font-weight: 600; }
#columnHead { color: palette(mid); font-size: 11px; }
#paramCount { font-weight: 600; }
"""

#: Plot background and foreground (axes, text) per theme.
PLOT_COLORS = {"light": ("w", "#303030"), "dark": ("#1e1f22", "#d0d0d0")}

DARK = {
    QPalette.ColorRole.Window: "#2b2d31",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1f22",
    QPalette.ColorRole.AlternateBase: "#2b2d31",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#3a3d42",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.Highlight: "#3d7fd9",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#3a3d42",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.Mid: "#8a8a8a",
    QPalette.ColorRole.Light: "#55585e",
    QPalette.ColorRole.Midlight: "#45484d",
    QPalette.ColorRole.Dark: "#18191b",
    QPalette.ColorRole.Shadow: "#000000",
    QPalette.ColorRole.PlaceholderText: "#9a9a9a",
    QPalette.ColorRole.Link: "#6ea8ff",
}

_current = "light"


def current_theme() -> str:
    """The theme chosen last (a key of THEMES)."""
    return _current


def resolve(theme: str) -> str:
    """``"light"`` or ``"dark"``: ``"system"`` follows the desktop's colour scheme."""
    if theme != "system":
        return theme
    scheme = QGuiApplication.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def is_dark(widget: QWidget) -> bool:
    """Whether ``widget`` is shown on a dark background."""
    return widget.palette().color(QPalette.ColorRole.Window).lightness() < 128


class ThemeStyle(QProxyStyle):
    """Fusion, with a check box frame drawn in the text colour on dark backgrounds (Fusion's
    own is a shade darker than the window, next to invisible there)."""

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # noqa: N802
        super().drawPrimitive(element, option, painter, widget)
        if element != QStyle.PrimitiveElement.PE_IndicatorCheckBox:
            return
        if option.palette.color(QPalette.ColorRole.Window).lightness() >= 128:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        color = QColor(option.palette.color(QPalette.ColorRole.Text))
        color.setAlpha(200)
        painter.setPen(QPen(color, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        r = QRectF(option.rect).adjusted(0.5, 0.5, -1.5, -1.5)
        painter.drawRect(r)
        painter.restore()


def palette_for(app: QApplication, theme: str) -> QPalette:
    if theme == "light":
        return QStyleFactory.create("Fusion").standardPalette()
    palette = QPalette()
    for role, color in DARK.items():
        palette.setColor(role, QColor(color))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def apply_theme(app: QApplication, theme: str = "light", root: QWidget | None = None) -> None:
    """Show ``app`` in ``theme`` (a key of THEMES). Plots made before (in ``root`` and every
    top-level window) are recoloured, so the theme can change while the app runs."""
    global _current
    _current = theme
    shade = resolve(theme)
    if not isinstance(app.style(), ThemeStyle):
        app.setStyle(ThemeStyle())
    background, foreground = PLOT_COLORS[shade]
    pg.setConfigOptions(antialias=True, background=background, foreground=foreground)
    app.setPalette(palette_for(app, shade))
    app.setStyleSheet(STYLE)
    for window in [root, *app.topLevelWidgets()]:
        if window is not None:
            restyle_plots(window, background, foreground)
    if not app.property("themeFollowsSystem"):  # once: the desktop switching light/dark
        app.setProperty("themeFollowsSystem", True)
        app.styleHints().colorSchemeChanged.connect(lambda _: _system_changed(app))


def _system_changed(app: QApplication) -> None:
    if _current == "system":
        apply_theme(app, "system")


def restyle_plots(root: QWidget, background: str, foreground: str) -> None:
    """Give the plots under ``root`` the theme's background, axes and text colours."""
    for plot in root.findChildren(pg.PlotWidget):
        plot.setBackground(background)
        for axis in plot.getPlotItem().axes.values():
            axis["item"].setPen(foreground)
            axis["item"].setTextPen(foreground)


def tinted(icon: QIcon, color: QColor, size: int = 32) -> QIcon:
    """``icon``'s shape filled with one ``color``: toolbar icons that read as well on a dark
    background as on a light one (the style's own are drawn for light backgrounds); faded
    when disabled (as in the Lab, where Play and Step don't apply)."""
    shape = icon.pixmap(size, size)

    def filled(fill: QColor) -> QPixmap:
        out = QPixmap(shape.size())
        out.setDevicePixelRatio(shape.devicePixelRatio())
        out.fill(Qt.GlobalColor.transparent)
        painter = QPainter(out)
        painter.drawPixmap(0, 0, shape)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        painter.fillRect(out.rect(), fill)
        painter.end()
        return out

    faded = QColor(color)
    faded.setAlphaF(0.3)
    result = QIcon(filled(color))
    result.addPixmap(filled(faded), QIcon.Mode.Disabled)
    return result

"""The run toolbar: Reset, Play/Pause, Step, the counters, the Mode and Preset boxes, the speed.

Its widths hold still: Play is as wide as Pause, the counter as wide as the widest count, the
Preset box as wide as the longest preset marked as changed, so nothing moves while a run goes.
The window connects the actions and boxes to what they do.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QAction, QFontDatabase, QIcon, QKeySequence, QPalette
from PySide6.QtWidgets import QComboBox, QLabel, QStyle, QToolBar, QWidget

from core.pace import Speed
from playground.panels.speed_control import SpeedControl
from playground.run_status import count
from playground.theme import tinted

#: The widest counter text the toolbar makes room for (its width never follows the counts).
WIDEST_COUNTER = " Epoch 999,999  Step 999,999 "
#: How the Preset box names a preset whose settings were changed since it was loaded.
CHANGED = "{} (changed)"
NO_PRESET_TIP = "Load a ready-made data set and network that learns it."
RESET_TIP = "Start over with new initial weights from the seed (R)."
RESET_PAGE_TIP = "Start this page over, as it first opened (R)."
LAB_PRESET_TIP = "The Lab has no presets: each page is its own experiment."


class RunToolbar(QToolBar):
    """``modes``: (mode, title, tooltip) in the Mode box's order; ``presets``: the names in the
    Preset box; ``speed``: the speed when none was chosen before (kept in ``settings``)."""

    def __init__(
        self,
        settings: QSettings,
        speed: Speed,
        modes: Sequence[tuple[str, str, str]],
        presets: Sequence[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Run", parent)
        self.setObjectName("runToolbar")
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reset_action = self._action("Reset", "R", RESET_TIP)
        self.play_action = self._action(
            "Play", Qt.Key.Key_Space, "Train continuously, or pause (Space)."
        )
        self.step_action = self._action("Step", "S", "Train exactly one epoch, then pause (S).")
        self.tint_icons()
        for action in (self.reset_action, self.play_action, self.step_action):
            self.addAction(action)
        for action in (self.reset_action, self.step_action):  # Play, the main action, keeps words
            self.widgetForAction(action).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        play = self.widgetForAction(self.play_action)  # as wide as "Pause": nothing moves
        self.play_action.setText("Pause")
        play.setFixedWidth(max(play.sizeHint().width(), play.minimumSizeHint().width()))
        self.play_action.setText("Play")
        self.addSeparator()
        self.epoch_label = QLabel()
        self.epoch_label.setObjectName("counter")
        self.epoch_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.epoch_label.setFixedWidth(
            self.epoch_label.fontMetrics().horizontalAdvance(WIDEST_COUNTER)
        )
        self.addWidget(self.epoch_label)
        self.addSeparator()
        self.addWidget(QLabel(" Mode "))
        self.mode_box = QComboBox()
        for mode, title, _ in modes:
            self.mode_box.addItem(title, mode)
        self.mode_box.setToolTip(" ".join(tip for _, _, tip in modes))
        self.addWidget(self.mode_box)
        self.addWidget(QLabel(" Preset "))
        self.preset_box = self._preset_box(presets)
        self.addWidget(self.preset_box)
        # Last in the toolbar: it never moves Mode and Preset, and a narrow window hides it first.
        self.addSeparator()
        self.speed_control = SpeedControl(settings, speed)
        self.addWidget(self.speed_control)

    def _action(self, text: str, key: str | Qt.Key, tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.setToolTip(tip)
        return action

    @staticmethod
    def _preset_box(presets: Sequence[str]) -> QComboBox:
        """The Preset box, as wide as its longest name marked as changed."""
        box = QComboBox()
        box.addItem("—", None)
        for name in presets:
            box.addItem(name, name)
        box.setToolTip(NO_PRESET_TIP)
        longest = CHANGED.format(max(presets, key=len))
        texts = (box.itemText(i) for i in range(box.count()))
        arrow = box.sizeHint().width() - box.fontMetrics().horizontalAdvance(max(texts, key=len))
        box.setFixedWidth(box.fontMetrics().horizontalAdvance(longest) + arrow)
        return box

    def tint_icons(self) -> None:
        """Reset, Play/Pause and Step drawn in the theme's text colour, so they read in the dark
        theme too (the style's own icons are drawn for light backgrounds)."""
        color = self.palette().color(QPalette.ColorRole.WindowText)

        def icon(kind: QStyle.StandardPixmap) -> QIcon:
            return tinted(self.style().standardIcon(kind), color)

        self.play_icon = icon(QStyle.StandardPixmap.SP_MediaPlay)
        self.pause_icon = icon(QStyle.StandardPixmap.SP_MediaPause)
        self.reset_action.setIcon(icon(QStyle.StandardPixmap.SP_BrowserReload))
        self.step_action.setIcon(icon(QStyle.StandardPixmap.SP_MediaSkipForward))
        self.show_running(self.play_action.text() == "Pause")

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "step_action"):
            self.tint_icons()  # a theme change, chosen or the system's
        super().changeEvent(event)

    def show_running(self, running: bool) -> None:
        """Play becomes Pause while the run trains."""
        self.play_action.setText("Pause" if running else "Play")
        self.play_action.setIcon(self.pause_icon if running else self.play_icon)

    def show_counts(self, epoch: int, step: int) -> None:
        self.epoch_label.setText(f" Epoch {count(epoch)}  Step {count(step)} ")

    def show_mode(self, mode: str, trains: bool = True) -> None:
        """Show ``mode`` in the Mode box; Play, Step, the counter, the presets and the speed
        apply only to a mode that ``trains`` (the Lab's pages have their own controls), and
        Reset there starts the page over."""
        self.mode_box.setCurrentIndex(self.mode_box.findData(mode))
        for widget in (self.play_action, self.step_action, self.preset_box, self.speed_control):
            widget.setEnabled(trains)
        self.reset_action.setToolTip(RESET_TIP if trains else RESET_PAGE_TIP)
        if not trains:
            self.epoch_label.clear()
            self.show_preset(None, False)

    def show_preset(self, name: str | None, changed: bool) -> None:
        """Name the preset the settings came from, marked when they were changed since."""
        box = self.preset_box
        for i in range(1, box.count()):
            box.setItemText(i, box.itemData(i))
        if name is None:
            box.setCurrentIndex(0)
            box.setToolTip(NO_PRESET_TIP if box.isEnabled() else LAB_PRESET_TIP)
            return
        index = box.findData(name)
        box.setCurrentIndex(index)
        if not changed:
            box.setToolTip(f"The preset {name}, as loaded.")
        else:
            box.setItemText(index, CHANGED.format(name))
            box.setToolTip(
                f"The settings were changed since the preset {name} was loaded; "
                "choose it again to go back to it."
            )

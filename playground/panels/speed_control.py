"""The training speed control of the toolbar: a slider over labelled stops from one step a
second to "max", and a Max button one click away. The choice is remembered in QSettings."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton, QWidget

from core.pace import MAX, Speed

#: The slider's stops, slowest first.
SPEEDS: tuple[Speed, ...] = (
    Speed(1, "step"),
    Speed(10, "step"),
    *(Speed(rate) for rate in (1, 2, 5, 10, 20, 50, 100)),
    MAX,
)
SETTINGS_KEY = "speed"


class SpeedControl(QWidget):
    """``speedChanged(Speed)`` fires when the speed changes (by the user or :meth:`set_speed`).
    The Max button is checked at "max"; unchecking it goes back to the speed chosen before."""

    speedChanged = Signal(object)  # Speed

    def __init__(
        self, settings: QSettings, default: Speed = MAX, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, len(SPEEDS) - 1)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setFixedWidth(80)
        self.slider.setToolTip(
            "Training speed: from one step a second, to watch every step, to as fast as the "
            "computer goes (" + ", ".join(s.label for s in SPEEDS) + ")."
        )
        self.value_label = QLabel()
        self.value_label.setObjectName("speedValue")
        width = max(self.value_label.fontMetrics().horizontalAdvance(s.label) for s in SPEEDS)
        self.value_label.setFixedWidth(width + 6)  # the toolbar never moves as the text changes
        self.max_button = QToolButton()
        self.max_button.setText("Max")
        self.max_button.setCheckable(True)
        self.max_button.setToolTip(
            "Train as fast as the computer goes; click again for the speed chosen before."
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(4)
        layout.addWidget(QLabel("Speed"))
        layout.addWidget(self.slider)
        layout.addWidget(self.value_label)
        layout.addWidget(self.max_button)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # never stretched

        # Where unchecking Max goes back to: the last speed below max chosen, else the default.
        self._previous = self._index(default) if default != MAX else len(SPEEDS) - 2
        self.slider.setValue(self._index(self._saved() or default))
        self._show()
        self.slider.valueChanged.connect(self._moved)
        self.max_button.clicked.connect(self._max_clicked)

    def speed(self) -> Speed:
        return SPEEDS[self.slider.value()]

    def set_speed(self, speed: Speed) -> None:
        """Move to ``speed`` (one of :data:`SPEEDS`; ValueError otherwise)."""
        self.slider.setValue(self._index(speed))

    def _index(self, speed: Speed) -> int:
        if speed not in SPEEDS:
            allowed = ", ".join(s.label for s in SPEEDS)
            raise ValueError(f"speed: {speed.label}; allowed: {allowed}")
        return SPEEDS.index(speed)

    def _saved(self) -> Speed | None:
        text = self._settings.value(SETTINGS_KEY)
        try:
            speed = Speed.parse(str(text)) if text else None
        except ValueError:
            return None  # a damaged setting: the default
        return speed if speed in SPEEDS else None

    def _moved(self, index: int) -> None:
        if SPEEDS[index] != MAX:
            self._previous = index
        self._show()
        self._settings.setValue(SETTINGS_KEY, self.speed().label)
        self.speedChanged.emit(self.speed())

    def _max_clicked(self, checked: bool) -> None:
        self.slider.setValue(len(SPEEDS) - 1 if checked else self._previous)

    def _show(self) -> None:
        speed = self.speed()
        self.value_label.setText(speed.label)
        self.max_button.setChecked(speed == MAX)

"""The Lab's optimizer race: the engine's seven optimizers walk down a surface f(x, y) from a start
point chosen by a click, drawn over its contour map, animated a few steps per timer tick.

The paths come from :func:`core.lab.surfaces.trajectory` (the engine's own optimizer classes on a
2-parameter vector); this page holds the knobs and only draws. A control changes one or all paths
at once, synchronously: a race of seven paths of at most a few hundred steps costs a few ms.
"""

from __future__ import annotations

import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.lab.surfaces import (
    OPTIMIZER_NAMES,
    SURFACES,
    Surface,
    Trajectory,
    clipped_path,
    height_map,
    isolines,
    trajectory,
)
from core.optimizer import MAX_LR
from core.optimizers import OPTIMIZERS
from playground.lab.page import LabPage, main
from playground.theme import PLOT_COLORS, is_dark
from playground.views.curves_view import key_label

#: Each optimizer's line colour (distinct in the light and the dark theme and on the map).
COLORS = dict(
    zip(
        OPTIMIZER_NAMES,
        ("#e8453c", "#f58518", "#e377c2", "#2ea043", "#17becf", "#3b7dd8", "#9467bd"),
        strict=True,
    )
)


def label(name: str) -> str:
    """The optimizer's name as the engine's class spells it: "SGD", "AdaGrad", "RMSprop"..."""
    return OPTIMIZERS[name].__name__


#: Grid points per side of the contour map, and its number of iso-lines.
RESOLUTION = 160
ISOLINES = 14
#: Timer period of the animation (ms) and the number of ticks a whole race takes.
TICK_MS = 30
TICKS_PER_RACE = 60
#: Share of the colour map in the map's colours (the rest is the plot background), per theme:
#: faint enough that every line reads on top of it.
MAP_STRENGTH = {"light": 0.45, "dark": 0.35}
MAX_STEPS = 2000
#: Paths of at most this many steps show a dot at each step.
DOTTED_STEPS = 250


def line_icon(color: str, size: int = 16) -> QIcon:
    """A legend mark: a short thick line in ``color``."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(color), 3))
    painter.drawLine(2, size // 2, size - 2, size // 2)
    painter.end()
    return QIcon(pix)


def map_lookup_table(background: str, strength: float) -> np.ndarray:
    """The contour map's colours ``(256, 3)`` uint8: viridis at ``strength`` (0..1) over
    ``background``."""
    lut = pg.colormap.get("viridis").getLookupTable(nPts=256).astype(np.float64)
    rgb = QColor(background)
    base = np.array([rgb.red(), rgb.green(), rgb.blue()], dtype=np.float64)
    return np.clip(base + (lut - base) * strength, 0, 255).astype(np.uint8)


class OptimizerRacePage(LabPage):
    """The race: a contour map with one line per optimizer, and a row of controls and results
    per optimizer (show it, its learning rate, its final f and steps to the minimum)."""

    title = "Gradient descent on a surface"
    explanation = (
        "<p><b>Gradient descent</b> steps downhill against the gradient, η being the learning "
        "rate:</p>"
        '<p align="center"><b>θ ← θ − η ∇f(θ)</b></p>'
        "<p>On the elongated bowl f = x²/20 + y² the valley's walls (y) are 20× steeper than "
        "its floor (x): a rate that makes progress along x overshoots across y, so SGD "
        "<b>zigzags</b>.</p>"
        "<p><b>Momentum</b> keeps a velocity (μ = 0.9; Nesterov is a look-ahead variant): the "
        "zigzags cancel and the steps along the valley add up, so it speeds along but rolls "
        "<b>past the minimum</b> before swinging back:</p>"
        '<p align="center"><b>v ← μv + ∇f,&nbsp;&nbsp; θ ← θ − ηv</b></p>'
        "<p><b>Adaptive rates</b> (AdaGrad, RMSprop, Adam) divide each coordinate's step by the "
        "size of its own recent gradients, so steep and shallow directions move alike; Adam "
        "averages g and g², corrects their start from zero, and steps with the ratio:</p>"
        '<p align="center"><b>m ← β₁m + (1−β₁)g,&nbsp;&nbsp; v ← β₂v + (1−β₂)g²</b><br>'
        "m′ = m / (1−β₁<sup>t</sup>),&nbsp;&nbsp; v′ = v / (1−β₂<sup>t</sup>)<br>"
        "<b>θ ← θ − η m′ / (√v′ + ε)</b></p>"
        "<p>Click the map to start elsewhere; the saddle x² − y² has no minimum, so the runs "
        "stop when they leave the map.</p>"
    )

    #: the animation has drawn every path whole
    raceFinished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.surface: Surface = SURFACES["elongated"]
        self.start = self.surface.start
        self.trajectories: dict[str, Trajectory] = {}
        #: each path as drawn (cut where a diverging run leaves far behind the map)
        self.drawings: dict[str, np.ndarray] = {}
        #: steps drawn of each path while the race animates; None: whole paths
        self.drawn: int | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        #: timer ticks a whole race takes, however many steps it has
        self.race_ticks = TICKS_PER_RACE
        self._build_plot()
        self._build_controls()
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addWidget(self.key)
        left.addWidget(self.plot, 1)
        layout.addLayout(left, 1)
        layout.addLayout(self.controls)
        self.set_surface("elongated")

    # -- building ------------------------------------------------------------------------------
    def _build_plot(self) -> None:
        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(False, False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "x")
        self.plot.setLabel("left", "y")
        self.image = pg.ImageItem()
        self.contours = pg.PlotDataItem(connect="pairs")
        self.minima = pg.ScatterPlotItem(symbol="star", size=16)
        self.start_mark = pg.ScatterPlotItem(symbol="o", size=12, brush=None)
        self.lines: dict[str, pg.PlotDataItem] = {}
        for item in (self.image, self.contours):
            self.plot.addItem(item)
        for name in OPTIMIZER_NAMES:
            color = COLORS[name]
            # AdamW dashed: its path is often Adam's, slightly pulled towards 0 by the decay
            style = Qt.PenStyle.DashLine if name == "adamw" else Qt.PenStyle.SolidLine
            line = pg.PlotDataItem(
                pen=pg.mkPen(color, width=2, style=style),
                symbol="o",
                symbolSize=4,
                symbolPen=None,
                symbolBrush=color,
            )
            self.lines[name] = line
            self.plot.addItem(line)
        self.plot.addItem(self.minima)
        self.plot.addItem(self.start_mark)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.key = QLabel()
        self.key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key.setWordWrap(True)
        self._apply_colors()

    def _build_controls(self) -> None:
        self.function = QComboBox()
        for key, surface in SURFACES.items():
            self.function.addItem(surface.name, key)
        self.function.setToolTip("The surface f(x, y) the optimizers walk down.")
        self.function.currentIndexChanged.connect(
            lambda _: self.set_surface(self.function.currentData())
        )
        self.steps = QSpinBox()
        self.steps.setRange(1, MAX_STEPS)
        self.steps.setToolTip("How many updates each optimizer takes.")
        self.steps.valueChanged.connect(lambda _: self._recompute(OPTIMIZER_NAMES))
        self.replay = QPushButton("Replay the race")
        self.replay.setToolTip("Draw the paths again step by step.")
        self.replay.clicked.connect(self.play)
        self.visible: dict[str, QCheckBox] = {}
        self.rates: dict[str, QDoubleSpinBox] = {}
        self.final_f: dict[str, QLabel] = {}
        self.reached: dict[str, QLabel] = {}
        table = QGridLayout()
        table.setHorizontalSpacing(10)
        heads = ("optimizer", "learning rate η", "final f", "steps until\n|f − f*| < 0.001")
        for column, text in enumerate(heads):
            head = QLabel(text)
            head.setObjectName("columnHead")
            table.addWidget(head, 0, column)
        for row, name in enumerate(OPTIMIZER_NAMES, start=1):
            box = QCheckBox(label(name))
            box.setIcon(line_icon(COLORS[name]))
            box.setChecked(True)
            box.setToolTip(f"Show {label(name)}'s path.")
            box.toggled.connect(lambda _, n=name: self._redraw((n,)))
            rate = QDoubleSpinBox()
            rate.setDecimals(4)
            rate.setRange(0.0001, MAX_LR)
            rate.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
            rate.setToolTip(f"{label(name)}'s learning rate η (the path is redrawn at once).")
            rate.valueChanged.connect(lambda _, n=name: self._recompute((n,)))
            self.visible[name], self.rates[name] = box, rate
            self.final_f[name], self.reached[name] = QLabel(), QLabel()
            for column, widget in enumerate((box, rate, self.final_f[name], self.reached[name])):
                table.addWidget(widget, row, column)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.controls = QVBoxLayout()
        form = QGridLayout()
        form.addWidget(QLabel("Function"), 0, 0)
        form.addWidget(self.function, 0, 1, 1, 2)
        form.addWidget(QLabel("Steps"), 1, 0)
        form.addWidget(self.steps, 1, 1)
        form.addWidget(self.replay, 1, 2)
        self.controls.addLayout(form)
        self.controls.addLayout(table)
        self.controls.addWidget(self.hint)
        self.controls.addStretch(1)

    # -- choices -------------------------------------------------------------------------------
    def set_surface(self, key: str) -> None:
        """Show the surface ``key`` with its default start, steps and rates, and race on it."""
        self.surface = SURFACES[key]
        self.start = self.surface.start
        controls = (self.function, self.steps, *self.rates.values())
        for widget in controls:
            widget.blockSignals(True)
        self.function.setCurrentIndex(self.function.findData(key))
        self.steps.setValue(self.surface.steps)
        for name, rate in self.rates.items():
            rate.setValue(self.surface.rates[name])
        for widget in controls:
            widget.blockSignals(False)
        self._draw_map()
        self.hint.setText(
            "Click the map to start from there (the ring). "
            + (
                "Stars mark the minima."
                if self.surface.minima
                else "This surface has no minimum: each run stops when it leaves the map."
            )
        )
        self._recompute(OPTIMIZER_NAMES, race=self.isVisible())

    def set_start(self, x: float, y: float) -> None:
        """Race again from (x, y)."""
        self.start = (float(x), float(y))
        self._recompute(OPTIMIZER_NAMES, race=True)

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        if self.surface.inside((pos.x(), pos.y())):
            self.set_start(pos.x(), pos.y())

    # -- animation -----------------------------------------------------------------------------
    def play(self) -> None:
        """Draw the race from its start, a few steps per timer tick."""
        self.drawn = 0
        self._redraw(OPTIMIZER_NAMES)
        self.timer.start()

    def _tick(self) -> None:
        longest = max(len(t.path) for t in self.trajectories.values()) - 1
        self.drawn = (self.drawn or 0) + max(1, -(-longest // self.race_ticks))
        if self.drawn >= longest:
            self.drawn = None
            self.timer.stop()
        self._redraw(OPTIMIZER_NAMES)
        if self.drawn is None:
            self.raceFinished.emit()

    def shown(self) -> None:
        if self.drawn is not None:
            self.timer.start()

    def hidden(self) -> None:
        self.timer.stop()

    # -- computing and drawing -----------------------------------------------------------------
    def _recompute(self, names, race: bool = False) -> None:
        """Run the optimizers ``names`` again and redraw their lines and rows (from the first
        step on when they ``race``)."""
        steps = self.steps.value()
        for name in names:
            lr = self.rates[name].value()
            self.trajectories[name] = trajectory(self.surface, name, lr, self.start, steps)
            self.drawings[name] = clipped_path(self.trajectories[name].path, self.surface.box)
            self._show_result(name)
            # a dot per step shows the step sizes; on long paths the dots would merge
            self.lines[name].setSymbol("o" if steps <= DOTTED_STEPS else None)
        self.start_mark.setData([self.start[0]], [self.start[1]])
        if race:
            self.play()
        else:
            self._redraw(names)

    def _redraw(self, names) -> None:
        """Give the lines ``names`` their paths (up to the animation's step) and the key."""
        end = None if self.drawn is None else self.drawn + 1
        for name in names:
            line = self.lines[name]
            shown = self.visible[name].isChecked()
            line.setVisible(shown)
            if shown:
                path = self.drawings[name][:end]
                line.setData(path[:, 0], path[:, 1])
        visible = [n for n in OPTIMIZER_NAMES if self.visible[n].isChecked()]
        entries = [(label(n), self.lines[n].opts["pen"]) for n in visible]
        self.key.setText(key_label(entries) if entries else "No optimizer shown")

    def _show_result(self, name: str) -> None:
        path, reached = self.trajectories[name]
        taken = len(path) - 1
        self.final_f[name].setText(f"{self.surface.value(path[-1]):.3g}")
        if taken < self.steps.value():
            why = "left at" if self.surface.stop_outside else "diverged at"
            self.reached[name].setText(f"— ({why} {taken})")
        else:
            self.reached[name].setText("—" if reached is None else str(reached))

    def _draw_map(self) -> None:
        """The contour map of the current surface, its iso-lines and minima, and the view."""
        x0, x1, y0, y1 = self.surface.box
        values = height_map(self.surface, RESOLUTION)
        self.image.setImage(values, levels=(values.min(), values.max()))
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        lo, hi = np.percentile(values, (0.5, 99.5))
        levels = np.linspace(lo, hi, ISOLINES + 2)[1:-1]
        self.contours.setData(*isolines(values, self.surface.box, levels))
        minima = np.array(self.surface.minima).reshape(-1, 2)
        self.minima.setData(minima[:, 0], minima[:, 1])
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)

    def _apply_colors(self) -> None:
        """Map, iso-line and marker colours for the current theme."""
        shade = "dark" if is_dark(self) else "light"
        background, foreground = PLOT_COLORS[shade]
        lut = map_lookup_table(pg.mkColor(background).name(), MAP_STRENGTH[shade])
        self.image.setLookupTable(lut)
        ink = QColor(foreground)
        ink.setAlpha(70)
        self.contours.setPen(pg.mkPen(ink, width=1))
        self.minima.setPen(pg.mkPen(foreground, width=1))
        self.minima.setBrush(pg.mkBrush("#ffd700"))
        self.start_mark.setPen(pg.mkPen(foreground, width=2.5))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()
        super().changeEvent(event)


if __name__ == "__main__":
    sys.exit(main(OptimizerRacePage))

"""Lab page 1, the perceptron and the logic gates: one neuron's line over the four points of a
gate, moved by hand (w1, w2, b) or by the perceptron rule one point at a time; on XOR the rule
fails, and a 2-2-1 network trained by the engine solves it with two hidden lines
(the numbers: :mod:`core.lab.perceptron`)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from core.lab.perceptron import GATES, INPUTS, Perceptron, PerceptronRule, Update, solve_xor
from playground.lab.page import LabPage, main
from playground.lab.widgets import WRONG, button, place_line, plane_plot, set_row, table
from playground.views.colors import class_color

#: The slider's unit (weights move in steps of 0.05) and its reach, ±3.
SLIDER_STEP = 0.05
SLIDER_REACH = 60
#: The plot's square around the four points, the shaded square (wider: it fills the plot at
#: any aspect) and the shading's resolution.
LOW, HIGH = -0.5, 1.5
SHADE_LOW, SHADE_HIGH, RES = -3.0, 4.0, 160
HIDDEN_COLORS = ("#2ea043", "#9467bd")
#: Where the learner starts: a line that already separates something (OR).
START = (0.5, 0.5, -0.25)
LEGEND = (
    "Orange: target 0, blue: target 1; a red ring: the neuron is wrong there. The shading shows "
    "what the neuron (or the network) outputs: blue 1, orange 0."
)


def signed(value: float) -> str:
    """``+ 0.25`` or ``− 0.25`` (a term of a sum)."""
    return f"{'−' if value < 0 else '+'} {abs(value):.2f}"


def line_text(w1: float, w2: float, b: float) -> str:
    """The neuron's sum as rich text: ``0.20·x₁ + 0.10·x₂ − 0.20``."""
    return f"{w1:.2f}·<i>x</i><sub>1</sub> {signed(w2)}·<i>x</i><sub>2</sub> {signed(b)}"


def grid() -> np.ndarray:
    """The plot's points at which the shading is computed, (RES², 2), row by row from LOW."""
    axis = np.linspace(SHADE_LOW, SHADE_HIGH, RES)
    x1, x2 = np.meshgrid(axis, axis)
    return np.column_stack([x1.ravel(), x2.ravel()])


class PerceptronPage(LabPage):
    title = "Perceptron and logic gates"
    explanation = (
        "<p>A perceptron is one neuron: it weighs its two inputs, adds a bias and fires "
        "(outputs 1) when the sum is above zero. The points where the sum is exactly zero form a "
        "<b>line</b>: the neuron says 1 on one side and 0 on the other.</p>"
        '<p class="formula"><i>y</i> = 1 if <i>w</i><sub>1</sub><i>x</i><sub>1</sub> + '
        "<i>w</i><sub>2</sub><i>x</i><sub>2</sub> + <i>b</i> &gt; 0, else 0</p>"
        "<p>Move the sliders to place the line so that every point of the gate lands on its "
        "side, or press <b>Learn</b>: the perceptron rule visits one point at a time and, when the "
        "neuron is wrong about it, nudges the weights towards the right answer:</p>"
        '<p class="formula">Δ<i>w</i> = η (<i>t</i> − <i>y</i>) <i>x</i>, &nbsp; '
        "Δ<i>b</i> = η (<i>t</i> − <i>y</i>)</p>"
        "<p>AND, OR and NAND are solved in a few passes. <b>XOR</b> never is: no single line "
        "puts (0, 1) and (1, 0) on one side and (0, 0) and (1, 1) on the other. Two neurons, "
        "each with its own line, and a third that combines them, can.</p>"
    )

    #: the rule is done: True when it converged, False when it gave up
    learningDone = Signal(bool)
    #: the 2-2-1 network was built and trained
    networkBuilt = Signal()

    #: Learn's pace: one update per tick every ``slow_ms`` for the first two passes, to be
    #: followed by eye, then ``fast_updates`` per tick every ``fast_ms`` (XOR's hundred passes
    #: take about two seconds)
    slow_ms, fast_ms, slow_steps, fast_updates = 250, 20, 8, 4

    def __init__(self) -> None:
        super().__init__()
        self.neuron = Perceptron(*START)
        self.network = None  # the 2-2-1 network (core.lab.perceptron.HiddenNetwork), once built
        self.last: Update | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._build_controls()
        self._build_plot()
        self._build_tables()
        self._lay_out()
        self.rule = self._new_rule()
        self.redraw()

    # -- building ------------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.gate_box = QComboBox()
        self.gate_box.addItems(list(GATES))
        self.gate_box.setToolTip("The logic gate whose truth table the neuron should reproduce.")
        self.gate_box.currentTextChanged.connect(self._restart)
        self.sliders: list[QSlider] = []
        self.values: list[QLabel] = []
        for _ in range(3):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(-SLIDER_REACH, SLIDER_REACH)
            slider.valueChanged.connect(self._slid)
            self.sliders.append(slider)
            self.values.append(QLabel())
        self.rate = QDoubleSpinBox()
        self.rate.setRange(0.05, 1.0)
        self.rate.setSingleStep(0.05)
        self.rate.setValue(0.1)
        self.rate.setToolTip("η, the learning rate: how far one update moves the line.")
        self.rate.valueChanged.connect(self._restart)
        self.learn_button = button("Learn", "Run the perceptron rule, one point at a time.")
        self.learn_button.setCheckable(True)
        self.learn_button.toggled.connect(self._learn_toggled)
        self.step_button = button("Step", "One update of the perceptron rule: the next point.")
        self.step_button.clicked.connect(lambda: self.step())
        self.zero_button = button("Zero", "Set w1, w2 and b to 0 and start the rule over.")
        self.zero_button.clicked.connect(lambda: self.set_weights(0.0, 0.0, 0.0))
        self.sum_label = QLabel()
        self.update_label = QLabel()
        self.verdict = QLabel()
        self.build_button = button(
            "Build a 2-2-1 network",
            "Two hidden neurons (tanh), each drawing its own line, and one output neuron that "
            "combines them, trained by the engine on the four points.",
        )
        self.build_button.clicked.connect(self.build_network)
        self.build_button.hide()
        for label in (self.sum_label, self.update_label, self.verdict):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)

    def _build_plot(self) -> None:
        self.plot = plane_plot(LOW, HIGH)
        self.shade = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.shade)
        self.line = pg.InfiniteLine()
        self.hidden_lines = [
            pg.InfiniteLine(pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine))
            for color in HIDDEN_COLORS
        ]
        self.points = pg.ScatterPlotItem(size=22)
        for item in (self.line, *self.hidden_lines, self.points):
            self.plot.addItem(item)
        self.grid = grid()

    def _build_tables(self) -> None:
        self.table = table(["x₁", "x₂", "target t", "output y", ""], widest="0")
        self.table.setToolTip("The gate's truth table beside what the neuron outputs.")
        self.hidden_table = table(["x₁", "x₂", "target t", "h₁", "h₂", "output", ""])
        self.hidden_table.setToolTip(
            "The hidden neurons' activations for each input, and the network's output: its "
            "probability that the answer is 1."
        )
        self.combine_label = QLabel()
        self.combine_label.setWordWrap(True)
        self.combine_label.setFixedWidth(self.hidden_table.width())
        self.hidden_box = QWidget()
        box = QVBoxLayout(self.hidden_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.hidden_table)
        box.addWidget(self.combine_label)
        self.hidden_box.hide()

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("Gate", self.gate_box)
        for name, slider, value in zip(("w₁", "w₂", "b"), self.sliders, self.values, strict=True):
            row = QHBoxLayout()
            row.addWidget(slider, 1)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("−3.00 "))
            row.addWidget(value)
            form.addRow(name, row)
        form.addRow("Rate η", self.rate)
        buttons = QHBoxLayout()
        for widget in (self.learn_button, self.step_button, self.zero_button):
            buttons.addWidget(widget)
        controls = QVBoxLayout()
        controls.addLayout(form)
        controls.addLayout(buttons)
        for widget in (self.sum_label, self.update_label, self.verdict, self.build_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        column = QWidget()
        column.setLayout(controls)
        column.setFixedWidth(270)
        tables = QHBoxLayout()
        tables.addWidget(self.table, 0, Qt.AlignmentFlag.AlignTop)
        tables.addWidget(self.hidden_box, 0, Qt.AlignmentFlag.AlignTop)
        tables.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.plot, 1)
        legend = QLabel(LEGEND)
        legend.setWordWrap(True)
        right.addWidget(legend)
        right.addLayout(tables)
        layout = QGridLayout(self)
        layout.addWidget(column, 0, 0)
        layout.addLayout(right, 0, 1)
        layout.setColumnStretch(1, 1)

    # -- the controls --------------------------------------------------------------------------
    def shown(self) -> None:
        self.redraw()

    def hidden(self) -> None:
        self.learn_button.setChecked(False)  # stops the timer

    @property
    def gate(self) -> str:
        return self.gate_box.currentText()

    def set_gate(self, gate: str) -> None:
        self.gate_box.setCurrentText(gate)

    def set_weights(self, w1: float, w2: float, b: float) -> None:
        """Place the neuron's line (and start the rule over from there)."""
        self.neuron.set(w1, w2, b)
        self._restart()

    def _slid(self) -> None:
        self.neuron.set(*(s.value() * SLIDER_STEP for s in self.sliders))
        self._restart()

    def _new_rule(self) -> PerceptronRule:
        return PerceptronRule(self.neuron, self.gate, self.rate.value())

    def _restart(self) -> None:
        """A control changed: the rule starts over from the weights shown; any network goes."""
        self.learn_button.setChecked(False)
        self.rule, self.last, self.network = self._new_rule(), None, None
        self.redraw()

    def _learn_toggled(self, on: bool) -> None:
        self.learn_button.setText("Pause" if on else "Learn")
        if not on:
            self.timer.stop()
            return
        if self.rule.done:  # learning again from a solved or given-up state starts over
            self.rule, self.network = self._new_rule(), None
        self.timer.start(self.slow_ms if self.rule.steps < self.slow_steps else self.fast_ms)

    def _tick(self) -> None:
        """Learn's timer: the next update(s) of the rule."""
        fast = self.rule.steps >= self.slow_steps
        if fast:
            self.timer.setInterval(self.fast_ms)
        self.step(self.fast_updates if fast else 1)

    def step(self, updates: int = 1) -> None:
        """``updates`` updates of the perceptron rule (Step: one), fewer if it is done."""
        if self.rule.done:
            self.rule, self.network = self._new_rule(), None
        for _ in range(updates):
            self.last = self.rule.step()
            if self.rule.done:
                break
        self.redraw()
        if self.rule.done:
            self.learn_button.setChecked(False)
            self.learningDone.emit(self.rule.converged)

    def build_network(self) -> None:
        """Train the 2-2-1 network on the gate with the engine and show how it separates."""
        self.network = solve_xor("tanh")
        self.redraw()
        self.networkBuilt.emit()

    # -- drawing -------------------------------------------------------------------------------
    def redraw(self) -> None:
        w1, w2 = self.neuron.weights
        b = self.neuron.bias
        for slider, value, v in zip(self.sliders, self.values, (w1, w2, b), strict=True):
            slider.blockSignals(True)
            slider.setValue(round(v / SLIDER_STEP))
            slider.blockSignals(False)
            value.setText(f"{v:.2f}")
        self.sum_label.setText(f"Sum: {line_text(w1, w2, b)}")
        self.update_label.setText(update_text(self.last, self.rule))
        self.verdict.setText(self._verdict())
        failed = self.rule.gave_up and self.gate == "XOR"
        self.build_button.setVisible(failed and self.network is None)
        self._draw_plot()
        self._fill_table()

    def _verdict(self) -> str:
        rule, net = self.rule, self.network
        if net is not None:
            return (
                f"<b>The 2-2-1 network solves {rule.gate}: {net.solved(rule.gate)}/4.</b> Each "
                "hidden neuron draws one line (dashed); the output neuron fires between them."
            )
        if rule.converged and rule.steps == 0:
            return "<b>Solved:</b> every point is on its side of the line."
        if rule.converged:
            return (
                f"<b>Solved:</b> every point is on its side of the line (after {rule.steps} "
                f"updates, {math.ceil(rule.steps / len(INPUTS))} passes)."
            )
        if rule.gave_up:
            return (
                f"<b>No line can separate these points.</b> After {rule.budget} passes the rule "
                "still gets a point wrong, and it would forever: XOR needs two lines."
            )
        return f"{int(rule.correct.sum())} of 4 points right."

    def _draw_plot(self) -> None:
        net, neuron = self.network, self.neuron
        on = net.probability(self.grid) if net is not None else neuron.output(self.grid)
        ones, zeros = np.array(class_color(1)), np.array(class_color(0))
        rgba = np.empty((len(on), 4), dtype=np.ubyte)
        rgba[:, :3] = zeros + (ones - zeros) * np.asarray(on, float)[:, None]
        rgba[:, 3] = 70
        span = SHADE_HIGH - SHADE_LOW
        rect = (SHADE_LOW, SHADE_LOW, span, span)
        self.shade.setImage(rgba.reshape(RES, RES, 4), autoLevels=False, rect=rect)
        self.line.setPen(pg.mkPen(self.palette().text().color(), width=2.5))  # as themed now
        place_line(self.line, *neuron.weights, neuron.bias, visible=net is None)
        for j, line in enumerate(self.hidden_lines):
            if net is None:
                line.hide()
            else:
                place_line(line, *net.hidden_w[:, j], net.hidden_b[j])
        wrong = ~self.rule.correct if net is None else net.predicted != self.rule.t
        spots = []
        for i, (x, t) in enumerate(zip(INPUTS, self.rule.t, strict=True)):
            current = self.last is not None and self.last.index == i and net is None
            spots.append(
                {
                    "pos": tuple(x),
                    "brush": pg.mkBrush(*class_color(int(t))),
                    "pen": pg.mkPen(WRONG if wrong[i] else "w", width=4 if wrong[i] else 1.5),
                    "size": 30 if current else 22,
                }
            )
        self.points.setData(spots)

    def _fill_table(self) -> None:
        outputs = self.neuron.output(INPUTS)
        for i, x in enumerate(INPUTS):
            t, y = int(self.rule.t[i]), int(outputs[i])
            set_row(self.table, i, [*map(int, x), t, y, t == y])
        net = self.network
        self.hidden_box.setVisible(net is not None)  # in the truth table's place
        self.table.setVisible(net is None)
        if net is None:
            return
        for i, x in enumerate(INPUTS):
            t = int(self.rule.t[i])
            ok = net.predicted[i] == t
            h1, h2 = net.hidden[i]
            cells = [*map(int, x), t, f"{h1:.2f}", f"{h2:.2f}", f"{net.proba[i]:.2f}"]
            set_row(self.hidden_table, i, [*cells, ok])
        v1, v2 = net.out_w
        self.combine_label.setText(
            f"output = σ({v1:.2f}·h₁ {signed(v2)}·h₂ {signed(net.out_b)}), "
            "hᵢ = tanh(wᵢ·x + bᵢ): the dashed lines are where hᵢ = 0 (h₁ green, h₂ purple)."
        )


def update_text(last: Update | None, rule: PerceptronRule) -> str:
    """What the last update of the rule did, with its numbers."""
    if last is None:
        return "Press <b>Step</b> or <b>Learn</b> to run the perceptron rule."
    x = f"({last.x[0]:.0f}, {last.x[1]:.0f})"
    head = f"Pass {rule.epoch + 1 if not rule.done else rule.epoch}, point {x}: "
    if not last.changed:
        return head + f"t = {last.t}, y = {last.y}: right, no change."
    dw = f"({last.dw[0]:.2f}, {last.dw[1]:.2f})"
    return (
        head + f"t = {last.t}, y = {last.y}: wrong.<br>Δ<i>w</i> = {last.lr:.2f}·"
        f"({last.t} − {last.y})·{x} = {dw}, Δ<i>b</i> = {last.db:.2f}"
    )


if __name__ == "__main__":
    sys.exit(main(PerceptronPage))

"""Training panel: optimizer and its settings, learning rate, schedule, batch size,
regularization, gradient clipping and seed.

The learning rate and the regularization rate apply live (``lrChanged``/``regularizationChanged``);
every other change resets the run (``changed``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from core.optimizer import MAX_LR, MAX_WEIGHT_DECAY
from core.training.config import MAX_EPOCHS, MAX_REGULARIZATION, TrainConfig
from playground.panels.widgets import (
    LEARNING_RATES,
    REG_RATES,
    Limits,
    RateBox,
    add_pair,
    dspin,
    pair_grid,
    spin,
)

#: The engine's ranges (core.optimizer, core.schedules, core.training.TrainConfig.validate).
LR = Limits(0.0, MAX_LR, low_open=True)
UNIT = Limits(0.0, 1.0, high_open=True)  # momentum, β₂
WEIGHT_DECAY = Limits(0.0, MAX_WEIGHT_DECAY)
GAMMA = Limits(0.0, 1.0, low_open=True)
REGULARIZATION = Limits(0.0, MAX_REGULARIZATION)
#: The engine only asks for a norm > 0; the box stops at 1000, far above any useful value.
CLIP_NORM = Limits(0.0, 1000.0, low_open=True)

OPTIMIZER_TIPS = {
    "sgd": "Plain stochastic gradient descent: w -= lr·g.",
    "momentum": "SGD with momentum: keeps moving in consistent directions, damps zig-zags.",
    "nesterov": "Momentum that looks ahead before correcting; often a little faster.",
    "adagrad": "Per-weight rates that shrink with accumulated squared gradients.",
    "rmsprop": "Per-weight rates from a moving average of squared gradients.",
    "adam": "Momentum + RMSprop with bias correction: a robust default.",
    "adamw": "Adam with decoupled weight decay (shrinks weights independently of gradients).",
}
SCHEDULE_TIPS = {
    "constant": "Keep the learning rate fixed.",
    "step": "Halve the learning rate every N epochs.",
    "exponential": "Multiply the learning rate by γ every epoch.",
    "cosine": "Decrease the learning rate along a half cosine to 0 over N epochs.",
}


class TrainingPanel(QWidget):
    changed = Signal()
    lrChanged = Signal(float)
    regularizationChanged = Signal(float, float)  # l1, l2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        self.optimizer = QComboBox()
        for name, tip in OPTIMIZER_TIPS.items():
            self.optimizer.addItem(name, name)
            self.optimizer.setItemData(self.optimizer.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.optimizer.setToolTip("How gradients turn into weight updates.")
        self.momentum = dspin(
            UNIT,
            0.05,
            3,
            "Momentum: how much of the previous update carries over (0.9 is typical).",
        )
        self.beta2 = dspin(UNIT, 0.001, 4, "Adam's β₂: memory of squared gradients.")
        self.weight_decay = dspin(
            WEIGHT_DECAY, 0.01, 4, "Decoupled weight decay (AdamW): shrinks weights every step."
        )
        self.lr = RateBox(
            LEARNING_RATES,
            LR,
            "Learning rate: the step size. Too high diverges, too low crawls. Changes apply "
            "at the next step, even while training. Pick a rate or type one.",
        )
        self.schedule = QComboBox()
        for name, tip in SCHEDULE_TIPS.items():
            self.schedule.addItem(name, name)
            self.schedule.setItemData(self.schedule.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.schedule.setToolTip(
            "How the learning rate changes over epochs (a multiplier of the rate above)."
        )
        self.schedule_epochs = spin(
            1, 100000, "Epochs of the schedule: step size (step) or length (cosine)."
        )
        self.gamma = dspin(GAMMA, 0.005, 4, "Decay factor γ per epoch (exponential).")
        self.warmup = spin(
            0,
            10000,
            "Warm-up epochs: the rate ramps up linearly first, which steadies the first steps.",
        )
        self.batch = spin(
            1,
            100000,
            "Samples per update. Small batches are noisy but update "
            "often; the whole set gives exact but slow steps.",
        )
        self.reg_kind = QComboBox()
        for label, key in (("none", "none"), ("L1", "l1"), ("L2", "l2")):
            self.reg_kind.addItem(label, key)
        self.reg_kind.setToolTip(
            "Penalize large weights: L2 shrinks them smoothly; L1 takes learning rate × L1 rate "
            "off every weight's size after each step, so weights the data does not need become "
            "exactly zero (dashed grey links). Applies live."
        )
        self.reg_rate = RateBox(
            REG_RATES,
            REGULARIZATION,
            "Regularization rate: how strongly "
            "weights are pulled to zero. Applies at the next step.",
        )
        self.clip = QCheckBox("Clip gradient norm at")
        self.clip.setToolTip(
            "Rescale the whole gradient when its norm exceeds this value: "
            "guards against exploding updates."
        )
        self.clip_norm = dspin(CLIP_NORM, 0.5, 2, "Largest gradient norm allowed.")
        self.seed = spin(
            0,
            2**31 - 1,
            "Seed of the initial weights, shuffling and dropout: "
            "the same seed replays the same run.",
        )
        self.epochs = spin(0, MAX_EPOCHS, "Stop after this many epochs (0: train until you pause).")

        # Two label/field pairs a row keeps the whole panel visible beside the data panel.
        grid = pair_grid()
        self._labels: dict[QWidget, QLabel] = {}

        def put(row: int, col: int, text: str, widget: QWidget, span: int = 1) -> None:
            self._labels[widget] = add_pair(grid, row, col, text, widget, span)

        put(0, 0, "Optimizer", self.optimizer)
        put(0, 2, "Rate", self.lr)
        put(1, 0, "Momentum", self.momentum)
        put(1, 0, "β₂", self.beta2)
        put(1, 2, "Decay", self.weight_decay)
        sched = QHBoxLayout()
        sched.setSpacing(4)
        sched.addWidget(self.schedule, 1)
        sched.addWidget(self.schedule_epochs)
        sched.addWidget(self.gamma)
        grid.addWidget(QLabel("Schedule"), 2, 0)
        grid.addLayout(sched, 2, 1, 1, 3)
        put(3, 0, "Warm-up", self.warmup)
        put(3, 2, "Batch", self.batch)
        reg = QHBoxLayout()
        reg.setSpacing(4)
        reg.addWidget(self.reg_kind)
        reg.addWidget(self.reg_rate, 1)
        grid.addWidget(QLabel("Regularize"), 4, 0)
        grid.addLayout(reg, 4, 1, 1, 3)
        grid.addWidget(self.clip, 5, 0, 1, 2)
        grid.addWidget(self.clip_norm, 5, 2, 1, 2)
        put(6, 0, "Run seed", self.seed)
        put(6, 2, "Epochs", self.epochs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(grid)
        layout.addStretch(1)

        for w in (self.optimizer, self.schedule):
            w.currentIndexChanged.connect(self._emit)
        for w in (
            self.momentum,
            self.beta2,
            self.weight_decay,
            self.schedule_epochs,
            self.gamma,
            self.warmup,
            self.batch,
            self.clip_norm,
            self.seed,
            self.epochs,
        ):
            w.valueChanged.connect(self._emit)
        self.clip.toggled.connect(self._emit)
        self.lr.valueChanged.connect(self.lrChanged)
        self.reg_kind.currentIndexChanged.connect(self._reg_changed)
        self.reg_rate.valueChanged.connect(self._reg_changed)
        self.set_config(TrainConfig(epochs=0))

    # -- settings ------------------------------------------------------------------------------
    def config(self) -> TrainConfig:
        name = self.optimizer.currentData()
        params: dict = {}
        if name in ("momentum", "nesterov"):
            params["momentum"] = round(self.momentum.value(), 6)
        if name in ("adam", "adamw"):
            params["betas"] = [0.9, round(self.beta2.value(), 6)]
        if name == "adamw":
            params["weight_decay"] = round(self.weight_decay.value(), 6)
        kind = self.schedule.currentData()
        schedule: dict = {"name": kind}
        if kind == "step":
            schedule.update(step_size=self.schedule_epochs.value(), gamma=0.5)
        elif kind == "exponential":
            schedule["gamma"] = round(self.gamma.value(), 6)
        elif kind == "cosine":
            schedule["total_epochs"] = self.schedule_epochs.value()
        if self.warmup.value():
            schedule["warmup"] = self.warmup.value()
        l1, l2 = self.regularization()
        return TrainConfig(
            optimizer=name,
            lr=self.lr.value(),
            optimizer_params=params,
            schedule=schedule,
            batch_size=self.batch.value(),
            epochs=self.epochs.value(),
            l1=l1,
            l2=l2,
            clip_norm=round(self.clip_norm.value(), 6) if self.clip.isChecked() else None,
            seed=self.seed.value(),
        )

    def regularization(self) -> tuple[float, float]:
        kind, rate = self.reg_kind.currentData(), self.reg_rate.value()
        return (rate if kind == "l1" else 0.0, rate if kind == "l2" else 0.0)

    def set_config(self, c: TrainConfig) -> None:
        self._loading = True
        try:
            self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(c.optimizer)))
            p = c.optimizer_params
            self.momentum.setValue(p.get("momentum", 0.9))
            self.beta2.setValue(list(p.get("betas", (0.9, 0.999)))[1])
            self.weight_decay.setValue(p.get("weight_decay", 0.01))
            self.lr.setValue(c.lr)
            s = c.schedule or {"name": "constant"}
            self.schedule.setCurrentIndex(max(0, self.schedule.findData(s.get("name"))))
            self.schedule_epochs.setValue(int(s.get("step_size", s.get("total_epochs", 100))))
            self.gamma.setValue(s.get("gamma", 0.99))
            self.warmup.setValue(int(s.get("warmup", 0)))
            self.batch.setValue(c.batch_size)
            kind = "l1" if c.l1 else "l2" if c.l2 else "none"
            self.reg_kind.setCurrentIndex(self.reg_kind.findData(kind))
            self.reg_rate.setValue(c.l1 or c.l2 or 0.0)
            self.clip.setChecked(c.clip_norm is not None)
            self.clip_norm.setValue(c.clip_norm or 1.0)
            self.seed.setValue(c.seed)
            self.epochs.setValue(c.epochs)
        finally:
            self._loading = False
        self._update_visible()

    def set_max_batch(self, n: int) -> None:
        """Cap the batch size at the training set's size (the value is clamped silently: the
        caller is setting up a run and reads the config afterwards)."""
        self._loading = True
        try:
            self.batch.setMaximum(max(1, n))
        finally:
            self._loading = False

    # -- internals -----------------------------------------------------------------------------
    def _emit(self) -> None:
        self._update_visible()
        if not self._loading:
            self.changed.emit()

    def _reg_changed(self) -> None:
        self._update_visible()
        if not self._loading:
            self.regularizationChanged.emit(*self.regularization())

    def _update_visible(self) -> None:
        name = self.optimizer.currentData()
        self.optimizer.setToolTip("How gradients turn into weight updates. " + OPTIMIZER_TIPS[name])
        kind = self.schedule.currentData()
        self.schedule.setToolTip(SCHEDULE_TIPS[kind])
        rows = (
            (self.momentum, name in ("momentum", "nesterov")),
            (self.beta2, name in ("adam", "adamw")),
            (self.weight_decay, name == "adamw"),
        )
        for w, visible in rows:
            w.setVisible(visible)
            self._labels[w].setVisible(visible)
        self.schedule_epochs.setVisible(kind in ("step", "cosine"))
        self.gamma.setVisible(kind == "exponential")
        self.reg_rate.setEnabled(self.reg_kind.currentData() != "none")
        self.clip_norm.setEnabled(self.clip.isChecked())

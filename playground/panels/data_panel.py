"""Data panel: which toy set (or CSV file), its size, noise, split and seed, and the input
features the network sees."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.data import toy2d
from core.data.dataset import MAX_TEST_RATIO, MIN_SAMPLES
from core.data.features import FEATURES
from core.data.toy2d import DATASETS
from playground import file_dialogs
from playground.panels.widgets import Limits, add_pairs, dspin, pair_grid, spin
from playground.session import DataSettings

FEATURE_TIPS = {
    "x1": "The horizontal coordinate.",
    "x2": "The vertical coordinate.",
    "x1sq": "x₁ squared: lets a single neuron draw curved (parabolic) boundaries.",
    "x2sq": "x₂ squared: with x₁², circles become linearly separable.",
    "x1x2": "The product x₁·x₂: makes XOR linearly separable.",
    "sinx1": "sin(x₁): periodic patterns along x₁.",
    "sinx2": "sin(x₂): periodic patterns along x₂.",
}


class DataPanel(QWidget):
    """Emits ``changed`` whenever a setting changes (the run is then reset)."""

    changed = Signal()
    csvRequested = Signal(str)  # a path picked in the file dialog

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._csv_path: str | None = None
        self._edits: list = []
        self.dataset = QComboBox()
        for name, info in DATASETS.items():
            self.dataset.addItem(
                f"{name} ({info.task[:5]}.)" if info.task == "regression" else name, name
            )
            self.dataset.setItemData(
                self.dataset.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole
            )
        self.dataset.setToolTip(
            "The points to learn. Classification sets colour points by "
            "class; regression sets by value."
        )
        self.classes = spin(
            toy2d.MIN_CLASSES,
            toy2d.MAX_CLASSES,
            "Number of classes (spiral arms). More classes need a wider network.",
        )
        self.samples = spin(
            MIN_SAMPLES,
            toy2d.MAX_SAMPLES,
            "How many points. More points describe the shape better but make each epoch longer.",
            step=50,
        )
        self.noise = dspin(
            Limits(0.0, toy2d.MAX_NOISE),
            0.05,
            2,
            "Label and position noise: 0 is clean, 0.5 is "
            "hard. Noise tempts a large network to overfit.",
        )
        self.test_ratio = dspin(
            Limits(0.0, MAX_TEST_RATIO),
            0.1,
            2,
            "Fraction of points held out to measure "
            "how well the network generalizes (test loss/accuracy).",
        )
        self.seed = spin(
            0, 2**31 - 1, "Seed of the data's randomness: the same seed gives the same points."
        )
        form = pair_grid()  # like the training panel
        form.addWidget(QLabel("Data set"), 0, 0)
        form.addWidget(self.dataset, 0, 1, 1, 3)
        pairs = [("Points", self.samples), ("Classes", self.classes), ("Noise", self.noise)]
        add_pairs(form, 1, [*pairs, ("Test ratio", self.test_ratio), ("Data seed", self.seed)])

        self.features: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        for i, (key, label) in enumerate(FEATURES.items()):
            box = QCheckBox(label)
            box.setToolTip(
                FEATURE_TIPS[key] + " Feeding a network useful features makes its job easier."
            )
            box.toggled.connect(self._feature_toggled)
            self.features[key] = box
            grid.addWidget(box, i // 2, i % 2)

        self.csv_button = QPushButton("Import CSV…")
        self.csv_button.setToolTip(
            "Load your own points: columns x1, x2, label (header "
            "optional). Integer labels are classes, decimals are values."
        )
        self.csv_button.clicked.connect(self._pick_csv)
        self.csv_clear = QPushButton("Use generated")
        self.csv_clear.setToolTip("Go back to the generated data set.")
        self.csv_clear.clicked.connect(self._clear_csv)
        self.csv_label = QLabel()
        self.csv_label.setWordWrap(True)
        self.edits_clear = QPushButton("Remove my points")
        self.edits_clear.setToolTip(
            "Undo every point added or removed by clicking on the output view."
        )
        self.edits_clear.clicked.connect(self._clear_edits)
        csv_row = QHBoxLayout()
        csv_row.addWidget(self.csv_button)
        csv_row.addWidget(self.csv_clear)
        csv_row.addWidget(self.edits_clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        title = QLabel("Input features")
        title.setObjectName("sectionTitle")
        layout.addWidget(title)
        layout.addLayout(grid)
        layout.addLayout(csv_row)
        layout.addWidget(self.csv_label)
        for w in (self.classes, self.samples, self.seed):
            w.valueChanged.connect(self._emit)
        for w in (self.noise, self.test_ratio):
            w.valueChanged.connect(self._emit)
        self.dataset.currentIndexChanged.connect(self._emit)
        self._loading = False
        self._update_enabled()

    # -- settings ------------------------------------------------------------------------------
    def settings(self) -> DataSettings:
        return DataSettings(
            dataset=self.dataset.currentData(),
            n_samples=self.samples.value(),
            noise=round(self.noise.value(), 4),
            test_ratio=round(self.test_ratio.value(), 4),
            seed=self.seed.value(),
            n_classes=self.classes.value(),
            features=[k for k, box in self.features.items() if box.isChecked()],
            csv_path=self._csv_path,
            edits=list(self._edits),
        )

    def set_settings(self, d: DataSettings) -> None:
        self._loading = True
        try:
            self.dataset.setCurrentIndex(max(0, self.dataset.findData(d.dataset)))
            self.samples.setValue(d.n_samples)
            self.noise.setValue(d.noise)
            self.test_ratio.setValue(d.test_ratio)
            self.seed.setValue(d.seed)
            self.classes.setValue(d.n_classes)
            for key, box in self.features.items():
                box.setChecked(key in d.features)
            self._csv_path = d.csv_path
            self._edits = list(d.edits)
        finally:
            self._loading = False
        self._update_enabled()

    def set_csv(self, path: str | None) -> None:
        self._csv_path = path
        self._edits = []
        self._update_enabled()
        self._emit()

    def add_edit(self, edit: list) -> None:
        self._edits.append(edit)
        self._update_enabled()
        self._emit()

    # -- internals -----------------------------------------------------------------------------
    def _emit(self) -> None:
        self._update_enabled()
        if not self._loading:
            self.changed.emit()

    def _feature_toggled(self, on: bool) -> None:
        if not any(box.isChecked() for box in self.features.values()):
            self.sender().setChecked(True)  # at least one input
            return
        self._emit()

    def _update_enabled(self) -> None:
        generated = self._csv_path is None
        name = self.dataset.currentData()
        for w in (self.dataset, self.samples, self.noise):
            w.setEnabled(generated)
        self.classes.setEnabled(generated and bool(name) and DATASETS[name].multiclass)
        self.csv_clear.setVisible(not generated)
        self.csv_label.setVisible(not generated)
        if not generated:
            self.csv_label.setText(f"Points from {self._csv_path}")
        self.edits_clear.setVisible(bool(self._edits))

    def _pick_csv(self) -> None:
        path = file_dialogs.open_file(self, "csv", "Import points", "CSV files (*.csv *.txt)")
        if path:
            self.csvRequested.emit(path)

    def _clear_csv(self) -> None:
        self.set_csv(None)

    def _clear_edits(self) -> None:
        self._edits = []
        self._emit()

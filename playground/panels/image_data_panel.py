"""Image data panel: which image set (MNIST, Fashion-MNIST or a folder of the user's), whether it
is on this computer (with a Download button when not), subsets, augmentation and seed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.data.image_dataset import ImageDataset
from core.data.loading import load_folder
from core.data.locations import Location, cache_folder, status
from core.data.registry import DATASETS
from playground import file_dialogs
from playground.background import Job
from playground.data_folders import DataFolders
from playground.image_data import (
    DATASET_NAMES,
    MAX_SEED,
    TEST_SUBSETS,
    TRAIN_SUBSETS,
    ImageDataSettings,
)
from playground.panels.download_dialog import DownloadDialog, short_path
from playground.panels.widgets import add_pairs, pair_grid, spin

DATASET_TIPS = {
    "mnist": "Handwritten digits 0–9. The easy one: a small MLP reaches about 97% test accuracy.",
    "fashion-mnist": (
        "Photos of clothing in 10 classes. Harder: an MLP stalls near 88%, mostly confusing "
        "shirts, T-shirts, pullovers and coats; convolutions help."
    ),
}
AUGMENT_TIP = (
    "Random ±2 px shifts and ±10° rotations of the training images, new every epoch. The "
    "network cannot memorize exact pixels, so it overfits less (most visible on small "
    "subsets); training accuracy rises more slowly."
)


def _add_subset(box: QComboBox, n: int | None, everything: str) -> None:
    """Offer a subset of ``n`` images (None: all of them, named ``everything``); its data is
    ``n`` (0: all)."""
    box.addItem(everything if n is None else f"{n:,}", 0 if n is None else n)


def _subset_box(sizes: Sequence[int | None], everything: str, tip: str) -> QComboBox:
    box = QComboBox()
    for n in sizes:
        _add_subset(box, n, everything)
    box.setToolTip(tip)
    return box


class _ElidedLabel(QLabel):
    """One line of text elided in the middle to the label's width; the full text is the
    tooltip, so long paths never widen the panel."""

    def __init__(self) -> None:
        super().__init__()
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str, tip: str | None = None) -> None:
        self._full = text
        self.setToolTip(text if tip is None else tip)
        self._elide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = self.fontMetrics()
        self.setText(metrics.elidedText(self._full, Qt.TextElideMode.ElideMiddle, self.width()))


class ImageDataPanel(QWidget):
    """Emits ``changed`` whenever a setting changes (the run is then reset), and when the
    selected data set becomes available through a download or a folder checked off the GUI
    thread (``jobStarted``, then ``folderChecked``).

    ``cache_dir`` and ``mirrors`` default to the core's (``NN_PLAYGROUND_DATA`` or the per-user
    folder; the registry's mirrors). With ``folders``, the folder each data set was loaded from
    is remembered and used again whenever settings name that data set without a folder."""

    changed = Signal()
    #: a folder (or .npz) was checked: (its path, whether it is used now); after a Cancel too
    folderChecked = Signal(str, bool)
    jobStarted = Signal(object)  # reading a folder began (a background.Job: show it)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        mirrors: Sequence[str] | None = None,
        folders: DataFolders | None = None,
    ) -> None:
        super().__init__(parent)
        self.folders = folders
        #: A folder the settings named (or the data set was loaded from) that has gone.
        self.gone: str | None = None
        self.cache_dir = cache_dir
        self.mirrors = mirrors
        self.location: Location | None = None
        self.download_dialog: DownloadDialog | None = None
        self._folder: str | None = None
        self._folder_counts: tuple[int, int] | None = None
        self._loading = False
        self._checking: Job | None = None  # reading a folder chosen

        self.dataset = QComboBox()
        for name in DATASET_NAMES:
            self.dataset.addItem(DATASETS[name].title, name)
            self.dataset.setItemData(
                self.dataset.count() - 1, DATASET_TIPS[name], Qt.ItemDataRole.ToolTipRole
            )
        self.dataset.setToolTip(
            "The images to learn: 28×28 grey pixels, 10 classes. With a folder loaded, this "
            "names its classes."
        )
        self.status = _ElidedLabel()
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download)
        self.folder_button = QPushButton("Load from folder…")
        self.folder_button.setToolTip(
            "Use your own copy: a folder with the four IDX files (train-images-idx3-ubyte and "
            "the others, raw or .gz) or an mnist.npz file. It is checked before it is used."
        )
        menu = QMenu(self.folder_button)
        menu.addAction("Folder of IDX files…", lambda: self.choose_folder())
        menu.addAction("mnist.npz file…", lambda: self.choose_npz())
        self.folder_button.setMenu(menu)
        self.named_button = QPushButton()
        self.named_button.setToolTip("Forget the folder and use the named data set again.")
        self.named_button.clicked.connect(self.use_named)

        self.train_subset = _subset_box(
            TRAIN_SUBSETS,
            "all 60,000",
            "Training images, the same number of each class (drawn with the seed). Fewer make "
            "epochs faster and the views livelier, but the network sees less variety and "
            "overfits sooner.",
        )
        self.test_subset = _subset_box(
            TEST_SUBSETS,
            "all 10,000",
            "Test images that measure how well the network generalizes (never trained on; "
            "equal numbers per class). Fewer are quicker to evaluate; more give a steadier "
            "test accuracy.",
        )
        self.augment = QCheckBox("Augment (shift, rotate)")
        self.augment.setToolTip(AUGMENT_TIP)
        self.seed = spin(0, MAX_SEED, "Seed of the subsets: the same seed picks the same images.")

        form = pair_grid()  # like the other panels
        form.addWidget(QLabel("Data set"), 0, 0)
        form.addWidget(self.dataset, 0, 1, 1, 3)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.download_button)
        form.addLayout(status_row, 1, 0, 1, 4)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_button)
        folder_row.addWidget(self.named_button)
        folder_row.addStretch(1)
        form.addLayout(folder_row, 2, 0, 1, 4)
        pairs = [("Train", self.train_subset), ("Test", self.test_subset), ("Seed", self.seed)]
        add_pairs(form, 3, pairs)
        form.addWidget(self.augment, 4, 2, 1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)

        self.set_settings(ImageDataSettings())
        self.dataset.currentIndexChanged.connect(self._dataset_changed)
        for box in (self.train_subset, self.test_subset):
            box.currentIndexChanged.connect(self._emit)
        self.seed.valueChanged.connect(self._emit)
        self.augment.toggled.connect(self._emit)

    # -- settings ------------------------------------------------------------------------------
    def settings(self) -> ImageDataSettings:
        return ImageDataSettings(
            dataset=self.dataset.currentData(),
            folder=self._folder,
            train_subset=self.train_subset.currentData() or None,
            test_subset=self.test_subset.currentData() or None,
            seed=self.seed.value(),
            augment=self.augment.isChecked(),
        )

    def set_settings(self, s: ImageDataSettings) -> None:
        """Show ``s`` without emitting ``changed``. A subset the lists lack is added to them.
        Without a folder (or with one that has gone), the folder the data set was last loaded
        from is used, if it is still there."""
        if self.folders is not None:
            s, self.gone = self.folders.resolve(s)
        self._loading = True
        try:
            self.dataset.setCurrentIndex(max(0, self.dataset.findData(s.dataset)))
            for box, n, everything in (
                (self.train_subset, s.train_subset, "all 60,000"),
                (self.test_subset, s.test_subset, "all 10,000"),
            ):
                value = 0 if n is None else n
                if box.findData(value) < 0:
                    _add_subset(box, n, everything)
                box.setCurrentIndex(box.findData(value))
            self.seed.setValue(s.seed)
            self.augment.setChecked(s.augment)
            if s.folder != self._folder:
                self._folder, self._folder_counts = s.folder, None
        finally:
            self._loading = False
        self.refresh_status()

    def available(self) -> bool:
        """Whether the images can be loaded without a download (a folder, or a local copy)."""
        if self._folder is not None:
            return os.path.exists(self._folder)
        return self.location is not None

    def status_text(self) -> str:
        """The status line in full (the panel may show it elided)."""
        return self.status.full_text()

    # -- where the data come from --------------------------------------------------------------
    def refresh_status(self) -> None:
        """Look again (no network) for the selected data set and update the status line."""
        spec = DATASETS[self.dataset.currentData()]
        self.location = None
        if self._folder is not None:
            text = f"Folder: {short_path(self._folder)}"
            if self._folder_counts is not None:
                text += " ({:,} train, {:,} test)".format(*self._folder_counts)
            elif not os.path.exists(self._folder):
                text = f"Folder missing: {short_path(self._folder)}"
            self.status.set_full_text(text, self._folder)
            self.named_button.setText(f"Use {spec.title}")
        else:
            self.location = status(spec, self.cache_dir)
            if self.location is not None:
                folder = str(self.location.folder)
                self.status.set_full_text(f"Found: {short_path(folder)}", folder)
            elif self.gone is not None:
                self.status.set_full_text(
                    "Not downloaded; its folder has gone",
                    f"{self.gone} no longer exists: press Download, or Load from folder…",
                )
            else:
                searched = [str(cache_folder(spec, self.cache_dir)), *spec.system_dirs]
                self.status.set_full_text("Not downloaded", "Looked in " + ", ".join(searched))
            size = spec.download_size / 1e6
            self.download_button.setText(f"Download ({size:.0f} MB)")
            self.download_button.setToolTip(
                f"Fetch {spec.title} (about {size:.1f} MB) from the internet into "
                f"{cache_folder(spec, self.cache_dir)}, checking every file's checksum."
            )
        self.download_button.setVisible(self._folder is None and self.location is None)
        self.named_button.setVisible(self._folder is not None)

    def stop_download(self) -> None:
        """Cancel a download in progress and let it clean up (before the app quits)."""
        if self.download_dialog is not None:
            self.download_dialog.stop()

    def download(self) -> DownloadDialog:
        """Open the download dialog for the selected data set and start it (not modal for the
        caller: returns at once; the status refreshes when the download ends)."""
        if self.download_dialog is not None:
            self.download_dialog.deleteLater()
        dialog = DownloadDialog(
            self.dataset.currentData(), self, mirrors=self.mirrors, cache_dir=self.cache_dir
        )
        dialog.downloadFinished.connect(self._download_finished)
        dialog.folderRequested.connect(lambda: self.choose_folder())
        self.download_dialog = dialog
        dialog.open()
        dialog.start()
        return dialog

    def choose_folder(self, path: str | None = None) -> bool:
        """Use a folder of IDX files (or holding mnist.npz); asks for it when ``path`` is None.
        Returns True if it is being checked (off the GUI thread): ``folderChecked`` follows."""
        if path is None:
            path = file_dialogs.open_folder(self, "data", "Folder with the four IDX files")
        return bool(path) and self._use_folder(path)

    def choose_npz(self, path: str | None = None) -> bool:
        """Use an ``.npz`` archive (Keras's mnist.npz layout); asks for it when ``path`` is
        None. Returns True if it is being checked (off the GUI thread): ``folderChecked``
        follows."""
        if path is None:
            path = file_dialogs.open_file(
                self, "data", "MNIST-style archive", "NumPy archives (*.npz)"
            )
        return bool(path) and self._use_folder(path)

    def use_named(self) -> None:
        """Forget the folder: back to the named data set."""
        if self._folder is None:
            return
        self._folder, self._folder_counts = None, None
        if self.folders is not None:
            self.folders.forget(self.dataset.currentData())
        self.refresh_status()
        self._emit()

    # -- internals -----------------------------------------------------------------------------
    def _use_folder(self, path: str) -> bool:
        """Read the whole folder with the core's strict readers, off the GUI thread, before
        accepting it; an invalid one is reported and changes nothing, and so does a Cancel.
        False (with a message) while another folder is being read."""
        if self._checking is not None:
            QMessageBox.information(
                self, "Still reading a folder", "Wait for it, or press Cancel in the status bar."
            )
            return False
        spec = DATASETS[self.dataset.currentData()]
        job = Job(
            f"Reading {Path(path).name}",
            lambda: load_folder(path, name=spec.name, class_names=spec.class_names),
            self,
        )
        job.succeeded.connect(lambda ds: self._folder_read(spec.name, path, ds))
        job.failed.connect(lambda exc: self._folder_refused(path, exc))
        job.cancelled.connect(lambda: self.folderChecked.emit(path, False))
        job.ended.connect(self._checking_ended)
        self._checking = job.start()
        self.folder_button.setEnabled(False)
        self.jobStarted.emit(job)
        return True

    def _folder_read(self, name: str, path: str, ds: ImageDataset) -> None:
        self._folder = str(Path(path).resolve())
        self._folder_counts = (ds.n_train, ds.n_test)
        self.gone = None
        if self.folders is not None:
            self.folders.remember(name, self._folder)
        self.refresh_status()
        self.folderChecked.emit(path, True)
        self._emit()

    def _folder_refused(self, path: str, exc: Exception) -> None:
        if not isinstance(exc, (ValueError, OSError)):  # MnistError, DatasetNotFound, unreadable
            raise exc
        QMessageBox.warning(self, "Cannot use these images", str(exc))
        self.folderChecked.emit(path, False)

    def _checking_ended(self) -> None:
        self._checking = None
        self.folder_button.setEnabled(True)

    def _download_finished(self, ok: bool, message: str) -> None:
        was_available = self.available()
        self.refresh_status()
        if ok and not was_available and self.available():
            self._emit()  # the selected data set can now be loaded

    def _dataset_changed(self) -> None:
        if self.folders is not None:  # each data set from where it was loaded
            resolved, self.gone = self.folders.resolve(
                ImageDataSettings(self.dataset.currentData())
            )
            if resolved.folder != self._folder:
                self._folder, self._folder_counts = resolved.folder, None
        self.refresh_status()
        self._emit()

    def _emit(self) -> None:
        if not self._loading:
            self.changed.emit()

"""The images an image-mode run shows beside it (test images, labels, class names), read off the
GUI thread (:class:`playground.background.Job`) and kept: the next run of the same settings
starts at once, and images read while a file was checked are not read again."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.data.idx import MnistError
from core.data.loading import DatasetNotFound
from playground.background import Job
from playground.image_data import ImageDataSettings, PreparedImages, load_image_data


@dataclass(frozen=True)
class ShownImages:
    """What the views need of a run's images (the engine holds the training set itself)."""

    n_train: int
    class_names: tuple[str, ...]
    y_test: np.ndarray
    test_images: np.ndarray  # uint8 (n_test, 28, 28)

    @classmethod
    def of(cls, images: PreparedImages) -> ShownImages:
        return cls(
            len(images.x_train), tuple(images.class_names), images.y_test, images.test_images
        )


class ImageLoader(QObject):
    """Reads images from ``cache_dir`` (None: the default data folders); ``gone()`` names a
    folder the data set was loaded from that has gone (None: none), for the messages.
    ``jobStarted(job)`` for each read started off the GUI thread."""

    jobStarted = Signal(object)

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] | None,
        gone: Callable[[], str | None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.cache_dir = cache_dir
        self._gone = gone
        self._kept: tuple[dict, ShownImages] | None = None  # the last images read, by settings
        self._job: Job | None = None

    def kept(self, settings: ImageDataSettings) -> ShownImages | None:
        """The images of ``settings`` if they have been read (None: not yet)."""
        if self._kept is not None and self._kept[0] == settings.to_dict():
            return self._kept[1]
        return None

    def keep(self, settings: ImageDataSettings, images: PreparedImages) -> ShownImages:
        """Keep ``images``, read elsewhere for ``settings``."""
        shown = ShownImages.of(images)
        self._kept = (settings.to_dict(), shown)
        return shown

    def load_now(self, settings: ImageDataSettings) -> ShownImages:
        """The images of ``settings``, read on the calling thread unless kept; ValueError with a
        message for the user when they can't be read."""
        shown = self.kept(settings)
        if shown is not None:
            return shown
        try:
            return self.keep(settings, load_image_data(settings, self.cache_dir))
        except Exception as exc:  # the ones the user can act on become a ValueError
            raise self.problem(settings, exc) from None

    @property
    def loading(self) -> bool:
        return self._job is not None

    def load(
        self,
        settings: ImageDataSettings,
        then: Callable[[], None],
        refuse: Callable[[ValueError], None],
        cancelled: Callable[[], None],
    ) -> None:
        """Read the images of ``settings`` off the GUI thread (a read still going is cancelled),
        then call ``then()`` (they are kept), or ``refuse(problem)``, or ``cancelled()`` after a
        Cancel (not after :meth:`cancel`: the caller knows)."""
        self.cancel()
        cache_dir = self.cache_dir
        job = Job(
            f"Loading {settings.spec.title}", lambda: load_image_data(settings, cache_dir), self
        )
        job.succeeded.connect(lambda images: self._read(settings, images, then))
        job.failed.connect(lambda exc: refuse(self.problem(settings, exc)))
        job.cancelled.connect(lambda: cancelled() if job is self._job else None)
        job.ended.connect(lambda: self._ended(job))
        self._job = job.start()
        self.jobStarted.emit(job)

    def cancel(self) -> None:
        """Stop the read going on, if any: none of its callbacks follows."""
        if self._job is not None:
            self._job.cancel()
            self._job = None

    def _read(self, settings: ImageDataSettings, images: PreparedImages, then) -> None:
        self._job = None
        self.keep(settings, images)
        then()

    def _ended(self, job: Job) -> None:
        if job is self._job:
            self._job = None

    def problem(self, settings: ImageDataSettings, exc: BaseException) -> ValueError:
        """What the user is told when the images of ``settings`` can't be read (``exc``); other
        errors (a bug) are raised again."""
        if isinstance(exc, DatasetNotFound):
            gone = self._gone()
            if settings.folder is None and gone is not None:
                return ValueError(
                    f"{settings.spec.title} was loaded from {gone}, which no longer exists: "
                    "press Download in the Data panel, or Load from folder…"
                )
            if settings.folder is not None:
                return ValueError(f"Can't read the images: {exc}")
            return ValueError(str(exc))  # in the app's words (image_data)
        if isinstance(exc, (MnistError, OSError)):  # a bad file, or one that can't be opened
            return ValueError(f"Can't read the images: {exc}")
        if isinstance(exc, ValueError):  # settings the images can't fill (a subset too large)
            return exc
        raise exc

"""An image data set in memory: train and test images with integer labels, checked once."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.data.registry import DIGITS


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Train and test images with integer labels.

    Arrays are stored as read-only views (not copied; labels are converted to int64), so a data
    set can be shared between threads. Equality is identity.

    Attributes
    ----------
    name : str
        Data set name, e.g. ``"mnist"``.
    x_train : np.ndarray
        ``(n_train, H, W)`` uint8 pixels (0..255) or float32 intensities; 28 x 28 for the
        MNIST family.
    y_train : np.ndarray
        ``(n_train,)`` int64 labels in ``0..n_classes-1``.
    x_test, y_test : np.ndarray
        ``(n_test, H, W)`` and ``(n_test,)`` as the train arrays; ``n_test`` may be 0.
    class_names : tuple of str
        One display name per class (10 for the MNIST family).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = field(default=DIGITS)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name: {self.name!r} is not a string; allowed: a string")
        names = tuple(self.class_names)
        if len(names) < 2 or not all(isinstance(n, str) for n in names):
            raise ValueError(f"class_names: {names!r}; allowed: at least 2 strings")
        object.__setattr__(self, "class_names", names)
        shape = None
        for split in ("train", "test"):
            x = np.asarray(getattr(self, f"x_{split}"))
            y = np.asarray(getattr(self, f"y_{split}"))
            if x.dtype not in (np.uint8, np.float32):
                raise ValueError(f"x_{split}: dtype {x.dtype}; allowed: uint8 or float32")
            if x.ndim != 3 or min(x.shape[1:], default=0) < 1:
                raise ValueError(f"x_{split}: shape {x.shape}; allowed: (n, height, width)")
            if shape is not None and x.shape[1:] != shape:
                raise ValueError(
                    f"x_{split}: images of {x.shape[1:]}; allowed: {shape} as in x_train"
                )
            shape = x.shape[1:]
            if x.dtype == np.float32 and not np.all(np.isfinite(x)):
                raise ValueError(f"x_{split}: contains NaN or inf; allowed: finite values")
            if y.shape != (x.shape[0],):
                raise ValueError(f"y_{split}: shape {y.shape}; allowed: ({x.shape[0]},)")
            if y.size and y.dtype.kind not in "iu":
                raise ValueError(f"y_{split}: dtype {y.dtype}; allowed: integer labels")
            if y.size and (y.min() < 0 or y.max() >= len(names)):
                raise ValueError(
                    f"y_{split}: labels from {y.min()} to {y.max()}; "
                    f"allowed: 0..{len(names) - 1} (one per class name)"
                )
            x = x.view()
            y = y.astype(np.int64, copy=False).view()
            x.flags.writeable = False
            y.flags.writeable = False
            object.__setattr__(self, f"x_{split}", x)
            object.__setattr__(self, f"y_{split}", y)
        if self.x_train.shape[0] < 1:
            raise ValueError("x_train: 0 images; allowed: at least 1")

    @property
    def n_classes(self) -> int:
        """Number of classes (``len(class_names)``)."""
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int]:
        """``(height, width)`` of every image."""
        return self.x_train.shape[1], self.x_train.shape[2]

    @property
    def n_train(self) -> int:
        """Number of training images."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test images (may be 0)."""
        return int(self.x_test.shape[0])

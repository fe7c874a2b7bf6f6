"""The MNIST-style data sets the app knows: their files, checksums and mirrors.

What they share: 10 classes of 28 x 28 images in four IDX files (:data:`ROLES`).

:data:`DATASETS` holds ``"mnist"`` (handwritten digits, classes ``"0"``..``"9"``) and
``"fashion-mnist"`` (Zalando's clothing images, classes T-shirt/top .. Ankle boot). Both are
60,000 training and 10,000 test images of 28 x 28 uint8 pixels (0 background, 255 ink), stored
as four IDX files. Each registry entry (:class:`DatasetSpec`) lists the file names, the SHA-256
and size of every *decompressed* file, the approximate compressed download sizes and the mirror
base URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.validation import check_choice

N_CLASSES = 10
IMAGE_SIDE = 28
ROLES = ("train_images", "train_labels", "test_images", "test_labels")
DIGITS = tuple(str(k) for k in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@dataclass(frozen=True)
class DataFile:
    """One file of a data set.

    Attributes
    ----------
    name : str
        Decompressed file name, e.g. ``"train-images-idx3-ubyte"``; mirrors serve
        ``name + ".gz"``.
    sha256 : str
        SHA-256 (lowercase hex) of the decompressed file.
    size : int
        Size in bytes of the decompressed file.
    download_size : int
        Approximate size in bytes of the ``.gz`` download (for display).
    """

    name: str
    sha256: str
    size: int
    download_size: int


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: what the data set is and where it comes from.

    Attributes
    ----------
    name : str
        Key and cache folder name, e.g. ``"mnist"``.
    title : str
        Display name, e.g. ``"MNIST"``.
    class_names : tuple of str
        10 display names, one per label.
    files : tuple of DataFile
        The four files in :data:`ROLES` order (train images, train labels, test images, test
        labels).
    mirrors : tuple of str
        Base URLs tried in order (``http``, ``https`` or ``file``); a file's URL is
        ``base + name + ".gz"``.
    system_dirs : tuple of str
        Read-only folders searched after the cache (e.g. a Debian package's folder).
    """

    name: str
    title: str
    class_names: tuple[str, ...]
    files: tuple[DataFile, ...]
    mirrors: tuple[str, ...]
    system_dirs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str) or set(self.name) & set("/\\:"):
            raise ValueError(f"name: {self.name!r}; allowed: a non-empty folder name")
        if len(self.files) != len(ROLES):
            raise ValueError(f"files: {len(self.files)} entries; allowed: 4 ({', '.join(ROLES)})")
        for f in self.files:
            if len(f.sha256) != 64 or set(f.sha256) - set("0123456789abcdef"):
                raise ValueError(f"sha256 of {f.name}: {f.sha256!r}; allowed: 64 lowercase hex")
        if len(self.class_names) != N_CLASSES:
            raise ValueError(f"class_names: {len(self.class_names)} names; allowed: 10")

    @property
    def download_size(self) -> int:
        """Approximate total bytes to download (the four ``.gz`` files)."""
        return sum(f.download_size for f in self.files)


def _mnist_style(
    name: str,
    title: str,
    class_names: tuple[str, ...],
    files: Sequence[tuple[int, str]],
    mirrors: tuple[str, ...],
    system_dirs: tuple[str, ...] = (),
) -> DatasetSpec:
    """An entry with MNIST's four file names and 60,000 training and 10,000 test images;
    ``files`` gives each file's (approximate ``.gz`` size, SHA-256) in :data:`ROLES` order."""
    names = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    n_train, n_test, side = 60_000, 10_000, IMAGE_SIDE * IMAGE_SIDE
    decompressed = (16 + n_train * side, 8 + n_train, 16 + n_test * side, 8 + n_test)
    entries = tuple(
        DataFile(n, s, d, z) for n, (z, s), d in zip(names, files, decompressed, strict=True)
    )
    return DatasetSpec(name, title, class_names, entries, mirrors, system_dirs)


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        _mnist_style(
            "mnist",
            "MNIST",
            DIGITS,
            (
                (9_912_422, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
                (28_881, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
                (1_648_877, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
                (4_542, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
            ),
            mirrors=(
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
            ),
        ),
        _mnist_style(
            "fashion-mnist",
            "Fashion-MNIST",
            FASHION_CLASSES,
            (
                (26_421_880, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
                (29_515, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
                (4_422_102, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
                (5_148, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
            ),
            mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
            system_dirs=("/usr/share/datasets/fashion-mnist",),
        ),
    )
}


def dataset_spec(name: str | DatasetSpec) -> DatasetSpec:
    """The registry entry named ``name`` (a :class:`DatasetSpec` is returned as it is)."""
    if isinstance(name, DatasetSpec):
        return name
    return DATASETS[check_choice("name", name, DATASETS)]

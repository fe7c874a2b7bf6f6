"""Toy 2-D data sets: shapes, dtypes, balance, determinism, difficulty and validation."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import toy2d
from core.data.dataset import Dataset, split_dataset
from core.data.toy2d import DATASETS, DOMAIN, dataset_names, make_dataset

CLASSIFICATION = dataset_names("classification")
REGRESSION = dataset_names("regression")


def linear_accuracy(d: Dataset) -> float:
    """Accuracy of a least-squares linear classifier on raw (x1, x2), fit and scored on all
    points (one-vs-rest targets)."""
    x = np.c_[d.x_all.astype(np.float64), np.ones(len(d.x_all))]
    targets = np.eye(d.n_classes)[d.y_all]
    w = np.linalg.lstsq(x, targets, rcond=None)[0]
    return float(np.mean((x @ w).argmax(axis=1) == d.y_all))


def knn_score(d: Dataset, k: int = 7) -> float:
    """Test accuracy (classification) or negative test MSE (regression) of k-nearest
    neighbours trained on the train part: higher is easier."""
    xtr, xte = d.x_train.astype(np.float64), d.x_test.astype(np.float64)
    dist = ((xte[:, None, :] - xtr[None, :, :]) ** 2).sum(axis=-1)
    near = d.y_train[np.argsort(dist, axis=1)[:, :k]]
    if d.is_classification:
        votes = np.stack([(near == c).sum(axis=1) for c in range(d.n_classes)], axis=1)
        return float(np.mean(votes.argmax(axis=1) == d.y_test))
    return -float(np.mean((near.mean(axis=1) - d.y_test) ** 2))


# ------------------------------------------------------------------------------- registry


def test_registry_names_and_tasks() -> None:
    assert set(DATASETS) == {
        "xor", "spiral", "circle", "gauss", "moons", "checkerboard", "plane", "bumps",
    }  # fmt: skip
    assert set(REGRESSION) == {"plane", "bumps"}
    assert set(CLASSIFICATION) | set(REGRESSION) == set(DATASETS)
    assert dataset_names() == tuple(DATASETS)
    assert [n for n, info in DATASETS.items() if info.multiclass] == ["spiral"]
    for name, info in DATASETS.items():
        assert info.name == name and info.description


def test_dataset_names_rejects_unknown_task() -> None:
    with pytest.raises(ValueError, match="task"):
        dataset_names("clustering")


# --------------------------------------------------------------------------- shapes, ranges


@pytest.mark.parametrize("name", list(DATASETS))
def test_shapes_dtypes_and_domain(name: str) -> None:
    d = make_dataset(name, n_samples=201, noise=0.0, test_ratio=0.3, seed=3)
    assert d.name == name and d.task == DATASETS[name].task
    assert d.n_train + d.n_test == 201
    assert d.x_train.shape == (d.n_train, 2) and d.x_test.shape == (d.n_test, 2)
    assert d.x_train.dtype == np.float32 and d.x_test.dtype == np.float32
    assert d.y_train.shape == (d.n_train,) and d.y_test.shape == (d.n_test,)
    assert d.n_features == 2
    assert np.all(np.isfinite(d.x_all))
    # Noise-free points lie inside the view.
    assert np.abs(d.x_all).max() <= DOMAIN
    if d.is_classification:
        assert d.y_train.dtype == np.int64
        assert d.n_classes == 2 and d.class_names == ("0", "1")
        assert set(np.unique(d.y_all)) == {0, 1}
    else:
        assert d.y_train.dtype == np.float32
        assert d.n_classes == 1 and d.class_names == ()
        assert np.abs(d.y_all).max() <= 1.0 + 1e-6
        assert np.ptp(d.y_all) > 1.0  # uses most of [-1, 1]


@pytest.mark.parametrize("name", list(DATASETS))
def test_noisy_points_stay_near_the_domain(name: str) -> None:
    d = make_dataset(name, n_samples=400, noise=0.5, seed=1)
    assert np.all(np.isfinite(d.x_all))
    assert np.abs(d.x_all).max() <= 2 * DOMAIN
    if not d.is_classification:
        assert np.abs(d.y_all).max() <= 1.6


def test_arrays_are_read_only() -> None:
    d = make_dataset("xor", 40)
    with pytest.raises(ValueError):
        d.x_train[0, 0] = 1.0
    with pytest.raises(ValueError):
        d.y_test[0] = 1
    with pytest.raises(AttributeError):
        d.name = "other"  # type: ignore[misc]


def test_x_all_and_y_all_concatenate_train_then_test() -> None:
    d = make_dataset("moons", 50, test_ratio=0.2)
    np.testing.assert_array_equal(d.x_all, np.concatenate([d.x_train, d.x_test]))
    np.testing.assert_array_equal(d.y_all, np.concatenate([d.y_train, d.y_test]))


# ------------------------------------------------------------------------- balance, split


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_classes_balanced_and_in_both_parts(name: str, noise: float) -> None:
    d = make_dataset(name, n_samples=301, noise=noise, seed=2)
    counts = np.bincount(d.y_all, minlength=2)
    assert counts.sum() == 301 and counts.max() - counts.min() <= 1
    assert set(np.unique(d.y_train)) == {0, 1} and set(np.unique(d.y_test)) == {0, 1}


@pytest.mark.parametrize("k", [2, 3, 5, 10])
def test_spiral_k_classes(k: int) -> None:
    d = make_dataset("spiral", n_samples=40 * k + 3, n_classes=k, seed=4)
    assert d.n_classes == k
    assert d.class_names == tuple(str(c) for c in range(k))
    counts = np.bincount(d.y_all, minlength=k)
    assert len(counts) == k and counts.max() - counts.min() <= 1
    assert set(np.unique(d.y_train)) == set(range(k)) == set(np.unique(d.y_test))
    assert np.abs(d.x_all).max() <= DOMAIN
    # Noise-free arms are well separated even with many classes.
    assert knn_score(make_dataset("spiral", 250 * k, n_classes=k, seed=1)) > 0.9


@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.25, 0.5, 0.9])
@pytest.mark.parametrize("name", ["gauss", "plane"])
def test_split_ratio(name: str, ratio: float) -> None:
    d = make_dataset(name, n_samples=400, test_ratio=ratio, seed=5)
    assert d.n_train + d.n_test == 400
    assert abs(d.n_test - 400 * ratio) <= 2
    assert d.n_train >= 2
    if ratio == 0.0:
        assert d.x_test.shape == (0, 2) and d.y_test.shape == (0,)
        assert d.x_test.dtype == np.float32


def test_smallest_split_keeps_two_training_rows() -> None:
    for name in ("xor", "plane"):
        d = make_dataset(name, n_samples=4, test_ratio=0.9)
        assert d.n_train >= 2 and d.n_test >= 1 and d.n_train + d.n_test == 4


def test_train_and_test_do_not_overlap_and_are_shuffled() -> None:
    d = make_dataset("gauss", 200, seed=6)
    rows = {tuple(p) for p in d.x_train.tolist()}
    assert not rows & {tuple(p) for p in d.x_test.tolist()}
    # Generators emit class by class; the split must mix them.
    assert 0 < np.mean(d.y_train[: d.n_train // 2]) < 1


# ------------------------------------------------------------------------------ determinism


@pytest.mark.parametrize("name", list(DATASETS))
def test_same_seed_is_bit_identical_and_seed_matters(name: str) -> None:
    a = make_dataset(name, 120, noise=0.2, seed=11)
    b = make_dataset(name, 120, noise=0.2, seed=11)
    c = make_dataset(name, 120, noise=0.2, seed=12)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes()
    assert a.x_train.tobytes() != c.x_train.tobytes()


def test_no_global_rng_use() -> None:
    before = np.random.get_state()  # noqa: NPY002 - the legacy global state is the subject
    make_dataset("spiral", 100, noise=0.3, seed=1)
    after = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(after[1], before[1])
    assert after[2] == before[2]


# ------------------------------------------------------------------------------ difficulty


@pytest.mark.parametrize("name", ["xor", "circle", "spiral", "checkerboard"])
def test_not_linearly_separable(name: str) -> None:
    assert linear_accuracy(make_dataset(name, 400, seed=7)) < 0.75


def test_gauss_is_linearly_separable() -> None:
    assert linear_accuracy(make_dataset("gauss", 400, seed=7)) >= 0.9


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_noise_free_sets_are_learnable(name: str) -> None:
    assert knn_score(make_dataset(name, 600, seed=8)) >= 0.88


@pytest.mark.parametrize("name", list(DATASETS))
def test_noise_makes_sets_harder_but_still_learnable(name: str) -> None:
    scores = [knn_score(make_dataset(name, 600, noise=n, seed=9)) for n in (0.0, 0.5)]
    assert scores[1] < scores[0]
    if DATASETS[name].task == "classification":
        assert scores[1] >= 0.65  # hard, but far from chance
    else:
        assert scores[1] > -0.2  # MSE of the neighbours' mean stays small


def test_plane_target_is_linear_without_noise() -> None:
    d = make_dataset("plane", 100)
    np.testing.assert_allclose(d.y_all, (d.x_all[:, 0] + d.x_all[:, 1]) / 12, atol=1e-6)


def test_bumps_target_signs() -> None:
    centres = np.array([[-4, 2.5], [0, 2.5], [4, 2.5], [-4, -2.5], [0, -2.5], [4, -2.5], [0, 6]])
    np.testing.assert_allclose(toy2d.bumps_target(centres), [1, -1, 1, -1, 1, -1, 0])


# ------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "blobs"}, "name"),
        ({"name": 3}, "name"),
        ({"n_samples": 3}, "n_samples"),
        ({"n_samples": 1_000_001}, "n_samples"),
        ({"n_samples": 10.5}, "n_samples"),
        ({"n_samples": "100"}, "n_samples"),
        ({"noise": -0.1}, "noise"),
        ({"noise": 0.51}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"test_ratio": -0.1}, "test_ratio"),
        ({"test_ratio": 0.95}, "test_ratio"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"name": "spiral", "n_classes": 1}, "n_classes"),
        ({"name": "spiral", "n_classes": 11}, "n_classes"),
        ({"name": "xor", "n_classes": 3}, "n_classes"),
        ({"name": "plane", "n_classes": 3}, "n_classes"),
    ],
)
def test_make_dataset_rejects_bad_input(kwargs: dict, field: str) -> None:
    args = {"name": "xor", **kwargs}
    with pytest.raises((ValueError, TypeError), match=field) as info:
        make_dataset(**args)
    assert repr(args[field]) in str(info.value)


def test_unknown_name_message_lists_allowed_names() -> None:
    with pytest.raises(ValueError, match="name") as info:
        make_dataset("blobs")
    for name in DATASETS:
        assert name in str(info.value)


def test_generator_rejects_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="noise"):
        toy2d.xor(10, 0.7, rng)
    with pytest.raises(TypeError, match="rng"):
        toy2d.circle(10, 0.1, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_classes"):
        toy2d.spiral(10, 0.0, rng, n_classes=11)


def test_split_dataset_direct_use_and_validation() -> None:
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.array([0, 1] * 5)
    d = split_dataset("mine", "classification", x, y, 0.4, 0, class_names=("no", "yes"))
    assert d.class_names == ("no", "yes") and d.n_train + d.n_test == 10
    assert sorted(d.x_all[:, 0].tolist()) == x[:, 0].tolist()
    with pytest.raises(ValueError, match="task"):
        split_dataset("m", "ranking", x, y, 0.5, 0)
    with pytest.raises(ValueError, match="x"):
        split_dataset("m", "classification", x[:, :1], y, 0.5, 0)
    with pytest.raises(ValueError, match="y"):
        split_dataset("m", "classification", x, y[:5], 0.5, 0)
    with pytest.raises(ValueError, match="x"):
        split_dataset("m", "classification", x[:3], y[:3], 0.5, 0)
    with pytest.raises(ValueError, match="y"):
        split_dataset("m", "classification", x, y + 0.5, 0.5, 0)
    with pytest.raises(ValueError, match="y"):
        split_dataset("m", "classification", x, y * 2, 0.5, 0, class_names=("a", "b"))
    with pytest.raises(ValueError, match="x_train"):
        split_dataset("m", "regression", np.full((10, 2), np.nan), y * 1.0, 0.5, 0)


def test_dataset_validates_fields() -> None:
    x = np.zeros((4, 2), np.float32)
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="y_train"):
        Dataset("d", "classification", x, y + 1, x[:0], y[:0], 2)
    with pytest.raises(ValueError, match="class_names"):
        Dataset("d", "classification", x, y, x[:0], y[:0], 2, ("a",))
    with pytest.raises(ValueError, match="n_classes"):
        Dataset("d", "regression", x, y * 1.0, x[:0], y[:0] * 1.0, 2)
    with pytest.raises(ValueError, match="x_test"):
        Dataset("d", "regression", x, y * 1.0, np.zeros((2, 3)), np.zeros(2), 1)

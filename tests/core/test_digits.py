"""Canvas -> MNIST-style 28x28 preprocessing (core.data.digits)."""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from dev_data import DEV_MNIST

from core.data.digits import (
    BOX,
    DEFAULT_THRESHOLD,
    FIELD,
    Preprocessed,
    area_weights,
    preprocess_digit,
)

MNIST_TEST_IMAGES = DEV_MNIST / "t10k-images-idx3-ubyte.gz"

#: Whole-pixel centring leaves the centre of mass within half a pixel of 14 (ties, which land at
#: 13.5, are recognised to 1e-5 px; the rest is float32 rounding).
HALF_PIXEL = 0.5 + 1e-4

Shape = Callable[[np.ndarray, np.ndarray], np.ndarray]


# --- synthetic drawings --------------------------------------------------------------------
# Shapes are signed distances in unit-square coordinates (row u, column v, both in [0, 1]), so
# one drawing can be rasterised at any canvas size; `draw` anti-aliases the edge over one pixel.


def _segment(u: np.ndarray, v: np.ndarray, a: tuple, b: tuple) -> np.ndarray:
    (ay, ax), (by, bx) = a, b
    dy, dx = by - ay, bx - ax
    t = np.clip(((u - ay) * dy + (v - ax) * dx) / (dy * dy + dx * dx), 0.0, 1.0)
    return np.hypot(u - (ay + t * dy), v - (ax + t * dx))


def draw(shape: Shape, size: int, half_width: float = 0.03) -> np.ndarray:
    """Float32 (size, size) canvas in [0, 1]: bright ink where the distance < half_width."""
    centres = (np.arange(size) + 0.5) / size
    u, v = np.meshgrid(centres, centres, indexing="ij")
    return np.clip((half_width - shape(u, v)) * size + 0.5, 0.0, 1.0).astype(np.float32)


SHAPES: dict[str, Shape] = {
    "vertical": lambda u, v: _segment(u, v, (0.2, 0.5), (0.8, 0.5)),
    "horizontal": lambda u, v: _segment(u, v, (0.5, 0.2), (0.5, 0.8)),
    "ring": lambda u, v: np.abs(np.hypot(u - 0.5, v - 0.5) - 0.3),
    "corner_dot": lambda u, v: np.hypot(u - 0.08, v - 0.9) - 0.02,
    "diagonal": lambda u, v: _segment(u, v, (0.2, 0.2), (0.8, 0.8)),
    "L": lambda u, v: np.minimum(
        _segment(u, v, (0.2, 0.3), (0.8, 0.3)), _segment(u, v, (0.8, 0.3), (0.8, 0.7))
    ),
    # a filled rectangle 4x wider than tall (0.6 x 0.15 after the 0.03 stroke half-width)
    "wide_rect": lambda u, v: np.maximum(np.abs(u - 0.5) - 0.045, np.abs(v - 0.5) - 0.27),
}


def ink_box(image: np.ndarray, level: float = 1e-3) -> tuple[int, int]:
    """(height, width) of the bounding box of pixels above ``level``."""
    rows = np.flatnonzero((image > level).any(axis=1))
    cols = np.flatnonzero((image > level).any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def center_of_mass(image: np.ndarray) -> np.ndarray:
    """(row, col) intensity-weighted centre in pixel-index coordinates."""
    index = np.arange(image.shape[0], dtype=np.float64)
    mass = image.sum(dtype=np.float64)
    return np.array([image.sum(axis=1) @ index / mass, image.sum(axis=0) @ index / mass])


# --- output contract -----------------------------------------------------------------------


@pytest.mark.parametrize("name", SHAPES)
def test_output_is_28x28_float32_in_unit_range_peaking_at_one(name: str) -> None:
    result = preprocess_digit(draw(SHAPES[name], 280))
    assert isinstance(result, Preprocessed) and not result.empty
    image = result.image
    assert image is not None and image.shape == (FIELD, FIELD) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() == 1.0
    assert not image.flags.writeable
    assert not result.inverted


@pytest.mark.parametrize("name", SHAPES)
def test_longer_side_of_the_ink_is_20_pixels(name: str) -> None:
    result = preprocess_digit(draw(SHAPES[name], 280))
    assert 19 <= max(ink_box(result.image)) <= BOX
    top, left, bottom, right = result.bbox
    assert result.scale == pytest.approx(BOX / max(bottom - top, right - left))


@pytest.mark.parametrize("name", SHAPES)
def test_aspect_ratio_is_preserved(name: str) -> None:
    result = preprocess_digit(draw(SHAPES[name], 280))
    top, left, bottom, right = result.bbox
    height, width = ink_box(result.image)
    # the shorter side is 20 * short / long output pixels, centred in ceil of that many
    assert height == pytest.approx((bottom - top) * result.scale, abs=1.0)
    assert width == pytest.approx((right - left) * result.scale, abs=1.0)


def test_ring_stays_round_and_vertical_line_stays_thin_and_tall() -> None:
    ring = preprocess_digit(draw(SHAPES["ring"], 280)).image
    assert ink_box(ring) == (20, 20)
    np.testing.assert_allclose(ring, ring.T, atol=1e-5)  # symmetric drawing, symmetric result
    rows, cols = np.indices(ring.shape)
    com = center_of_mass(ring)
    radius = np.hypot(rows - com[0], cols - com[1])
    outer = ring > 0.5
    assert np.ptp(radius[outer]) < 3.0  # the bright pixels form an annulus about the centre
    var_r = (ring * (rows - com[0]) ** 2).sum()
    var_c = (ring * (cols - com[1]) ** 2).sum()
    assert var_r == pytest.approx(var_c, rel=1e-4)

    line = preprocess_digit(draw(SHAPES["vertical"], 280))
    height, width = ink_box(line.image)
    assert height == 20 and width <= 3
    # the 0.06-wide stroke over a 0.66-tall box: about 20 * 0.06 / 0.66 = 1.8 px wide
    assert line.image.sum(axis=1)[line.image.sum(axis=1) > 0].mean() == pytest.approx(1.8, abs=0.4)
    wide = preprocess_digit(draw(SHAPES["wide_rect"], 280))
    assert ink_box(wide.image) == (5, 20)  # 4x wider than tall: 20 x 5


def test_horizontal_line_is_the_transpose_of_the_vertical_line() -> None:
    vertical = preprocess_digit(draw(SHAPES["vertical"], 280))
    horizontal = preprocess_digit(draw(SHAPES["horizontal"], 280))
    np.testing.assert_allclose(horizontal.image, vertical.image.T, atol=1e-5)


# --- centring ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHAPES)
def test_center_of_mass_is_at_14_14(name: str) -> None:
    result = preprocess_digit(draw(SHAPES[name], 280))
    com = center_of_mass(result.image)
    assert np.all(np.abs(com - 14.0) <= HALF_PIXEL), com
    np.testing.assert_allclose(result.center_of_mass, com, atol=1e-5)
    assert not result.clamped


def test_dot_in_a_corner_is_moved_to_the_centre_and_scaled_up() -> None:
    canvas = np.zeros((280, 280), dtype=np.float32)
    canvas[5:15, 260:270] = 1.0
    result = preprocess_digit(canvas)
    assert result.bbox == (5, 260, 15, 270) and result.scale == pytest.approx(2.0)
    assert ink_box(result.image) == (20, 20)
    assert np.all(np.abs(center_of_mass(result.image) - 14.0) <= HALF_PIXEL)
    # a symmetric shape sits exactly on a half-pixel tie, which goes to 13.5 on both axes
    assert result.center_of_mass == pytest.approx((13.5, 13.5))
    assert result.offset == (4, 4)


def test_lopsided_drawing_is_clamped_inside_the_field_without_cutting_ink() -> None:
    # a heavy blob with a long thin tail: the box is set by the tail, the mass by the blob
    def tadpole(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        blob = np.hypot(u - 0.25, v - 0.25) - 0.09
        tail = _segment(u, v, (0.25, 0.25), (0.9, 0.9)) + 0.02
        return np.minimum(blob, tail)

    canvas = draw(tadpole, 280)
    result = preprocess_digit(canvas, normalize=False)
    assert result.clamped
    assert result.offset == (FIELD - BOX, FIELD - BOX)  # pushed as far toward the centre as allowed
    image = result.image
    # the tail reaches the edge of the field, and all of the ink is still there
    assert image[-1].any() and image[:, -1].any()
    ink = np.where(canvas > 0.05, canvas, 0).sum(dtype=np.float64)
    assert image.sum(dtype=np.float64) == pytest.approx(ink * result.scale**2, rel=1e-4)
    com = center_of_mass(image)
    assert np.all(com < 14.0) and np.all(com > 12.0)
    np.testing.assert_allclose(result.center_of_mass, com, atol=1e-5)


# --- area averaging ------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHAPES)
def test_area_averaging_conserves_ink(name: str) -> None:
    canvas = draw(SHAPES[name], 280)
    result = preprocess_digit(canvas, normalize=False)
    ink = np.where(canvas > 0.05, canvas, 0).sum(dtype=np.float64)
    assert result.image.sum(dtype=np.float64) == pytest.approx(ink * result.scale**2, rel=1e-4)
    normalized = preprocess_digit(canvas)
    np.testing.assert_allclose(normalized.image * result.peak, result.image, atol=1e-6)
    assert normalized.peak == pytest.approx(result.image.max())


def test_area_weights_average_exactly() -> None:
    # an integer factor averages blocks
    w = area_weights(6, 2)
    np.testing.assert_allclose(w, [[1 / 3] * 3 + [0] * 3, [0] * 3 + [1 / 3] * 3])
    np.testing.assert_allclose(area_weights(5, 5), np.eye(5))
    # a fractional factor against brute-force supersampling of a piecewise-constant signal
    rng = np.random.default_rng(0)
    signal = rng.random(7)
    w = area_weights(7, 4, span=3.3, offset=0.35)
    fine = np.repeat(signal, 10_000)  # input pixel j spans [j, j+1) in 10,000 samples
    positions = 0.35 + (np.arange(fine.size) + 0.5) / fine.size * 3.3
    expected = np.array(
        [fine[(positions >= i) & (positions < i + 1)].sum() * 3.3 / fine.size for i in range(4)]
    )
    np.testing.assert_allclose(w @ signal, expected, atol=1e-4)
    np.testing.assert_allclose(w.sum(axis=0), 3.3 / 7)


def test_upscaling_replicates_blocks() -> None:
    np.testing.assert_allclose(area_weights(2, 4), [[1, 0], [1, 0], [0, 1], [0, 1]])


# --- degenerate strokes --------------------------------------------------------------------


def test_one_pixel_wide_line_is_handled() -> None:
    canvas = np.zeros((280, 280), dtype=np.uint8)
    canvas[40:240, 100] = 255
    result = preprocess_digit(canvas)
    assert result.bbox == (40, 100, 240, 101) and result.scale == pytest.approx(0.1)
    assert np.isfinite(result.image).all() and result.image.max() == 1.0
    assert ink_box(result.image) == (20, 1)
    assert result.peak == pytest.approx(0.1)  # one canvas pixel covers a tenth of an output pixel
    assert np.all(np.abs(center_of_mass(result.image) - 14.0) <= HALF_PIXEL)

    row = preprocess_digit(canvas.T.copy())
    # transposed, the two matrix products run the other way round: equal to float32 rounding
    np.testing.assert_allclose(row.image, result.image.T, atol=1e-5)


def test_single_pixel_becomes_a_20_pixel_square() -> None:
    canvas = np.zeros((100, 100))
    canvas[0, 99] = 0.5
    result = preprocess_digit(canvas)
    assert result.scale == 20.0 and result.peak == pytest.approx(0.5)
    expected = np.zeros((FIELD, FIELD), dtype=np.float32)
    expected[4:24, 4:24] = 1.0
    np.testing.assert_array_equal(result.image, expected)


# --- input handling ------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHAPES)
def test_same_drawing_at_140_and_280_gives_nearly_the_same_image(name: str) -> None:
    small = preprocess_digit(draw(SHAPES[name], 140)).image
    large = preprocess_digit(draw(SHAPES[name], 280)).image
    # whole-pixel centring may place the two half a pixel apart on the rounding boundary
    assert np.abs(small - large).mean() < 0.04
    assert np.all(np.abs(center_of_mass(small) - center_of_mass(large)) <= 1.0)
    assert small.sum() == pytest.approx(large.sum(), rel=0.15)


def test_non_square_canvas() -> None:
    canvas = np.zeros((300, 420), dtype=np.float32)
    canvas[50:250, 200:215] = 1.0
    result = preprocess_digit(canvas)
    assert result.bbox == (50, 200, 250, 215)
    assert ink_box(result.image) == (20, 2)


def test_uint8_and_float_inputs_agree() -> None:
    canvas = draw(SHAPES["L"], 280)
    as_uint8 = np.round(canvas * 255).astype(np.uint8)
    from_uint8 = preprocess_digit(as_uint8).image
    np.testing.assert_allclose(from_uint8, preprocess_digit(as_uint8 / 255.0).image, atol=1e-6)
    np.testing.assert_allclose(from_uint8, preprocess_digit(canvas).image, atol=1e-2)
    np.testing.assert_allclose(
        from_uint8, preprocess_digit(as_uint8.astype(np.int64)).image, atol=0
    )


def test_bool_canvas() -> None:
    canvas = draw(SHAPES["ring"], 280) > 0.5
    result = preprocess_digit(canvas)
    np.testing.assert_allclose(result.image, preprocess_digit(canvas.astype(np.float32)).image)


@pytest.mark.parametrize("name", ["ring", "L", "corner_dot"])
def test_dark_on_light_is_inverted(name: str) -> None:
    canvas = draw(SHAPES[name], 280)
    bright = preprocess_digit(canvas)
    auto = preprocess_digit(1.0 - canvas)
    assert auto.inverted and auto.bbox == bright.bbox
    np.testing.assert_allclose(auto.image, bright.image, atol=1e-5)
    forced = preprocess_digit(1.0 - canvas, background="light")
    np.testing.assert_allclose(forced.image, bright.image, atol=1e-5)
    as_uint8 = np.round(canvas * 255).astype(np.uint8)
    np.testing.assert_allclose(
        preprocess_digit(255 - as_uint8).image, preprocess_digit(as_uint8).image, atol=1e-5
    )
    # forcing "dark" on a light canvas reads the whole page as ink
    assert preprocess_digit(1.0 - canvas, background="dark").bbox == (0, 0, 280, 280)


def test_empty_canvas_is_reported_not_classified() -> None:
    for canvas, inverted in [
        (np.zeros((280, 280), dtype=np.uint8), False),
        (np.full((280, 280), 255, dtype=np.uint8), True),  # blank white page
        (np.full((280, 280), 0.04, dtype=np.float32), False),  # faint noise below threshold
    ]:
        result = preprocess_digit(canvas)
        assert result.empty and result.image is None and result.inverted is inverted
        assert result.bbox is None and result.scale is None and result.center_of_mass is None
    faint = np.full((280, 280), 0.04, dtype=np.float32)
    assert not preprocess_digit(faint, threshold=0.01).empty


def test_threshold_treats_faint_values_as_background() -> None:
    canvas = draw(SHAPES["vertical"], 280)
    canvas[0:5, 0:5] = 0.04  # faint smudge far away: ignored by the default threshold
    clean = preprocess_digit(draw(SHAPES["vertical"], 280))
    np.testing.assert_array_equal(preprocess_digit(canvas).image, clean.image)
    assert preprocess_digit(canvas, threshold=0.01).bbox[:2] == (0, 0)


def test_result_is_frozen() -> None:
    result = preprocess_digit(draw(SHAPES["ring"], 280))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.empty = True  # type: ignore[misc]
    with pytest.raises(ValueError):
        result.image[0, 0] = 1.0


@pytest.mark.parametrize(
    ("canvas", "pattern"),
    [
        (np.zeros((280, 280, 3)), r"canvas: shape \(280, 280, 3\) is not 2-D"),
        (np.zeros(280), "canvas: shape .* is not 2-D"),
        (np.zeros((27, 280)), "canvas: shape .* is too small; allowed: .*>= 28"),
        (np.zeros((0, 0)), "canvas: shape .* is too small"),
        (np.full((280, 280), np.nan), "canvas: contains NaN or inf"),
        (np.full((280, 280), np.inf), "canvas: contains NaN or inf"),
        (np.full((280, 280), 1.5), r"canvas: float values span \[1.5, 1.5\]; allowed: .*\[0, 1\]"),
        (np.full((280, 280), -0.1), "canvas: float values span"),
        (np.full((280, 280), 300, dtype=np.int16), r"canvas: integer values .*\[0, 255\]"),
        (np.full((280, 280), -1, dtype=np.int8), "canvas: integer values"),
    ],
)
def test_invalid_canvas_raises_value_error_naming_the_field(
    canvas: np.ndarray, pattern: str
) -> None:
    with pytest.raises(ValueError, match=pattern):
        preprocess_digit(canvas)


def test_nan_among_ink_is_rejected() -> None:
    canvas = draw(SHAPES["ring"], 280)
    canvas[140, 140] = np.nan
    with pytest.raises(ValueError, match="canvas: contains NaN"):
        preprocess_digit(canvas)


def test_invalid_options_raise_naming_the_field() -> None:
    canvas = draw(SHAPES["ring"], 280)
    with pytest.raises(TypeError, match="canvas: dtype"):
        preprocess_digit(np.zeros((280, 280), dtype=np.complex64))
    with pytest.raises(ValueError, match="background: 'blue' is not known; allowed: auto"):
        preprocess_digit(canvas, background="blue")
    for threshold in (1.0, -0.1, float("nan"), "0.1"):
        with pytest.raises(ValueError, match="threshold"):
            preprocess_digit(canvas, threshold=threshold)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="normalize"):
        preprocess_digit(canvas, normalize="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_in"):
        area_weights(0, 3)
    with pytest.raises(ValueError, match="span"):
        area_weights(3, 3, span=0.0)


# --- real MNIST digits ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def all_mnist_digits() -> np.ndarray:
    """The 10,000 MNIST test digits, (10000, 28, 28) uint8."""
    if not MNIST_TEST_IMAGES.exists():
        pytest.skip(f"{MNIST_TEST_IMAGES} not present")
    with gzip.open(MNIST_TEST_IMAGES) as handle:
        raw = handle.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 28, 28)


@pytest.fixture(scope="module")
def mnist_digits(all_mnist_digits: np.ndarray) -> np.ndarray:
    return all_mnist_digits[:300]


def rebuilt(digits: np.ndarray, threshold: float) -> tuple[int, int, int]:
    """Re-process 10x upscaled digits: how many come back (pixel for pixel, as the original with
    its pixels <= threshold blanked, as that blanked original moved by one pixel)."""
    block = np.ones((10, 10), dtype=np.uint8)
    exact = blanked = moved = 0
    for digit in digits:
        result = preprocess_digit(np.kron(digit, block), threshold=threshold).image
        peak = float(digit.max())
        kept = np.where(digit / 255.0 > threshold, digit, 0) / peak
        # float32 rounding of the area averages: equal to 1e-5 counts as the same pixel
        exact += bool(np.abs(result - digit / peak).max() < 1e-5)
        blanked += bool(np.abs(result - kept).max() < 1e-5)
        shifts = [(r, c) for r in (-1, 0, 1) for c in (-1, 0, 1) if r or c]
        moved += any(np.abs(result - np.roll(kept, s, axis=(0, 1))).max() < 1e-5 for s in shifts)
    return exact, blanked, moved


def test_mnist_digits_upscaled_10x_come_back_as_themselves(mnist_digits: np.ndarray) -> None:
    # threshold 0 keeps MNIST's own faint anti-aliasing pixels as ink: every one of these
    # (longer side 20) is rebuilt pixel for pixel
    assert rebuilt(mnist_digits, 0.0) == (300, 300, 0)


def test_mnist_digits_with_the_default_threshold_lose_only_their_faint_pixels(
    mnist_digits: np.ndarray,
) -> None:
    # pixels <= 12/255 become background; dropping them moves 2 centres of mass over a
    # half-pixel boundary, so those 2 digits land one pixel off
    assert rebuilt(mnist_digits, DEFAULT_THRESHOLD) == (21, 298, 2)


@pytest.mark.slow
def test_all_10000_mnist_test_digits_rebuilt_as_documented(all_mnist_digits: np.ndarray) -> None:
    """The figures stated in the core.data.digits docstring and the README."""
    assert rebuilt(all_mnist_digits, 0.0)[0] == 9_997
    assert rebuilt(all_mnist_digits, DEFAULT_THRESHOLD) == (780, 9_940, 57)


def test_mnist_digits_with_the_default_threshold_stay_close(mnist_digits: np.ndarray) -> None:
    block = np.ones((10, 10), dtype=np.uint8)
    differences = []
    for digit in mnist_digits[:200]:
        original = digit / float(digit.max())
        result = preprocess_digit(np.kron(digit, block))
        differences.append(np.abs(result.image - original).mean())
        assert np.all(np.abs(np.asarray(result.center_of_mass) - center_of_mass(original)) <= 1.0)
    assert np.mean(differences) < 0.005 and np.max(differences) < 0.1


def test_mnist_statistics_are_matched(mnist_digits: np.ndarray) -> None:
    # every MNIST digit peaks at 254-255 and has its centre of mass in [13.5, 14.5): the two
    # properties the preprocessing imposes
    assert mnist_digits.max(axis=(1, 2)).min() >= 254
    coms = np.array([center_of_mass(d.astype(np.float64)) for d in mnist_digits])
    assert np.all((coms >= 13.5 - 1e-9) & (coms < 14.5))


# -- Fashion-MNIST: trimmed, longest side to 28, centred by the box ------------------------------

FASHION = "/usr/share/datasets/fashion-mnist"


def test_fashion_preprocessing_fills_the_frame_and_centres_the_box():
    from core.data.digits import preprocess_fashion

    canvas = np.zeros((280, 280), np.float32)
    canvas[40:240, 100:150] = 1.0  # a 200×50 bar, off centre
    out = preprocess_fashion(canvas)
    rows, cols = np.flatnonzero(out.image.any(1)), np.flatnonzero(out.image.any(0))
    assert (rows[0], rows[-1]) == (0, 27)  # the longer side fills the frame
    assert (cols[0], cols[-1]) == (11, 17)  # 7 columns, centred: (28 - 7 + 1) // 2 = 11
    assert out.scale == pytest.approx(28 / 200) and out.offset == (0, 11)
    np.testing.assert_allclose(out.image[:, 11:18].min(), 1.0, rtol=1e-5)
    digit = preprocess_digit(canvas).image
    assert np.flatnonzero(digit.any(1)).size == 20  # the digit way shrinks it to 20 pixels
    assert preprocess_fashion(np.zeros((40, 40), np.uint8)).empty


@pytest.mark.skipif(not Path(FASHION).is_dir(), reason="dataset-fashion-mnist not installed")
def test_upscaled_fashion_items_come_back_pixel_for_pixel():
    from core.data.digits import preprocess_fashion
    from core.data.loading import load_folder

    items = np.asarray(load_folder(FASHION, name="fashion-mnist").x_test[:300])
    items = items.reshape(-1, 28, 28)
    same = digit_same = 0
    for item in items:
        big = np.kron(item, np.ones((10, 10), np.uint8))
        back = preprocess_fashion(big, threshold=0, normalize=False, background="dark").image
        same += np.abs(back - item / 255).max() < 1e-5
        digit = preprocess_digit(big, threshold=0, normalize=False, background="dark").image
        digit_same += np.abs(digit - item / 255).max() < 1e-5
    assert same >= 0.96 * len(items) and digit_same == 0  # all 10,000: 9,792 and 0 of 2,000

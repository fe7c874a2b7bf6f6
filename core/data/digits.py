"""Turn a drawn digit (a grayscale canvas of any size) into an MNIST-style 28x28 input.

The steps follow how MNIST itself was made (LeCun et al.: NIST digits "size normalized to fit
in a 20x20 pixel box while preserving their aspect ratio ... anti-aliasing ... centered in a
28x28 image by computing the center of mass of the pixels, and translating the image so as to
position this point at the center of the 28x28 field"):

1. **Intensity.** ``uint8`` (and other integer) canvases are read on the 0..255 scale, float
   canvases on 0..1, ``bool`` as 0/1. MNIST is bright ink on a dark background; a dark-on-light
   canvas is inverted (``1 - x``), either on request or detected from the canvas's outermost
   rows and columns (its frame is background): inverted when most of the frame is above 0.5.
2. **Ink.** Values ``<= threshold`` are background (set to 0); the tight bounding box of the rest
   is the digit. No ink at all gives an *empty* result, which a caller reports instead of
   classifying.
3. **Size.** The box is resampled so its longer side is exactly :data:`BOX` (20) pixels and the
   aspect ratio is kept, by exact area averaging (a box filter: each output pixel is the mean of
   the canvas over the area it covers, computed as two matrix products with per-axis overlap
   matrices from :func:`area_weights`). The longer side lands on whole pixels; the shorter side,
   ``20 * short / long`` pixels long, is centred in ``ceil`` of that many pixels. A 1-pixel-wide
   line simply becomes a faint column, which normalisation (step 5) brightens.
4. **Centring.** The scaled box is pasted into the 28x28 field at a whole-pixel offset that puts
   the intensity-weighted centre of mass, in pixel-index coordinates (pixel ``i`` sits at ``i``),
   at ``14``: ``offset = ceil(13.5 - com)``, so the result's centre of mass lies in
   ``[13.5, 14.5)`` on each axis, exactly the range measured on all 10,000 MNIST test digits.
   From a 10x upscale with ``threshold=0``, which keeps their faint anti-aliasing pixels as ink,
   this rule rebuilds 9,997 of them pixel for pixel (the other 3 have a longer side of 19). With
   the default threshold (0.05) pixels at or below 12/255 become background: 780 digits come back
   pixel for pixel, 9,940 as the original with those faint pixels blanked, and 60 move by one
   pixel (57, whose centre of mass crosses a half-pixel boundary) or are rescaled (3, whose
   longer side shrinks to 19). A centre of mass within 1e-5 px of a half-pixel tie, as any
   symmetric drawing has, counts as on the tie and lands at 13.5, so float rounding noise never
   flips it.
   Whole pixels keep the 20-pixel side crisp (no second resampling) and match MNIST. The offset
   is clamped to ``[0, 28 - size]`` so nothing is ever cut off (the box has 8 pixels of play
   per axis). Only a very lopsided drawing, a heavy blob with a long thin tail say, needs more;
   it is then pushed to the edge and its centre of mass stays a pixel or so short of 14
   (``Preprocessed.clamped`` says so). Ink may touch the border, as in about 1 % of MNIST.
5. **Scale.** By default the image is divided by its maximum so the brightest pixel is 1.0:
   every MNIST digit peaks at 254 or 255, whatever pen made it, while a drawn stroke's peak after
   area averaging depends on the pen width and the digit's size on the canvas (a thin pen on a
   large canvas averages down to grey). ``normalize=False`` keeps the canvas's intensity scale,
   in which the area averaging conserves ink: ``image.sum() == scale**2 * ink.sum()``.

Everything is vectorised; a 280x280 canvas takes roughly 0.1-0.2 ms on a laptop core, so the GUI
can call this on every stroke segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.validation import check_choice, check_number

#: Side of the output field, in pixels.
FIELD = 28
#: Longer side of the scaled digit's bounding box, in pixels.
BOX = 20
#: Smallest canvas side accepted: a canvas smaller than the output field holds less detail
#: than the output shows.
MIN_SIDE = FIELD
#: Accepted values of ``background``: detect it, bright-ink-on-dark (MNIST), dark-ink-on-light.
BACKGROUNDS = ("auto", "dark", "light")
#: Centres of mass this close (in pixels) to a half-pixel tie are treated as on it, so a symmetric
#: drawing lands the same way whatever the rounding noise of the sums.
_TIE = 1e-5
#: Default ink threshold on the 0..1 intensity scale (about 13 of 255).
DEFAULT_THRESHOLD = 0.05


@dataclass(frozen=True, eq=False)
class Preprocessed:
    """The outcome of :func:`preprocess_digit`.

    Attributes
    ----------
    image : ndarray of shape (28, 28), float32, or None
        The MNIST-style image, values in ``[0, 1]``, read-only; ``None`` when ``empty``. Feed a
        model with ``image.reshape(1, 784)`` or ``image.reshape(1, 1, 28, 28)``.
    empty : bool
        True when the canvas had no ink above the threshold; every other field is then ``None``
        (``inverted`` still says whether the canvas was read as dark-on-light).
    bbox : tuple of int (top, left, bottom, right) or None
        The ink's bounding box on the canvas, half-open: rows ``top:bottom``, columns
        ``left:right``.
    scale : float or None
        Output pixels per canvas pixel, ``20 / max(bottom - top, right - left)``.
    offset : tuple of int (row, col) or None
        Where the top-left corner of the scaled box sits in the 28x28 field.
    center_of_mass : tuple of float (row, col) or None
        Intensity-weighted centre of mass of ``image`` in pixel-index coordinates; within
        ``[13.5, 14.5)`` on each axis unless ``clamped``.
    clamped : bool
        True when the centring shift was limited to keep the whole box inside the field.
    inverted : bool
        True when the canvas was read as dark ink on a light background and inverted.
    peak : float or None
        The brightest pixel of the scaled image before normalisation, on the canvas's 0..1
        intensity scale (1.0 for a solid stroke a few pixels wide).
    """

    image: np.ndarray | None
    empty: bool
    bbox: tuple[int, int, int, int] | None = None
    scale: float | None = None
    offset: tuple[int, int] | None = None
    center_of_mass: tuple[float, float] | None = None
    clamped: bool = False
    inverted: bool = False
    peak: float | None = None


def area_weights(
    n_in: int, n_out: int, *, span: float | None = None, offset: float = 0.0
) -> np.ndarray:
    """Exact area-averaging (box filter) resampling matrix for one axis.

    Input pixel ``j`` covers ``[j, j + 1)``; it is mapped onto
    ``[offset + j * span / n_in, offset + (j + 1) * span / n_in)`` in output coordinates, where
    output pixel ``i`` covers ``[i, i + 1)``. The weight is the length of the overlap, so
    ``W @ v`` gives each output pixel the mean of the (piecewise constant) input over its area,
    with anything outside the mapped span counting as 0. Each column sums to ``span / n_in`` when
    the mapped span lies inside ``[0, n_out]``, so ink is conserved up to that scale factor.

    Parameters
    ----------
    n_in : int
        Number of input pixels along the axis, ``>= 1``.
    n_out : int
        Number of output pixels along the axis, ``>= 1``.
    span : float, optional
        Length of the mapped input in output pixels; defaults to ``n_out``.
    offset : float, optional
        Output coordinate where input pixel 0 begins.

    Returns
    -------
    ndarray of shape (n_out, n_in), float64
        Resample a ``(n_in,)`` vector with ``W @ v``; an image ``(rows, cols)`` with
        ``Wr @ image @ Wc.T``.
    """
    n_in = int(check_number("n_in", n_in, low=1, integer=True))
    n_out = int(check_number("n_out", n_out, low=1, integer=True))
    length = float(n_out if span is None else check_number("span", span, low=0, low_open=True))
    start = float(check_number("offset", offset))
    return _overlaps(n_in, n_out, length, start)


def _overlaps(n_in: int, n_out: int, length: float, start: float) -> np.ndarray:
    """:func:`area_weights` without the argument checks: ``(n_out, n_in)`` float64."""
    edges_in = start + (np.arange(n_in + 1) / n_in) * length
    edges_out = np.arange(n_out + 1, dtype=np.float64)
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    return np.clip(hi - lo, 0.0, None)


def preprocess_digit(
    canvas: np.ndarray,
    *,
    background: str = "auto",
    threshold: float = DEFAULT_THRESHOLD,
    normalize: bool = True,
) -> Preprocessed:
    """Turn a drawn grayscale digit into an MNIST-style 28x28 image (see the module docstring).

    Parameters
    ----------
    canvas : ndarray of shape (height, width)
        The drawing, both sides ``>= 28``. ``uint8``/integer values in ``[0, 255]``, float values
        in ``[0, 1]`` (finite), or ``bool``.
    background : {"auto", "dark", "light"}
        ``"dark"``: bright ink on a dark background, as MNIST. ``"light"``: dark ink on a light
        background, inverted first. ``"auto"``: ``"light"`` when more than half of the pixels in
        the canvas's outermost rows and columns are above 0.5, else ``"dark"``.
    threshold : float
        Values ``<= threshold`` (0..1 scale, after any inversion) are background; in ``[0, 1)``.
    normalize : bool
        Divide by the brightest pixel so it is 1.0 (the default, as in MNIST); when False keep
        the canvas's intensity scale, in which ``image.sum() == scale**2 * ink.sum()``.

    Returns
    -------
    Preprocessed
        ``image`` of shape (28, 28), float32 in ``[0, 1]``, or ``empty=True`` with no image.

    Raises
    ------
    ValueError
        If the canvas is not 2-D, is smaller than 28x28, holds NaN/inf or values outside its
        dtype's range, or an option is out of range; the message names the field.
    TypeError
        If the canvas's dtype is not boolean, integer or floating.
    """
    ink, bbox, inverted = _ink(canvas, background, threshold, normalize)
    if ink is None:
        return Preprocessed(image=None, empty=True, inverted=inverted)
    height, width = ink.shape
    longest = max(height, width)
    scale = BOX / longest
    w_rows = _axis_weights(height, longest)
    w_cols = _axis_weights(width, longest)
    small = w_rows @ ink @ w_cols.T

    mass = float(small.sum(dtype=np.float64))
    peak = float(small.max())
    if not (mass > 0.0 and peak > 0.0):  # only for denormal ink with threshold 0
        return Preprocessed(image=None, empty=True, inverted=inverted)
    com_row = float(small.sum(axis=1, dtype=np.float64) @ np.arange(small.shape[0])) / mass
    com_col = float(small.sum(axis=0, dtype=np.float64) @ np.arange(small.shape[1])) / mass
    row0, clamp_r = _place(com_row, small.shape[0])
    col0, clamp_c = _place(com_col, small.shape[1])
    field = _framed(small, row0, col0, peak if normalize else 1.0)
    return Preprocessed(
        image=field,
        empty=False,
        bbox=bbox,
        scale=scale,
        offset=(row0, col0),
        center_of_mass=(com_row + row0, com_col + col0),
        clamped=clamp_r or clamp_c,
        inverted=inverted,
        peak=peak,
    )


def preprocess_fashion(
    canvas: np.ndarray,
    *,
    background: str = "auto",
    threshold: float = DEFAULT_THRESHOLD,
    normalize: bool = True,
) -> Preprocessed:
    """Turn a drawn garment into a Fashion-MNIST-style 28x28 image.

    Fashion-MNIST was made differently from MNIST (Xiao et al. 2017, "Fashion-MNIST", section
    2): each product picture was *trimmed* to its content, its *longest side resized to 28*
    pixels, and the *shorter side extended to 28 with the image put in the centre*. So the item
    fills the frame, centred by its box, not by its centre of mass. Steps 1, 2 and 5 (intensity,
    ink, scale) are those of :func:`preprocess_digit`; step 3 resamples the ink's bounding box by
    the same exact area averaging so its longer side is exactly 28 pixels; step 4 centres the
    box: the shorter side, ``28 * short / long`` pixels long, is centred in ``ceil`` of that
    many pixels, which start at ``ceil((28 - size) / 2)``. Fashion-MNIST also sharpened its
    pictures, which a drawing does not need. Re-processing the 10,000 Fashion-MNIST test items
    upscaled 10x (``threshold=0``, ``normalize=False``) rebuilds 9,792 of them pixel for pixel;
    of the other 208, 167 have no ink at one end of their longer side (an outline sharpened
    away) and 41 have an odd margin's extra pixel after the item. The digit preprocessing
    rebuilds none of the first 2,000 (it shrinks every item to 20 pixels).

    Parameters, return value and errors as :func:`preprocess_digit`; ``scale`` is
    ``28 / max(bottom - top, right - left)``, ``center_of_mass`` is that of the result, and
    ``clamped`` is always False.
    """
    ink, bbox, inverted = _ink(canvas, background, threshold, normalize)
    if ink is None:
        return Preprocessed(image=None, empty=True, inverted=inverted)
    height, width = ink.shape
    longest = max(height, width)
    small = _axis_weights(height, longest, FIELD) @ ink @ _axis_weights(width, longest, FIELD).T
    peak = float(small.max())
    if not (float(small.sum(dtype=np.float64)) > 0.0 and peak > 0.0):
        return Preprocessed(image=None, empty=True, inverted=inverted)
    # An odd margin's extra pixel goes before the item, as in 99.6% of Fashion-MNIST's items.
    row0, col0 = (FIELD - small.shape[0] + 1) // 2, (FIELD - small.shape[1] + 1) // 2
    field = _framed(small, row0, col0, peak if normalize else 1.0)
    index = np.arange(FIELD)
    total = float(field.sum(dtype=np.float64))
    com = (
        float(field.sum(axis=1, dtype=np.float64) @ index) / total,
        float(field.sum(axis=0, dtype=np.float64) @ index) / total,
    )
    return Preprocessed(
        image=field,
        empty=False,
        bbox=bbox,
        scale=FIELD / longest,
        offset=(row0, col0),
        center_of_mass=com,
        inverted=inverted,
        peak=peak,
    )


def _framed(small: np.ndarray, row0: int, col0: int, peak: float) -> np.ndarray:
    """A read-only ``(28, 28)`` float32 image: ``small`` divided by ``peak``, its top left corner
    at ``(row0, col0)``, zeros around it."""
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[row0 : row0 + small.shape[0], col0 : col0 + small.shape[1]] = small
    if peak != 1.0:
        field /= np.float32(peak)
    field.flags.writeable = False
    return field


#: How each image data set's items were made from a picture: the drawing goes the same way.
PREPROCESSORS = {"digits": preprocess_digit, "fashion": preprocess_fashion}


def _ink(
    canvas: np.ndarray, background: str, threshold: float, normalize: bool
) -> tuple[np.ndarray | None, tuple[int, int, int, int] | None, bool]:
    """Steps 1-2: the canvas as bright ink on dark in ``[0, 1]``, cut to the ink's bounding box
    ``(top, left, bottom, right)``, background zeroed; ``(None, None, inverted)`` without ink."""
    check_choice("background", background, BACKGROUNDS)
    limit = float(check_number("threshold", threshold, low=0.0, high=1.0))
    if limit >= 1.0:
        raise ValueError(f"threshold: {threshold!r} is out of range; allowed: a number in [0, 1)")
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize: {normalize!r} is not a bool; allowed: True or False")

    image = _unit_intensity(canvas)
    if background == "light":
        inverted = True
    elif background == "dark":
        inverted = False
    else:
        frame = np.concatenate((image[0], image[-1], image[1:-1, 0], image[1:-1, -1]))
        inverted = bool(2 * np.count_nonzero(frame > 0.5) > frame.size)
    if inverted:
        image = 1.0 - image

    mask = image > limit
    rows = mask.any(axis=1)
    if not rows.any():
        return None, None, inverted
    cols = mask.any(axis=0)
    top = int(np.argmax(rows))
    bottom = rows.size - int(np.argmax(rows[::-1]))
    left = int(np.argmax(cols))
    right = cols.size - int(np.argmax(cols[::-1]))
    ink = np.where(mask[top:bottom, left:right], image[top:bottom, left:right], np.float32(0))
    return ink, (top, left, bottom, right), inverted


def _unit_intensity(canvas: np.ndarray) -> np.ndarray:
    """Validate ``canvas`` and return it as float32 ``(height, width)`` in ``[0, 1]``."""
    allowed = (
        f"a 2-D grayscale image (height, width), both sides >= {MIN_SIDE}, "
        "uint8/integer in [0, 255], float in [0, 1] or bool"
    )
    array = np.asarray(canvas)
    if array.ndim != 2:
        raise ValueError(f"canvas: shape {array.shape} is not 2-D; allowed: {allowed}")
    if min(array.shape) < MIN_SIDE:
        raise ValueError(f"canvas: shape {array.shape} is too small; allowed: {allowed}")
    kind = array.dtype.kind
    if kind == "b":
        return array.astype(np.float32)
    if kind in "ui":
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise ValueError(
                f"canvas: integer values span [{low}, {high}]; allowed: values in [0, 255]"
            )
        return array.astype(np.float32) * np.float32(1 / 255)
    if kind == "f":
        image = array.astype(np.float32, copy=False)
        low, high = float(image.min()), float(image.max())
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"canvas: contains NaN or inf; allowed: {allowed}")
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"canvas: float values span [{low:g}, {high:g}]; allowed: values in [0, 1]"
            )
        return image
    raise TypeError(f"canvas: dtype {array.dtype} is not supported; allowed: {allowed}")


def _axis_weights(n_in: int, longest: int, box: int = BOX) -> np.ndarray:
    """Float32 ``(size, n_in)`` weights mapping ``n_in`` canvas pixels to ``box * n_in / longest``
    output pixels, centred in ``size = ceil`` of that length."""
    length = box * n_in / longest
    size = max(1, math.ceil(length - 1e-9))
    return _overlaps(n_in, size, length, (size - length) / 2).astype(np.float32)


def _place(com: float, size: int) -> tuple[int, bool]:
    """Offset putting ``com`` (index coordinates inside a box of ``size`` pixels) at ``[13.5,
    14.5)`` of the field, clamped so the box stays inside; and whether it was clamped."""
    wanted = math.ceil((FIELD - 1) / 2 - com - _TIE)
    start = min(max(wanted, 0), FIELD - size)
    return start, start != wanted

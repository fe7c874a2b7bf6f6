"""Float comparisons for results computed along different paths: another BLAS kernel (CPU vendor,
thread count), chunked against whole batches, an exported file or onnxruntime. Rounding then
differs by a few ulps of the values summed, so tolerances are relative to the outputs' magnitude,
never an absolute 1e-6 on values in the hundreds."""

import numpy as np

#: Relative tolerance for float32 results of the same math along different paths (~80 ulps).
F32 = 1e-5


def assert_close(actual, desired, rtol: float = F32, scale: float | None = None) -> None:
    """``|actual - desired| <= rtol * (|desired| + scale)`` element-wise. ``scale`` defaults to
    ``max |desired|``: an entry near 0 that is a sum of large terms is judged against the size of
    the outputs, as its rounding error is. For probabilities pass the logits' magnitude."""
    if scale is None:
        scale = float(np.abs(np.asarray(desired, dtype=np.float64)).max(initial=0.0))
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale)


def assert_same_classes(predicted, expected, proba, margin: float = F32) -> None:
    """Predicted classes ``(n,)`` equal ``expected`` except where the reference probabilities
    ``(n, classes)`` have their top two within ``margin`` (a near tie rounding may flip)."""
    top2 = np.sort(np.asarray(proba), axis=1)[:, -2:]
    tie = (top2[:, 1] - top2[:, 0]) <= margin
    assert np.all((np.asarray(predicted) == np.asarray(expected)) | tie)

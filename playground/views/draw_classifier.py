"""A drawing classified (no Qt): whether a model can classify drawings, how a drawing becomes
its input (the preprocessing of the model's data set), and the class probabilities."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from core.data.digits import FIELD, PREPROCESSORS
from core.data.registry import DIGITS, FASHION_CLASSES
from core.model import Sequential


def preprocessing_for(class_names: Sequence[str]) -> str:
    """How a drawing becomes the network's input (a key of PREPROCESSORS): the way the model's
    data set (named by its classes) made its images from pictures."""
    return "fashion" if tuple(class_names) == FASHION_CLASSES else "digits"


def classify(
    model: Sequential | None, pixels: np.ndarray, preprocessing: str
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The network input ``(28, 28)`` float32 in [0, 1] made from the canvas ``pixels`` (None
    when nothing is drawn), and the class probabilities ``(classes,)`` (read-only; None without
    a model or a drawing)."""
    image = PREPROCESSORS[preprocessing](pixels, background="dark").image
    if model is None or image is None:
        return image, None
    x = image.reshape((1, *model.input_shape))
    probs = np.asarray(model.predict_proba(x)[0], dtype=np.float64)
    probs.flags.writeable = False
    return image, probs


def check_model(model: Sequential, class_names: Sequence[str] | None = None) -> tuple[str, ...]:
    """The class names to show for ``model`` if the draw panel can use it; raises
    ValueError/TypeError (naming the field) otherwise (see :meth:`DrawView.set_model`)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model: {type(model).__name__}; allowed: a core.model.Sequential")
    if math.prod(model.input_shape) != FIELD * FIELD:
        raise ValueError(
            f"model: input shape {model.input_shape} does not take a 28×28 image; "
            "allowed: (784,) or (1, 28, 28)"
        )
    if model.loss.task != "classification" or model.loss.name != "softmax_ce":
        raise ValueError(
            f"model: loss {model.loss.name!r}; allowed: a softmax classifier (softmax_ce)"
        )
    n = model.n_outputs
    if class_names is None:
        names = DIGITS if n == len(DIGITS) else tuple(str(i) for i in range(n))
    else:
        names = tuple(str(c) for c in class_names)
        if len(names) != n:
            raise ValueError(
                f"class_names: {len(names)} names for a model with {n} outputs; "
                "allowed: one name per output"
            )
    return names

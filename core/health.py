"""Is a run healthy? The two rules that judge a run at the end of each epoch, from its history.

**Diverged** (training stops, the reason starts with ``"diverged"``): a weight or a network
output on the training set is non-finite or beyond :data:`MAX_MAGNITUDE` in size (times the
largest regression target, when that is above 1), or the
training loss has been above :data:`DIVERGENCE_FACTOR` times its reference for the last
:data:`DIVERGENCE_EPOCHS` epochs. The reference is the larger of the first epoch's training loss
and the chance loss, so a high first epoch never makes a run look diverged.

**Not learning** (a hint; training goes on): after at least ``2 · HINT_WINDOW`` epochs, the
median training loss of the last :data:`HINT_WINDOW` epochs is no better than the chance loss
(within :data:`HINT_TOLERANCE`) and no lower than the best loss before those epochs. A run that
learns slowly still gets lower, and one that has learned is far below chance: neither gets the
hint. A too-high learning rate keeps the loss bouncing around chance level, above it, or back
up from a lower level: the hint then suggests a lower rate; a loss that settles steadily just
below chance means the network cannot represent the data, and the hint says so.

The *chance loss* is the loss of the best constant prediction: the entropy of the class
frequencies (classification) or the variance of the targets (regression, mean squared error).

Both rules read only the per-epoch training losses (and the current weights), so a run continued
from a saved state reaches the same verdicts as the uninterrupted run.
"""

from __future__ import annotations

import math

import numpy as np

#: A weight or output beyond this size (or non-finite) means the run has diverged.
MAX_MAGNITUDE = 1e15
#: The training loss above this many times its reference ...
DIVERGENCE_FACTOR = 10.0
#: ... for this many consecutive epochs means the run has diverged.
DIVERGENCE_EPOCHS = 3
#: Epochs whose median training loss is compared with chance (the hint needs twice as many).
HINT_WINDOW = 5
#: A loss within this fraction below chance still counts as chance level (rounding, a few lucky
#: samples).
HINT_TOLERANCE = 0.01

LOWER_LR = "try a lower learning rate"


def chance_loss(classification: bool, y: np.ndarray) -> float:
    """The loss of the best constant prediction on targets ``y``: the entropy (nats) of the class
    frequencies of integer labels ``(n,)``, or the mean squared deviation of regression targets
    ``(n,)`` / ``(n, outputs)`` from their mean. 0.0 for no targets."""
    if len(y) == 0:
        return 0.0
    if classification:
        p = np.bincount(np.asarray(y, np.int64)) / len(y)
        p = p[p > 0]
        return float(-np.sum(p * np.log(p)))
    t = np.asarray(y, np.float64).reshape(len(y), -1)
    return float(np.mean((t - t.mean(axis=0)) ** 2))


def target_scale(classification: bool, y: np.ndarray) -> float:
    """What weights and outputs are measured against: 1 for classification, the largest absolute
    regression target ``y`` ``(n,)`` / ``(n, outputs)`` otherwise (at least 1), so targets in
    the billions do not look like divergence."""
    if classification or len(y) == 0:
        return 1.0
    largest = float(np.max(np.abs(np.asarray(y, np.float64))))
    return max(1.0, largest) if math.isfinite(largest) else 1.0


def divergence(train_loss: np.ndarray, chance: float, largest: float) -> str | None:
    """Why the run has diverged, or None.

    ``train_loss`` is the training loss of every completed epoch ``(epochs,)``; ``largest`` the
    largest absolute weight or output now, divided by :func:`target_scale` (nan or inf when some
    are non-finite)."""
    if not math.isfinite(largest) or largest > MAX_MAGNITUDE:
        return f"a weight or output reached {largest:.3g} (beyond {MAX_MAGNITUDE:.0e}); {LOWER_LR}"
    if len(train_loss) < DIVERGENCE_EPOCHS:
        return None
    reference = max(float(train_loss[0]), chance)
    recent = train_loss[-DIVERGENCE_EPOCHS:]
    if np.all(recent > DIVERGENCE_FACTOR * reference):
        return (
            f"the training loss ({float(recent[-1]):.4g}) has been over {DIVERGENCE_FACTOR:g}× "
            f"its start ({reference:.4g}) for {DIVERGENCE_EPOCHS} epochs; {LOWER_LR}"
        )
    return None


def not_learning(train_loss: np.ndarray, chance: float) -> str | None:
    """A hint for a run that does not learn, or None. ``train_loss`` is ``(epochs,)``."""
    if len(train_loss) < 2 * HINT_WINDOW or chance <= 0:
        return None
    window = train_loss[-HINT_WINDOW:]
    recent = float(np.median(window))
    # The cheap test first: a learning run is not read whole at every epoch.
    if recent < (1.0 - HINT_TOLERANCE) * chance or recent < np.min(train_loss[:-HINT_WINDOW]):
        return None
    start = (
        f"Not learning: after {len(train_loss)} epochs the training loss ({recent:.4g}) is "
        f"no better than guessing ({chance:.4g}) and no longer falls."
    )
    # Overshooting steps bounce the loss, push it above chance, or undo what was learned; a
    # network that cannot represent the data settles just below chance and stays there.
    bouncing = float(np.ptp(window)) > 2 * HINT_TOLERANCE * chance
    relapsed = float(np.min(train_loss)) < (1.0 - 5 * HINT_TOLERANCE) * chance
    if bouncing or relapsed or recent > (1.0 + HINT_TOLERANCE / 2) * chance:
        return f"{start} The learning rate is probably too high: try a lower one."
    return (
        f"{start} The network may be unable to fit this data: try more neurons, another "
        "hidden layer or other input features."
    )

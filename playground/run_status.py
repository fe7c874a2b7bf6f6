"""What the toolbar and the status bar say of a run: its counters, metrics and speed, and why
it stopped, in plain words (the engine's reasons are :func:`core.training.train_iter`'s, plus
"engine stopped" from the training controller)."""

from __future__ import annotations

from core.training.config import TrainConfig
from core.training.snapshot import Snapshot

START_AGAIN = "press R to start again"


def stop_message(
    reason: str, epoch: int, config: TrainConfig | None = None, test_set: bool = True
) -> str:
    """The status-bar message for a run that ended with ``reason`` at ``epoch``, under
    ``config`` (its target loss and patience); ``test_set``: early stopping watched the test
    loss (else the train loss)."""
    if reason == "epochs":
        plural = "" if epoch == 1 else "s"
        return (
            f"Finished: reached {epoch:,} epoch{plural} — press Space to train on, R to start again"
        )
    if reason == "target_loss":
        target = f" {config.target_loss:g}" if config and config.target_loss is not None else ""
        return f"Reached the target loss{target} — {START_AGAIN}"
    if reason == "early_stopping":
        which = "test" if test_set else "train"
        wait = ""
        if config and config.patience:
            wait = f" for {config.patience:,} epoch{'' if config.patience == 1 else 's'}"
        return f"Stopped early: the {which} loss stopped improving{wait} — {START_AGAIN}"
    if reason.startswith("diverged"):
        return "Stopped: training diverged (see above) — lower the learning rate and press R"
    if reason == "engine stopped":
        return f"Stopped: the training engine stopped unexpectedly — {START_AGAIN}"
    if reason == "stopped":
        return f"Stopped — {START_AGAIN}"
    return f"Stopped: {reason.replace('_', ' ')} — {START_AGAIN}"


def count(n: int) -> str:
    """A counter as the toolbar shows it: ``123,456``, and ``1.23M`` from a million on, so it
    never needs more room than the window's widest counter."""
    return f"{n:,}" if n < 1_000_000 else f"{n / 1e6:.2f}M"


def metrics_message(snap: Snapshot) -> str:
    """The losses and accuracies of a snapshot, for the status bar."""
    parts = []
    for label, loss, acc in (
        ("Train", snap.train_loss, snap.train_acc),
        ("Test", snap.test_loss, snap.test_acc),
    ):
        if loss is not None:
            text = f"{label} loss {loss:.4f}"
            if acc is not None:
                text += f", accuracy {acc:.1%}"
            parts.append(text)
    if parts:
        return "    ".join(parts)
    if snap.step > 0:  # measured at the end of each epoch: the first has not ended yet
        return "Training the first epoch: its losses and accuracies come when it ends"
    return "Not trained yet: press Play (Space)"


def speed_message(snap: Snapshot) -> str:
    """How fast the run trains and its learning rate ("" before it has trained)."""
    if snap.elapsed <= 0:
        return ""
    return (
        f"{snap.step / snap.elapsed:,.0f} steps/s ({snap.samples_per_second:,.0f} "
        f"samples/s)   lr {snap.lr:.3g}"
    )

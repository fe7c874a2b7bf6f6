"""Why a run stopped, in plain words for the status bar (the engine's reasons are
:func:`core.training.train_iter`'s, plus "engine stopped" from the training controller)."""

from __future__ import annotations

from core.training.config import TrainConfig

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

"""The status bar's line of metrics: what it says before, during and after the first epoch."""

from types import SimpleNamespace

from playground.run_status import metrics_message


def snap(step, train_loss=None, train_acc=None, test_loss=None, test_acc=None):
    return SimpleNamespace(
        step=step,
        train_loss=train_loss,
        train_acc=train_acc,
        test_loss=test_loss,
        test_acc=test_acc,
    )


def test_an_untrained_run_asks_for_play():
    assert metrics_message(snap(0)) == "Not trained yet: press Play (Space)"


def test_a_run_in_its_first_epoch_says_it_is_training():
    message = metrics_message(snap(155))
    assert message.startswith("Training the first epoch") and "Play" not in message


def test_an_epoch_ended_shows_its_losses_and_accuracies():
    message = metrics_message(snap(16, 0.5, 0.75, 0.6, 0.5))
    assert message == "Train loss 0.5000, accuracy 75.0%    Test loss 0.6000, accuracy 50.0%"

"""The headless command's end of run: a diverged run exits 1 saying why, a run that does not
learn warns and exits 0, a healthy one does neither."""

import json

from tests.core.test_cli import run_cli


def test_sgd_at_lr_10_on_the_spiral_exits_1_saying_diverged(tmp_path):
    path = tmp_path / "m.npz"
    args = ("--dataset", "spiral", "--optimizer", "sgd", "--lr", "10", "--batch-size", "16")
    code, text = run_cli(*args, "--epochs", "50", "--progress", "none", "--out", str(path))
    assert code == 1 and not path.exists()
    assert text.startswith("stopped: diverged: a weight or output reached")
    assert "after 1 epochs" in text
    code, text = run_cli(*args, "--epochs", "50", "--progress", "none", "--json")
    result = json.loads(text)
    assert code == 1 and result["reason"].startswith("diverged") and result["epochs"] == 1


def test_a_run_that_does_not_learn_warns_and_exits_0(tmp_path):
    path = tmp_path / "m.npz"
    args = ("--dataset", "spiral", "--optimizer", "adam", "--lr", "10", "--epochs", "50")
    code, text = run_cli(*args, "--progress", "none", "--out", str(path))
    assert code == 0 and path.exists() and "stopped: epochs after 50 epochs" in text
    assert "warning: Not learning: after 50 epochs" in text and "lower" in text
    code, text = run_cli(*args, "--progress", "none", "--json")
    assert code == 0 and json.loads(text)["warning"].startswith("Not learning")
    healthy = ("--dataset", "gauss", "--epochs", "30", "--progress", "none")
    code, text = run_cli(*healthy)
    assert code == 0 and "stopped: epochs" in text and "warning" not in text
    assert json.loads(run_cli(*healthy, "--json")[1])["warning"] is None

"""The Initialization page as a learner sees it: five histograms of the engine's layer
activations, each layer's mean and std beneath, redrawn when the weights or activation change."""

import re

import numpy as np
import pytest
from lab_pages import choose, open_page

from core.lab.init_stats import activation_histograms
from playground.lab.initialization import InitializationPage


@pytest.fixture
def page(qtbot):
    return open_page(qtbot, InitializationPage)


def shown_stats(page):
    """(mean, std) per layer as the labels under the histograms read."""
    pairs = []
    for label in page.stats:
        text = label.text().replace("−", "-")
        mean, std = re.fullmatch(r"mean (\S+)\s+std (\S+)", text).groups()
        pairs.append((float(mean), float(std)))
    return np.array(pairs)


def assert_shows(page, init, activation, seed=0):
    expected = activation_histograms(init, activation, seed)
    assert len(page.bars) == 5
    for bars, h in zip(page.bars, expected, strict=True):
        edges, fractions = bars.getData()
        np.testing.assert_allclose(edges, h.edges, rtol=1e-12)
        np.testing.assert_allclose(fractions, h.fractions, rtol=1e-12)
    stats = shown_stats(page)
    np.testing.assert_allclose(stats[:, 1], [h.std for h in expected], rtol=5e-3)
    np.testing.assert_allclose(stats[:, 0], [h.mean for h in expected], rtol=5e-3, atol=1e-9)
    return stats


def test_five_histograms_with_the_engines_numbers_beneath(page):
    assert [p.getPlotItem().titleLabel.text for p in page.plots] == [
        f"Layer {i}" for i in range(1, 6)
    ]
    stats = assert_shows(page, "Xavier", "tanh")
    assert stats[0, 1] / 3 < stats[4, 1] < stats[0, 1] * 3  # Xavier keeps tanh's spread


def test_changing_init_redraws_and_tiny_weights_vanish(qtbot, page):
    choose(qtbot, page, page.activation, "relu")
    choose(qtbot, page, page.init, "He")
    he = assert_shows(page, "He", "relu")
    choose(qtbot, page, page.init, "std 0.01")
    tiny = assert_shows(page, "std 0.01", "relu")
    assert tiny[4, 1] * 100 <= he[4, 1]
    assert "ReLU gives exactly 0" in page.summary.text()


def test_sigmoid_with_std_1_piles_up_at_both_ends(qtbot, page):
    choose(qtbot, page, page.activation, "sigmoid")
    choose(qtbot, page, page.init, "std 1")
    assert_shows(page, "std 1", "sigmoid")
    for bars in page.bars:
        _, fractions = bars.getData()
        assert fractions[0] > 0.2 and fractions[-1] > 0.2


def test_another_seed_draws_other_inputs(qtbot, page):
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.seed.setValue(3)
    assert_shows(page, "Xavier", "tanh", seed=3)

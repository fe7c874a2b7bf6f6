"""The Initialization page's numbers: 1,000 random inputs through 5 layers of 100 units of the
engine's network, for each weight scale and activation, behave as Glorot and He predict."""

import numpy as np
import pytest

from core.init import glorot_normal, he_normal
from core.lab.init_stats import (
    BINS,
    INITS,
    activation_histograms,
    initialized_model,
    layer_activations,
)


def _stds(init, activation):
    return np.array([h.std for h in activation_histograms(init, activation)])


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_tiny_weights_shrink_the_last_layer_a_hundredfold_below_he_relu(activation):
    tiny = _stds("std 0.01", activation)
    he = _stds("He", "relu")
    assert tiny[4] * 100 <= he[4]
    assert 0.5 < he[4] < 2.0  # He keeps ReLU activations at the inputs' scale
    assert np.all(np.diff(tiny) < 0)  # shrinking layer after layer


def test_sigmoid_with_std_1_saturates():
    for values in layer_activations("std 1", "sigmoid"):
        near_0, near_1 = np.mean(values < 0.1), np.mean(values > 0.9)
        assert near_0 + near_1 > 0.6 and min(near_0, near_1) > 0.25
    # the histogram shows it: the end bins hold most of the activations
    last = activation_histograms("std 1", "sigmoid")[-1].fractions
    assert last[0] + last[-1] > 0.5


def test_xavier_tanh_keeps_the_spread_across_layers():
    stds = _stds("Xavier", "tanh")
    assert stds[0] / 3 < stds[4] < stds[0] * 3
    assert stds[4] > 0.2


def test_histograms_cover_every_activation_in_the_activation_range():
    for activation, edges in (("sigmoid", (0, 1)), ("tanh", (-1, 1)), ("relu", (0, 4))):
        hists = activation_histograms("std 1", activation)
        assert len(hists) == 5
        for h in hists:
            assert h.edges.shape == (BINS + 1,) and h.fractions.shape == (BINS,)
            assert (h.edges[0], h.edges[-1]) == edges
            assert h.fractions.sum() == pytest.approx(1.0)
    # ReLU with std 1 explodes: layer 5's values lie far beyond the range, in the last bin
    relu = activation_histograms("std 1", "relu")[-1]
    assert relu.std > 1000 and relu.fractions[-1] > 0.3


def test_weights_come_from_the_engine_initializers_or_the_fixed_scale():
    rng = np.random.default_rng(1)
    for init, expected in (("std 1", 1.0), ("std 0.01", 0.01), ("Xavier", 0.1), ("He", 0.1414)):
        model = initialized_model(init, "tanh", rng)
        weights = [w for _, w in model.named_params()]
        assert len(weights) == 5 and all(w.shape == (100, 100) for w in weights)
        assert np.std(np.concatenate([w.ravel() for w in weights])) == pytest.approx(
            expected, rel=0.02
        )
    assert INITS["Xavier"] == glorot_normal.__name__ and INITS["He"] == he_normal.__name__


def test_same_seed_same_numbers_other_seed_others():
    a, b = _stds("He", "relu"), _stds("He", "relu")
    np.testing.assert_array_equal(a, b)
    c = np.array([h.std for h in activation_histograms("He", "relu", seed=7)])
    assert not np.array_equal(a, c)


def test_unknown_choices_name_the_field():
    with pytest.raises(ValueError, match="init: 'std 2' is unknown"):
        activation_histograms("std 2", "relu")
    with pytest.raises(ValueError, match="activation: 'elu' is unknown"):
        activation_histograms("He", "elu")

"""The perceptron page's numbers: the rule solves AND, OR and NAND and never XOR; the 2-2-1
network trained by the engine solves XOR."""

import numpy as np
import pytest

from core.lab.perceptron import (
    EPOCH_BUDGET,
    INPUTS,
    Perceptron,
    PerceptronRule,
    solve_xor,
    targets,
)


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
def test_the_rule_solves_the_separable_gates(gate):
    rule = PerceptronRule(Perceptron(), gate, lr=0.1)
    updates = rule.run()
    assert rule.converged and not rule.gave_up
    assert rule.epoch < 10 and len(updates) == rule.steps
    np.testing.assert_array_equal(rule.neuron.output(INPUTS), targets(gate))


def test_the_rule_never_solves_xor_within_its_budget():
    rule = PerceptronRule(Perceptron(), "XOR", lr=0.1)
    updates = rule.run()
    assert rule.gave_up and not rule.converged
    assert rule.epoch == EPOCH_BUDGET and len(updates) == 4 * EPOCH_BUDGET
    # never once were all four points right on the way
    neuron = Perceptron()
    for u in updates:
        neuron.set(*u.weights, u.bias)
        assert (neuron.output(INPUTS) != targets("XOR")).any()


def test_one_update_follows_the_rule_from_the_weights_set():
    neuron = Perceptron(0.5, -0.25, -0.1)
    rule = PerceptronRule(neuron, "OR", lr=0.5)
    first = rule.step()  # (0, 0): w·x + b = -0.1, output 0 = target: no change
    assert (first.index, first.t, first.y, first.changed) == (0, 0, 0, False)
    np.testing.assert_allclose(first.weights, [0.5, -0.25])
    second = rule.step()  # (0, 1): -0.35 -> 0, target 1: Δw = 0.5·(1 − 0)·(0, 1), Δb = 0.5
    assert (second.index, second.t, second.y, second.changed) == (1, 1, 0, True)
    np.testing.assert_allclose(second.dw, [0.0, 0.5])
    assert second.db == pytest.approx(0.5)
    np.testing.assert_allclose(second.weights, [0.5, 0.25])
    assert second.bias == pytest.approx(0.4)
    # the neuron's sum is the engine's dense layer with these parameters
    np.testing.assert_allclose(neuron.net(INPUTS), INPUTS @ [0.5, 0.25] + 0.4)


def test_bad_gate_and_rate_are_refused():
    with pytest.raises(ValueError, match="gate: 'XNOR'"):
        PerceptronRule(Perceptron(), "XNOR")
    with pytest.raises(ValueError, match="learning rate"):
        PerceptronRule(Perceptron(), "AND", lr=0.0)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_the_2_2_1_network_solves_xor(activation):
    net = solve_xor(activation)
    assert net.solved() == 4
    np.testing.assert_array_equal(net.predicted, [0, 1, 1, 0])
    assert net.hidden.shape == (4, 2) and net.hidden_w.shape == (2, 2)
    # the output combines the hidden activations: σ(h·v + c) is the network's output
    logits = net.hidden @ net.out_w + net.out_b
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), net.proba, rtol=1e-9)
    np.testing.assert_allclose(net.probability(INPUTS), net.proba, rtol=1e-9)
    assert net.loss < 0.05

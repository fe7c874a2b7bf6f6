"""The glass box's words: each stage of backprop (:class:`playground.lab.glass_graph.Stage`)
as a title and a few sentences with its formula written out in the record's own numbers, for
one unit of the layer (the one the learner clicked)."""

from __future__ import annotations

import numpy as np

from core.lab.backprop import ExplainRecord, LayerRecord
from playground.lab.glass_graph import Stage, probabilities, unit_name
from playground.lab.widgets import significant

#: Each activation's slope written with its output a (or its input z), for the chain rule.
SLOPES = {
    "tanh": ("tanh′(z) = 1 − a²", lambda a: f"(1 − {paren(a)}²)"),
    "sigmoid": ("σ′(z) = a (1 − a)", lambda a: f"{paren(a)}·(1 − {paren(a)})"),
    "relu": ("ReLU′(z) = 1 if z > 0, else 0", None),
}
OPTIMIZER_NAMES = {"sgd": "SGD", "momentum": "Momentum", "adam": "Adam"}


def paren(v: float) -> str:
    """A number as a factor: negative ones in parentheses."""
    text = significant(v)
    return f"({text})" if v < 0 else text


def stage_title(stage: Stage, n_layers: int) -> str:
    if stage.kind == "forward":
        return f"Forward: layer {stage.layer + 1}" + (
            " (output)" if stage.layer == n_layers - 1 else ""
        )
    if stage.kind == "backward":
        return f"Backward: layer {stage.layer + 1}"
    return {"loss": "The loss", "update": "The update"}[stage.kind]


def weighted_sum(layer: LayerRecord, j: int, names: list[str]) -> str:
    """``z = x₁·w + x₂·w + b = value`` for unit ``j`` with the inputs' ``names``."""
    terms = " + ".join(
        f"{paren(x)}·{paren(w)}" for x, w in zip(layer.x, layer.W[:, j], strict=True)
    )
    return f"{terms} + {paren(layer.b[j])} = {significant(layer.z[j])}"


def stage_text(record: ExplainRecord, stage: Stage, unit: int) -> str:
    """Rich text for ``stage``: what happens, the formula, and the formula in numbers for
    ``unit`` of the stage's layer."""
    if stage.kind == "forward":
        return _forward(record, stage.layer, unit)
    if stage.kind == "loss":
        return _loss(record)
    if stage.kind == "backward":
        return _backward(record, stage.layer, unit)
    return _update(record)


def _names(column: int, size: int, n: int) -> list[str]:
    return [unit_name(column, i, n) for i in range(size)]


def _forward(record: ExplainRecord, k: int, j: int) -> str:
    n, layer = len(record.layers), record.layers[k]
    inputs = _names(k, len(layer.x), n)
    name = unit_name(k + 1, j, n)
    head = f"Each unit of layer {k + 1} weighs its inputs ({', '.join(inputs)}), adds its bias and "
    numbers = f"<br><b>{name}</b>: z = {weighted_sum(layer, j, inputs)}"
    if k < n - 1:
        f = layer.activation
        return (
            f"{head}passes the sum through {f}:<br><b>z = Σᵢ xᵢ·wᵢ + b, &nbsp; a = {f}(z)</b>"
            f"{numbers}, &nbsp; a = {f}({significant(layer.z[j])}) = {significant(layer.a[j])}"
        )
    p = probabilities(record)
    if p is None or record.loss_name != "softmax_ce":
        return f"{head}gives the network's output z.<br><b>z = Σᵢ hᵢ·wᵢ + b</b>{numbers}"
    probs = ", ".join(significant(v) for v in p)
    return (
        f"{head}gives one score z per class; softmax turns the scores into probabilities:"
        "<br><b>z = Σᵢ hᵢ·wᵢ + b, &nbsp; pⱼ = e<sup>zⱼ</sup> / Σₖ e<sup>zₖ</sup></b>"
        f"{numbers}, &nbsp; p = ({probs})"
    )


def _loss(record: ExplainRecord) -> str:
    p = probabilities(record)
    if record.loss_name == "softmax_ce":
        y = int(record.y)
        return (
            f"Cross-entropy: the point is class {y}, so the loss is minus the log of the "
            f"probability the network gives class {y}: the surer and righter, the smaller."
            f"<br><b>L = −log p<sub>{y}</sub></b> = −log {significant(p[y])} = "
            f"<b>{significant(record.loss)}</b>"
        )
    return f"The loss ({record.loss_name}) of this point: <b>L = {significant(record.loss)}</b>"


def _backward(record: ExplainRecord, k: int, j: int) -> str:
    n, layer = len(record.layers), record.layers[k]
    name = unit_name(k + 1, j, n)
    inputs = _names(k, len(layer.x), n)
    i = int(np.argmax(np.abs(layer.x)))
    weight = f"w({inputs[i]}→{name})"
    grad = (
        f"Each weight's gradient is its input times ∂L/∂z: <b>∂L/∂w(i→j) = xᵢ·∂L/∂zⱼ</b>, "
        f"∂L/∂b = ∂L/∂z. For {weight}: {paren(layer.x[i])}·{paren(layer.dz[j])} = "
        f"{significant(layer.dW[i, j])}."
    )
    down = f" Passed down to layer {k}: ∂L/∂{inputs[0][0]}ᵢ = Σⱼ w(i→j)·∂L/∂zⱼ." if k > 0 else ""
    if k == n - 1:
        if record.loss_name == "softmax_ce":
            dz = ", ".join(significant(v) for v in layer.dz)
            first = (
                "Softmax with cross-entropy has the simplest gradient at the scores: "
                "the probabilities minus 1 at the point's class: "
                f"<b>∂L/∂z = p − onehot(y)</b> = ({dz}).<br>"
            )
        else:
            first = f"The loss's gradient at the output: ∂L/∂z = {significant(layer.dz[j])}.<br>"
        return first + grad + down
    slope, written = SLOPES.get(layer.activation, ("f′(z)", None))
    factor = written(layer.a[j]) if written else significant(layer.slope[j])
    return (
        f"∂L/∂a arrives from layer {k + 2} (for {name}: {significant(layer.da[j])}). The chain "
        f"rule multiplies it by the slope of {layer.activation}, {slope}:<br>"
        f"<b>∂L/∂z = ∂L/∂a · f′(z)</b>; for {name}: {paren(layer.da[j])}·{factor} = "
        f"{significant(layer.dz[j])}.<br>{grad}{down}"
    )


def _update(record: ExplainRecord) -> str:
    n = len(record.layers)
    k, i, j = max(
        (
            (k, *np.unravel_index(np.argmax(np.abs(layer.step_W)), layer.step_W.shape))
            for k, layer in enumerate(record.layers)
        ),
        key=lambda kij: abs(record.layers[kij[0]].step_W[kij[1], kij[2]]),
    )
    layer = record.layers[k]
    weight = f"w({unit_name(k, i, n)}→{unit_name(k + 1, j, n)})"
    lr, g, step = record.lr, layer.dW[i, j], layer.step_W[i, j]
    name = OPTIMIZER_NAMES.get(record.optimizer, record.optimizer)
    batch = (
        "<br>This is the step for this point alone; training steps on the mean gradient of a "
        "batch of points."
    )
    if record.optimizer == "sgd":
        return (
            f"{name} moves every weight a little against its gradient, η = {significant(lr)}:"
            f"<br><b>Δw = −η·∂L/∂w</b>; the largest, {weight}: −{significant(lr)}·{paren(g)} = "
            f"{significant(step)}.{batch}"
        )
    rule = {
        "momentum": "it adds the gradient to a velocity v that remembers earlier steps "
        "(v ← 0.9 v + g) and steps Δw = −η·v",
        "adam": "it divides each weight's running mean gradient by the root of its running "
        "mean square, Δw = −η·m′/(√v′ + ε): steps of about η, whatever the gradient's size",
    }.get(record.optimizer, "its own rule")
    return (
        f"{name}'s step is not just −η·∂L/∂w: {rule}. The largest, {weight}: "
        f"<b>Δw = {significant(step)}</b>, where −η·∂L/∂w would be {significant(-lr * g)}.{batch}"
    )

"""Tests for core.schedules: closed forms, warm-up, PyTorch parity, specs, validation."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from core.schedules import (
    SCHEDULES,
    Constant,
    Cosine,
    Exponential,
    Schedule,
    StepDecay,
    make_schedule,
)


def test_closed_forms_by_hand() -> None:
    assert [Constant().factor(t) for t in (0, 0.5, 1000.0)] == [1.0, 1.0, 1.0]
    step = StepDecay(step_size=3, gamma=0.5)
    assert [step.factor(t) for t in (0, 2.99, 3, 5.5, 6, 9)] == [1, 1, 0.5, 0.5, 0.25, 0.125]
    exp = Exponential(gamma=0.9)
    assert exp.factor(2) == pytest.approx(0.81, rel=1e-15)
    assert exp.factor(0.5) == pytest.approx(math.sqrt(0.9), rel=1e-15)
    cos = Cosine(total_epochs=10, min_factor=0.2)
    assert cos.factor(0) == 1.0
    assert cos.factor(5) == pytest.approx(0.2 + 0.8 * 0.5, rel=1e-15)  # cos(pi/2) = 0
    assert cos.factor(10) == pytest.approx(0.2, rel=1e-15)
    assert cos.factor(25.5) == 0.2  # held at the minimum after total_epochs


def test_warmup_rule() -> None:
    # w = 4: factor (t + 1) / 5 during warm-up, then the main schedule from t - 4.
    sched = StepDecay(step_size=2, gamma=0.1, warmup=4)
    assert [sched.factor(t) for t in range(4)] == [0.2, 0.4, 0.6, 0.8]
    assert sched.factor(1.5) == pytest.approx(0.5)
    assert sched.factor(4) == 1.0  # continuous at the end of warm-up
    assert sched.factor(5.9) == 1.0
    assert sched.factor(6) == pytest.approx(0.1)
    assert Cosine(10, 0.0, warmup=2).factor(12) == 0.0
    assert Constant(warmup=0.5).factor(0) == pytest.approx(1 / 1.5)


def test_only_a_constant_rate_without_warmup_is_flat() -> None:
    assert Constant().flat and not Constant(warmup=2).flat
    assert not StepDecay(step_size=3, gamma=1.0).flat and not Cosine(10, 0.5).flat


def test_specs_round_trip() -> None:
    specs: list[Any] = [
        None,
        "constant",
        "step",
        "exponential",
        "cosine",
        {"name": "cosine", "total_epochs": 100, "min_factor": 0.0, "warmup": 5},
        {"name": "step", "step_size": 7, "gamma": 0.3},
        {"name": "exponential", "gamma": 0.97, "warmup": 1.5},
        {"name": "constant", "warmup": 3},
    ]
    for spec in specs:
        sched = make_schedule(spec)
        out = sched.to_spec()
        assert json.loads(json.dumps(out)) == out
        again = make_schedule(out)
        assert again == sched and type(again) is type(sched)
        assert again.to_spec() == out
        if isinstance(spec, dict):
            assert {**out, **spec} == out  # every given setting is kept as given
    assert make_schedule(None) == Constant()
    assert make_schedule("Cosine") == Cosine(total_epochs=100, min_factor=0.0)
    assert set(SCHEDULES) == {"constant", "step", "exponential", "cosine"}
    sched = Cosine(10)
    assert make_schedule(sched) is sched


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("linear", "schedule name"),
        ({"total_epochs": 10}, "schedule name"),
        (42, "schedule spec"),
        ({"name": "cosine", "total": 10}, "total"),
        ({"name": "step", "step_size": 0}, "step_size"),
        ({"name": "step", "step_size": 2.5}, "step_size"),
        ({"name": "step", "step_size": True}, "step_size"),
        ({"name": "step", "gamma": 0.0}, "gamma"),
        ({"name": "exponential", "gamma": 1.5}, "gamma"),
        ({"name": "exponential", "gamma": "0.9"}, "gamma"),
        ({"name": "cosine", "total_epochs": 0}, "total_epochs"),
        ({"name": "cosine", "total_epochs": math.inf}, "total_epochs"),
        ({"name": "cosine", "min_factor": 1.0}, "min_factor"),
        ({"name": "cosine", "min_factor": -0.1}, "min_factor"),
        ({"name": "constant", "warmup": -1}, "warmup"),
        ({"name": "constant", "warmup": math.nan}, "warmup"),
    ],
)
def test_bad_specs(spec: Any, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make_schedule(spec)


@pytest.mark.parametrize("t", [-0.1, math.nan, math.inf])
def test_bad_progress(t: float) -> None:
    with pytest.raises(ValueError, match="t "):
        Cosine(10).factor(t)


# --------------------------------------------------------------------------- PyTorch parity


def _torch_factors(torch: Any, make: Callable[[Any], Any], epochs: int) -> list[float]:
    """lr of a torch SGD with base lr 1.0 at epochs 0 .. epochs-1 under ``make(optimizer)``."""
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=1.0)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


# (our schedule, torch main scheduler factory, epochs to compare)
TORCH_CASES: list[tuple[Schedule, Callable[[Any, Any], Any] | None, int]] = [
    (Constant(), None, 10),
    (StepDecay(step_size=3, gamma=0.5), lambda L, o: L.StepLR(o, step_size=3, gamma=0.5), 20),
    (Exponential(gamma=0.9), lambda L, o: L.ExponentialLR(o, gamma=0.9), 20),
    (Cosine(10, 0.1), lambda L, o: L.CosineAnnealingLR(o, T_max=10, eta_min=0.1), 11),
    (Cosine(7, 0.0), lambda L, o: L.CosineAnnealingLR(o, T_max=7, eta_min=0.0), 8),
]


@pytest.mark.parametrize("warmup", [0, 1, 4])
@pytest.mark.parametrize(("ours", "make_main", "epochs"), TORCH_CASES, ids=lambda c: repr(c))
def test_matches_torch_schedulers(
    torch: Any, ours: Schedule, make_main: Callable | None, epochs: int, warmup: int
) -> None:
    """Integer epochs against torch; warm-up = SequentialLR([LinearLR, main], [warmup])."""
    lr_sched = torch.optim.lr_scheduler
    sched = make_schedule({**ours.to_spec(), "warmup": warmup})

    def make(opt: Any) -> Any:
        main = make_main(lr_sched, opt) if make_main else lr_sched.LambdaLR(opt, lambda e: 1.0)
        if warmup == 0:
            return main
        ramp = lr_sched.LinearLR(opt, start_factor=1 / (warmup + 1), total_iters=warmup)
        return lr_sched.SequentialLR(opt, [ramp, main], milestones=[warmup])

    expected = _torch_factors(torch, make, epochs + warmup)
    got = [sched.factor(e) for e in range(epochs + warmup)]
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)

"""Tests for core.optimizer and core.optimizers: hand-computed steps, PyTorch parity, resume."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest

from core.optimizer import Optimizer
from core.optimizers import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    Momentum,
    Nesterov,
    RMSprop,
    clip_grad_norm,
    make_optimizer,
)
from core.training.config import TrainConfig

# Tiny problem for the hand-computed steps: f(p) = 0.5 * sum(A * p**2), so grad = A * p.
A = np.array([2.0, 0.5])
P0 = np.array([1.0, -2.0])  # first gradient g1 = A * P0 = [2.0, -1.0]


def run_quadratic(opt: Optimizer, steps: int) -> list[np.ndarray]:
    """Params after each of ``steps`` steps on f, starting from P0 (float64)."""
    p = P0.copy()
    out = []
    for _ in range(steps):
        opt.step(p, A * p)
        out.append(p.copy())
    return out


def close(actual: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(actual, np.array(expected), rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- hand-computed steps


def test_sgd_by_hand() -> None:
    p1, p2, p3 = run_quadratic(SGD(lr=0.1), 3)
    # p1 = p0 - 0.1 * [2, -1]
    close(p1, [0.8, -1.9])
    # g2 = [1.6, -0.95]
    close(p2, [0.8 - 0.16, -1.9 + 0.095])
    # g3 = [2 * 0.64, 0.5 * -1.805] = [1.28, -0.9025]
    close(p3, [0.64 - 0.128, -1.805 + 0.09025])


def test_sgd_weight_decay_by_hand() -> None:
    (p1,) = run_quadratic(SGD(lr=0.1, weight_decay=0.1), 1)
    # g1 + 0.1 * p0 = [2 + 0.1, -1 - 0.2] = [2.1, -1.2]
    close(p1, [1.0 - 0.21, -2.0 + 0.12])


def test_momentum_by_hand() -> None:
    p1, p2, p3 = run_quadratic(Momentum(lr=0.1, momentum=0.9), 3)
    # v1 = g1 = [2, -1]
    close(p1, [0.8, -1.9])
    # g2 = [1.6, -0.95]; v2 = 0.9 * [2, -1] + g2 = [3.4, -1.85]
    close(p2, [0.8 - 0.34, -1.9 + 0.185])
    # p2 = [0.46, -1.715]; g3 = [0.92, -0.8575]; v3 = 0.9 * [3.4, -1.85] + g3 = [3.98, -2.5225]
    close(p3, [0.46 - 0.398, -1.715 + 0.25225])


def test_rates_changed_between_steps_take_effect() -> None:
    opt = Momentum(lr=0.1, momentum=0.9)
    p = P0.copy()
    opt.step(p, A * p)  # v1 = g1 = [2, -1]; p1 = [0.8, -1.9]
    opt.lr, opt.momentum = 0.2, 0.5
    opt.step(p, A * p)  # g2 = [1.6, -0.95]; v2 = 0.5 * v1 + g2 = [2.6, -1.45]
    close(p, [0.8 - 0.52, -1.9 + 0.29])
    sgd, q = SGD(lr=0.1), np.array([-0.0])
    sgd.lr = 0.0  # (a schedule may reach 0)
    sgd.step(q, np.ones(1))  # -0 - 0·1 = -0
    sgd.lr = -0.0  # equal to 0.0, yet another value:
    sgd.step(q, np.ones(1))  # -0 - (-0·1) = +0
    assert math.copysign(1, q[0]) == 1


def test_nesterov_by_hand() -> None:
    p1, p2 = run_quadratic(Nesterov(lr=0.1, momentum=0.9), 2)
    # v1 = g1 = [2, -1]; step direction g1 + 0.9 * v1 = [3.8, -1.9]
    close(p1, [1.0 - 0.38, -2.0 + 0.19])
    # p1 = [0.62, -1.81]; g2 = [1.24, -0.905]; v2 = 0.9 * v1 + g2 = [3.04, -1.805]
    # direction = g2 + 0.9 * v2 = [1.24 + 2.736, -0.905 - 1.6245] = [3.976, -2.5295]
    close(p2, [0.62 - 0.3976, -1.81 + 0.25295])


def test_adagrad_by_hand() -> None:
    eps = 1e-10
    p1, p2 = run_quadratic(AdaGrad(lr=0.1), 2)
    # s1 = g1**2 = [4, 1]; p1 = p0 - 0.1 * g1 / (sqrt(s1) + eps)
    e1 = [1.0 - 0.1 * 2.0 / (2.0 + eps), -2.0 + 0.1 * 1.0 / (1.0 + eps)]
    close(p1, e1)
    g2 = [2.0 * e1[0], 0.5 * e1[1]]
    s2 = [4.0 + g2[0] ** 2, 1.0 + g2[1] ** 2]
    e2 = [e1[i] - 0.1 * g2[i] / (math.sqrt(s2[i]) + eps) for i in range(2)]
    close(p2, e2)


def test_rmsprop_by_hand() -> None:
    eps = 1e-8
    p1, p2 = run_quadratic(RMSprop(lr=0.01, alpha=0.99), 2)
    # s1 = 0.01 * g1**2 = [0.04, 0.01]; sqrt(s1) = [0.2, 0.1]
    e1 = [1.0 - 0.01 * 2.0 / (0.2 + eps), -2.0 + 0.01 * 1.0 / (0.1 + eps)]
    close(p1, e1)
    g2 = [2.0 * e1[0], 0.5 * e1[1]]
    s2 = [0.99 * 0.04 + 0.01 * g2[0] ** 2, 0.99 * 0.01 + 0.01 * g2[1] ** 2]
    e2 = [e1[i] - 0.01 * g2[i] / (math.sqrt(s2[i]) + eps) for i in range(2)]
    close(p2, e2)


def _adam_second_step(p1: list[float], shrink: float) -> list[float]:
    """Adam step 2 by hand (lr 0.1, betas 0.9/0.999), m1 = [0.2, -0.1], v1 = [0.004, 0.001]."""
    eps = 1e-8
    g2 = [2.0 * p1[0], 0.5 * p1[1]]
    m2 = [0.9 * 0.2 + 0.1 * g2[0], 0.9 * -0.1 + 0.1 * g2[1]]
    v2 = [0.999 * 0.004 + 0.001 * g2[0] ** 2, 0.999 * 0.001 + 0.001 * g2[1] ** 2]
    bc1 = 1.0 - 0.9 * 0.9  # 0.19
    bc2 = 1.0 - 0.999 * 0.999  # 0.001999
    return [
        p1[i] * shrink - (0.1 / bc1) * m2[i] / (math.sqrt(v2[i]) / math.sqrt(bc2) + eps)
        for i in range(2)
    ]


def test_adam_by_hand() -> None:
    eps = 1e-8
    p1, p2 = run_quadratic(Adam(lr=0.1), 2)
    # m1 = 0.1 * g1 = [0.2, -0.1]; v1 = 0.001 * g1**2 = [0.004, 0.001]
    # bc1 = 0.1, bc2 = 0.001: denom = sqrt(v1) / sqrt(0.001) + eps = [2 + eps, 1 + eps]
    # p1 = p0 - (0.1 / 0.1) * m1 / denom
    e1 = [1.0 - 0.2 / (2.0 + eps), -2.0 + 0.1 / (1.0 + eps)]
    close(p1, e1)
    close(p2, _adam_second_step(e1, shrink=1.0))


def test_adamw_by_hand() -> None:
    eps = 1e-8
    p1, p2 = run_quadratic(AdamW(lr=0.1, weight_decay=0.1), 2)
    # p0 * (1 - 0.1 * 0.1) = [0.99, -1.98], then the Adam step of test_adam_by_hand
    e1 = [0.99 - 0.2 / (2.0 + eps), -1.98 + 0.1 / (1.0 + eps)]
    close(p1, e1)
    close(p2, _adam_second_step(e1, shrink=0.99))


def test_adamw_default_weight_decay() -> None:
    assert AdamW(lr=1e-3).weight_decay == 0.01
    assert Adam(lr=1e-3).weight_decay == 0.0


# --------------------------------------------------------------------------- PyTorch parity


# (name, lr, our hyper-parameters, torch class name, torch keyword arguments)
TORCH_CASES = [
    ("sgd", 0.5, {}, "SGD", {}),
    ("sgd", 0.5, {"weight_decay": 0.1}, "SGD", {"weight_decay": 0.1}),
    ("momentum", 0.1, {}, "SGD", {"momentum": 0.9}),
    ("momentum", 0.1, {"momentum": 0.5, "weight_decay": 0.05}, "SGD",
     {"momentum": 0.5, "weight_decay": 0.05}),
    ("nesterov", 0.1, {}, "SGD", {"momentum": 0.9, "nesterov": True}),
    ("nesterov", 0.1, {"weight_decay": 0.05}, "SGD",
     {"momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("adagrad", 0.1, {}, "Adagrad", {}),
    ("adagrad", 0.1, {"weight_decay": 0.05}, "Adagrad", {"weight_decay": 0.05}),
    ("rmsprop", 0.01, {}, "RMSprop", {}),
    ("rmsprop", 0.01, {"alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05}, "RMSprop",
     {"alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05}),
    ("adam", 0.05, {}, "Adam", {}),
    ("adam", 0.05, {"betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05}, "Adam",
     {"betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05}),
    ("adamw", 0.05, {}, "AdamW", {}),
    ("adamw", 0.05, {"weight_decay": 0.2}, "AdamW", {"weight_decay": 0.2}),
]  # fmt: skip


def _logistic_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs X (64, 4), labels y (64,) in {0, 1}, initial params (5,) = weights + bias."""
    rng = np.random.default_rng(1234)
    x = rng.standard_normal((64, 4))
    w_true = np.array([1.5, -2.0, 0.5, 1.0])
    y = (x @ w_true + 0.3 + 0.5 * rng.standard_normal(64) > 0).astype(np.float64)
    theta0 = 0.1 * rng.standard_normal(5)
    return x, y, theta0


def _logistic_loss_grad(
    theta: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy with logits z = X w + b, and its gradient, shape (5,)."""
    z = x @ theta[:4] + theta[4]
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    r = (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
    return loss, np.concatenate([x.T @ r, [r.sum()]])


def _lr_at(step: int, base: float, varying: bool) -> float:
    return base * (0.55 + 0.45 * math.cos(step / 7.0)) if varying else base


@pytest.mark.parametrize(
    ("name", "lr", "hyper", "torch_name", "torch_kwargs"),
    TORCH_CASES,
    ids=[f"{c[0]}-{'custom-varying_lr' if c[2] else 'defaults'}" for c in TORCH_CASES],
)
def test_matches_torch(
    torch: Any,
    name: str,
    lr: float,
    hyper: dict,
    torch_name: str,
    torch_kwargs: dict,
) -> None:
    """100 steps of logistic regression: same losses and weights as torch.optim (float64).

    Cases with non-default settings also change lr before every step, as the trainer does.
    """
    varying_lr = bool(hyper)
    x, y, theta0 = _logistic_problem()

    theta = theta0.copy()
    opt = make_optimizer(name, lr, **hyper)
    ours = []
    for t in range(100):
        loss, grad = _logistic_loss_grad(theta, x, y)
        ours.append(loss)
        opt.lr = _lr_at(t, lr, varying_lr)
        opt.step(theta, grad)

    tx = torch.tensor(x)
    ty = torch.tensor(y)
    tp = torch.tensor(theta0.copy(), requires_grad=True)
    topt = getattr(torch.optim, torch_name)([tp], lr=lr, foreach=False, **torch_kwargs)
    theirs = []
    for t in range(100):
        topt.zero_grad()
        z = tx @ tp[:4] + tp[4]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, ty)
        theirs.append(loss.item())
        loss.backward()
        for group in topt.param_groups:
            group["lr"] = _lr_at(t, lr, varying_lr)
        topt.step()

    assert ours[-1] < 0.8 * ours[0]  # the run does go somewhere
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(theta, tp.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_clip_grad_norm_matches_torch(torch: Any) -> None:
    rng = np.random.default_rng(7)
    for max_norm in (0.5, 3.0, 100.0):
        g = rng.standard_normal(50)
        tg = torch.tensor(g.copy())
        tp = torch.zeros(50, dtype=torch.float64, requires_grad=True)
        tp.grad = tg
        expected_norm = float(torch.nn.utils.clip_grad_norm_([tp], max_norm))
        norm = clip_grad_norm(g, max_norm)
        assert norm == pytest.approx(expected_norm, rel=1e-12)
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-12, atol=0)


def test_clip_grad_norm_by_hand() -> None:
    g = np.array([3.0, 4.0])
    assert clip_grad_norm(g, 1.0) == 5.0
    close(g, [3.0 / (5.0 + 1e-6), 4.0 / (5.0 + 1e-6)])
    g = np.array([3.0, 4.0])
    assert clip_grad_norm(g, 10.0) == 5.0
    assert g.tolist() == [3.0, 4.0]  # coef >= 1: untouched
    g32 = np.array([30.0, 40.0], dtype=np.float32)
    clip_grad_norm(g32, 5.0)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, [3.0, 4.0], rtol=1e-5)


def test_clip_grad_norm_non_finite_left_alone() -> None:
    g = np.array([np.inf, 1.0])
    assert clip_grad_norm(g, 1.0) == math.inf
    assert g.tolist() == [math.inf, 1.0]


# --------------------------------------------------------------------------- resume


def _save_load(state: dict) -> dict:
    """Round-trip through .npz as io.py would (scalars come back as 0-d arrays)."""
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_resume_is_bit_identical(name: str, dtype: type) -> None:
    x, y, theta0 = _logistic_problem()
    x = x.astype(dtype)
    y = y.astype(dtype)

    def train(opt: Optimizer, theta: np.ndarray, start: int, stop: int) -> None:
        for t in range(start, stop):
            _, grad = _logistic_loss_grad(theta, x, y)
            opt.lr = 0.02 * (1.0 + 0.5 * math.sin(t))
            opt.step(theta, grad.astype(dtype))

    hyper = {"weight_decay": 0.01} if name != "adamw" else {}
    full = make_optimizer(name, 0.02, **hyper)
    theta_full = theta0.astype(dtype)
    train(full, theta_full, 0, 7)
    saved = full.state_dict()
    full_lr_at_save = full.lr
    theta_saved = theta_full.copy()
    train(full, theta_full, 7, 15)

    resumed = make_optimizer(name, 0.5)  # other settings: all restored from the state
    resumed.load_state_dict(_save_load(saved))
    assert resumed.lr == full_lr_at_save
    expected = make_optimizer(name, full_lr_at_save, **hyper).hyperparameters()
    assert resumed.hyperparameters() == expected
    assert resumed.steps == 7
    train(resumed, theta_saved, 7, 15)
    assert theta_saved.dtype == dtype
    np.testing.assert_array_equal(theta_saved, theta_full)
    assert resumed.steps == full.steps == 15


def test_state_dict_is_a_copy_and_has_expected_keys() -> None:
    opt = Adam(lr=0.1)
    assert opt.state_dict() == {
        "step": 0,
        "lr": 0.1,
        "betas": pytest.approx(np.array([0.9, 0.999])),
        "eps": 1e-8,
        "weight_decay": 0.0,
    }
    p = P0.copy()
    opt.step(p, A * p)
    state = opt.state_dict()
    assert set(state) == {"step", "lr", "betas", "eps", "weight_decay", "exp_avg", "exp_avg_sq"}
    state["exp_avg"][:] = 123.0
    assert not np.any(opt.state_dict()["exp_avg"] == 123.0)


def test_loaded_state_must_fit_params() -> None:
    opt = Momentum(lr=0.1)
    p = P0.copy()
    opt.step(p, A * p)
    other = Momentum(lr=0.1)
    other.load_state_dict(opt.state_dict())
    big = np.ones(3)
    with pytest.raises(ValueError, match="momentum_buffer"):
        other.step(big, big)


def test_load_state_dict_validates_before_changing_anything() -> None:
    opt = Adam(lr=0.1)
    p = P0.copy()
    opt.step(p, A * p)
    good = opt.state_dict()
    target = Adam(lr=0.3)
    bad_cases = [
        ({k: v for k, v in good.items() if k != "exp_avg"}, "exp_avg"),
        ({**good, "momentum": 0.9}, "momentum"),
        ({**good, "exp_avg_sq": np.ones(3)}, "exp_avg_sq"),
        ({**good, "exp_avg": np.array([np.nan, 0.0])}, "exp_avg"),
        ({**good, "eps": -1.0}, "eps"),
        ({**good, "betas": np.array([0.9, 1.0])}, r"betas\[1\]"),
        ({**good, "step": -1}, "step"),
        ({**good, "lr": math.nan}, "lr"),
    ]
    for state, field in bad_cases:
        with pytest.raises(ValueError, match=field):
            target.load_state_dict(state)
        assert target.lr == 0.3 and target.steps == 0 and target.state_dict()["step"] == 0


def test_reset_and_shape_change_recreate_state() -> None:
    opt = Adam(lr=0.1)
    p = P0.copy()
    opt.step(p, A * p)
    opt.step(p, A * p)
    assert opt.steps == 2
    q = np.ones(3)
    opt.step(q, q)  # new shape: fresh state
    assert opt.steps == 1
    np.testing.assert_allclose(opt.state_dict()["exp_avg"], 0.1 * np.ones(3), rtol=1e-12)
    q32 = np.ones(3, dtype=np.float32)
    opt.step(q32, q32)  # new dtype: fresh state in that dtype
    assert opt.steps == 1 and opt.state_dict()["exp_avg"].dtype == np.float32
    opt.reset()
    assert opt.steps == 0 and set(opt.state_dict()) == {
        "step",
        "lr",
        "betas",
        "eps",
        "weight_decay",
    }


# --------------------------------------------------------------------------- validation


def test_make_optimizer_names() -> None:
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}
    for name, cls in OPTIMIZERS.items():
        opt = make_optimizer(name, 0.01)
        assert type(opt) is cls and opt.name == name
        again = make_optimizer(**opt.hyperparameters())
        assert again.hyperparameters() == opt.hyperparameters()
    assert isinstance(make_optimizer("Adam", 0.01), Adam)
    with pytest.raises(ValueError, match="optimizer name.*adamw.*'adamx'"):
        make_optimizer("adamx", 0.01)


@pytest.mark.parametrize("lr", [0.0, -0.1, math.nan, math.inf, "0.1", True, None])
def test_bad_lr(lr: object) -> None:
    with pytest.raises(ValueError, match="lr"):
        make_optimizer("sgd", lr)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "hyper", "field"),
    [
        ("momentum", {"momentum": 1.0}, "momentum"),
        ("nesterov", {"momentum": -0.1}, "momentum"),
        ("rmsprop", {"alpha": 1.5}, "alpha"),
        ("adam", {"betas": (0.9, 1.0)}, r"betas\[1\]"),
        ("adam", {"betas": (-0.1, 0.9)}, r"betas\[0\]"),
        ("adamw", {"betas": 0.9}, "betas"),
        ("adam", {"eps": 0.0}, "eps"),
        ("adagrad", {"eps": math.nan}, "eps"),
        ("sgd", {"weight_decay": -1e-3}, "weight_decay"),
        ("adam", {"momentum": 0.9}, "momentum"),
        ("sgd", {"foo": 1}, "foo"),
    ],
)
def test_bad_hyperparameters(name: str, hyper: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make_optimizer(name, 0.01, **hyper)


def test_bad_step_inputs_and_lr_assignment() -> None:
    opt = SGD(lr=0.1)
    with pytest.raises(ValueError, match="grads"):
        opt.step(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="params"):
        opt.step(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="params"):
        opt.step(np.ones(3, dtype=np.int64), np.ones(3, dtype=np.int64))
    with pytest.raises(ValueError, match="lr"):
        opt.lr = math.nan
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -1.0
    opt.lr = 0.0  # a schedule may reach zero
    p = np.ones(3)
    opt.step(p, p)
    assert p.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(np.ones(3), 0.0)


# --------------------------------------------------------------------------- behaviour


@pytest.mark.parametrize(
    ("name", "lr"),
    [
        ("sgd", 0.2),
        ("momentum", 0.05),
        ("nesterov", 0.05),
        ("adagrad", 0.5),
        ("rmsprop", 0.01),
        ("adam", 0.05),
        ("adamw", 0.05),
    ],
)
def test_minimises_convex_quadratic(name: str, lr: float) -> None:
    """float32 (the default dtype): loss of an ill-conditioned quadratic drops 100x."""
    a = np.linspace(0.5, 5.0, 10, dtype=np.float32)
    p = np.linspace(-2.0, 2.0, 10, dtype=np.float32) + 0.3
    opt = make_optimizer(name, lr)
    loss0 = float(0.5 * np.sum(a * p * p))
    grad = np.empty_like(p)
    for _ in range(300):
        np.multiply(a, p, out=grad)
        opt.step(p, grad)
    assert p.dtype == np.float32
    assert float(0.5 * np.sum(a * p * p)) < loss0 / 100


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd", "rmsprop"])
def test_a_missing_value_is_refused_not_taken_as_the_default(name):
    """A saved setting of null (JSON) names the field, in the optimizer and in TrainConfig."""
    with pytest.raises(ValueError, match="weight_decay: None is not a number"):
        make_optimizer(name, 0.1, weight_decay=None)
    with pytest.raises(ValueError, match="weight_decay: None is not a number"):
        TrainConfig(optimizer=name, optimizer_params={"weight_decay": None}).validate()

"""The update rules (SGD, momentum, Nesterov, AdaGrad, RMSprop, Adam, AdamW), their registry and
gradient clipping.

Each rule is a small :class:`core.optimizer.Optimizer` that updates one flat parameter vector in
place with a constant number of NumPy calls per step. Every update rule matches the definition
used by ``torch.optim`` (the single-tensor code path with ``maximize=False``, ``foreach=False``),
so a run here and a run in PyTorch from the same weights follow the same trajectory up to
floating-point rounding. The formulas are in each class's docstring, with ``g`` the gradient,
``p`` the parameters, ``t`` the 1-based step count.

Example::

    opt = make_optimizer("adam", lr=1e-3)
    for _ in range(steps):
        model.forward_backward(x, y)      # fills grad
        clip_grad_norm(grad, max_norm=5.0)
        opt.step(theta, grad)             # updates theta in place
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar

import numpy as np

from core.optimizer import Optimizer, positive

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaGrad",
    "Adam",
    "AdamW",
    "Momentum",
    "Nesterov",
    "RMSprop",
    "clip_grad_norm",
    "make_optimizer",
]


class SGD(Optimizer):
    """Plain stochastic gradient descent, as ``torch.optim.SGD(momentum=0)``.

    Update: ``g <- g + weight_decay * p`` (if weight_decay > 0); ``p <- p - lr * g``.
    """

    name = "sgd"
    defaults: ClassVar[dict[str, Any]] = {"weight_decay": 0.0}
    buffer_names = ()

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay=weight_decay)

    _n_scalars = 2

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        g, lr = self._begin(params, grads)
        tmp = self._tmp
        np.multiply(g, lr, tmp)
        np.subtract(params, tmp, params)


class Momentum(Optimizer):
    """SGD with (heavy-ball) momentum, as ``torch.optim.SGD(momentum=mu, dampening=0)``.

    Update (``v`` starts at 0, so ``v_1 = g_1`` as in PyTorch)::

        g <- g + weight_decay * p        (if weight_decay > 0)
        v <- mu * v + g
        p <- p - lr * v
    """

    name = "momentum"
    defaults: ClassVar[dict[str, Any]] = {"momentum": 0.9, "weight_decay": 0.0}
    buffer_names = ("momentum_buffer",)

    def __init__(self, lr: float, momentum: float = 0.9, weight_decay: float = 0.0) -> None:
        super().__init__(lr, momentum=momentum, weight_decay=weight_decay)

    _n_scalars = 3

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        g, lr, mu = self._begin(params, grads, self.momentum)
        v = self._state["momentum_buffer"]
        np.multiply(v, mu, out=v)
        np.add(v, g, out=v)
        self._apply(params, g, v, lr, mu)

    def _apply(self, params, g, v, lr, mu) -> None:
        """p <- p - lr * v"""
        np.multiply(v, lr, out=self._tmp)
        np.subtract(params, self._tmp, out=params)


class Nesterov(Momentum):
    """Nesterov momentum, as ``torch.optim.SGD(momentum=mu, dampening=0, nesterov=True)``.

    Update (``v`` starts at 0)::

        g <- g + weight_decay * p        (if weight_decay > 0)
        v <- mu * v + g
        p <- p - lr * (g + mu * v)
    """

    name = "nesterov"

    def _apply(self, params, g, v, lr, mu) -> None:
        """p <- p - lr * (g + mu * v)"""
        tmp = self._tmp
        np.multiply(v, mu, out=tmp)
        np.add(tmp, g, out=tmp)
        np.multiply(tmp, lr, out=tmp)
        np.subtract(params, tmp, out=params)


def _adaptive_step(
    params: np.ndarray, g: np.ndarray, s: np.ndarray, lr: Any, eps: Any, tmp: np.ndarray
) -> None:
    """``p <- p - lr * g / (sqrt(s) + eps)`` in place, ``tmp`` a scratch vector (all ``(n,)``);
    the step AdaGrad and RMSprop share, ``s`` being their sum or average of squares."""
    np.sqrt(s, out=tmp)
    np.add(tmp, eps, out=tmp)
    np.divide(g, tmp, out=tmp)
    np.multiply(tmp, lr, out=tmp)
    np.subtract(params, tmp, out=params)


def _average_squares(
    s: np.ndarray, g: np.ndarray, decay: Any, one_minus_decay: Any, tmp: np.ndarray
) -> None:
    """``s <- decay * s + (1 - decay) * g * g`` in place (RMSprop's ``s``, Adam's ``v``)."""
    np.multiply(g, g, out=tmp)
    np.multiply(tmp, one_minus_decay, out=tmp)
    np.multiply(s, decay, out=s)
    np.add(s, tmp, out=s)


class AdaGrad(Optimizer):
    """AdaGrad, as ``torch.optim.Adagrad(lr_decay=0, initial_accumulator_value=0)``.

    Update (``s`` starts at 0)::

        g <- g + weight_decay * p        (if weight_decay > 0)
        s <- s + g * g
        p <- p - lr * g / (sqrt(s) + eps)          eps = 1e-10 by default
    """

    name = "adagrad"
    defaults: ClassVar[dict[str, Any]] = {"eps": 1e-10, "weight_decay": 0.0}
    buffer_names = ("sum",)
    non_negative = ("sum",)

    def __init__(self, lr: float, eps: float = 1e-10, weight_decay: float = 0.0) -> None:
        super().__init__(lr, eps=eps, weight_decay=weight_decay)

    _n_scalars = 3

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        g, lr, eps = self._begin(params, grads, self.eps)
        s = self._state["sum"]
        tmp = self._tmp
        np.multiply(g, g, out=tmp)
        np.add(s, tmp, out=s)
        _adaptive_step(params, g, s, lr, eps, tmp)


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop(momentum=0, centered=False)``.

    Update (``s`` starts at 0)::

        g <- g + weight_decay * p        (if weight_decay > 0)
        s <- alpha * s + (1 - alpha) * g * g       alpha = 0.99 by default
        p <- p - lr * g / (sqrt(s) + eps)          eps = 1e-8 by default
    """

    name = "rmsprop"
    defaults: ClassVar[dict[str, Any]] = {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0}
    buffer_names = ("square_avg",)
    non_negative = ("square_avg",)

    def __init__(
        self, lr: float, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0
    ) -> None:
        super().__init__(lr, alpha=alpha, eps=eps, weight_decay=weight_decay)

    _n_scalars = 5

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        alpha = self.alpha
        g, lr, a, one_minus_a, eps = self._begin(params, grads, alpha, 1.0 - alpha, self.eps)
        s = self._state["square_avg"]
        tmp = self._tmp
        _average_squares(s, g, a, one_minus_a, tmp)
        _adaptive_step(params, g, s, lr, eps, tmp)


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam(amsgrad=False)``, bias correction computed as PyTorch does.

    Update at step ``t`` (``m``, ``v`` start at 0; betas = (0.9, 0.999), eps = 1e-8)::

        g     <- g + weight_decay * p                (if weight_decay > 0; coupled L2)
        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g * g
        bc1    = 1 - beta1 ** t
        bc2    = 1 - beta2 ** t
        denom  = sqrt(v) / sqrt(bc2) + eps
        p     <- p - (lr / bc1) * m / denom
    """

    name = "adam"
    defaults: ClassVar[dict[str, Any]] = {
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
    }
    buffer_names = ("exp_avg", "exp_avg_sq")
    non_negative = ("exp_avg_sq",)
    _decoupled: ClassVar[bool] = False

    def __init__(
        self,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, betas=betas, eps=eps, weight_decay=weight_decay)

    _n_scalars = 8

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        lr = self.lr
        wd = self.weight_decay
        beta1, beta2 = self.betas
        t = self.steps
        # Bias corrections in Python floats (double precision), exactly as torch computes them.
        step_size = lr / (1.0 - beta1**t)
        bc2_sqrt = (1.0 - beta2**t) ** 0.5
        self._scalars[:] = (
            1.0 - beta1,
            1.0 - beta2,
            beta2,
            bc2_sqrt,
            self.eps,
            step_size,
            wd,
            1.0 - lr * wd,
        )
        c1, c2, b2, bc2s, eps, ss, wd_s, shrink = self._views
        g = grads
        if wd:
            if self._decoupled:
                np.multiply(params, shrink, out=params)
            else:
                g = self._with_l2(params, grads, wd_s)
        m = self._state["exp_avg"]
        v = self._state["exp_avg_sq"]
        tmp = self._tmp
        # m <- m + (1 - beta1) * (g - m)   (torch's lerp_, equal to beta1*m + (1-beta1)*g)
        np.subtract(g, m, out=tmp)
        np.multiply(tmp, c1, out=tmp)
        np.add(m, tmp, out=m)
        _average_squares(v, g, b2, c2, tmp)
        # p <- p - step_size * m / (sqrt(v) / sqrt(bc2) + eps)
        np.sqrt(v, out=tmp)
        np.divide(tmp, bc2s, out=tmp)
        np.add(tmp, eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        np.multiply(tmp, ss, out=tmp)
        np.subtract(params, tmp, out=params)


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW``: Adam with decoupled weight decay.

    Before the Adam update of :class:`Adam` (which then uses the raw gradient ``g``)::

        p <- p * (1 - lr * weight_decay)           weight_decay = 0.01 by default
    """

    name = "adamw"
    defaults: ClassVar[dict[str, Any]] = {**Adam.defaults, "weight_decay": 0.01}
    _decoupled = True
    __init__ = functools.partialmethod(Adam.__init__, weight_decay=0.01)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam, AdamW)
}


def make_optimizer(name: str, lr: float, **hyper: Any) -> Optimizer:
    """Build the optimizer registered under ``name`` (a key of :data:`OPTIMIZERS`).

    Args:
        name: one of "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"
            (case-insensitive).
        lr: learning rate in (0, 100].
        **hyper: that optimizer's hyper-parameters (see its ``defaults``): ``momentum`` in
            [0, 1), ``alpha`` in [0, 1), ``betas`` a pair in [0, 1), ``eps`` in [1e-30, 1],
            ``weight_decay`` in [0, 1]. The same ranges apply wherever the values come from
            (the app, the command line, a file's saved state).

    Raises:
        ValueError: unknown name, invalid lr, unknown hyper-parameter or value out of range.
    """
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in OPTIMIZERS:
        raise ValueError(f"optimizer name must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    cls = OPTIMIZERS[key]
    unknown = sorted(set(hyper) - set(cls.defaults))
    if unknown:
        raise ValueError(
            f"unknown hyper-parameter {unknown[0]!r} for optimizer {key!r}; "
            f"allowed: {', '.join(['lr', *cls.defaults])}"
        )
    return cls(lr, **hyper)


def clip_grad_norm(grads: np.ndarray, max_norm: float) -> float:
    """Scale ``grads`` in place so its global L2 norm is at most about ``max_norm``.

    Same rule as ``torch.nn.utils.clip_grad_norm_``: ``coef = max_norm / (norm + 1e-6)``,
    and ``grads *= coef`` only if ``coef < 1``. A non-finite norm leaves ``grads`` untouched
    (the caller's divergence check handles it).

    Args:
        grads: gradient array of any shape (normally the flat ``(n,)`` vector); modified in place.
        max_norm: finite and > 0.

    Returns:
        The L2 norm of ``grads`` before clipping, as a Python float.
    """
    max_norm = positive("max_norm", max_norm)
    norm = math.sqrt(float(np.vdot(grads, grads)))
    if math.isfinite(norm):
        coef = max_norm / (norm + 1e-6)
        if coef < 1.0:
            np.multiply(grads, coef, out=grads)
    return norm

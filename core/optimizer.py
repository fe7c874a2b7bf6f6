"""The optimizer contract: a flat parameter vector updated in place, its state saved and restored.

The model keeps every parameter in one contiguous 1-D array ``theta`` of shape ``(n_params,)``
and every gradient in one array ``grad`` of the same shape; per-layer weights are views into
them. An optimizer therefore sees a single vector and performs a constant number of in-place
NumPy calls per step, however many layers the network has. Its state (momentum buffers,
moment estimates...) lives in preallocated vectors of the parameters' shape and dtype, created
on the first :meth:`Optimizer.step` (or again when the parameters' shape or dtype changes).

``lr`` is an ordinary attribute that may be changed between steps (the trainer sets it every
step to base learning rate x schedule factor, see :mod:`core.schedules`). The update rules
themselves are in :mod:`core.optimizers`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from core.validation import check_number

__all__ = ["MAX_LR", "MAX_WEIGHT_DECAY", "Optimizer", "positive"]

StateValue = np.ndarray | float | int


# --------------------------------------------------------------------------- validation helpers


#: Largest learning rate accepted (the app's rate box and the trainer use the same bound).
MAX_LR = 100.0
#: Largest weight decay accepted: above 1, one step of ``lr * weight_decay`` can flip weights'
#: signs and grow them without bound.
MAX_WEIGHT_DECAY = 1.0
#: ``eps`` guards a division (normally 1e-8): it must stay a positive float32, or 0/0 happens.
MIN_EPS, MAX_EPS = 1e-30, 1.0


def _real(field: str, value: Any, **limits: Any) -> float:
    """``value`` as a Python float if :func:`core.validation.check_number` accepts it with
    ``limits``; 0-d arrays (from ``np.load``) count as their value. ValueError otherwise."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.bool_):
        value = bool(value)  # refused as a number, as Python's bool is
    return float(check_number(field, value, **limits))


def _check_lr(value: Any, *, allow_zero: bool = False) -> float:
    return _real("lr", value, low=0.0, high=MAX_LR, low_open=not allow_zero)


def _unit_interval(field: str, value: Any) -> float:
    """A coefficient in [0, 1) (momentum, a beta, RMSprop's alpha)."""
    return _real(field, value, low=0.0, high=1.0, high_open=True)


def positive(field: str, value: Any) -> float:
    """A finite value > 0 (``max_norm``...); ValueError otherwise."""
    return _real(field, value, low=0.0, low_open=True)


def _eps(field: str, value: Any) -> float:
    return _real(field, value, low=MIN_EPS, high=MAX_EPS)


def _weight_decay(field: str, value: Any) -> float:
    return _real(field, value, low=0.0, high=MAX_WEIGHT_DECAY)


def _betas(field: str, value: Any) -> tuple[float, float]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{field} must be a pair (beta1, beta2), each in [0, 1), got {value!r}")
    return (_unit_interval(f"{field}[0]", value[0]), _unit_interval(f"{field}[1]", value[1]))


_VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "momentum": _unit_interval,
    "alpha": _unit_interval,
    "betas": _betas,
    "eps": _eps,
    "weight_decay": _weight_decay,
}


# --------------------------------------------------------------------------- base class


class Optimizer:
    """Base class: updates a flat parameter vector ``params`` of shape ``(n,)`` in place.

    Subclasses set ``name``, ``defaults`` (hyper-parameter name -> default value) and
    ``buffer_names`` (the per-parameter state vectors), and implement :meth:`_update`.

    Attributes:
        lr: learning rate in [0, 100]; may be changed between steps.
        steps: number of steps taken since the state was (re)created.
        Each hyper-parameter in ``defaults`` is an attribute of the same name.
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    buffer_names: ClassVar[tuple[str, ...]] = ()
    #: Buffers that are sums of squares: a negative value would make a step NaN.
    non_negative: ClassVar[tuple[str, ...]] = ()
    _n_scalars: ClassVar[int] = 0

    def __init__(self, lr: float, **hyper: Any) -> None:
        """Validate and store ``lr`` (> 0) and the hyper-parameters (see ``defaults``).

        Raises:
            ValueError: unknown hyper-parameter name, or a value out of its range.
        """
        unknown = sorted(set(hyper) - set(self.defaults))
        if unknown:
            allowed = ", ".join(["lr", *self.defaults]) or "lr"
            raise ValueError(
                f"unknown hyper-parameter {unknown[0]!r} for optimizer {self.name!r}; "
                f"allowed: {allowed}"
            )
        self._lr = _check_lr(lr)
        for key, default in self.defaults.items():
            setattr(self, key, _VALIDATORS[key](key, hyper.get(key, default)))
        self.steps = 0
        self._state: dict[str, np.ndarray] = {}
        self._shape: tuple[int, ...] | None = None
        self._dtype: np.dtype | None = None
        self._loaded = False  # state came from load_state_dict and is not yet matched to params
        self._tmp = np.empty(0)  # scratch vectors, not state
        self._tmp2 = np.empty(0)
        self._scalars = np.empty(0)  # per-step scalars in the params' dtype (see _prepare)
        self._views: tuple[np.ndarray, ...] = ()
        self._written: list[object] = []

    # -- learning rate ------------------------------------------------------------------------

    @property
    def lr(self) -> float:
        """Learning rate used by the next step (finite, >= 0)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        # Zero is allowed here: a schedule may legitimately reach a factor of 0.
        fast = type(value) is float and 0.0 <= value <= MAX_LR
        self._lr = value if fast else _check_lr(value, allow_zero=True)

    # -- stepping -----------------------------------------------------------------------------

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Apply one update to ``params`` in place.

        Args:
            params: parameter vector, shape ``(n,)``, floating dtype; modified in place.
            grads: gradient of the loss w.r.t. ``params``, shape ``(n,)``; not modified.

        Raises:
            ValueError: ``params`` is not a 1-D floating array, ``grads`` has another shape,
                or a state loaded with :meth:`load_state_dict` does not fit ``params``.
        """
        if params.shape != self._shape or params.dtype is not self._dtype:
            self._prepare(params)
        if grads.shape != self._shape:
            raise ValueError(
                f"grads must have the shape of params {self._shape}, got {grads.shape}"
            )
        self.steps += 1
        self._update(params, grads)

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:  # pragma: no cover
        raise NotImplementedError

    def _prepare(self, params: np.ndarray) -> None:
        """(Re)create state and scratch vectors for ``params`` (slow path, rarely taken)."""
        if not isinstance(params, np.ndarray) or params.ndim != 1:
            got = params.shape if isinstance(params, np.ndarray) else type(params).__name__
            raise ValueError(f"params must be a 1-D NumPy array, got {got}")
        if not np.issubdtype(params.dtype, np.floating):
            raise ValueError(f"params must have a floating dtype, got {params.dtype}")
        state = self._state
        fits = all(buf.shape == params.shape for buf in state.values())
        if self._loaded:  # state from load_state_dict: keep it (and the step count) or refuse
            if not fits:
                key, buf = next((k, b) for k, b in state.items() if b.shape != params.shape)
                raise ValueError(
                    f"loaded optimizer state {key!r} has shape {buf.shape}, "
                    f"but params have shape {params.shape}"
                )
            self._state = {
                key: state[key].astype(params.dtype, copy=False)
                if key in state
                else np.zeros_like(params)
                for key in self.buffer_names
            }
        elif self._shape != params.shape or self._dtype != params.dtype:
            # First step, or the parameters changed shape/dtype: start afresh.
            self._state = {key: np.zeros_like(params) for key in self.buffer_names}
            self.steps = 0
        self._loaded = False
        self._shape = params.shape
        self._dtype = params.dtype
        self._tmp = np.empty_like(params)
        self._tmp2 = np.empty_like(params)
        # Scalars go to the ufuncs as 0-d views into one small array refreshed once per step:
        # a 0-d array operand costs about half the call overhead of a Python float, which
        # matters for tiny networks; the values are the same (a Python float would be cast to
        # the params' dtype too).
        self._scalars = np.zeros(self._n_scalars, dtype=params.dtype)
        self._views = tuple(self._scalars[i, ...] for i in range(self._n_scalars))
        self._written: list[object] = [None] * self._n_scalars  # the values in _scalars

    def _begin(self, params: np.ndarray, grads: np.ndarray, *values: float) -> tuple:
        """Refresh the step's scalars to ``(lr, *values, weight_decay)``.

        Returns ``(g, lr, *values)``: the gradient to use (``g + weight_decay * p`` when weight
        decay is on) and 0-d views of the scalars in the params' dtype.
        """
        scalars, written = self._scalars, self._written
        for i, value in enumerate((self._lr, *values, self.weight_decay)):
            if value is not written[i]:  # the same float object: the same value, kept
                scalars[i] = written[i] = value
        *views, wd = self._views
        g = self._with_l2(params, grads, wd) if self.weight_decay else grads
        return (g, *views)

    def _with_l2(self, params: np.ndarray, grads: np.ndarray, wd: np.ndarray) -> np.ndarray:
        """``g + wd * p`` in a scratch vector (PyTorch's coupled weight decay)."""
        out = self._tmp2
        np.multiply(params, wd, out=out)
        np.add(out, grads, out=out)
        return out

    # -- state --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all state (buffers and step count); hyper-parameters and lr are kept."""
        self.steps = 0
        self._state = {}
        self._shape = None
        self._dtype = None
        self._loaded = False

    def hyperparameters(self) -> dict[str, Any]:
        """Settings as plain Python values: ``{"name", "lr", <each hyper-parameter>}``.

        ``make_optimizer(**opt.hyperparameters())`` builds an equivalent fresh optimizer.
        """
        return {"name": self.name, "lr": self.lr, **{k: getattr(self, k) for k in self.defaults}}

    def state_dict(self) -> dict[str, StateValue]:
        """Copy of everything needed to resume bit for bit.

        Keys: ``"step"`` (int), ``"lr"`` (float), each hyper-parameter (float; ``"betas"`` as a
        float64 array of shape ``(2,)``), and, once a step has been taken, each state buffer
        (array of shape ``(n,)``, the parameters' dtype). Values are NumPy-savable (``.npz``).
        """
        out: dict[str, StateValue] = {"step": int(self.steps), "lr": float(self.lr)}
        for key in self.defaults:
            value = getattr(self, key)
            out[key] = np.array(value, dtype=np.float64) if isinstance(value, tuple) else value
        if self.steps > 0:
            for key, buf in self._state.items():
                out[key] = buf.copy()
        return out

    def load_state_dict(self, state: Mapping[str, StateValue]) -> None:
        """Restore a :meth:`state_dict` (values may be 0-d arrays, as from ``np.load``).

        Everything is validated before anything changes: keys, hyper-parameter ranges, buffer
        shapes (1-D, all equal), floating dtypes and finite values. Whether the buffers fit the
        parameters is checked on the next :meth:`step`, which raises ValueError if they do not.

        Raises:
            ValueError: a missing, unknown or invalid entry.
        """
        if not isinstance(state, Mapping):
            raise ValueError(f"state must be a mapping, got {type(state).__name__}")
        raw_step = state.get("step")
        if isinstance(raw_step, np.ndarray) and raw_step.ndim == 0:
            raw_step = raw_step.item()
        if isinstance(raw_step, (bool, np.bool_)) or not isinstance(raw_step, (int, np.integer)):
            raise ValueError(f"state['step'] must be an integer >= 0, got {raw_step!r}")
        steps = int(raw_step)
        if steps < 0:
            raise ValueError(f"state['step'] must be an integer >= 0, got {steps}")
        expected = {"step", "lr", *self.defaults}
        if steps > 0:
            expected |= set(self.buffer_names)
        missing = sorted(expected - set(state))
        unknown = sorted(set(state) - expected)
        if missing or unknown:
            raise ValueError(
                f"state for optimizer {self.name!r} must have keys {sorted(expected)}; "
                f"missing {missing}, unknown {unknown}"
            )
        lr = _check_lr(state["lr"], allow_zero=True)
        hyper = {key: _VALIDATORS[key](key, state[key]) for key in self.defaults}
        buffers: dict[str, np.ndarray] = {}
        shape = None
        for key in self.buffer_names if steps > 0 else ():
            buf = state[key]
            if not isinstance(buf, np.ndarray) or buf.ndim != 1:
                got = buf.shape if isinstance(buf, np.ndarray) else type(buf).__name__
                raise ValueError(f"state[{key!r}] must be a 1-D array, got {got}")
            if shape is not None and buf.shape != shape:
                raise ValueError(f"state[{key!r}] has shape {buf.shape}, expected {shape}")
            if not np.issubdtype(buf.dtype, np.floating):
                raise ValueError(f"state[{key!r}] must have a floating dtype, got {buf.dtype}")
            if not np.all(np.isfinite(buf)):
                raise ValueError(f"state[{key!r}] contains NaN or infinite values")
            if key in self.non_negative and buf.size and buf.min() < 0:
                raise ValueError(
                    f"state[{key!r}] holds {buf.min():.3g}; allowed: values >= 0 (it is a "
                    "running sum of squared gradients)"
                )
            shape = buf.shape
            buffers[key] = buf.copy()
        # All valid: commit.
        self.reset()
        self._lr = lr
        for key, value in hyper.items():
            setattr(self, key, value)
        self.steps = steps
        self._state = buffers
        self._loaded = True

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items() if k != "name")
        return f"{type(self).__name__}({settings})"

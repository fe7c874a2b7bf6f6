"""How much memory training a network needs, estimated from its spec alone (nothing is
allocated), so absurd networks are refused before they are built."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from core.conv import CHUNK_BYTES, Conv2D
from core.model import PREDICT_CHUNK_BYTES
from core.optimizers import OPTIMIZERS
from core.spec import normalize, shaped_layers
from core.validation import check_choice, check_number


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a network needs to train: its parameters, their gradients, the optimizer's state
    (and scratch vectors), and the activations of one training step on a batch plus one
    inference chunk. An estimate within a small factor, computed from shapes alone."""

    parameters: int
    gradients: int
    optimizer: int
    activations: int

    @property
    def total(self) -> int:
        return self.parameters + self.gradients + self.optimizer + self.activations


def estimate_memory(
    spec: dict[str, Any],
    batch_size: int,
    *,
    optimizer: str = "adam",
    itemsize: int = 4,
) -> MemoryEstimate:
    """Estimate the memory that training ``spec`` on batches of ``batch_size`` needs, without
    allocating anything (sizes are exact Python integers, so absurd networks give absurd
    numbers rather than overflow).

    Parameters
    ----------
    spec : dict
        Architecture spec (validated with :func:`core.spec.normalize`).
    batch_size : int
        Samples per training step (``>= 1``).
    optimizer : str
        Name in :data:`core.optimizers.OPTIMIZERS`: decides the state vectors per parameter.
    itemsize : int
        Bytes per value: 4 for float32 (the default dtype), 8 for float64.

    Raises
    ------
    ValueError
        For an invalid spec (naming the layer), batch size or optimizer.
    """
    batch = int(check_number("batch_size", batch_size, integer=True, low=1))
    key = optimizer.strip().lower() if isinstance(optimizer, str) else optimizer
    check_choice("optimizer", key, OPTIMIZERS)
    layers = shaped_layers(normalize(spec))
    first = math.prod(layers[0].input_shape)
    widest = max(first, *(math.prod(layer.output_shape) for layer in layers))
    chunk = min(max(PREDICT_CHUNK_BYTES // (widest * itemsize), 64), 4096)  # inference batch
    n_params, train, inference = 0, first, 0
    for layer in layers:
        n_params += sum(math.prod(s) for s in layer.param_shapes().values())
        train += 3 * math.prod(layer.output_shape)  # output, what backward keeps, gradient
        if isinstance(layer, Conv2D):
            rows, padded = _conv_sizes(layer)
            train += 2 * rows + 2 * padded  # columns and their gradient, padded input twice
            # Inference builds columns a few output rows at a time, up to CHUNK_BYTES.
            one_row = rows // layer.output_shape[1] * chunk * itemsize
            block = min(rows * chunk * itemsize, max(CHUNK_BYTES, one_row))
            inference = max(inference, block // itemsize + padded * chunk)
    buffers = len(OPTIMIZERS[key].buffer_names) + 2  # state vectors and two scratch vectors
    return MemoryEstimate(
        parameters=n_params * itemsize,
        gradients=n_params * itemsize,
        optimizer=buffers * n_params * itemsize,
        activations=(batch * train + 2 * chunk * widest + inference) * itemsize,
    )


def _conv_sizes(layer: Conv2D) -> tuple[int, int]:
    """Values per sample of a convolution's column matrix (with its row of ones) and of its
    padded input."""
    c, h, w = layer.input_shape
    top, bottom, left, right = layer.pads
    windows = c * layer.kernel_size[0] * layer.kernel_size[1]
    columns = (windows + 1) * math.prod(layer.output_shape[1:])
    return columns, c * (h + top + bottom) * (w + left + right)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation: MemAvailable on Linux, else the physical
    memory; None when the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(n: int) -> str:
    """``n`` bytes in words: ``1.5 GiB``, ``20.0 MiB``, ``12 KiB``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{math.ceil(n / 2**10):,} KiB"


def check_fits(spec: dict[str, Any], batch: int, optimizer: str, data_bytes: int = 0) -> None:
    """ValueError when training ``spec`` on batches of ``batch`` (plus ``data_bytes`` of data
    copies) would need more memory than is available (:func:`available_memory`)."""
    estimate = estimate_memory(spec, batch, optimizer=optimizer)
    need = estimate.total + data_bytes
    available = available_memory()
    if available is not None and need > available:
        size = format_bytes
        raise ValueError(
            f"network: training it needs about {size(need)} of memory (weights "
            f"{size(estimate.parameters)}, gradients {size(estimate.gradients)}, optimizer "
            f"{size(estimate.optimizer)}, activations for batches of {batch} "
            f"{size(estimate.activations)}), but {size(available)} is available; allowed: a "
            "network that fits (fewer or smaller layers: --layers, --arch; a smaller --batch-size)"
        )

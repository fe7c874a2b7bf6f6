"""Fixtures for engine tests."""

import gc
from typing import Any

import pytest


@pytest.fixture(scope="session")
def torch() -> Any:
    """PyTorch for reference comparisons; the test is skipped when it is not installed."""
    torch = pytest.importorskip("torch")
    # Tiny tensors: one thread. Idle OpenMP workers spinning beside NumPy's BLAS threads on a
    # small machine were seen to stall single ops for most of a second.
    torch.set_num_threads(1)
    # The first torch.optim optimizer imports torch._dynamo, a very large object graph;
    # freezing it keeps later garbage collections (0.2 s each otherwise) out of the tests.
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    gc.collect()
    gc.freeze()
    return torch

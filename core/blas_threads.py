"""One BLAS thread in child processes: the environment a child inherits when it starts caps
its BLAS libraries' thread pools before NumPy loads there.

Small networks training in several processes side by side (sweep workers, the app's engine
beside the GUI) go faster with one BLAS thread each than with thread pools fighting over the
cores, and a pool thread waiting for a busy core stalls every matrix product.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

#: Environment variables that cap the BLAS libraries' thread pools (OpenBLAS, OpenMP, MKL,
#: Accelerate, numexpr).
BLAS_THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

_LOCK = threading.Lock()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Within the block, :data:`BLAS_THREAD_VARIABLES` are ``"1"`` (start child processes
    there: they inherit it); afterwards this process's environment is as it was. Blocks of
    several threads take turns."""
    with _LOCK:
        saved = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
        try:
            os.environ.update(dict.fromkeys(BLAS_THREAD_VARIABLES, "1"))
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

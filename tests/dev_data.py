"""Where the development copy of MNIST is (tests and benchmarks only; the product never reads
it): ``../shared/data/mnist`` beside the repository, else the machine's ``/work/shared``."""

from pathlib import Path

_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist",
    Path("/work/shared/data/mnist"),
)
DEV_MNIST = next((p for p in _CANDIDATES if p.is_dir()), _CANDIDATES[0])

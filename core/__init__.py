"""NN Playground's engine: neural networks in pure NumPy (no Qt), with a training loop that
streams snapshots for live views. See core.model, core.training and core.cli."""

__version__ = "0.1.0"

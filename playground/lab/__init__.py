"""The Lab's pages: one idea of the course each, an interactive experiment beside its
explanation (see :mod:`playground.lab.page`); the computing is in :mod:`core.lab`."""

"""NN Playground's desktop app (PySide6 + pyqtgraph) over the core engine."""

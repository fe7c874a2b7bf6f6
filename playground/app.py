"""Application entry point: ``nn-playground``.

The full window lands with the app issue; until then this opens a window that says what the
engine can already do from the command line.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(list(argv or sys.argv))
    label = QLabel(
        "NN Playground\n\nThe engine is ready: try `nn-playground-train --help`.\n"
        "The live training window is being built."
    )
    label.setWindowTitle("NN Playground")
    label.setMargin(40)
    label.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())

"""The engine is a plain library: importing it loads no Qt and no GUI code."""

import subprocess
import sys


def test_core_imports_no_gui_modules():
    code = (
        "import importlib, pkgutil, sys, core; "
        "[importlib.import_module(m.name) "
        "for m in pkgutil.walk_packages(core.__path__, 'core.')]; "
        "bad = [m for m in sys.modules "
        "if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'playground')]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

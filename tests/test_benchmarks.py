"""Every benchmark script still imports what it uses: each is loaded as a module (its
``__main__`` block, the measuring, does not run)."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).parents[1] / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_benchmark_loads(path, monkeypatch):
    monkeypatch.syspath_prepend(str(path.parent))
    monkeypatch.setattr(sys, "argv", [str(path)])  # some read their options at import
    spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    assert module.__doc__  # each says what it measures
    if path.name != "common.py":  # the shared helpers measure nothing themselves
        assert 'if __name__ == "__main__":' in path.read_text()

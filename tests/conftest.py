"""Shared test set-up: Qt runs offscreen everywhere (no display on CI machines), and a local
HTTP server serving tiny IDX data sets for the download tests of the engine and the app."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings
from idx_server import PROXY_VARIABLES, IdxServer, running_server, tiny_files

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# On CI the generated inputs are the same every run (a red run can be repeated and a green one
# stays green); on a developer's machine each run explores new ones.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def tiny() -> dict[str, bytes]:
    """File name -> decompressed IDX bytes of the tiny data set."""
    return tiny_files()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[IdxServer]:
    for var in PROXY_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    with running_server() as srv:
        yield srv

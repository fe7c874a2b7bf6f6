"""Shared test set-up: Qt runs offscreen everywhere (no display on CI machines), and a local
HTTP server serving tiny IDX data sets for the download tests of the engine and the app."""

import os
from collections.abc import Iterator

import pytest
from idx_server import PROXY_VARIABLES, IdxServer, running_server, tiny_files

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


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

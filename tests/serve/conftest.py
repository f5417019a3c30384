"""Fixtures: ``conformance serve`` as a real subprocess on a free 127.0.0.1 port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.tools.stcli import ServeProcess, serving


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One ``conformance serve --seed 0`` per test module; stopped with SIGINT afterwards."""
    log: Path = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(log) as server:
        yield server

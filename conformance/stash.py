"""What the plugin shares with the suite's conftest files: the run's settings in pytest's stash, the worker name.

Its own module so the suite reads the settings the plugin built without importing the plugin that loads it.
"""

from __future__ import annotations

import pytest

from conformance.settings import Settings

SETTINGS_KEY = pytest.StashKey[Settings]()


def worker_name(config: pytest.Config) -> str:
    """The xdist worker id (gw0, ...), or ``main`` for the controller and a serial run."""
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"

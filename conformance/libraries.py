"""The libraries whose pytest plugins a run loads, imported without pytest's assertion rewriting.

pytest marks every package of a distribution with a ``pytest11`` entry point for assertion rewriting,
so Hypothesis and Schemathesis (about 400 modules) are re-parsed and re-compiled on import whenever no
rewritten bytecode can be cached (``PYTHONDONTWRITEBYTECODE``, a read-only install): seconds of every
process, the controller's and each xdist worker's. Unmarked and imported first, they load from their
bytecode; only the libraries' own internal ``assert`` statements lose pytest's detailed messages. The
suite's modules are rewritten as before.

Also a pytest plugin, loaded with ``-p conformance.libraries`` ahead of the project's plugin (``conformance
run`` and the mutation run pass it, and xdist hands it on to every worker): as it registers, before
pytest loads any other plugin, it unmarks the libraries and the project's own package and imports the
libraries' plugins.
"""

from __future__ import annotations

import gc
import importlib
import sys

import pytest

# The libraries' packages, and pytest's warning for them (and only them): they are imported on purpose, and
# so is this project's package, which starts pytest (pytest marks it too where it finds the project's
# metadata, an editable install's egg-info in the working directory for one). A -W message is matched
# literally, as a prefix ("_hypothesis" covers _hypothesis_globals and its siblings).
LIBRARY_PACKAGES = ("_hypothesis", "hypothesis", "schemathesis", "anyio", "xdist", "allure_pytest", "platformdirs")
PRELOADED_WARNINGS = [
    arg
    for package in (*LIBRARY_PACKAGES, "conformance")
    for arg in (
        "-W",
        f"ignore:Module already imported so cannot be rewritten; {package}:pytest.PytestAssertRewriteWarning",
    )
]
# The modules of the libraries' pytest plugins (their ``pytest11`` entry points).
PLUGIN_MODULES = (
    "_hypothesis_pytestplugin",
    "anyio.pytest_plugin",
    "schemathesis.pytest.plugin",
    "xdist.plugin",
    "xdist.looponfail",
    "xdist.newhooks",  # loaded by xdist.plugin as it registers, before the marks can be taken back
    "allure_pytest.plugin",
    "platformdirs.pytest_plugin",
)


def preload() -> None:
    """Import the libraries' pytest plugins (a plugin this environment lacks is left out)."""
    for name in PLUGIN_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue


# Generation and the exchanges allocate millions of short-lived objects: at CPython's default first threshold
# (700) the collector runs thousands of times a run, each pass a few per cent of its CPU (measured: 5 %).
GC_THRESHOLDS = (20_000, 20, 20)


def tune_gc() -> None:
    """Collect less often in a run's processes; their heaps are modest (under 200 MB) and short-lived."""
    gc.set_threshold(*GC_THRESHOLDS)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """What the session made lives until the process ends: pytest's two closing full collections need not walk it.

    Each takes a fifth of a second in a process that ran the suite (a worker's heap included), for no memory
    anyone gets back; the process exits right after.
    """
    gc.freeze()


def unmark(hook: object, packages: tuple[str, ...] = LIBRARY_PACKAGES) -> None:
    """Take ``packages`` back from pytest's rewrite hook (as far as this pytest has them).

    Test modules and conftest files stay rewritten whatever the marks: pytest rewrites them by name.
    """
    marked = getattr(hook, "_must_rewrite", None)  # absent under --assert=plain (or another pytest)
    cache = getattr(hook, "_marked_for_rewrite_cache", None)
    if not isinstance(marked, set) or not isinstance(cache, dict):
        return
    marked.difference_update({name for name in marked if name.startswith(packages)})
    cache.clear()


def installed_hook() -> object | None:
    """pytest's assertion rewriting hook of this process, once pytest has installed it."""
    from _pytest.assertion.rewrite import AssertionRewritingHook

    return next((finder for finder in sys.meta_path if isinstance(finder, AssertionRewritingHook)), None)


def pytest_addoption(parser: pytest.Parser) -> None:
    # Called as this plugin registers (pytest_addoption is historic), so before the project's plugin and the
    # libraries' entry points are imported: what they import loads unrewritten, in every process alike.
    unmark(installed_hook(), (*LIBRARY_PACKAGES, "conformance"))
    preload()
    tune_gc()

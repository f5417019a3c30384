"""Project-level pytest configuration: load the conformance plugin for the suite and the project's tests."""

pytest_plugins = ["conformance.pytest_plugin"]

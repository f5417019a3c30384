"""Project-level pytest configuration: the conformance plugin for the suite, pytester for the project's tests."""

pytest_plugins = ["conformance.pytest_plugin", "pytester"]

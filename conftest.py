"""Project-level pytest configuration: the conformance plugin for the suite, pytester for the project's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["conformance.pytest_plugin", "pytester"]

# Slow end-to-end tests, marked here in one place (besides the explicit @pytest.mark.slow in the modules):
# each starts whole `conformance run`s or pytest sessions in subprocesses. `nox -s tests` leaves them out
# (-m "not slow"), `nox -s tests-all` (what CI runs) runs them too. Chosen from `--durations=0` of the
# whole suite on the 2-core machine: every test here took 7 s or more there (docs/profile.md).
SLOW_MODULES = (
    "tests/mutants/test_kills.py",  # a whole suite run per deviation
    "tests/clientgate/test_examples.py",  # the example clients' own pytest sessions
    "tests/clientgate/test_inert.py",
)
SLOW_TESTS = (
    "tests/reporting/test_fake_suite.py::test_xdist_workers_end_in_one_matrix",
    "tests/reporting/test_fake_suite.py::test_history_ids_are_distinct_per_schemathesis_operation",
    "tests/reporting/test_fake_suite.py::test_shards_cover_every_test_once_and_merge_to_the_unsharded_matrix",
    "tests/reporting/test_progress.py::test_under_xdist_a_worker_prints_its_wait_line",
    "tests/reporting/test_progress.py::test_one_line_per_api_with_the_rules_so_far[xdist]",
    "tests/drift/test_judge.py::test_the_committed_recordings_have_conflicts_and_gaps_and_no_behavioural_finding",
    "tests/drift/test_pages.py::test_one_changed_sentence_marks_exactly_its_quoters_stale",
    "tests/drift/test_pages.py::test_pin_adopts_a_copy_once_the_specs_quote_it",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        bare = item.nodeid.split("[", 1)[0]
        if path in SLOW_MODULES or item.nodeid in SLOW_TESTS or bare in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No CONFORMANCE_* setting of the caller's shell reaches a test, and any run a test starts writes its
    reports to a temporary directory, never over the last real run's in reports/."""
    import os

    for name in [n for n in os.environ if n.startswith("CONFORMANCE_")]:
        monkeypatch.delenv(name)
    report_dir = tmp_path_factory.mktemp("reports")
    monkeypatch.setenv("CONFORMANCE_REPORT_DIR", str(report_dir))
    return report_dir

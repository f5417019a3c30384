"""The pytest plugin: options, the target, per-test context and verdict recording, and the run's reports."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from conformance.context import ScenarioContext
from conformance.errors import ConformanceError, PreconditionUnavailable
from conformance.http.exchange import Exchange
from conformance.recording import cassette_for, cassette_path, describe_miss
from conformance.rules import Rule, active_rules
from conformance.settings import Settings, build_settings
from conformance.targets import Target, open_target
from conformance.verdicts import Recorder, VerdictRecord, recording

SETTINGS_KEY = pytest.StashKey[Settings]()
RECORDER_KEY = pytest.StashKey[Recorder]()
OPTIONS = {
    "target": "--target",
    "base_url": "--base-url",
    "provisioner": "--provisioner",
    "seed": "--seed",
    "report_dir": "--report-dir",
    "targets_file": "--targets-file",
    "manifest": "--manifest",
    "apis": "--apis",
    "deviation": "--deviation",
    "gap_profile": "--gap-profile",
    "cassette_dir": "--cassette-dir",
    "allow_production": "--allow-production",
    "strict": "--strict-inferred",
}
RULE_PREFIX_API = {
    "BADGE": "capillary-badges",
    "POINTS": "capillary-points",
    "REWARDS": "capillary-rewards",
    "THANX": "thanx",
    "JUSPAY": "juspay",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "vendor API conformance")
    group.addoption("--target", default=None, help="reference (default), live, record or replay")
    group.addoption("--base-url", default=None, help="one server implementing all five APIs and the control API")
    group.addoption("--provisioner", default=None, help="control, vendor or manifest (default: per target)")
    group.addoption("--seed", default=None, type=int, help="seed of generated data and sandbox ids")
    group.addoption("--report-dir", default=None, help="where every output of the run goes (default: reports/)")
    group.addoption("--targets-file", default=None, help="TOML or YAML file of per-vendor URLs and ${ENV} credentials")
    group.addoption("--manifest", default=None, help="YAML of pre-provisioned ids per state (manifest provisioner)")
    group.addoption("--apis", default=None, help="comma-separated APIs to test (default: all five)")
    group.addoption("--deviation", default=None, help="start the reference sandbox with this named deviation")
    group.addoption(
        "--gap-profile", default=None, help="reference sandbox: faithful (default) or alternate choices at doc gaps"
    )
    group.addoption(
        "--cassette-dir", default=None, help="where cassettes are recorded and replayed (default: cassettes/)"
    )
    group.addoption(
        "--allow-production",
        action="store_true",
        default=None,
        help="allow a live run against a host the specs mark as production (revokes are real)",
    )
    # pytest owns --strict; `conformance run --strict` passes this one.
    group.addoption(
        "--strict-inferred",
        action="store_true",
        default=None,
        help="violations of inferred/assumed rules (violated-inferred) gate the run too",
    )
    group.addoption("--shard", default=None, help="K/N: run the K-th of N deterministic slices of the suite")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rules(*ids): the rule IDs a test records verdicts for")
    config.addinivalue_line("markers", "conformance: a test of the conformance suite (not of the project itself)")
    cli: dict[str, Any] = {key: config.getoption(opt) for key, opt in OPTIONS.items()}
    if cli["apis"]:
        cli["apis"] = [a.strip() for a in cli["apis"].split(",") if a.strip()]
    try:
        settings = build_settings({k: v for k, v in cli.items() if v is not None})
    except ConformanceError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SETTINGS_KEY] = settings


def is_suite_item(item: pytest.Item) -> bool:
    return item.get_closest_marker("conformance") is not None


def bound_rules(item: pytest.Item) -> list[str]:
    return [rid for marker in item.iter_markers("rules") for rid in marker.args]


def shard_of(nodeid: str, total: int) -> int:
    """A stable shard for a test id: the same test lands in the same shard on every machine."""
    return int(hashlib.sha256(nodeid.encode()).hexdigest(), 16) % total


def item_api(item: pytest.Item) -> str | None:
    """The API a suite test exercises: from its bound rules, else from its name."""
    for rid in bound_rules(item):
        if api := RULE_PREFIX_API.get(rid.split("-", 1)[0]):
            return api
    name = item.nodeid.replace("_", "-")
    return next((api for api in sorted(RULE_PREFIX_API.values(), key=len, reverse=True) if api in name), None)


def deselect(config: pytest.Config, items: list[pytest.Item], keep: list[pytest.Item]) -> None:
    kept = set(map(id, keep))
    config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
    items[:] = keep


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    apis = set(config.stash[SETTINGS_KEY].apis)
    if config.getoption("--apis"):
        deselect(
            config, items, [i for i in items if not is_suite_item(i) or item_api(i) in apis or item_api(i) is None]
        )
    shard = config.getoption("--shard")
    if not shard:
        return
    try:
        k, n = (int(x) for x in shard.split("/"))
        if not 1 <= k <= n:
            raise ValueError
    except ValueError:
        raise pytest.UsageError(f"--shard {shard!r} must be K/N with 1 <= K <= N, e.g. --shard 2/4.") from None
    deselect(config, items, [item for item in items if shard_of(item.nodeid, n) == k - 1])


def verdict_dir(settings: Settings) -> Path:
    return settings.report_dir / "verdicts"


def worker_name(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"


def write_records(config: pytest.Config, records: list[VerdictRecord]) -> None:
    directory = verdict_dir(config.stash[SETTINGS_KEY])
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / f"{worker_name(config)}.jsonl").open("a", encoding="utf-8") as handle:
        for record in records:
            handle.write(record.model_dump_json() + "\n")


@pytest.fixture(scope="session")
def conformance_settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings; override this fixture in a conftest to pin settings for a client library's CI."""
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def rule_catalogue() -> dict[str, Rule]:
    return active_rules()


@pytest.fixture(scope="session")
def conformance_target(conformance_settings: Settings, pytestconfig: pytest.Config) -> Iterator[Target]:
    state_dir = conformance_settings.report_dir / ".state"
    try:
        with open_target(conformance_settings, state_dir) as target:
            yield target
    except ConformanceError as exc:
        _note_run_error(pytestconfig, exc)
        pytest.exit(str(exc), returncode=exc.exit_code)


def _tenant(settings: Settings, nodeid: str) -> str:
    return hashlib.sha256(f"{settings.seed}:{nodeid}".encode()).hexdigest()[:20]


@pytest.fixture
def ctx(
    request: pytest.FixtureRequest, conformance_target: Target, rule_catalogue: dict[str, Rule]
) -> Iterator[ScenarioContext]:
    """A conformance test's context: a fresh tenant, its clients and provisioners, its verdict recorder."""
    item = request.node
    evidence: Callable[[Exchange | None], str] = conformance_target.evidence
    if conformance_target.settings.target == "replay":
        replayed = f"replay:{cassette_path(conformance_target.settings, item.nodeid)}"

        def evidence(_exchange: Exchange | None) -> str:  # one cassette is a replayed test's evidence
            return replayed

    recorder = Recorder(item.nodeid, rule_catalogue, evidence, conformance_target.redactor.text)
    item.stash[RECORDER_KEY] = recorder
    context = ScenarioContext(conformance_target, _tenant(conformance_target.settings, item.nodeid), recorder)
    from conformance.reporting.allure_bridge import attach_exchange, label_test

    label_test(
        item, [rule_catalogue[r] for r in bound_rules(item) if r in rule_catalogue], conformance_target, recorder
    )
    context.observers.append(attach_exchange)
    settings = conformance_target.settings
    with contextlib.ExitStack() as stack:
        if settings.target in ("record", "replay"):
            stack.enter_context(cassette_for(settings, item.nodeid, conformance_target.redactor, context.exchanges))
        stack.enter_context(recording(recorder))
        yield context
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except CannotOverwriteExistingCassetteException as exc:
        pytest.fail(describe_miss(exc), pytrace=False)
    except PreconditionUnavailable as exc:
        rules = bound_rules(item) or ["(no rule)"]
        reason = f"{', '.join(rules)}: precondition not available on this target: {exc}"
        recorder = item.stash.get(RECORDER_KEY, None)
        if recorder is not None:
            for rid in bound_rules(item):
                recorder.add(
                    VerdictRecord(
                        rule_id=rid, status="skipped", test=item.nodeid, detail=reason, evidence=recorder.evidence(None)
                    )
                )
        pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, ConformanceError):
        _note_run_error(item.config, call.excinfo.value)
        report.longrepr = str(call.excinfo.value)
    recorder = item.stash.get(RECORDER_KEY, None)
    if recorder is None or call.when != "call":
        return report
    seen = {r.rule_id for r in recorder.records}
    unrecorded = [rid for rid in bound_rules(item) if rid not in seen]
    if report.passed and unrecorded:
        # A passing test that recorded nothing for a rule it is bound to proves nothing: make it an error.
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} is bound to {', '.join(unrecorded)} but recorded no verdict for "
            "it: a rule is verified only by a recorded verdict (conformance.verdicts.verdict)."
        )
    return report


def _note_run_error(config: pytest.Config, error: ConformanceError) -> None:
    """Errors that decide the run's exit code (usage 2, unreachable 3), for the runner to read."""
    directory = verdict_dir(config.stash[SETTINGS_KEY])
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / f"{worker_name(config)}.errors.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"exit_code": error.exit_code, "message": str(error)}) + "\n")


def pytest_runtest_teardown(item: pytest.Item) -> None:
    recorder = item.stash.get(RECORDER_KEY, None)
    if recorder is not None and recorder.records:
        write_records(item.config, recorder.records)


def _write_bindings(session: pytest.Session) -> None:
    settings = session.config.stash[SETTINGS_KEY]
    bindings = {item.nodeid: bound_rules(item) for item in session.items if is_suite_item(item)}
    if not bindings:
        return
    directory = verdict_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{worker_name(session.config)}.bindings.json"
    path.write_text(json.dumps(bindings, indent=1, sort_keys=True), encoding="utf-8")


def pytest_collection_finish(session: pytest.Session) -> None:
    _write_bindings(session)


def pytest_sessionstart(session: pytest.Session) -> None:
    if worker_name(session.config) != "main" or os.environ.get("CONFORMANCE_KEEP_VERDICTS"):
        return
    directory = verdict_dir(session.config.stash[SETTINGS_KEY])
    if directory.is_dir():
        for stale in directory.iterdir():
            stale.unlink()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if worker_name(config) != "main":
        return
    settings = config.stash[SETTINGS_KEY]
    if not verdict_dir(settings).is_dir():
        return
    from conformance.reporting.run import finish_run

    summary = finish_run(settings, config)
    if summary:
        terminalreporter.write_sep("=", "conformance")
        terminalreporter.write_line(summary)

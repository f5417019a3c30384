"""The pytest plugin: options, input checks, the target, per-test context, and results on the reports.

Where a test runs (the process itself, or an xdist worker), its verdict records, bound rules and the
type of its failure ride on its reports as ``report.conformance``; the run's one collector
(``conformance.reporting.run.RunCollector``, on the controller) builds the matrix and sets the exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import signal
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from conformance.apis import APIS, api_named_in, api_of_rule
from conformance.context import ScenarioContext
from conformance.errors import ConformanceError, ExitCode, PreconditionUnavailable
from conformance.findings import Finding
from conformance.http.exchange import Exchange
from conformance.recording import ReplayMiss, cassette_for, cassette_path
from conformance.reporting.outcome import RunState
from conformance.rules import Rule, active_rules
from conformance.settings import OPTIONS, Settings, build_settings, from_cli, report_dir_hint
from conformance.stash import SETTINGS_KEY, worker_name
from conformance.targets import Target, open_target
from conformance.verdicts import Recorder, VerdictRecord, recording

# Progress lines (an API completed, a long wait) and their --no-progress option.
pytest_plugins = ["conformance.reporting.progress"]
SECRETS_KEY = pytest.StashKey[Path | None]()
RUN_ID_INPUT = "conformance_run_id"
CALL_FAILED_KEY = pytest.StashKey[bool]()
RECORDER_KEY = pytest.StashKey[Recorder]()
SENT_KEY = pytest.StashKey[int]()
RAN_KEY = pytest.StashKey[dict[str, Any]]()
SIGNAL_KEY = pytest.StashKey[list[int]]()
STATE_KEY = pytest.StashKey[RunState]()
PREVIOUS_HANDLERS_KEY = pytest.StashKey[dict[int, Any]]()
SUITE_DIR = Path(__file__).resolve().parent / "suite"
# Where `conformance run` learns the outcome (an object with ``code`` and ``reason``), if it asked.
OUTCOME_SINK = "conformance-outcome-sink"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "vendor API conformance")
    for option in OPTIONS:
        if option.kind == "bool":
            group.addoption(option.flag, action=argparse.BooleanOptionalAction, default=None, help=option.help)
        else:
            group.addoption(option.flag, default=None, help=option.help, metavar=option.metavar)


def settings_of(config: pytest.Config) -> Settings:
    """The run's settings from the plugin's options, the environment and the targets file."""
    if SETTINGS_KEY not in config.stash:
        config.stash[SETTINGS_KEY] = build_settings(from_cli({o.dest: config.getoption(o.dest) for o in OPTIONS}))
    return config.stash[SETTINGS_KEY]


def is_worker(config: pytest.Config) -> bool:
    return getattr(config, "workerinput", None) is not None


def is_suite_invocation(config: pytest.Config) -> bool:
    """The conformance suite is among what was asked for (not the project's own tests)."""
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0]).resolve()
        if path.is_relative_to(SUITE_DIR) or SUITE_DIR.is_relative_to(path):
            return True
    return False


def _outputs(config: pytest.Config) -> list[tuple[Path, str]]:
    out = []
    if alluredir := config.getoption("allure_report_dir", None):
        out.append((Path(alluredir), "Allure results dir"))
    if xmlpath := config.getoption("xmlpath", None):
        out.append((Path(xmlpath).parent, "JUnit XML's directory"))
    return out


def _sink(config: pytest.Config) -> Any:
    return config.pluginmanager.get_plugin(OUTCOME_SINK)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Bad input ends the run here: before collection, before a request, with one paragraph and exit 2."""
    if is_worker(config) or config.option.help or config.option.version:
        return None
    try:
        settings = settings_of(config)
        if is_suite_invocation(config):
            from conformance.inputs import check_inputs

            check_inputs(settings, _outputs(config))
            from conformance.live.hosts import refuse_hosts

            refuse_hosts(settings)  # hosts off the allow-list: before collection, before a request
    except ConformanceError as exc:
        sys.stderr.write(f"conformance: error: {exc}\n")
        _remove_gate_files(config)
        if (sink := _sink(config)) is not None:
            sink.code, sink.reason, sink.printed = exc.exit_code, str(exc), True
        return exc.exit_code
    if is_suite_invocation(config):
        _remove_gate_files(config)
    return None


def _remove_gate_files(config: pytest.Config) -> None:
    """A gate must never read a previous run's verdict as this one's: its matrix and JUnit go first."""
    settings = config.stash.get(SETTINGS_KEY, None)
    report_dir = settings.report_dir if settings is not None else report_dir_hint(config.getoption("report_dir"))
    paths = [report_dir / "conformance.json"]
    if xmlpath := config.getoption("xmlpath", None):
        paths.append(Path(xmlpath))
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rules(*ids): the rule IDs a test records verdicts for")
    config.addinivalue_line("markers", "conformance: a test of the conformance suite (not of the project itself)")
    try:
        settings = settings_of(config)
    except ConformanceError as exc:
        raise pytest.UsageError(str(exc)) from None
    signals: list[int] = []
    config.stash[SIGNAL_KEY] = signals
    _install_signal_handlers(config, signals)
    config.pluginmanager.register(LivePlan(config), "conformance-live-plan")
    if is_worker(config):
        run_id = config.workerinput.get(RUN_ID_INPUT)  # type: ignore[attr-defined]
        if run_id and settings.run_id is None:
            config.stash[SETTINGS_KEY] = settings.model_copy(update={"run_id": run_id})
        return
    _share_run_identity(config, settings)
    from conformance.reporting.junit import redirect_junit
    from conformance.reporting.run import RunCollector

    state = RunState()
    collector = RunCollector(config, settings, state, suite_run=is_suite_invocation(config))
    config.pluginmanager.register(collector, "conformance-collector")
    config.stash[STATE_KEY] = state
    redirect_junit(config)
    config.pluginmanager.register(ReachCollector(settings), "conformance-success-reach")


class ReachCollector:
    """On the controller: adds up the success reach each property test's report carries, writes
    ``success-reach.json`` once and prints it (the figures, never a verdict)."""

    def __init__(self, settings: Settings) -> None:
        from conformance.suite.properties.outcomes import Reach

        self.report_dir = settings.report_dir
        self.totals: dict[str, Reach] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, "conformance", None)
        if isinstance(payload, dict) and (reach := payload.get("reach")):
            from conformance.suite.properties.outcomes import add_up

            add_up(self.totals, reach)

    def pytest_sessionfinish(self) -> None:
        path = self.report_dir / "success-reach.json"
        path.unlink(missing_ok=True)  # never a previous run's figures beside this run's matrix
        if self.totals:
            import json

            from conformance.files import write_text_atomic
            from conformance.suite.properties.outcomes import summary

            write_text_atomic(path, json.dumps(summary(self.totals), indent=1, sort_keys=True))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.totals:
            return
        from conformance.suite.properties.outcomes import render, summary

        terminalreporter.write_sep("=", "property success reach (positive revoke cases reaching the vendor's success)")
        for line in render(summary(self.totals)):
            terminalreporter.write_line(line)


def _share_run_identity(config: pytest.Config, settings: Settings) -> None:
    """One run id for every process (handed to each xdist worker in pytest_configure_node), and on
    networked runs the directory of shared OAuth tokens, made here so that every worker inherits it."""
    if settings.run_id is None:
        import uuid

        config.stash[SETTINGS_KEY] = settings.model_copy(update={"run_id": uuid.uuid4().hex})
    if settings.is_networked:
        from conformance.http.oauth import export_run_secrets

        config.stash[SECRETS_KEY] = export_run_secrets()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, on the controller: each worker learns the run's id."""
    node.workerinput[RUN_ID_INPUT] = settings_of(node.config).run_id


class LivePlan:
    """After selection: ``--plan`` prints what the run would do and ends it; a plan over the destructive
    budget is refused. Both before the target is opened, so nothing is sent."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        from conformance.live.plan import budget_of, budget_refusal, build_plan, write_plan

        settings = settings_of(config)
        if settings.is_networked:
            order_scenarios_first(items)
        reserve_ids_for_scenarios(settings, items)
        if not settings.plan and budget_of(settings) is None:
            return
        plan = build_plan(settings, [(item.nodeid, item_api(item)) for item in items if is_suite_item(item)])
        if settings.plan:
            if not is_worker(config):
                write_plan(settings, plan)
                reporter = config.pluginmanager.get_plugin("terminalreporter")
                if reporter is not None:
                    reporter.write_line(plan.render(settings.provisioner_for))
            deselect(config, items, [])
            return
        if (reason := budget_refusal(settings, plan)) is not None:
            if (state := config.stash.get(STATE_KEY, None)) is not None:
                state.run_errors.append((int(ExitCode.USAGE), reason))
                sys.stderr.write(f"conformance: error: {reason}\n")
            deselect(config, items, [])

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from conformance.live.touched import merge_touched

        settings = settings_of(session.config)
        live = settings.is_networked and not settings.uses_reference_sandbox
        if not is_worker(session.config) and settings.run_id and live and not settings.plan:
            merge_touched(settings.report_dir / ".state", settings.run_id, settings.report_dir)


def order_scenarios_first(items: list[pytest.Item]) -> None:
    """Scenarios run before generated cases, so scarce pre-provisioned ids go to the rules that need them."""
    items.sort(key=lambda item: "/properties/" in item.nodeid)  # stable: the order within each kind is kept


def reserve_ids_for_scenarios(settings: Settings, items: list[pytest.Item]) -> None:
    """On a manifest target, the first ids of each kind are the scenarios'; generated cases get the rest."""
    from conformance.live.plan import build_plan
    from conformance.provisioners.manifest import RESERVED_FOR_SCENARIOS

    if not any(settings.provisioner_for(api) == "manifest" for api in settings.apis):
        return
    scenarios = [(item.nodeid, item_api(item)) for item in items if "/scenarios/" in item.nodeid]
    RESERVED_FOR_SCENARIOS.clear()
    for api_plan in build_plan(settings, scenarios).apis.values():
        RESERVED_FOR_SCENARIOS.update(api_plan.needs)


def pytest_unconfigure(config: pytest.Config) -> None:
    from conformance.http.oauth import remove_run_secrets

    remove_run_secrets(config.stash.get(SECRETS_KEY, None))
    for signum, previous in config.stash.get(PREVIOUS_HANDLERS_KEY, {}).items():
        signal.signal(signum, previous)
    sink, state = _sink(config), config.stash.get(STATE_KEY, None)
    if sink is not None and state is not None and state.final is not None:
        sink.code, sink.reason = state.final.code, state.final.reason


def _install_signal_handlers(config: pytest.Config, signals: list[int]) -> None:
    """SIGINT and SIGTERM stop the run as Ctrl-C does, remembering which one came (exit 130 or 143)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)
        state = config.stash.get(STATE_KEY, None)
        if state is not None:
            state.interrupt(signum)
        raise KeyboardInterrupt

    previous: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, stop)
    config.stash[PREVIOUS_HANDLERS_KEY] = previous


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
        if api := api_of_rule(rid):
            return api
    return api_named_in(item.nodeid)


def deselect(config: pytest.Config, items: list[pytest.Item], keep: list[pytest.Item]) -> None:
    kept = set(map(id, keep))
    config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
    items[:] = keep


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    settings = config.stash[SETTINGS_KEY]
    apis = set(settings.apis)
    if apis != set(APIS):
        deselect(
            config, items, [i for i in items if not is_suite_item(i) or item_api(i) in apis or item_api(i) is None]
        )
    if (shard := settings.shard_slice()) is not None:
        k, n = shard
        deselect(config, items, [item for item in items if shard_of(item.nodeid, n) == k - 1])


def pytest_collection_finish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # the controller of an xdist run collects nothing itself: tell it the bindings
        workeroutput["conformance_bindings"] = {i.nodeid: bound_rules(i) for i in session.items if is_suite_item(i)}


@pytest.fixture(scope="session")
def conformance_settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings; override this fixture in a conftest to pin settings for a client library's CI."""
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def rule_catalogue() -> dict[str, Rule]:
    return active_rules()


@pytest.fixture(scope="session")
def conformance_target(conformance_settings: Settings) -> Iterator[Target]:
    # A ConformanceError here (unreachable, missing settings) fails the test's setup; its report carries the
    # error's exit code and the run stops: see pytest_runtest_makereport.
    state_dir = conformance_settings.report_dir / ".state"
    with open_target(conformance_settings, state_dir, join_sandbox=False) as target:
        from conformance.live.doctor import preflight_once

        preflight_once(target)  # live targets: the doctor first, before any id is handed out
        yield target


def _tenant(settings: Settings, nodeid: str) -> str:
    return hashlib.sha256(f"{settings.seed}:{nodeid}".encode()).hexdigest()[:20]


@pytest.fixture
def ctx(
    request: pytest.FixtureRequest, conformance_target: Target, rule_catalogue: dict[str, Rule]
) -> Iterator[ScenarioContext]:
    """A conformance test's context: a fresh tenant, its clients and provisioners, its verdict recorder."""
    item = request.node
    settings = conformance_target.settings
    item.stash[RAN_KEY] = {"target": settings.target, "seed": settings.seed}
    evidence: Callable[[Exchange | None], str] = conformance_target.evidence
    if settings.target == "replay":
        replayed = f"replay:{cassette_path(settings, item.nodeid)}"

        def evidence(_exchange: Exchange | None) -> str:  # one cassette is a replayed test's evidence
            return replayed

    recorder = Recorder(item.nodeid, rule_catalogue, evidence, conformance_target.redactor.text)
    item.stash[RECORDER_KEY] = recorder
    item.stash[SENT_KEY] = 0  # a test run again (a rerun plugin, the mutation loop) starts a new recorder
    context = ScenarioContext(conformance_target, _tenant(settings, item.nodeid), recorder)
    from conformance.reporting.allure_bridge import attach_exchange, label_test

    label_test(
        item, [rule_catalogue[r] for r in bound_rules(item) if r in rule_catalogue], conformance_target, recorder
    )
    context.observers.append(attach_exchange)
    with contextlib.ExitStack() as stack:
        if settings.target in ("record", "replay"):
            failed = lambda: item.stash.get(CALL_FAILED_KEY, False)  # noqa: E731
            stack.enter_context(
                cassette_for(settings, item.nodeid, conformance_target.redactor, context.exchanges, failed)
            )
        stack.enter_context(recording(recorder))
        yield context
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except ReplayMiss as exc:
        miss = str(exc)  # failed below, outside the handler: the paragraph once, without the chained original
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
    pytest.fail(miss, pytrace=False)


def findings_of(error: BaseException) -> list[Finding] | None:
    """The Findings ``error`` consists of (one, or a group of them), or None when anything else failed."""
    if isinstance(error, Finding):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        found: list[Finding] = []
        for inner in error.exceptions:
            more = findings_of(inner)
            if more is None:
                return None
            found += more
        return found
    return None


def _finding_text(findings: list[Finding], error: BaseException) -> str:
    """What a violation shows: finding, rule and curl, and Hypothesis' reproduction notes; no suite frames."""
    notes = [str(n) for n in getattr(error, "__notes__", []) if str(n).strip()]
    return "\n\n".join([f.render() for f in findings] + (["\n".join(notes)] if notes else []))


def _classify(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, payload: dict[str, Any]
) -> None:
    """The failure's type, from the exception itself: a Finding is a violation; a run error stops the run."""
    if call.excinfo is None or not report.failed:
        return
    error = call.excinfo.value
    if isinstance(error, ConformanceError):
        payload["failure"] = "run-error"
        payload["run_error"] = {"exit_code": error.exit_code, "message": str(error)}
        report.longrepr = str(error)
        item.session.shouldstop = str(error)
    elif (findings := findings_of(error)) is not None:
        payload["failure"] = "finding"
        report.longrepr = _finding_text(findings, error)
    else:
        payload["failure"] = "suite-error"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call":
        item.stash[CALL_FAILED_KEY] = report.failed
    if not is_suite_item(item):
        return report
    payload: dict[str, Any] = {"worker": worker_name(item.config)}
    if call.when == "setup":
        payload["rules"] = bound_rules(item)
    if ran := item.stash.get(RAN_KEY, None):
        payload["settings"] = ran
    _classify(item, call, report, payload)
    recorder = item.stash.get(RECORDER_KEY, None)
    if recorder is not None:
        seen = {r.rule_id for r in recorder.records}
        unrecorded = [rid for rid in bound_rules(item) if rid not in seen]
        if call.when == "call" and report.passed and unrecorded:
            # A passing test that recorded nothing for a rule it is bound to proves nothing: make it an error.
            report.outcome = "failed"
            payload["failure"] = "suite-error"
            report.longrepr = (
                f"{item.nodeid} is bound to {', '.join(unrecorded)} but recorded no verdict for "
                "it: a rule is verified only by a recorded verdict (conformance.verdicts.verdict)."
            )
        sent = item.stash.get(SENT_KEY, 0)
        payload["records"] = [r.model_dump(mode="json") for r in recorder.records[sent:]]
        item.stash[SENT_KEY] = len(recorder.records)
    if call.when == "teardown" and "/properties/" in item.nodeid:
        from conformance.suite.properties.outcomes import LEDGER

        if reach := LEDGER.drain():  # this test's generated cases, for the controller's success-reach figures
            payload["reach"] = reach
    if signals := item.config.stash.get(SIGNAL_KEY, []):
        payload["interrupted"] = signals[0]  # Hypothesis may have swallowed the interrupt: stop anyway
        item.session.shouldstop = "interrupted"
    report.conformance = payload  # type: ignore[attr-defined]
    return report

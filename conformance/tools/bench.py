"""Benchmark: wall time and throughput of the suite per target, and of the property layer against st.

``python -m conformance.tools.bench [--runs N] [--quick]`` (or ``nox -s bench -- --quick``) writes
``reports/bench.json`` and prints Markdown tables. Every figure is measured in a fresh subprocess
and repeated ``--runs`` times, interleaved (run 1 of every configuration, then run 2, ...), and
reported as min / median / max with the 1-minute load average at the start and end of each run.

1. The whole suite (``conformance run``: scenarios and property tests) on the reference target
   (in-process sandbox on loopback), on a separately started ``conformance serve`` (``--target live
   --base-url URL --provisioner control``, the client-side rate limits lifted, see ``RATE_LIMIT_ENV``)
   and from cassettes (``--target replay``; recorded first into a scratch directory when the
   committed ``cassettes/reference`` are missing or stale), each serially and with ``-n 2``.
   HTTP exchanges are counted from the Allure results the run leaves: every ``exchange`` attachment
   (one per exchange, attached by ``conformance.reporting.allure_bridge.attach_exchange``), its
   phase read from the attached JSON. Nothing is added to the suite.
2. The property layer (conformance/suite/properties, without the scripted sequences) on the live
   target against ``conformance serve``, against Schemathesis' own CLI (``st run`` through
   ``conformance.tools.stcli``: same specs, same kind of server, ``-n`` = the project's max examples,
   phases examples+fuzzing, modes positive+negative, the project's seed) and against generation
   alone (the same Hypothesis tests Schemathesis builds for ``@schema.parametrize()``, with the
   same config, seed and example count, calling a no-op instead of sending: the ceiling).
3. When the serial reference run takes more than ``PROFILE_THRESHOLD_S`` (or with ``--profile``),
   one more serial reference run under cProfile: the top functions by cumulative time and the own
   time per top-level package.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from conformance.apis import APIS, REPO_ROOT
from conformance.errors import UsageError
from conformance.settings import child_environment
from conformance.tools import bench_goals, stcli
from conformance.tools.bench_serve import serve_throughput

DEFAULT_OUTPUT = REPO_ROOT / "reports" / "bench.json"
DEFAULT_SEED = 20261122  # conformance.settings.Settings().seed, the seed of a plain `conformance run`
PROFILE_THRESHOLD_S = 60.0
PROFILE_TOP = 15
RUN_TIMEOUT_S = 900.0
PROPERTY_SELECT = "properties and not test_sequences"
LIBRARIES = (
    "schemathesis",
    "hypothesis",
    "pytest",
    "pytest-xdist",
    "allure-pytest",
    "httpx",
    "uvicorn",
    "starlette",
    "vcrpy",
)
# The live target spaces calls per vendor (1.5/s for Capillary by default): lifted so the figure
# measures the suite and the server, not the limiter (whose file lock is still taken per call).
RATE_LIMIT_ENV = {f"CONFORMANCE_{vendor}_RATE_LIMIT": "1000000" for vendor in ("CAPILLARY", "THANX", "JUSPAY")}
# What the timed sessions run (`python -m MODULE`): the noxfile's mutants and tests sessions.
SESSION_MODULES = {"mutants": "conformance.tools.mutants", "tests": "pytest"}
EXCHANGE_COUNTING = (
    "exchange attachments in <report-dir>/allure-results/*-result.json (steps walked recursively); "
    "one per HTTP exchange of the project's client (control API included), phase and API from the attached JSON; "
    "per API: its vendor calls, and the control-API (provisioner) calls of the tests that called it"
)
CONTROL_API = "control"  # conformance.targets.CONTROL: the sandbox's control API, the provisioner's calls


# ------------------------------------------------------------------------------------------ utilities


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def spread(values: Sequence[float], digits: int = 2) -> dict[str, float]:
    """min / median / max of a non-empty sequence."""
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
    }


def cpu_model() -> str:
    """``model name`` of /proc/cpuinfo, with the clock when it is listed."""
    fields: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            fields.setdefault(name.strip().lower(), value.strip())
    model = fields.get("model name") or platform.processor() or "unknown"
    mhz = fields.get("cpu mhz")
    return f"{model} @ {float(mhz) / 1000:.2f} GHz" if mhz else model


def machine() -> dict[str, Any]:
    libraries: dict[str, str] = {}
    for name in LIBRARIES:
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            libraries[name] = "not installed"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": libraries,
    }


def machine_line(info: dict[str, Any]) -> str:
    libs = ", ".join(f"{name} {ver}" for name, ver in info["libraries"].items())
    return f"{info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), Python {info['python']}; {libs}"


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without CONFORMANCE_* (a targets file or live URL must not leak into a run)."""
    env = child_environment(strip_conformance=True)
    env.update({"NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra or {})
    return env


@dataclass
class Timed:
    returncode: int
    wall_s: float
    load_start: float
    load_end: float
    stdout: str


def timed(command: Sequence[str], log: Path, env: dict[str, str] | None = None) -> Timed:
    """Run ``command`` from the repository root; its output goes to ``log`` and is returned."""
    start_load = load1()
    started = time.perf_counter()
    done = subprocess.run(
        list(command),
        cwd=REPO_ROOT,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    wall = time.perf_counter() - started
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    return Timed(done.returncode, round(wall, 3), start_load, load1(), done.stdout + done.stderr)


def conformance_run(report_dir: Path, *args: str, pytest_args: Sequence[str] = ()) -> list[str]:
    """``conformance run`` with every output (reports, pytest cache, rate-limit state) under ``report_dir``."""
    cache = ["-o", f"cache_dir={report_dir / '.pytest_cache'}"]
    return [
        sys.executable,
        "-m",
        "conformance.cli",
        "run",
        "--report-dir",
        str(report_dir),
        *args,
        "--",
        *cache,
        *pytest_args,
    ]


# ------------------------------------------------------------------------------- what a run leaves


def exchange_phases(allure_dir: Path, keep: Callable[[dict[str, Any]], bool] = lambda result: True) -> Counter[str]:
    """Exchanges per phase (test, setup, readback, control) in the Allure results of ``keep``-selected tests."""
    return exchange_counts(allure_dir, keep)[0]


def exchange_counts(
    allure_dir: Path, keep: Callable[[dict[str, Any]], bool] = lambda result: True
) -> tuple[Counter[str], dict[str, dict[str, int]]]:
    """Exchanges per phase, and per API: its ``vendor`` calls, and the ``control`` (provisioner) calls of its tests.

    A control-API exchange is the provisioner's for the test that made it, so it is counted for the API
    whose vendor calls that test made most (``control`` alone when the test made none).
    """
    phases: Counter[str] = Counter()
    per_api: dict[str, Counter[str]] = {}

    def walk(node: dict[str, Any], apis: list[str]) -> None:
        for attachment in node.get("attachments", []):
            if attachment.get("name") != "exchange":
                continue
            try:
                rendered = json.loads((allure_dir / str(attachment["source"])).read_text(encoding="utf-8"))
                phases[str(rendered.get("phase", "unknown"))] += 1
                apis.append(str(rendered.get("api") or CONTROL_API))
            except (OSError, ValueError, KeyError):
                phases["unknown"] += 1
        for step in node.get("steps", []):
            walk(step, apis)

    for path in sorted(allure_dir.glob("*-result.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        if not keep(result):
            continue
        apis: list[str] = []
        walk(result, apis)
        vendors = Counter(api for api in apis if api != CONTROL_API)
        owner = vendors.most_common(1)[0][0] if vendors else CONTROL_API
        for api in apis:
            counted = per_api.setdefault(owner if api == CONTROL_API else api, Counter())
            counted["control" if api == CONTROL_API else "vendor"] += 1
    return phases, {api: dict(sorted(counted.items())) for api, counted in sorted(per_api.items())}


def is_property_result(result: dict[str, Any]) -> bool:
    return ".properties." in str(result.get("fullName", "")) or any(
        label.get("name") == "package" and ".properties." in str(label.get("value", ""))
        for label in result.get("labels", [])
    )


@dataclass
class JunitSummary:
    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    test_time_s: float = 0.0
    red: list[str] = field(default_factory=list)  # nodeids of tests with a failure or an error


def junit_nodeid(classname: str, name: str) -> str:
    return classname.replace(".", "/") + ".py::" + name


def read_junit(path: Path) -> JunitSummary:
    summary = JunitSummary()
    if not path.is_file():
        return summary
    for case in ET.parse(path).getroot().iter("testcase"):
        summary.tests += 1
        summary.test_time_s += float(case.get("time") or 0)
        tags = {child.tag for child in case}
        if "failure" in tags or "error" in tags:
            summary.failed += "failure" in tags
            summary.errors += "error" in tags
            summary.red.append(junit_nodeid(case.get("classname", ""), case.get("name", "")))
        elif "skipped" in tags:
            summary.skipped += 1
        else:
            summary.passed += 1
    summary.test_time_s = round(summary.test_time_s, 3)
    return summary


def cassette_interactions(directory: Path) -> int:
    """Recorded interactions in every cassette under ``directory`` (a cross-check of the exchange count)."""
    import yaml

    total = 0
    for path in directory.rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        total += len(data.get("interactions") or [])
    return total


# ------------------------------------------------------------------------------ whole-suite figures


@dataclass(frozen=True)
class SuiteConfig:
    name: str
    target: str
    workers: int
    description: str
    deselect_red_replays: bool = False  # replay only the tests that replayed green in the first replay run


def suite_configs(quick: bool) -> list[SuiteConfig]:
    serial = [
        SuiteConfig("reference", "reference", 1, "reference (in-process sandbox on loopback)"),
        SuiteConfig("live", "live", 1, "live: `conformance serve` on loopback, provisioner control"),
        SuiteConfig("replay", "replay", 1, "replay (cassettes, offline)"),
    ]
    if quick:
        return serial
    return [
        *serial,
        SuiteConfig("reference-n2", "reference", 2, serial[0].description),
        SuiteConfig("live-n2", "live", 2, serial[1].description),
        SuiteConfig("replay-n2", "replay", 2, serial[2].description),
    ]


@dataclass
class SuiteRun:
    wall_s: float
    exit_code: int
    exchanges: int
    exchanges_per_s: float
    phases: dict[str, int]
    tests: dict[str, int]
    pytest_test_time_s: float
    load_start: float
    load_end: float
    red: list[str] = field(default_factory=list)
    verified_rules: int = 0
    per_api: dict[str, dict[str, int]] = field(default_factory=dict)  # api → {"vendor": n, "control": m}
    verified_per_api: dict[str, int] = field(default_factory=dict)


@dataclass
class Bench:
    work: Path
    runs: int
    quick: bool
    apis: list[str] | None
    select: str | None
    seed: int = DEFAULT_SEED
    cassette_dir: Path | None = None
    cassettes: dict[str, Any] = field(default_factory=dict)
    red_replays: list[str] = field(default_factory=list)
    collect_only_wall_s: float | None = None  # interpreter start, imports, spec loading and collection
    warnings: list[str] = field(default_factory=list)
    counter: int = 0

    def fresh_dir(self, name: str) -> Path:
        self.counter += 1
        path = self.work / f"{self.counter:03d}-{name}"
        path.mkdir(parents=True)
        return path

    def selection(self) -> list[str]:
        args = ["--apis", ",".join(self.apis)] if self.apis else []
        return args + (["-k", self.select] if self.select else [])

    # -------------------------------------------------------------------------------- cassettes

    def collect_nodeids(self) -> list[str]:
        report = self.fresh_dir("collect")
        # `conformance run` already passes -q: one nodeid per line (a second -q would print counts per file).
        done = timed(conformance_run(report, *self.selection(), pytest_args=["--collect-only"]), report / "log")
        self.collect_only_wall_s = done.wall_s
        return [line.strip() for line in done.stdout.splitlines() if "::" in line and not line.startswith(" ")]

    def prepare_cassettes(self) -> None:
        """Use the committed cassettes when every selected test has a fresh one; else record into a scratch dir."""
        from conformance.recording import cassette_path, check_replayable
        from conformance.settings import Settings

        committed = REPO_ROOT / "cassettes"
        settings = Settings(target="replay", cassette_dir=committed, seed=self.seed)
        nodeids = self.collect_nodeids()
        # Imported as a collection would: a property test registers there that it replays its recorded
        # cases, which changes what makes its cassette stale (recording.replay_key).
        for module in sorted({nodeid.partition("::")[0] for nodeid in nodeids}):
            importlib.import_module(module.removesuffix(".py").replace("/", "."))
        missing = stale = 0
        for nodeid in nodeids:
            try:
                check_replayable(cassette_path(settings, nodeid), settings, nodeid)
            except UsageError as exc:
                stale += "stale" in str(exc)
                missing += "stale" not in str(exc)
        tracked = subprocess.run(
            ["git", "ls-files", "cassettes"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        ).stdout.split()
        self.cassettes = {
            "tests": len(nodeids),
            "committed_missing": missing,
            "committed_stale": stale,
            "cassette_files_tracked_by_git": len(tracked),
        }
        if nodeids and not missing and not stale:
            self.cassette_dir = committed
            self.cassettes["source"] = f"committed ({committed.relative_to(REPO_ROOT)})"
            return
        report = self.fresh_dir("record")
        self.cassette_dir = report / "cassettes"
        command = conformance_run(
            report, "--target", "record", "--cassette-dir", str(self.cassette_dir), *self.selection()
        )
        done = timed(command, report / "log")
        junit = read_junit(report / "junit.xml")
        exchanges = sum(exchange_phases(report / "allure-results").values())
        self.cassettes.update(
            source="recorded from the reference sandbox into a scratch dir (committed ones missing or stale)",
            record_wall_s=done.wall_s,
            record_exit_code=done.returncode,
            record_tests={"passed": junit.passed, "failed": junit.failed, "errors": junit.errors},
            record_exchanges=exchanges,
            recorded_interactions=cassette_interactions(self.cassette_dir),
        )
        if done.returncode not in (0, 1):
            self.warnings.append(f"recording the cassettes ended with exit {done.returncode}: replay figures suspect")

    # ------------------------------------------------------------------------------- suite runs

    @contextlib.contextmanager
    def target_args(self, config: SuiteConfig, log: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
        if config.target == "live":
            with stcli.serving(log) as server:  # a fresh `conformance serve` per run, started outside the timing
                args = ["--target", "live", "--base-url", server.base_url, "--provisioner", "control"]
                yield args, clean_env(RATE_LIMIT_ENV)
        elif config.target == "replay":
            assert self.cassette_dir is not None
            args = ["--target", "replay", "--cassette-dir", str(self.cassette_dir)]
            yield args, clean_env()
        else:
            yield ["--target", config.target], clean_env()

    def run_suite(self, config: SuiteConfig) -> SuiteRun:
        report = self.fresh_dir(config.name)
        workers = ["-n", str(config.workers)] if config.workers > 1 else []
        deselect = [arg for nodeid in self.red_replays for arg in ("--deselect", nodeid)]
        with self.target_args(config, report / "serve.log") as (args, env):
            command = conformance_run(
                report,
                *args,
                *workers,
                *self.selection(),
                pytest_args=deselect if config.deselect_red_replays else (),
            )
            done = timed(command, report / "log", env)
        junit = read_junit(report / "junit.xml")
        phases, per_api = exchange_counts(report / "allure-results")
        exchanges = sum(phases.values())
        if config.target == "replay" and not config.deselect_red_replays and not self.red_replays:
            self.red_replays = list(junit.red)
        return SuiteRun(
            wall_s=done.wall_s,
            exit_code=done.returncode,
            exchanges=exchanges,
            exchanges_per_s=round(exchanges / done.wall_s, 2) if done.wall_s else 0.0,
            phases=dict(sorted(phases.items())),
            tests={"passed": junit.passed, "failed": junit.failed, "errors": junit.errors, "skipped": junit.skipped},
            pytest_test_time_s=junit.test_time_s,
            load_start=done.load_start,
            load_end=done.load_end,
            red=junit.red[:20],
            verified_rules=bench_goals.verified_rules(report),
            per_api=per_api,
            verified_per_api=bench_goals.verified_per_api(report),
        )

    # --------------------------------------------------------------------------- property layer

    def property_apis(self) -> list[str]:
        return list(self.apis or APIS)

    def run_project_properties(self) -> dict[str, Any]:
        report = self.fresh_dir("properties-project")
        with stcli.serving(report / "serve.log") as server:
            command = conformance_run(
                report,
                "--target",
                "live",
                "--base-url",
                server.base_url,
                "--provisioner",
                "control",
                "--apis",
                ",".join(self.property_apis()),
                "-k",
                PROPERTY_SELECT,
            )
            done = timed(command, report / "log", clean_env(RATE_LIMIT_ENV))
        junit = read_junit(report / "junit.xml")
        phases = exchange_phases(report / "allure-results", is_property_result)
        return {
            "cases": phases.get("test", 0),
            "exchanges": sum(phases.values()),
            "wall_s": done.wall_s,
            "loop_s": junit.test_time_s,
            "operations": junit.tests,
            "exit_code": done.returncode,
            "tests": {"passed": junit.passed, "failed": junit.failed, "errors": junit.errors},
            "load_start": done.load_start,
            "load_end": done.load_end,
        }

    def run_st(self, max_examples: int) -> dict[str, Any]:
        report = self.fresh_dir("properties-st")
        extra = ["-n", str(max_examples), "--phases", "examples,fuzzing", "--mode", "all", "--seed", str(self.seed)]
        extra += ["--no-shrink", "-w", "1"]  # the project's live property run does not shrink, and is serial
        start_load = load1()
        committed = stcli.configured_dictionaries()
        with stcli.serving(report / "serve.log") as server:
            found: dict[str, list[Any]] = {}
            for api in self.property_apis():
                found.update(stcli.provision(server.base_url, api))
            results = [stcli.run_spec(api, server.base_url, report, extra=extra) for api in self.property_apis()]
        loop = 0.0
        for api in self.property_apis():
            for path in sorted((report / api).glob("*.ndjson")):
                for line in path.read_text().splitlines():
                    if finished := json.loads(line).get("EngineFinished"):
                        loop += float(finished.get("running_time") or 0)
        return {
            "cases": sum(result.cases for result in results),
            "exchanges": sum(result.cases for result in results),
            "wall_s": round(sum(result.elapsed_s for result in results), 3),
            "loop_s": round(loop, 3),
            "specs": len(results),
            "exit_codes": {result.api: result.exit_code for result in results},
            "failures": sum(len(result.failures) for result in results),
            "dictionaries_match": all(committed.get(name) == values for name, values in found.items()),
            "command": "st --config-file schemathesis.toml run specs/<api>.yaml --url <serve> -H <vendor auth> "
            "-H x-sandbox-tenant:st-<api> --report ndjson,junit " + " ".join(extra),
            "load_start": start_load,
            "load_end": load1(),
        }

    def run_generation(self) -> dict[str, Any]:
        report = self.fresh_dir("properties-generation")
        command = [
            sys.executable,
            "-m",
            "conformance.tools.bench",
            "--generation-only",
            "--target",
            "live",
            "--seed",
            str(self.seed),
            "--apis",
            ",".join(self.property_apis()),
        ]
        done = timed(command, report / "log")
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"generation-only run failed (exit {done.returncode}):\n{done.stdout[-3000:]}")
        figures: dict[str, Any] = json.loads(lines[-1])
        return {
            **figures,
            "exchanges": 0,
            "wall_s": done.wall_s,
            "load_start": done.load_start,
            "load_end": done.load_end,
        }


# ------------------------------------------------------------------------------- generation only


def counting_noop(count: list[int]) -> Callable[[Any], None]:
    def noop(case: Any) -> None:
        count[0] += 1

    return noop


def generate_only(apis: Sequence[str], target: str, seed: int) -> dict[str, Any]:
    """Build each operation's Hypothesis test exactly as ``@schema.parametrize()`` does and run it with a no-op.

    Same schema config (``support.load_schema``: seed, max examples, modes, phases), the same explicit
    Hypothesis settings as the property tests, no HTTP. Verified against schemathesis 4.32.5's
    ``schemathesis.pytest._test_builder.build_operation_test`` (a private module: re-check on upgrade).
    """
    import hypothesis.internal.conjecture.providers as providers
    from hypothesis.internal.constants_ast import Constants
    from schemathesis.generation.feedback import FeedbackSources
    from schemathesis.pytest._test_builder import build_operation_test
    from schemathesis.python._constants.orchestrator import make_constants_value_source

    from conformance.suite.properties import support

    # As the properties conftest does: generated data must not depend on the local modules' constants.
    providers._get_local_constants = lambda: Constants()
    support.RUN.seed, support.RUN.target = seed, target
    per_operation: dict[str, int] = {}
    loop = 0.0
    max_examples: int | None = None
    for api in apis:
        schema = support.load_schema(api)
        max_examples = int(schema.config.generation.max_examples)
        feedback = FeedbackSources(constants_value_source=make_constants_value_source(schema))
        for result in schema.get_all_operations():
            operation = result.ok()
            count = [0]
            test = build_operation_test(
                config=schema.config,
                operation=operation,
                test_func=support.PROPERTY_SETTINGS(counting_noop(count)),
                given_kwargs={},
                feedback=feedback,
            )
            started = time.perf_counter()
            test()
            loop += time.perf_counter() - started
            per_operation[f"{api} {operation.label}"] = count[0]
    return {
        "cases": sum(per_operation.values()),
        "loop_s": round(loop, 3),
        "operations": len(per_operation),
        "max_examples": max_examples,
        "per_operation": per_operation,
    }


# ---------------------------------------------------------------------------------------- profile


def package_of(filename: str) -> str:
    """The top-level package a profiled function lives in (``~`` is a builtin)."""
    parts = Path(filename).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1 :]
            return rest[0].removesuffix(".py") if rest else filename
    if "conformance" in parts:
        return "conformance"
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    return "stdlib"


def profile_reference(bench: Bench) -> dict[str, Any]:
    """One serial reference run under cProfile (main thread only: the in-thread sandbox shows as waits)."""
    report = bench.fresh_dir("profile")
    output = report / "run.prof"
    command = conformance_run(report, "--target", "reference", *bench.selection())
    command = [sys.executable, "-m", "cProfile", "-o", str(output), *command[1:]]
    done = timed(command, report / "log")
    stats = pstats.Stats(str(output))
    rows = []
    own: Counter[str] = Counter()
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((cumtime, tottime, ncalls, f"{filename}:{line}({name})"))
        own[package_of(filename)] += tottime
    rows.sort(reverse=True)
    total = sum(own.values()) or 1.0
    return {
        "wall_s": done.wall_s,
        "note": "cProfile sees the main thread only: the reference sandbox's uvicorn thread shows as socket waits",
        "top_cumulative": [
            {"function": fn, "cumulative_s": round(cum, 3), "own_s": round(tot, 3), "calls": calls}
            for cum, tot, calls, fn in rows[:PROFILE_TOP]
        ],
        "top_own": [
            {"function": fn, "own_s": round(tot, 3), "cumulative_s": round(cum, 3), "calls": calls}
            for cum, tot, calls, fn in sorted(rows, key=lambda row: row[1], reverse=True)[:PROFILE_TOP]
        ],
        "own_time_by_package": {pkg: round(s / total, 3) for pkg, s in own.most_common(12)},
    }


# ------------------------------------------------------------------------------------- reporting


def load_range(pairs: Sequence[tuple[float, float]]) -> list[float]:
    """Lowest and highest 1-minute load average seen at the start or end of any run."""
    values = [value for pair in pairs for value in pair]
    return [min(values), max(values)]


def summarise_suite(config: SuiteConfig, runs: list[SuiteRun]) -> dict[str, Any]:
    return {
        "name": config.name,
        "target": config.target,
        "workers": config.workers,
        "description": config.description,
        "subset": "tests that replayed green in the first replay run" if config.deselect_red_replays else "all",
        "runs": [asdict(run) for run in runs],
        "wall_s": spread([run.wall_s for run in runs]),
        "exchanges": spread([run.exchanges for run in runs], 0),
        "exchanges_per_s": spread([run.exchanges_per_s for run in runs]),
        "green": all(run.tests["failed"] == 0 and run.tests["errors"] == 0 for run in runs),
        "load_1min": load_range([(r.load_start, r.load_end) for r in runs]),
    }


def summarise_contender(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "runs": runs,
        "cases": spread([run["cases"] for run in runs], 0),
        "wall_s": spread([run["wall_s"] for run in runs]),
        "loop_s": spread([run["loop_s"] for run in runs]),
        "cases_per_s_wall": spread([run["cases"] / run["wall_s"] for run in runs if run["wall_s"]], 1),
        "cases_per_s_loop": spread([run["cases"] / run["loop_s"] for run in runs if run["loop_s"]], 1),
        "load_1min": load_range([(r["load_start"], r["load_end"]) for r in runs]),
    }


def fmt_spread(values: dict[str, float], digits: int = 1) -> str:
    return " / ".join(f"{values[k]:.{digits}f}" for k in ("min", "median", "max"))


def fmt_load(pair: Sequence[float]) -> str:
    return f"{pair[0]:.1f}–{pair[1]:.1f}"


def markdown(report: dict[str, Any]) -> str:
    runs = report["runs"]
    lines = [
        f"Whole suite (`conformance run`, scenarios + property tests), {runs} run(s), min / median / max:",
        "",
        "| target | workers | tests (passed / failed / errors) | wall s | exchanges | exchanges/s (median) | load 1-min |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["suite"]:
        tests = row["runs"][-1]["tests"]
        outcome = f"{tests['passed']} / {tests['failed']} / {tests['errors']}" + ("" if row["green"] else " ⚠ red")
        subset = " — green subset only" if row["subset"] != "all" else ""
        lines.append(
            f"| {row['description']}{subset} | {row['workers']} | {outcome} | {fmt_spread(row['wall_s'])} | "
            f"{row['exchanges']['median']:.0f} | {row['exchanges_per_s']['median']:.1f} | {fmt_load(row['load_1min'])} |"
        )
    props = report["properties"]
    if props["contenders"]:
        lines += [
            "",
            f"Property layer ({props['operations']} operations, {props['max_examples']} max examples each, "
            "phases examples + fuzzing, positive + negative), min / median / max:",
            "",
            "| contender | cases | wall s | cases/s (wall, median) | in-loop s | cases/s (in loop, median) | load 1-min |",
            "|---|---|---|---|---|---|---|",
        ]
    for row in props["contenders"]:
        lines.append(
            f"| {row['name']} | {row['cases']['median']:.0f} | {fmt_spread(row['wall_s'])} | "
            f"{row['cases_per_s_wall']['median']:.1f} | {fmt_spread(row['loop_s'], 2)} | "
            f"{row['cases_per_s_loop']['median']:.1f} | {fmt_load(row['load_1min'])} |"
        )
    load = report["load_average"]
    lines += [
        "",
        f"Machine: {machine_line(report['machine'])}.",
        f"Load average (1/5/15 min) before {'/'.join(f'{v:.2f}' for v in load['before'])}, "
        f"after {'/'.join(f'{v:.2f}' for v in load['after'])}; {runs} run(s) per figure, interleaved.",
    ]
    if report.get("profile"):
        top = ", ".join(f"{k} {v:.0%}" for k, v in list(report["profile"]["own_time_by_package"].items())[:6])
        lines.append(f"Profile of a serial reference run (own time by package): {top}.")
    lines += bench_goals.exchanges_per_api(report)
    lines += bench_goals.markdown(report)
    lines += [f"Warning: {warning}" for warning in report["warnings"]]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- main


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    runs = 1 if args.quick and args.runs is None else (args.runs or 3)
    apis = [api.strip() for api in args.apis.split(",")] if args.apis else None
    for api in apis or []:
        if api not in APIS:
            raise UsageError(f"unknown API {api!r}; choose from {', '.join(APIS)}")
    work = Path(tempfile.mkdtemp(prefix="conformance-bench-", dir=args.work_dir))
    bench = Bench(work=work, runs=runs, quick=args.quick, apis=apis, select=args.select, seed=args.seed)
    configs = [c for c in suite_configs(args.quick) if not args.configs or c.name in args.configs.split(",")]
    load_before = [round(v, 2) for v in os.getloadavg()]
    started = now()
    sys.stderr.write(f"bench: {runs} run(s), work dir {work}, load {load_before}\n")
    try:
        if any(c.target == "replay" for c in configs):
            bench.prepare_cassettes()
        suite_runs: dict[SuiteConfig, list[SuiteRun]] = {c: [] for c in configs}
        contenders: dict[str, list[dict[str, Any]]] = {}
        project = "project property tests (`conformance run -k properties`, live target → `conformance serve`)"
        st_name = "Schemathesis CLI (`st run` per spec → `conformance serve`)"
        gen_name = "generation only (same Hypothesis tests, no HTTP): ceiling"
        for index in range(runs):
            for config in list(suite_runs):
                sys.stderr.write(f"bench: run {index + 1}/{runs} {config.name} (load {load1()})\n")
                suite_runs[config].append(bench.run_suite(config))
                replay_red = config.target == "replay" and config.workers == 1 and not config.deselect_red_replays
                if replay_red and bench.red_replays and index == 0:
                    subset = SuiteConfig(
                        "replay-green-subset", "replay", 1, config.description, deselect_red_replays=True
                    )
                    suite_runs.setdefault(subset, [])
            # a subset added during run 1 is measured from run 1 on, like every other configuration
            for config, measured in suite_runs.items():
                if config.deselect_red_replays and len(measured) < index + 1:
                    sys.stderr.write(f"bench: run {index + 1}/{runs} {config.name} (load {load1()})\n")
                    measured.append(bench.run_suite(config))
            if not args.no_properties:
                sys.stderr.write(f"bench: run {index + 1}/{runs} property layer (load {load1()})\n")
                project_run = bench.run_project_properties()
                generation_run = bench.run_generation()
                st_run = bench.run_st(int(generation_run["max_examples"]))
                for name, measured_run in ((project, project_run), (st_name, st_run), (gen_name, generation_run)):
                    contenders.setdefault(name, []).append(measured_run)
        serve: list[dict[str, Any]] = []
        for index in range(runs):
            for judge in (True, False):
                sys.stderr.write(f"bench: run {index + 1}/{runs} serve throughput, judge {judge} (load {load1()})\n")
                load_start = load1()
                throughput = serve_throughput(judge=judge)
                serve.append({**throughput, "load_1min": [load_start, load1()]})
        sessions: dict[str, Any] = {}
        if args.sessions:
            env = clean_env()
            sys.stderr.write(f"bench: the mutation run (load {load1()})\n")
            command = [sys.executable, "-m", SESSION_MODULES["mutants"], "--report-dir", str(work / "mutants")]
            sessions["mutants"] = bench_goals.timed_session(command, REPO_ROOT, work / "mutants.log", env)
            sys.stderr.write(f"bench: the quick test session (load {load1()})\n")
            command = [sys.executable, "-m", SESSION_MODULES["tests"], "-n", "2", "-m", "not slow", "-q"]
            command += ["-p", "no:cacheprovider"]
            sessions["tests_session"] = bench_goals.timed_session(command, REPO_ROOT, work / "tests.log", env)
        profile = None
        reference = next((runs_ for c, runs_ in suite_runs.items() if c.name == "reference" and runs_), None)
        if args.profile or (reference and statistics.median(r.wall_s for r in reference) > PROFILE_THRESHOLD_S):
            sys.stderr.write("bench: profiling a serial reference run\n")
            profile = profile_reference(bench)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    suite = [summarise_suite(c, r) for c, r in suite_runs.items() if r]
    for row in suite:
        if not row["green"]:
            bench.warnings.append(
                f"{row['name']}: not green ({row['runs'][-1]['tests']}); its time includes failure handling"
            )
    contender_rows = [summarise_contender(name, measured) for name, measured in contenders.items()]
    generation = contenders.get(gen_name, [{}])[0]
    for run in contenders.get(st_name, []):
        if any(run["exit_codes"].values()) or run["failures"]:
            bench.warnings.append(f"st run reported failures ({run['failures']}) or exit codes {run['exit_codes']}")
            break
    return {
        "schema": 1,
        "started_at": started,
        "finished_at": now(),
        "quick": args.quick,
        "runs": runs,
        "seed": args.seed,
        "selection": {"apis": apis, "select": args.select},
        "machine": machine(),
        "load_average": {"before": load_before, "after": [round(v, 2) for v in os.getloadavg()]},
        "method": {
            "wall_time": "perf_counter around each subprocess (interpreter start, collection, run, reports)",
            "exchanges": EXCHANGE_COUNTING,
            "live": "fresh `conformance serve --seed 0` per run, started before the timing; rate limits lifted "
            f"({', '.join(RATE_LIMIT_ENV)})",
            "property_cases": "project: test-phase exchanges of the property tests (setup exchanges excluded); "
            "st: interactions with a response in its NDJSON report; generation: calls of the no-op test",
            "in_loop": "project: sum of JUnit test times; st: sum of EngineFinished.running_time; "
            "generation: time inside the Hypothesis tests",
            "interleaving": "run i of every configuration before run i+1 of any",
        },
        "collect_only_wall_s": bench.collect_only_wall_s,
        "cassettes": bench.cassettes,
        "suite": suite,
        "properties": {
            "max_examples": generation.get("max_examples"),
            "operations": generation.get("operations"),
            "select": PROPERTY_SELECT,
            "contenders": contender_rows,
        },
        "profile": profile,
        "serve": serve,
        "sessions": sessions,
        "warnings": bench.warnings,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m conformance.tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="repetitions per figure (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="serial configurations only, 1 run (about 3 minutes)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="JSON report (default reports/bench.json)")
    parser.add_argument("--configs", help="comma-separated suite configurations to run (default: all of the mode)")
    parser.add_argument("--apis", help="restrict every run to these APIs (comma-separated)")
    parser.add_argument("-k", "--select", help="pytest -k expression for the whole-suite runs")
    parser.add_argument("--no-properties", action="store_true", help="skip the property-layer comparison")
    parser.add_argument(
        "--sessions", action="store_true", help="also time the mutation run and the quick test session (long)"
    )
    parser.add_argument("--profile", action="store_true", help="profile a serial reference run whatever its time")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--work-dir", help="where scratch report dirs go (default: the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch report dirs")
    parser.add_argument("--generation-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--target", default="live", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.generation_only:
        apis = [api.strip() for api in args.apis.split(",")] if args.apis else list(APIS)
        sys.stdout.write(json.dumps(generate_only(apis, args.target, args.seed)) + "\n")
        return 0
    if args.runs is not None and args.runs < 1:
        sys.stderr.write("bench: --runs must be at least 1\n")
        return 2
    try:
        report = run_bench(args)
    except UsageError as exc:
        sys.stderr.write(f"bench: error: {exc}\n")
        return 2
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stdout.write(markdown(report) + "\n")
    sys.stdout.write(f"bench: wrote {output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The mutation run: does the suite notice when the reference sandbox breaks one documented rule?

For each gap profile of the sandbox (``faithful``, ``alternate``: the sandbox's own choices where the
pages are silent, and other choices the pages equally allow) one pytest process collects the suite
once and runs all of it against the sandbox without a deviation: it must report no violation, inferred
ones included (a failure there is a false alarm). The same process then gives its running sandbox each
deviation of :data:`conformance.sandbox.deviations.DEVIATIONS` in turn, every tenant forgotten, and
runs only the tests that judged the deviation's rule in the faithful part (all the tests of the
deviation's API when none did): :mod:`conformance.tools.mutants_loop`. A deviation that survives there,
or whose pass went wrong, is tried again the slow way, in a fresh process of its own with
``--deviation`` (``--isolated`` runs every deviation so). The faithful suite also runs once more per
extra seed and profile, so "no false violation" holds over three seeds.

A deviation is *killed* under a profile when its rule is ``violated`` or ``violated-inferred`` and the
run would exit 1; other rules violated with it are reported as collateral. Runs use
``--strict-inferred`` and a poll deadline of :data:`POLL_DEADLINE_S` (the sandbox finishes its
asynchronous work within a few reads, so the deadline only bounds a job that never finishes). Writes
``reports/mutants.json`` and exits non-zero on any survivor or false alarm.

Each process has its own report directory under ``reports/mutants/``; plugin autoloading is off and
only the plugins the suite needs are loaded. ``python -m conformance.tools.mutants --help``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.apis import APIS
from conformance.rules import active_rules
from conformance.sandbox.deviations import DEVIATIONS, UNBREAKABLE, Deviation
from conformance.settings import child_environment

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "conformance" / "suite"
SEEDS = (20261122, 20261123, 20261124)
PROFILES = ("faithful", "alternate")
PLUGINS = (
    "conformance.libraries",
    "conformance.pytest_plugin",
    "_hypothesis_pytestplugin",
    "schemathesis.pytest.plugin",
)
CAUGHT = ("violated", "violated-inferred")
LOOP_OUT = "deviations.json"
RUN_TIMEOUT_S = 900
POLL_DEADLINE_S = 3.0
LOOP_PLUGIN = "conformance.tools.mutants_loop"


@dataclass
class RunResult:
    label: str
    exit_code: int
    seconds: float
    verdicts: dict[str, str] = field(default_factory=dict)
    tests: dict[str, list[str]] = field(default_factory=dict)  # rule -> the tests that judged it
    error: str = ""
    defects: list[str] = field(default_factory=list)  # tests that failed without a Finding
    # What the same process found for each deviation it tried after the faithful run (Plan.loop).
    loop: dict[str, RunResult] = field(default_factory=dict)
    ran: tuple[str, ...] = ()  # the tests a loop pass ran

    def caught(self, rule: str) -> bool:
        return not self.error and self.verdicts.get(rule) in CAUGHT and self.exit_code == 1

    @property
    def violated(self) -> list[str]:
        return sorted(rule for rule, verdict in self.verdicts.items() if verdict in CAUGHT)


@dataclass(frozen=True)
class Plan:
    """One suite run: the sandbox's profile and deviation, and which tests."""

    label: str
    profile: str
    seed: int | None = None
    deviation: str | None = None
    apis: str | None = None
    tests: tuple[str, ...] = ()
    select: str | None = None
    # Deviations to try after the faithful run, in the same process (conformance.tools.mutants_loop).
    loop: tuple[str, ...] = ()


def pytest_command(report_dir: Path, plan: Plan) -> list[str]:
    targets = list(plan.tests) or [str(SUITE)]
    command = [sys.executable, "-m", "pytest", *targets, "-c", str(SUITE / "conformance.ini"), "--rootdir", str(ROOT)]
    command += ["-q", "-p", "no:cacheprovider"]
    for plugin in PLUGINS:
        command += ["-p", plugin]
    command += ["--report-dir", str(report_dir), "--target", "reference", "--strict-inferred"]
    command += ["--gap-profile", plan.profile, "--poll-deadline", str(POLL_DEADLINE_S)]
    if plan.loop:
        command += ["-p", LOOP_PLUGIN, "--mutants-deviations", ",".join(plan.loop)]
        command += ["--mutants-out", str(report_dir / LOOP_OUT), "--tb=no"]
    options = (("--seed", plan.seed), ("--apis", plan.apis), ("--deviation", plan.deviation), ("-k", plan.select))
    for option, value in options:
        if value is not None:
            command += [option, str(value)]
    return command


def run_suite(plan: Plan, report_dir: Path) -> RunResult:
    """One suite run in a subprocess; the verdict of every rule from its conformance.json."""
    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    env = child_environment(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    started = time.monotonic()
    try:
        done = subprocess.run(
            pytest_command(report_dir, plan),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return RunResult(plan.label, -1, time.monotonic() - started, error=f"timed out after {RUN_TIMEOUT_S} s")
    seconds = time.monotonic() - started
    (report_dir / "pytest.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    matrix_path = report_dir / "conformance.json"
    if not matrix_path.is_file():
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        return RunResult(plan.label, done.returncode, seconds, error="no conformance.json: " + " | ".join(tail))
    matrix = json.loads(matrix_path.read_text(encoding="utf-8"))
    verdicts = {row["rule_id"]: row["verdict"] for row in matrix["rows"]}
    tests = {row["rule_id"]: list(row.get("tests") or []) for row in matrix["rows"]}
    defects = matrix.get("tests", {}).get("defects") or []
    loop = loop_results(report_dir / LOOP_OUT) if plan.loop else {}
    return RunResult(plan.label, done.returncode, seconds, verdicts, tests, defects=list(defects), loop=loop)


def loop_results(path: Path) -> dict[str, RunResult]:
    """The deviations a process tried after its faithful run; none when it did not get that far."""
    if not path.is_file():
        return {}
    tried = json.loads(path.read_text(encoding="utf-8"))["deviations"]
    return {
        name: RunResult(
            name,
            int(row.get("exit_code", -1)),
            float(row.get("seconds", 0.0)),
            dict(row.get("verdicts") or {}),
            error=str(row.get("error") or ""),
            defects=list(row.get("defects") or []),
            ran=tuple(row.get("tests") or ()),
        )
        for name, row in tried.items()
    }


def selectable(test_id: str) -> str:
    """A pytest argument that selects ``test_id``: Schemathesis' generated items are found only through their module."""
    path, _, name = test_id.partition("::")
    return path if "/properties/" in path and "[" in name else test_id


def deviation_plan(deviation: Deviation, profile: str, faithful: RunResult, select: str | None) -> Plan:
    """Only the tests that judged the deviation's rule in the profile's faithful run, else its API's tests."""
    tests = tuple(sorted({selectable(test) for test in faithful.tests.get(deviation.rule_id) or ()}))
    return Plan(
        f"{deviation.name} ({profile})",
        profile,
        deviation=deviation.name,
        apis=deviation.api,
        tests=tests,
        select=None if tests else select,
    )


def run_deviation(plan: Plan, rule: str, runs: Path) -> RunResult:
    """A run broken by suite defects that missed the rule runs once more (a transient defect is no survivor)."""
    directory = runs / plan.profile / str(plan.deviation)
    result = run_suite(plan, directory)
    if result.verdicts.get(rule) not in CAUGHT and (result.defects or result.error):
        result = run_suite(plan, directory)
    return result


@dataclass
class Outcome:
    deviation: str
    profile: str
    rule: str
    kind: str
    api: str
    killed: bool
    verdict: str
    exit_code: int
    collateral: list[str]
    seconds: float
    tests: int
    why: str = ""
    defects: list[str] = field(default_factory=list)
    # "shared process" (after the faithful run, conformance.tools.mutants_loop) or "own process".
    process: str = "own process"


def judge(deviation: Deviation, plan: Plan, result: RunResult) -> Outcome:
    verdict = result.verdicts.get(deviation.rule_id, "missing")
    killed = verdict in CAUGHT
    why = ""
    if result.error:
        why = f"the run failed: {result.error}"
    elif not killed and result.defects:
        why = (
            f"the run had {len(result.defects)} suite defect(s) (tests failing without a finding): {result.defects[0]}"
        )
    elif not killed:
        why = f"the suite recorded {verdict!r} for {deviation.rule_id}: no scenario or check of it saw the deviation"
    elif result.exit_code != 1:
        why = f"the rule was caught but the run exited {result.exit_code}, not 1"
        killed = False
    collateral = [rule for rule in result.violated if rule != deviation.rule_id]
    return Outcome(
        deviation.name,
        plan.profile,
        deviation.rule_id,
        deviation.kind,
        deviation.api,
        killed,
        verdict,
        result.exit_code,
        collateral,
        round(result.seconds, 1),
        len(plan.tests),
        why,
        result.defects,
        "shared process" if plan.loop else "own process",
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m conformance.tools.mutants", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated deviation names (default: all)")
    parser.add_argument("--profiles", default=",".join(PROFILES), help="comma-separated gap profiles (default: both)")
    parser.add_argument("--workers", type=int, default=2, help="runs in parallel (default 2)")
    parser.add_argument("--report-dir", default="reports", help="mutants.json goes here, each run under <dir>/mutants/")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="seeds of the faithful runs, per profile")
    parser.add_argument("-k", "--select", help="pytest -k expression for the runs that have no bound tests")
    parser.add_argument(
        "--isolated", action="store_true", help="every deviation in a fresh process of its own (slow; for diagnosis)"
    )
    return parser.parse_args(argv)


def chosen(only: str | None) -> list[Deviation]:
    if not only:
        return list(DEVIATIONS.values())
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in DEVIATIONS]
    if unknown:
        raise SystemExit(f"mutants: unknown deviation(s) {', '.join(unknown)}; see conformance/sandbox/deviations.py")
    return [DEVIATIONS[name] for name in names]


def chosen_profiles(text: str) -> list[str]:
    profiles = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in profiles if name not in PROFILES]
    if unknown or not profiles:
        raise SystemExit(f"mutants: unknown gap profile(s) {', '.join(unknown)}; choose from {', '.join(PROFILES)}")
    return profiles


def uncovered_rules() -> list[str]:
    """Active rules with neither a deviation nor an UNBREAKABLE reason."""
    covered = {deviation.rule_id for deviation in DEVIATIONS.values()} | set(UNBREAKABLE)
    return sorted(set(active_rules()) - covered)


def faithful_row(profile: str, seed: int, run: RunResult) -> dict[str, Any]:
    """A faithful run proves "no false violation" only when it completed and passed: any other exit is an error."""
    error = run.error or (f"the faithful run exited {run.exit_code}, not 0" if run.exit_code != 0 else "")
    return {
        "profile": profile,
        "seed": seed,
        "violations": run.violated,
        "exit_code": run.exit_code,
        "seconds": round(run.seconds, 1),
        "defects": run.defects,
        **({"error": error} if error else {}),
    }


def _asynchronous(api: str) -> bool:
    descriptor = APIS.get(api)
    return descriptor is not None and descriptor.asynchronous


def run_all(
    deviations: list[Deviation], profiles: list[str], seeds: list[int], args: argparse.Namespace, runs: Path
) -> tuple[list[dict[str, Any]], list[Outcome]]:
    """Per profile one process runs the faithful suite and then every deviation; the other seeds' faithful
    runs follow, and a deviation that process did not catch is tried again in a process of its own."""
    # Longest first (an asynchronous API's scenarios poll for the end state), so the workers finish together.
    order = sorted(deviations, key=lambda d: (not _asynchronous(d.api), d.api, d.name))
    names = () if args.isolated else tuple(d.name for d in order)
    first, others = seeds[0], seeds[1:]
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        shared = {
            profile: pool.submit(
                run_suite, faithful_plan(profile, first, args.select, names), faithful_dir(runs, profile, first)
            )
            for profile in profiles
        }
        extra = {
            (profile, seed): pool.submit(
                run_suite, faithful_plan(profile, seed, args.select), faithful_dir(runs, profile, seed)
            )
            for profile in profiles
            for seed in others
        }
        faithful = {(profile, first): job.result() for profile, job in shared.items()}
        jobs: dict[tuple[str, str], tuple[Plan, Future[RunResult]]] = {}
        for profile in profiles:
            reference = faithful[(profile, first)]
            for deviation in order:
                tried = reference.loop.get(deviation.name)
                if tried is not None and tried.caught(deviation.rule_id):
                    plan = Plan(
                        f"{deviation.name} ({profile})", profile, deviation=deviation.name, tests=tried.ran, loop=names
                    )
                    jobs[(profile, deviation.name)] = (plan, finished(tried))
                    continue
                plan = deviation_plan(deviation, profile, reference, args.select)
                jobs[(profile, deviation.name)] = (plan, pool.submit(run_deviation, plan, deviation.rule_id, runs))
        faithful |= {key: job.result() for key, job in extra.items()}
        outcomes = [
            judge(deviation, jobs[(profile, deviation.name)][0], jobs[(profile, deviation.name)][1].result())
            for profile in profiles
            for deviation in deviations
        ]
    rows = [faithful_row(profile, seed, faithful[(profile, seed)]) for profile in profiles for seed in seeds]
    return rows, outcomes


def faithful_plan(profile: str, seed: int, select: str | None, loop: tuple[str, ...] = ()) -> Plan:
    return Plan(f"faithful {profile} seed {seed}", profile, seed=seed, select=select, loop=loop)


def faithful_dir(runs: Path, profile: str, seed: int) -> Path:
    return runs / profile / f"no-deviation-{seed}"


def finished(result: RunResult) -> Future[RunResult]:
    done: Future[RunResult] = Future()
    done.set_result(result)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    deviations = chosen(args.only)
    profiles = chosen_profiles(args.profiles)
    out = Path(args.report_dir)
    runs = out / "mutants"
    seeds = [int(seed) for seed in args.seeds.split(",") if seed.strip()]
    if not seeds:
        raise SystemExit("mutants: --seeds names no seed; give at least one (the faithful runs need it)")
    started = time.monotonic()
    write = sys.stdout.write
    write(
        f"mutants: gap profiles {', '.join(profiles)}: {len(seeds)} faithful run(s) and {len(deviations)} "
        f"deviation(s) each, {args.workers} worker(s)\n"
    )
    faithful_rows, outcomes = run_all(deviations, profiles, seeds, args, runs)
    elapsed = time.monotonic() - started
    for o in outcomes:
        mark = "killed " if o.killed else "SURVIVED"
        extra = f"  (+ collateral: {', '.join(o.collateral)})" if o.collateral else ""
        write(f"  {mark} {o.profile:9} {o.deviation:45} {o.rule}{extra}\n")
    killed = [o for o in outcomes if o.killed]
    survivors = [o for o in outcomes if not o.killed]
    false_alarms = [row for row in faithful_rows if row["violations"] or row["defects"] or row.get("error")]
    kill_rate = round(len(killed) / len(outcomes), 4) if outcomes else 1.0
    report = {
        "kill_rate": kill_rate,
        "profiles": {
            profile: {
                "kill_rate": round(
                    sum(o.killed for o in outcomes if o.profile == profile)
                    / max(1, sum(o.profile == profile for o in outcomes)),
                    4,
                ),
                "false_violations": sorted(
                    {rule for row in faithful_rows if row["profile"] == profile for rule in row["violations"]}
                ),
                "survivors": [o.deviation for o in survivors if o.profile == profile],
            }
            for profile in profiles
        },
        "killed": sorted(
            {o.deviation for o in killed if all(k.killed for k in outcomes if k.deviation == o.deviation)}
        ),
        "survivors": [
            {"deviation": o.deviation, "profile": o.profile, "rule": o.rule, "why": o.why} for o in survivors
        ],
        "faithful": faithful_rows,
        "collateral": {f"{o.deviation} ({o.profile})": o.collateral for o in outcomes if o.collateral},
        "by_kind": dict(sorted(Counter(o.kind for o in outcomes if o.profile == profiles[0]).items())),
        "unbreakable": UNBREAKABLE,
        "uncovered_rules": uncovered_rules(),
        "runs": [asdict(o) for o in outcomes],
        "select": args.select,
        "workers": args.workers,
        "processes": dict(Counter(o.process for o in outcomes)),
        "seconds": round(elapsed, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    target = out / "mutants.json"
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    temporary.replace(target)
    for row in faithful_rows:
        problem = f"FAILED: violations {row['violations']}, defects {row['defects']} {row.get('error', '')}"
        state = "ok" if row not in false_alarms else problem
        write(f"no deviation, profile {row['profile']}, seed {row['seed']}: {state} ({row['seconds']} s)\n")
    write(
        f"kill rate {kill_rate:.1%}: {len(killed)}/{len(outcomes)} killed, {len(survivors)} survived; "
        f"{len(UNBREAKABLE)} rule(s) unbreakable from outside\n"
    )
    shared = sum(o.process == "shared process" for o in outcomes)
    write(
        f"{shared} deviation run(s) judged in the shared processes, {len(outcomes) - shared} in processes of their own\n"
    )
    for o in survivors:
        write(f"survivor {o.deviation} under {o.profile} ({o.rule}): {o.why}\n")
    write(f"wall time {elapsed:.0f} s; report {target}\n")
    return 1 if survivors or false_alarms else 0


if __name__ == "__main__":
    sys.exit(main())

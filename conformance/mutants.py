"""The mutation run: does the suite notice when the reference sandbox breaks one documented rule?

Runs the suite against the faithful sandbox over three seeds (each must report no violation), then
once per deviation of :data:`conformance.sandbox.deviations.DEVIATIONS` with only the tests of the
deviation's API; a deviation is *killed* when the run's ``conformance.json`` says its rule is
``violated``. Other rules violated in that run are reported as collateral (a scenario of another
rule that depends on the broken behaviour). Writes ``reports/mutants.json`` and exits non-zero on
any survivor or any violation of the faithful sandbox.

Each run is a subprocess (nested pytest in one process is fragile) with its own report directory
under ``reports/mutants/``; plugin autoloading is off and only the plugins the suite needs are
loaded, which makes a run start in about a second. ``python -m conformance.mutants --help``.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.rules import active_rules
from conformance.sandbox.deviations import DEVIATIONS, UNBREAKABLE, Deviation
from conformance.settings import child_environment

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "conformance" / "suite"
SEEDS = (20261122, 7, 424242)
PLUGINS = ("conformance.pytest_plugin", "_hypothesis_pytestplugin", "schemathesis.pytest.plugin")
RUN_TIMEOUT_S = 600


@dataclass
class RunResult:
    label: str
    exit_code: int
    seconds: float
    verdicts: dict[str, str] = field(default_factory=dict)
    error: str = ""
    defects: list[str] = field(default_factory=list)  # tests that failed without a Finding

    @property
    def violated(self) -> list[str]:
        return sorted(rule for rule, verdict in self.verdicts.items() if verdict == "violated")


def pytest_command(
    report_dir: Path, *, seed: int | None, apis: str | None, deviation: str | None, select: str | None
) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(SUITE), "-c", str(SUITE / "conformance.ini"), "--rootdir", str(ROOT)]
    command += ["-q", "-p", "no:cacheprovider"]
    for plugin in PLUGINS:
        command += ["-p", plugin]
    command += ["--report-dir", str(report_dir), "--target", "reference"]
    for option, value in (("--seed", seed), ("--apis", apis), ("--deviation", deviation), ("-k", select)):
        if value is not None:
            command += [option, str(value)]
    return command


def run_suite(label: str, report_dir: Path, **options: Any) -> RunResult:
    """One suite run in a subprocess; the verdict of every rule from its conformance.json."""
    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    env = child_environment(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    started = time.monotonic()
    try:
        done = subprocess.run(
            pytest_command(report_dir, **options),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return RunResult(label, -1, time.monotonic() - started, error=f"timed out after {RUN_TIMEOUT_S} s")
    seconds = time.monotonic() - started
    (report_dir / "pytest.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    matrix_path = report_dir / "conformance.json"
    if not matrix_path.is_file():
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        return RunResult(label, done.returncode, seconds, error="no conformance.json: " + " | ".join(tail))
    matrix = json.loads(matrix_path.read_text(encoding="utf-8"))
    verdicts = {row["rule_id"]: row["verdict"] for row in matrix["rows"]}
    defects = matrix.get("tests", {}).get("defects") or []
    return RunResult(label, done.returncode, seconds, verdicts, defects=list(defects))


def run_deviation(deviation: Deviation, runs: Path, select: str | None) -> RunResult:
    """The deviation's API under the deviation; a run broken by suite defects that missed the rule runs once more.

    (The suite may be mid-edit by someone else; a transient defect must not pass for a survivor.)
    """
    options: dict[str, Any] = {"seed": None, "apis": deviation.api, "deviation": deviation.name, "select": select}
    result = run_suite(deviation.name, runs / deviation.name, **options)
    if result.verdicts.get(deviation.rule_id) != "violated" and (result.defects or result.error):
        result = run_suite(deviation.name, runs / deviation.name, **options)
    return result


@dataclass
class Outcome:
    deviation: str
    rule: str
    kind: str
    api: str
    killed: bool
    verdict: str
    collateral: list[str]
    seconds: float
    why: str = ""
    defects: list[str] = field(default_factory=list)


def judge(deviation: Deviation, result: RunResult) -> Outcome:
    verdict = result.verdicts.get(deviation.rule_id, "missing")
    killed = verdict == "violated"
    why = ""
    if result.error:
        why = f"the run failed: {result.error}"
    elif not killed and result.defects:
        why = (
            f"the run had {len(result.defects)} suite defect(s) (tests failing without a finding): {result.defects[0]}"
        )
    elif not killed:
        why = f"the suite recorded {verdict!r} for {deviation.rule_id}: no scenario or check of it saw the deviation"
    collateral = [rule for rule in result.violated if rule != deviation.rule_id]
    return Outcome(
        deviation.name,
        deviation.rule_id,
        deviation.kind,
        deviation.api,
        killed,
        verdict,
        collateral,
        round(result.seconds, 1),
        why,
        result.defects,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m conformance.mutants", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated deviation names (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="runs in parallel (default 2)")
    parser.add_argument("--report-dir", default="reports", help="mutants.json goes here, each run under <dir>/mutants/")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="seeds of the faithful runs")
    parser.add_argument("--no-faithful", action="store_true", help="skip the faithful runs")
    parser.add_argument("-k", "--select", help="pytest -k expression for every run (e.g. scenarios)")
    return parser.parse_args(argv)


def chosen(only: str | None) -> list[Deviation]:
    if not only:
        return list(DEVIATIONS.values())
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in DEVIATIONS]
    if unknown:
        raise SystemExit(f"mutants: unknown deviation(s) {', '.join(unknown)}; see conformance/sandbox/deviations.py")
    return [DEVIATIONS[name] for name in names]


def uncovered_rules() -> list[str]:
    """Active rules with neither a deviation nor an UNBREAKABLE reason."""
    covered = {deviation.rule_id for deviation in DEVIATIONS.values()} | set(UNBREAKABLE)
    return sorted(set(active_rules()) - covered)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    deviations = chosen(args.only)
    out = Path(args.report_dir)
    runs = out / "mutants"
    seeds = [] if args.no_faithful else [int(seed) for seed in args.seeds.split(",") if seed.strip()]
    started = time.monotonic()
    write = sys.stdout.write
    write(f"mutants: {len(seeds)} faithful run(s) and {len(deviations)} deviation(s), {args.workers} worker(s)\n")
    # Longest first (Thanx polls its asynchronous jobs), so the two workers finish together.
    order = sorted(deviations, key=lambda d: (d.api != "thanx", d.api, d.name))
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        faithful_jobs = [
            pool.submit(
                run_suite,
                f"faithful seed {seed}",
                runs / f"faithful-{seed}",
                seed=seed,
                apis=None,
                deviation=None,
                select=args.select,
            )
            for seed in seeds
        ]
        jobs = {d.name: pool.submit(run_deviation, d, runs, args.select) for d in order}
        faithful = [job.result() for job in faithful_jobs]
        outcomes: list[Outcome] = []
        for deviation in deviations:
            outcome = judge(deviation, jobs[deviation.name].result())
            outcomes.append(outcome)
            mark = "killed " if outcome.killed else "SURVIVED"
            extra = f"  (+ collateral: {', '.join(outcome.collateral)})" if outcome.collateral else ""
            write(f"  {mark} {deviation.name:45} {deviation.rule_id}{extra}\n")
    elapsed = time.monotonic() - started
    killed = [o for o in outcomes if o.killed]
    survivors = [o for o in outcomes if not o.killed]
    faithful_rows = [
        {
            "seed": seed,
            "violations": run.violated,
            "exit_code": run.exit_code,
            "seconds": round(run.seconds, 1),
            "defects": run.defects,
            **({"error": run.error} if run.error else {}),
        }
        for seed, run in zip(seeds, faithful, strict=True)
    ]
    false_alarms = [row for row in faithful_rows if row["violations"] or row["defects"] or row.get("error")]
    kill_rate = round(len(killed) / len(outcomes), 4) if outcomes else 1.0
    report = {
        "kill_rate": kill_rate,
        "killed": [o.deviation for o in killed],
        "survivors": [{"deviation": o.deviation, "rule": o.rule, "why": o.why} for o in survivors],
        "faithful": faithful_rows,
        "collateral": {o.deviation: o.collateral for o in outcomes if o.collateral},
        "by_kind": dict(sorted(Counter(o.kind for o in outcomes).items())),
        "unbreakable": UNBREAKABLE,
        "uncovered_rules": uncovered_rules(),
        "runs": [asdict(o) for o in outcomes],
        "select": args.select,
        "workers": args.workers,
        "seconds": round(elapsed, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "mutants.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    for row in faithful_rows:
        problem = f"FAILED: violations {row['violations']}, defects {row['defects']} {row.get('error', '')}"
        state = "ok" if row not in false_alarms else problem
        write(f"faithful seed {row['seed']}: {state} ({row['seconds']} s)\n")
    write(
        f"kill rate {kill_rate:.1%}: {len(killed)}/{len(outcomes)} killed, {len(survivors)} survived; "
        f"{len(UNBREAKABLE)} rule(s) unbreakable from outside\n"
    )
    for o in survivors:
        write(f"survivor {o.deviation} ({o.rule}): {o.why}\n")
    write(f"wall time {elapsed:.0f} s; report {out / 'mutants.json'}\n")
    return 1 if survivors or false_alarms else 0


if __name__ == "__main__":
    sys.exit(main())

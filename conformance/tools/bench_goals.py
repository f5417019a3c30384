"""The benchmark's goal table: one row per goal of the performance issue, from one bench run on one machine.

Where two things are compared the row is a ratio of medians measured in the same bench (interleaved runs),
so the machine's load, which moves every figure, largely cancels out. Missing measurements (a ``--quick``
bench, a configuration not selected) read "not measured", never a guessed figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

NOT_MEASURED = "not measured"


def verified_rules(report_dir: Path) -> int:
    """Rules the run's matrix records as verified (0 when the run wrote no matrix)."""
    return sum(verified_per_api(report_dir).values())


def verified_per_api(report_dir: Path) -> dict[str, int]:
    """Verified rules per API in the run's matrix (empty when the run wrote no matrix)."""
    try:
        matrix = json.loads((report_dir / "conformance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    counts: dict[str, int] = {}
    for row in matrix.get("rows", []):
        if row.get("verdict") == "verified":
            counts[str(row.get("api"))] = counts.get(str(row.get("api")), 0) + 1
    return dict(sorted(counts.items()))


def timed_session(command: list[str], cwd: Path, log: Path, env: dict[str, str]) -> dict[str, Any]:
    """Wall time and exit code of one session (the mutation run, the quick test session)."""
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False).returncode
    return {
        "command": " ".join(command[1:]) if command[0] == sys.executable else " ".join(command),
        "wall_s": round(time.perf_counter() - started, 2),
        "exit_code": code,
        "load_1min": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }


def _suite(report: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((row for row in report.get("suite", []) if row["name"] == name), None)


def _median(row: dict[str, Any] | None) -> float | None:
    return None if row is None else float(row["wall_s"]["median"])


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 2) if numerator and denominator else None


def goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each row: what, the measured figure (text), the goal, and whether it is met (None: not measured)."""
    reference, replay = _median(_suite(report, "reference")), _median(_suite(report, "replay"))
    reference_n2 = _median(_suite(report, "reference-n2"))
    fixed = report.get("collect_only_wall_s")
    live = _suite(report, "live")
    rows: list[dict[str, Any]] = []

    def add(what: str, value: float | None, text: str, goal: str, met: bool | None) -> None:
        rows.append({"what": what, "value": value, "measured": text if value is not None else NOT_MEASURED,
                     "goal": goal, "met": met if value is not None else None})  # fmt: skip

    add("`conformance run` (reference, whole suite), median s", reference, f"{reference} s", "≤ 5 s",
        reference is not None and reference <= 5)  # fmt: skip
    add("fixed cost (`conformance run -- --collect-only`), s", fixed, f"{fixed} s", "≤ 1.5 s",
        fixed is not None and fixed <= 1.5)  # fmt: skip
    speedup = _ratio(reference, replay)
    add("replay speed-up (reference median / replay median)", speedup, f"{speedup}×", "≥ 3×",
        speedup is not None and speedup >= 3)  # fmt: skip
    parallel = _ratio(reference, reference_n2)
    add("`-n 2` speed-up (serial median / `-n 2` median, reference)", parallel, f"{parallel}×", "≥ 1.3×",
        parallel is not None and parallel >= 1.3)  # fmt: skip
    per_rule = None
    if live is not None:
        last = live["runs"][-1]
        per_rule = round(last["exchanges"] / last["verified_rules"], 2) if last.get("verified_rules") else None
    text = f"{per_rule} ({live['runs'][-1]['exchanges']} / {live['runs'][-1]['verified_rules']})" if live else ""
    add("exchanges per verified rule (live target)", per_rule, text, "≤ 4", per_rule is not None and per_rule <= 4)
    for key, what, goal, limit in (
        ("mutants", "`nox -s mutants` (the mutation run), s", "≤ 90 s", 90.0),
        ("tests_session", "`nox -s tests` (quick test session), s", "≤ 180 s", 180.0),
    ):
        session = report.get("sessions", {}).get(key)
        value = session["wall_s"] if session else None
        ok = session is not None and session["exit_code"] == 0 and value is not None and value <= limit
        note = f"{value} s (exit {session['exit_code']}, load {session['load_1min']})" if session else ""
        add(what, value, note, goal, ok)
    judged = sorted(serve["requests_per_s"] for serve in report.get("serve", []) if serve["judge_client"])
    value = judged[len(judged) // 2] if judged else None
    add("`conformance serve --judge-client`, 50 concurrent, req/s (median)", value, f"{value} req/s",
        "≥ 1,500 req/s", value is not None and value >= 1500)  # fmt: skip
    return rows


def exchanges_per_api(report: dict[str, Any]) -> list[str]:
    """The live target's exchanges per API (last run): what each vendor's rate limit pays, and the setup beside it."""
    live = _suite(report, "live")
    last: dict[str, Any] = live["runs"][-1] if live else {}
    per_api = last.get("per_api")
    if not per_api:
        return []
    verified = last.get("verified_per_api") or {}
    lines = ["", "Exchanges per API on the live target (last run):", "",
             "| API | vendor calls | provisioner calls (control API) | total | verified rules | per verified rule |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for api, counts in per_api.items():
        vendor, control = counts.get("vendor", 0), counts.get("control", 0)
        rules = verified.get(api, 0)
        per_rule = f"{(vendor + control) / rules:.2f}" if rules else "—"
        lines.append(f"| {api} | {vendor} | {control} | {vendor + control} | {rules} | {per_rule} |")
    return lines


def markdown(report: dict[str, Any]) -> list[str]:
    lines = ["", "Goals of the performance issue (one bench, one machine):", "",
             "| what | measured | goal | met |", "|---|---|---|---|"]  # fmt: skip
    for row in goals(report):
        met = {True: "yes", False: "no", None: "—"}[row["met"]]
        lines.append(f"| {row['what']} | {row['measured']} | {row['goal']} | {met} |")
    for serve in report.get("serve", []):
        judge = "judge on" if serve["judge_client"] else "judge off"
        lines.append(
            f"\n`conformance serve` ({judge}): {serve['requests']} requests over {serve['connections']} connections "
            f"in {serve['wall_s']} s: {serve['requests_per_s']} req/s, p50 {serve['p50_ms']} ms, "
            f"p99 {serve['p99_ms']} ms (load {serve['load_1min']})."
        )
    return lines

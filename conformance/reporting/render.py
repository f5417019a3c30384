"""Human renderings of the matrix: Markdown for the repo or a PR, a terminal summary after every run."""

from __future__ import annotations

from pathlib import Path

from conformance.apis import APIS
from conformance.reporting.matrix import Matrix, Totals

EVIDENCE_NOTE = "Verdicts marked `reference` were won on the project's reference sandbox, not on the vendor."


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _totals_line(name: str, t: Totals) -> str:
    return f"| {name} | {t.rules} | {t.verified} | {t.violated} | {t.skipped} | {t.untested} | {_pct(t.index)} | {_pct(t.score)} |"


def render_markdown(matrix: Matrix) -> str:
    lines = [
        f"# Conformance matrix (target: {matrix.target}, seed: {matrix.seed})",
        "",
        EVIDENCE_NOTE,
        "",
        "| API | rules | verified | violated | skipped | untested | index | score |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_totals_line(api, matrix.totals[api]) for api in [*APIS, "all"] if api in matrix.totals]
    lines += ["", "| API | rule | claim | source | confidence | verdict | evidence | tests |", "|---|---|---|---|---|---|---|---|"]
    for row in matrix.rows:
        claim = row.claim.replace("|", "\\|")
        tests = "<br>".join(t.split("::")[-1] for t in row.tests) or "—"
        evidence = ", ".join(row.evidence) or "—"
        lines.append(
            f"| {row.api} | {row.rule_id} | {claim} | {row.source} | {row.confidence} | {row.verdict} | {evidence} | {tests} |"
        )
    if matrix.undocumented:
        lines += ["", "## Undocumented behaviour (questions for the vendor)", ""]
        lines += [f"- {r.rule_id}: received {r.received} ({r.detail})" for r in matrix.undocumented]
    return "\n".join(lines) + "\n"


def render_summary(matrix: Matrix, paths: list[Path]) -> str:
    header = f"{'API':<20} {'rules':>5} {'verified':>8} {'violated':>8} {'skipped':>7} {'untested':>8} {'index':>6} {'score':>6}"
    lines = [header]
    for api in [*APIS, "all"]:
        t = matrix.totals.get(api)
        if t is None:
            continue
        lines.append(
            f"{api:<20} {t.rules:>5} {t.verified:>8} {t.violated:>8} {t.skipped:>7} {t.untested:>8} {_pct(t.index):>6} {_pct(t.score):>6}"
        )
    lines.append(f"undocumented behaviour: {len(matrix.undocumented)}; hygiene findings: {len(matrix.hygiene)}")
    lines.append(EVIDENCE_NOTE)
    lines += [f"report: {p}" for p in paths]
    return "\n".join(lines)

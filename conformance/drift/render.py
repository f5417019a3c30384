"""Rendering a drift report: Markdown for people, Allure results (one test result per finding) for the dashboard."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from conformance.drift.findings import Finding
from conformance.drift.report import DriftReport, new_uuid

KIND_TITLES = {
    "undocumented-status": "undocumented status code",
    "undocumented-field": "undocumented response field",
    "missing-field": "missing documented field",
    "type-mismatch": "type mismatch",
    "format-mismatch": "format mismatch",
    "enum-mismatch": "enum mismatch",
    "schema-mismatch": "schema constraint broken",
    "undocumented-error-code": "undocumented error code",
    "invalid-request-accepted": "invalid request accepted",
    "rule-violated": "documented rule broken",
    "doc-gap": "behaviour at a documentation gap",
    "doc-conflict": "documentation contradicts itself",
}


def _cell(value: Any, limit: int = 160) -> str:
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(finding: Finding) -> str:
    example = finding.examples[0] if finding.examples else {}
    more = f" (+{finding.count - 1})" if finding.count > 1 else ""
    return f"`{example.get('cassette', '')}#{example.get('interaction', '')}`{more}"


def _cite(src: dict[str, str]) -> str:
    quote = f" \u201c{_cell(src.get('quote', ''), 200)}\u201d" if src.get("quote") else ""
    return f"{src.get('page') or src.get('spec')} \u00a7 {src.get('section', '')}{quote}"


def _source(finding: Finding) -> str:
    rules = "".join(f"; {src['pointer']}: {_cite(src)}" for src in finding.rule_sources)
    return _cite(finding.source) + rules


def _evidence(finding: Finding) -> str:
    hosts = ", ".join(
        f"{e['target']}:{e['host']}" if e["target"] != "reference" else "reference" for e in finding.evidence
    )
    return f"{hosts} {finding.first_seen} \u2192 {finding.last_seen}"


def _finding_rows(findings: list[Finding]) -> list[str]:
    rows = [
        "| id | what | operation | pointer | received / documented | seen | where | evidence | contradicts |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in findings:
        what = KIND_TITLES.get(f.kind, f.kind) + (f" ({', '.join(f.rules)})" if f.rules else "")
        if f.accepted:
            what += f" \u2014 accepted: {f.accepted}"
        rows.append(
            f"| {f.id} | {_cell(what)} | {f.api} {f.operation} | `{f.pointer or '/'}` | "
            f"Received: {_cell(f.received, 80)} / Documented: {_cell(f.documented, 80)} | {f.count} | {_where(f)} | "
            f"{_evidence(f)} | {_source(f)} |"
        )
    return rows


def markdown(report: DriftReport) -> str:
    s = report.summary()
    lines = [
        "# Documentation drift",
        "",
        f"Generated {report.generated} from {report.inputs.get('cassettes', 0)} cassettes, "
        f"{report.inputs.get('judged', 0)} exchanges judged ({report.inputs.get('skipped', 0)} not vendor traffic).",
        "",
        f"**{s['behavioural']} behavioural findings** ({s['behavioural_valid_traffic']} on valid traffic, "
        f"{s['behavioural_fuzzed_input']} on fuzzed invalid input, {s['accepted_by_baseline']} accepted by the "
        f"baseline) \u00b7 {s['questions']} questions for the vendor \u00b7 {s['conflicts']} documentation conflicts "
        f"\u00b7 {s['gaps_observed']} of {s['gaps']} documentation gaps observed \u00b7 exit code {report.exit_code}",
        "",
    ]
    if report.baseline:
        lines += [f"Baseline: {report.baseline}", ""]
    lines += _since(report)
    valid = [f for f in report.findings if not f.fuzzed]
    fuzzed = [f for f in report.findings if f.fuzzed]
    lines += ["## Behaviour against the documentation (valid traffic)", ""]
    lines += _finding_rows(valid) if valid else ["None."]
    lines += ["", "## Behaviour against the documentation (fuzzed invalid input)", ""]
    lines += _finding_rows(fuzzed) if fuzzed else ["None."]
    lines += [
        "",
        "## Questions for the vendor",
        "",
        "One per gap and behaviour; the count is how many exchanges showed it.",
        "",
    ]
    for q in report.questions:
        gap = f" [{q.gap}]" if q.gap else ""
        lines.append(
            f"- **{q.api} {q.operation}**{gap} ({q.count}\u00d7, {q.fuzzed_count} from fuzzed input): "
            f"{_cell(q.question or q.detail, 400)} \u2014 e.g. {_where(q)}"
        )
    lines += ["", "## The documentation contradicts itself (x-doc-conflict)", ""]
    for c in report.conflicts:
        lines.append(
            f"- **{c.id}** ({c.api} {c.operation or 'document'}"
            f"{f'; {c.count} exchanges of the operation recorded' if c.operation else ''}): "
            f"{_cell(c.detail, 400)} Quotes: {_cell(c.documented, 500)} Resolution: {_cell(c.source.get('resolution', ''), 300)}"
        )
    lines += [
        "",
        "## Documentation gaps (x-doc-gap)",
        "",
        "| gap | operation | observed | summary |",
        "|---|---|---|---|",
    ]
    for g in report.gaps:
        lines.append(f"| {g['id']} | {g['api']} {g['operation']} | {g['observed']} | {_cell(g['summary'], 200)} |")
    return "\n".join(lines) + "\n"


def _since(report: DriftReport) -> list[str]:
    if report.since is None:
        return []
    lines = [f"## Since {report.since['report']} ({report.since.get('generated', '')})", ""]
    for section in ("findings", "questions"):
        part = report.since[section]
        lines.append(
            f"- {section}: {len(part['new'])} new ({', '.join(part['new']) or 'none'}); "
            f"{len(part['resolved'])} resolved ({', '.join(r['id'] for r in part['resolved']) or 'none'})"
        )
    return [*lines, ""]


def _status(report: DriftReport, finding: Finding) -> str:
    if finding.category == "behaviour":
        return "skipped" if finding.accepted else "failed"
    if finding.category == "conflict" and report.fail_on_conflicts:
        return "failed"
    return "skipped" if finding.category == "question" else "passed"


def allure_results(report: DriftReport) -> list[dict[str, Any]]:
    """One Allure 2 result per finding, question and conflict; failed exactly for what sets the exit code."""
    now = int(time.time() * 1000)
    out = []
    for finding in [*report.findings, *report.questions, *report.conflicts]:
        title = KIND_TITLES.get(finding.kind, finding.kind)
        message = (
            f"{finding.id}: {title} at {finding.operation} {finding.pointer or '/'}\n"
            f"Received: {finding.received}\nDocumented: {finding.documented}\nSource: {_source(finding)}"
        )
        if finding.question:
            message += f"\nQuestion: {finding.question}"
        out.append(
            {
                "uuid": new_uuid(),
                "historyId": hashlib.md5(finding.id.encode(), usedforsecurity=False).hexdigest(),
                "testCaseId": finding.id,
                "name": f"{title}: {finding.operation} {finding.pointer or ''} {finding.detail[:80]}".strip(),
                "fullName": f"drift.{finding.category}.{finding.id}",
                "status": _status(report, finding),
                "statusDetails": {
                    "message": message,
                    "trace": "\n".join(f"{e['cassette']}#{e['interaction']} @ {e['time']}" for e in finding.examples),
                },
                "stage": "finished",
                "start": now,
                "stop": now,
                "labels": [
                    {"name": "suite", "value": f"drift: {finding.category}"},
                    {"name": "feature", "value": finding.api},
                    {"name": "story", "value": finding.operation or "document"},
                    {"name": "tag", "value": finding.kind},
                    *([{"name": "tag", "value": "fuzzed"}] if finding.fuzzed else []),
                ],
                "parameters": [
                    {"name": "count", "value": str(finding.count)},
                    {"name": "first seen", "value": finding.first_seen},
                    {"name": "last seen", "value": finding.last_seen},
                ],
            }
        )
    return out

"""Human renderings of the matrix: Markdown for the repo or a PR, questions for the vendor, a terminal summary."""

from __future__ import annotations

from pathlib import Path

from conformance.apis import APIS
from conformance.reporting.matrix import Matrix, Row, Totals

COLUMNS = ("rules", "verified", "violated", "violated_inferred", "skipped", "untested", "undocumented", "hygiene")


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def api_title(api: str) -> str:
    return APIS[api].title if api in APIS else api


def evidence_label(evidence: str) -> str:
    """A reference verdict says so: it is the sandbox's, never the vendor's."""
    return "reference (sandbox, not the vendor)" if evidence == "reference" else evidence


def short_test(nodeid: str) -> str:
    """``dir/test_x.py::test_y[POST /a/b]`` → ``test_x.py::test_y[POST /a/b]`` (the brackets keep their slashes)."""
    path, sep, rest = nodeid.partition("::")
    return path.rsplit("/", 1)[-1] + sep + rest


def _verdict_cell(row: Row) -> str:
    return f"{row.verdict}: {row.detail}" if row.detail and row.verdict in ("skipped", "untested") else row.verdict


def _totals_table(matrix: Matrix) -> list[str]:
    lines = [
        "| API | " + " | ".join(c.replace("_", "-") for c in COLUMNS) + " | index | score |",
        "|---|" + "---:|" * (len(COLUMNS) + 2),
    ]
    for api in [*matrix.apis, "all"]:
        t = matrix.totals.get(api)
        if t is not None:
            cells = [str(getattr(t, c)) for c in COLUMNS]
            lines.append(f"| {api} | " + " | ".join(cells) + f" | {_pct(t.index)} | {_pct(t.score)} |")
    return lines


def render_markdown(matrix: Matrix) -> str:
    lines = [
        "# Conformance matrix",
        "",
        f"Target: `{matrix.target}` · seed: {matrix.seed} · suite {matrix.suite_version or '?'} · "
        f"generated {matrix.generated_at or '?'} · matrix format v{matrix.version}",
        "",
        matrix.evidence_note,
        "",
        "[![Conformance at a glance: rules per API coloured by verdict, score across runs](dashboard.png)](dashboard.html)",
        "",
        "Index: share of rules this target could test (verified + violated + violated-inferred). "
        "Score: share of the tested rules that were verified.",
        "",
        matrix.inferred_note
        + (" This run was strict: violated-inferred rules gate it." if matrix.strict else " This run was not strict."),
        "",
        "## Totals per API",
        "",
        *_totals_table(matrix),
        "",
        "## Rules",
        "",
        "| API | rule | claim | source | confidence | verdict | evidence | tests |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in matrix.rows:
        tests = "<br>".join(_cell(short_test(t)) for t in row.tests) or "—"
        evidence = ", ".join(evidence_label(e) for e in row.evidence) or "—"
        lines.append(
            f"| {row.api} | {row.rule_id} | {_cell(row.claim)} | {_cell(row.source)} | {row.confidence} | "
            f"{_cell(_verdict_cell(row))} | {_cell(evidence)} | {tests} |"
        )
    lines += _violations(matrix, "violated", "## Violations")
    lines += _violations(
        matrix,
        "violated-inferred",
        "## Violations of inferred rules (violated-inferred; gating only with --strict)",
    )
    if matrix.undocumented:
        lines += ["", "## Undocumented behaviour (questions for the vendor)", ""]
        lines += [
            f"- {q.api} {q.gap_id}: received `{_cell(q.received)}`"
            + (f" ({_cell(q.note)})" if q.note else "")
            + f" [{evidence_label(q.evidence)}]"
            for q in matrix.undocumented
        ]
    if matrix.hygiene:
        lines += ["", "## HTTP hygiene (no vendor page promises these; never gating)", ""]
        lines += [f"- {h.rule_id} ({h.detail}): {_cell(h.received)} — {short_test(h.test)}" for h in matrix.hygiene]
    return "\n".join(lines) + "\n"


def _violations(matrix: Matrix, verdict: str, title: str) -> list[str]:
    rows = [r for r in matrix.rows if r.verdict == verdict]
    if not rows:
        return []
    lines = ["", title, ""]
    for row in rows:
        lines += [
            f"### {row.rule_id} ({api_title(row.api)})",
            "",
            f"- Claim: {row.claim}",
            f"- Confidence: {row.confidence}",
            f"- Received: `{_cell(row.received or '')}`",
            f"- Documented: `{_cell(row.documented or '')}`",
            f"- Evidence: {', '.join(evidence_label(e) for e in row.evidence)}",
        ]
        if row.curl:
            lines += ["", "```sh", row.curl, "```"]
        lines.append("")
    lines.pop()
    return lines


def render_questions(matrix: Matrix) -> str:
    """``questions-for-vendor.md``: what the target did where the documentation is silent, per API."""
    lines = [
        "# Questions for the vendor",
        "",
        f"Target `{matrix.target}`, generated {matrix.generated_at or '?'}. Each item is behaviour the documentation "
        "does not describe; the suite reports it and never fails on it. Please confirm whether it is intended and "
        "document it.",
    ]
    if matrix.target == "reference":
        lines += [
            "",
            "These observations come from the reference sandbox, not from the vendor: treat them as the "
            "suite's reading of the silence, to be asked, not as the vendor's behaviour.",
        ]
    if not matrix.undocumented:
        return "\n".join([*lines, "", "No undocumented behaviour was observed."]) + "\n"
    for api in [*matrix.apis, "unknown"]:
        questions = [q for q in matrix.undocumented if q.api == api]
        if not questions:
            continue
        lines += ["", f"## {api_title(api)}", ""]
        for n, q in enumerate(questions, 1):
            lines += [
                f"{n}. **{q.gap_id}**: {q.note or 'the documentation is silent here'}.",
                f"   Observed: `{_cell(q.received)}` (evidence: {evidence_label(q.evidence)}; "
                f"{len(q.tests)} test(s): {', '.join(short_test(t) for t in q.tests)}).",
            ]
            if q.curl:
                lines += ["", "   ```sh", f"   {q.curl}", "   ```"]
    return "\n".join(lines) + "\n"


def _summary_line(name: str, t: Totals) -> str:
    return (
        f"{name:<20} {t.rules:>5} {t.verified:>8} {t.violated:>8} {t.violated_inferred:>8} {t.skipped:>7} "
        f"{t.untested:>8} "
        f"{t.undocumented:>6} {_pct(t.index):>6} {_pct(t.score):>6}"
    )


def render_summary(matrix: Matrix, paths: list[Path]) -> str:
    """The table printed after every run: one line per API, then the paths of the reports."""
    header = (
        f"{'API':<20} {'rules':>5} {'verified':>8} {'violated':>8} {'inferred':>8} {'skipped':>7} {'untested':>8} "
        f"{'undoc':>6} {'index':>6} {'score':>6}"
    )
    lines = [f"target: {matrix.target} (seed {matrix.seed})", header, "-" * len(header)]
    lines += [_summary_line(api, matrix.totals[api]) for api in matrix.apis if api in matrix.totals]
    lines += ["-" * len(header), _summary_line("all", matrix.totals["all"])]
    violated = [r.rule_id for r in matrix.rows if r.verdict == "violated"]
    if violated:
        lines.append(f"violated: {', '.join(violated)}")
    inferred = [r.rule_id for r in matrix.rows if r.verdict == "violated-inferred"]
    if inferred:
        gate = "gating: --strict" if matrix.strict else "not gating without --strict"
        lines.append(f"violated-inferred (rules the page implies, not states; {gate}): {', '.join(inferred)}")
    lines.append(
        f"undocumented behaviour: {len(matrix.undocumented)} (questions for the vendor); "
        f"hygiene findings: {len(matrix.hygiene)}"
    )
    if matrix.tests.defects:
        lines.append(f"defects in the suite (failures that are not findings): {len(matrix.tests.defects)}")
    if matrix.target == "reference":
        lines.append("evidence: reference sandbox; these verdicts are not the vendor's")
    lines += [f"report: {p}" for p in paths]
    return "\n".join(lines)

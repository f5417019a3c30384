"""Verdict history: every run appends its (rule, verdict, evidence, time) tuples; ``matrix diff`` lists changes.

``<report-dir>/history.jsonl`` holds one JSON object per rule per run::

    {"time": "2026-05-01T10:00:00Z", "target": "live", "api": "thanx", "rule_id": "THANX-...",
     "verdict": "verified", "evidence": ["live:api.thanx.com@2026-05-01T09:58:00Z"]}

``conformance matrix diff OLD NEW`` compares two ``conformance.json`` files and, where a ``history.jsonl``
sits beside either, says when the old verdict was last seen and the new one first seen (of the new one's
current streak); without history the matrices' own times stand in.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from conformance.files import write_text_atomic
from conformance.reporting.matrix import Matrix, load_matrix

HISTORY_FILE = "history.jsonl"
ABSENT = "absent"
# Worse verdicts first: how a change is classified.
RANK = {"violated": 0, "skipped": 1, "untested": 2, ABSENT: 2, "verified": 3}


class HistoryEntry(BaseModel):
    time: str
    target: str
    api: str
    rule_id: str
    verdict: str
    evidence: list[str] = Field(default_factory=list)


class Change(BaseModel):
    api: str
    rule_id: str
    claim: str
    old: str
    new: str
    kind: Literal["regression", "improvement", "change"]
    old_evidence: list[str]
    new_evidence: list[str]
    old_last_seen: str
    new_first_seen: str


class Diff(BaseModel):
    old: str
    new: str
    old_generated_at: str
    new_generated_at: str
    target: str
    history_used: bool
    changes: list[Change]
    # Rows present in only one of the two runs (another API selection, or a changed catalogue): not compared.
    not_compared: list[str] = Field(default_factory=list)
    coverage_note: str = ""


def append_history(report_dir: Path, matrix: Matrix) -> Path:
    """Add this run's rows; the file is replaced in one step, so a reader never sees half a run."""
    path = report_dir / HISTORY_FILE
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    if before and not before.endswith("\n"):
        before += "\n"  # a torn last line of an older writer stays on its own line
    lines = [
        HistoryEntry(
            time=matrix.generated_at,
            target=matrix.target,
            api=row.api,
            rule_id=row.rule_id,
            verdict=row.verdict,
            evidence=row.evidence,
        ).model_dump_json()
        + "\n"
        for row in matrix.rows
    ]
    return write_text_atomic(path, before + "".join(lines))


def load_history(paths: list[Path]) -> list[HistoryEntry]:
    seen: set[str] = set()
    entries: list[HistoryEntry] = []
    for path in paths:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line.strip() and line not in seen:
                seen.add(line)
                try:
                    entries.append(HistoryEntry.model_validate_json(line))
                except ValueError:
                    continue  # a torn line of an interrupted run is not worth failing a diff for
    entries.sort(key=lambda e: e.time)
    return entries


def _kind(old: str, new: str) -> Literal["regression", "improvement", "change"]:
    a, b = RANK.get(old, 2), RANK.get(new, 2)
    return "regression" if b < a else "improvement" if b > a else "change"


def _seen(entries: list[HistoryEntry], old: str, new: str, old_time: str, new_time: str) -> tuple[str, str]:
    """(last time ``old`` was seen, first time of the streak of ``new`` that reaches ``new_time``)."""
    upto = [e for e in entries if e.time <= new_time] if new_time else entries
    first_new = new_time
    for entry in reversed(upto):
        if entry.verdict != new:
            break
        first_new = entry.time
    earlier = [e.time for e in upto if e.verdict == old and e.time < first_new]
    return (max(earlier) if earlier else old_time), first_new


def diff_matrices(
    old: Matrix, new: Matrix, history: list[HistoryEntry], *, old_name: str = "", new_name: str = ""
) -> Diff:
    old_rows = {r.rule_id: r for r in old.rows}
    new_rows = {r.rule_id: r for r in new.rows}
    by_rule: dict[str, list[HistoryEntry]] = {}
    for entry in history:
        if entry.target == new.target:
            by_rule.setdefault(entry.rule_id, []).append(entry)
    changes: list[Change] = []
    for rid in sorted(old_rows.keys() & new_rows.keys()):
        o, n = old_rows[rid], new_rows[rid]
        old_verdict, new_verdict = o.verdict, n.verdict
        if old_verdict == new_verdict:
            continue
        last_old, first_new = _seen(by_rule.get(rid, []), old_verdict, new_verdict, old.generated_at, new.generated_at)
        changes.append(
            Change(
                api=n.api,
                rule_id=rid,
                claim=n.claim,
                old=old_verdict,
                new=new_verdict,
                kind=_kind(old_verdict, new_verdict),
                old_evidence=o.evidence,
                new_evidence=n.evidence,
                old_last_seen=last_old,
                new_first_seen=first_new,
            )
        )
    changes.sort(key=lambda c: ({"regression": 0, "change": 1, "improvement": 2}[c.kind], c.api, c.rule_id))
    return Diff(
        old=old_name,
        new=new_name,
        old_generated_at=old.generated_at,
        new_generated_at=new.generated_at,
        target=new.target,
        history_used=bool(history),
        changes=changes,
        not_compared=sorted(old_rows.keys() ^ new_rows.keys()),
        coverage_note=coverage_note(old, new),
    )


def coverage_note(old: Matrix, new: Matrix) -> str:
    """Say so when the two runs covered different APIs or rules: their absent rows are not compared."""
    old_apis, new_apis = set(old.apis), set(new.apis)
    old_rules, new_rules = {r.rule_id for r in old.rows}, {r.rule_id for r in new.rows}
    if old_apis == new_apis and old_rules == new_rules:
        return ""
    parts = []
    if only_old := [a for a in old.apis if a not in new_apis]:
        parts.append(f"only the old run covered {', '.join(only_old)}")
    if only_new := [a for a in new.apis if a not in old_apis]:
        parts.append(f"only the new run covered {', '.join(only_new)}")
    shared = old_apis & new_apis
    dropped = sorted(r.rule_id for r in old.rows if r.rule_id not in new_rules and r.api in shared)
    added = sorted(r.rule_id for r in new.rows if r.rule_id not in old_rules and r.api in shared)
    if dropped:
        parts.append(f"rules no longer in the catalogue: {', '.join(dropped)}")
    if added:
        parts.append(f"rules new in the catalogue: {', '.join(added)}")
    absent = len(old_rules ^ new_rules)
    return (
        f"The two runs covered different APIs or rules ({'; '.join(parts)}): the {absent} rule(s) present in only "
        "one of them are not compared, and none of them is counted as a regression."
    )


def render_diff_markdown(diff: Diff) -> str:
    lines = [
        "# Conformance matrix changes",
        "",
        f"From `{diff.old}` ({diff.old_generated_at or '?'}) to `{diff.new}` ({diff.new_generated_at or '?'}), "
        f"target `{diff.target}`"
        + ("" if diff.history_used else "; no history.jsonl found, times are the matrices'")
        + ".",
        "",
    ]
    if diff.coverage_note:
        lines += [f"> {diff.coverage_note}", ""]
    if not diff.changes:
        return "\n".join([*lines, "No rule changed its verdict."]) + "\n"
    lines += [
        f"{sum(c.kind == 'regression' for c in diff.changes)} regression(s), "
        f"{sum(c.kind == 'improvement' for c in diff.changes)} improvement(s), "
        f"{sum(c.kind == 'change' for c in diff.changes)} other change(s).",
        "",
        "| API | rule | change | kind | old verdict last seen | new verdict first seen | evidence now |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in diff.changes:
        lines.append(
            f"| {c.api} | {c.rule_id} | {c.old} → {c.new} | {c.kind} | {c.old_last_seen or '?'} | "
            f"{c.new_first_seen or '?'} | {', '.join(c.new_evidence) or '—'} |"
        )
    return "\n".join(lines) + "\n"


def diff_command(old: Path, new: Path, output_stem: Path | None) -> int:
    """``conformance matrix diff OLD NEW [--output STEM]``: print the Markdown; write STEM.md and STEM.json."""
    old_matrix, new_matrix = load_matrix(old), load_matrix(new)
    history = load_history(sorted({old.parent / HISTORY_FILE, new.parent / HISTORY_FILE}))
    diff = diff_matrices(old_matrix, new_matrix, history, old_name=str(old), new_name=str(new))
    markdown = render_diff_markdown(diff)
    sys.stdout.write(markdown)
    if output_stem is not None:
        output_stem.parent.mkdir(parents=True, exist_ok=True)
        md_path = output_stem.with_name(output_stem.name + ".md")
        json_path = output_stem.with_name(output_stem.name + ".json")
        write_text_atomic(md_path, markdown)
        write_text_atomic(json_path, json.dumps(diff.model_dump(mode="json"), indent=2) + "\n")
        sys.stdout.write(f"written: {md_path}, {json_path}\n")
    return 0

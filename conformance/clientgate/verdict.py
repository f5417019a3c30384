"""The verdict: breaches grouped per rule, with quote and source, and the coverage table; JSON and JUnit XML.

The same traffic gives the same verdict whether it was judged by the pytest fixture, by
``conformance serve --judge-client`` or by ``conformance proxy``: nothing in it depends on time,
host, port or the order in which workers finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from conformance.clientgate.coverage import Tally, coverage_rows
from conformance.clientgate.rules import CLIENT_RULES
from conformance.rules import Rule, load_catalogue

FORMAT = "conformance-clientgate/1"


def merge_parts(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"requests": 0, "breaches": [], "tallies": {}}
    for part in parts:
        merged["requests"] += int(part.get("requests", 0))
        merged["breaches"].extend(part.get("breaches", []))
        for key, counts in part.get("tallies", {}).items():
            tally = merged["tallies"].setdefault(key, {"produced": 0, "handled": 0, "mishandled": 0})
            for field in tally:
                tally[field] += int(counts.get(field, 0))
    return merged


def catalogue_digest(catalogue: dict[str, Rule]) -> str:
    """A fingerprint of the rules judged: a verdict names the catalogue it was judged against."""
    judged = [catalogue[rule.rule_id].model_dump(mode="json") for rule in CLIENT_RULES]
    return hashlib.sha256(json.dumps(judged, sort_keys=True).encode()).hexdigest()


def _group(breaches: list[dict[str, Any]], catalogue: dict[str, Rule]) -> list[dict[str, Any]]:
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for breach in breaches:
        by_rule.setdefault(breach["rule_id"], []).append(breach)
    grouped = []
    for rule_id in sorted(by_rule):
        rule, seen = catalogue[rule_id], by_rule[rule_id]
        # The smallest rendering, not the first to arrive: workers finish in any order.
        example = min(seen, key=lambda b: (b["operation"], b["received"], b["request"]["curl"]))
        grouped.append(
            {
                "rule_id": rule_id,
                "api": rule.api,
                "kind": rule.kind,
                "confidence": rule.confidence,
                "claim": rule.claim,
                "source": f"{rule.source.page} § {rule.source.section}",
                "quote": rule.quote,
                "count": len(seen),
                "operation": example["operation"],
                "received": example["received"],
                "documented": example["documented"],
                "request": example["request"],
            }
        )
    return grouped


def build_verdict(part: dict[str, Any], *, min_coverage: float | None = None) -> dict[str, Any]:
    from conformance import __version__

    catalogue = load_catalogue()
    rows = coverage_rows({k: Tally(**v) for k, v in part["tallies"].items()})
    produced = sum(1 for row in rows if row["produced"])
    percent = round(100.0 * produced / len(rows), 1)
    breaches = _group(part["breaches"], catalogue)
    coverage_ok = min_coverage is None or percent >= min_coverage
    passed = not breaches and coverage_ok
    return {
        "format": FORMAT,
        "conformance_version": __version__,
        "catalogue_sha256": catalogue_digest(catalogue),
        "passed": passed,
        "exit_code": 0 if passed else 1,
        "requests": part["requests"],
        "judged_rules": [rule.rule_id for rule in CLIENT_RULES],
        "breaches": breaches,
        "coverage": {"produced": produced, "total": len(rows), "percent": percent, "rows": rows},
        "min_coverage": min_coverage,
        "coverage_ok": coverage_ok,
    }


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def junit_xml(verdict: dict[str, Any]) -> bytes:
    by_rule = {b["rule_id"]: b for b in verdict["breaches"]}
    cases = list(verdict["judged_rules"])
    suite = ET.Element("testsuite", name="clientgate", tests=str(len(cases) + 1))
    failures = 0
    for rule_id in cases:
        case = ET.SubElement(suite, "testcase", classname="clientgate.request_rules", name=rule_id)
        breach = by_rule.get(rule_id)
        if breach is not None:
            failures += 1
            failure = ET.SubElement(case, "failure", message=f"{rule_id}: {breach['count']} request(s) broke it")
            failure.text = render_breach(breach)
    coverage = verdict["coverage"]
    case = ET.SubElement(suite, "testcase", classname="clientgate.coverage", name="min-coverage")
    if not verdict["coverage_ok"]:
        failures += 1
        ET.SubElement(
            case, "failure", message=f"coverage {coverage['percent']}% below {verdict['min_coverage']}%"
        ).text = render_coverage(verdict)
    suite.set("failures", str(failures))
    return bytes(ET.tostring(suite, encoding="utf-8", xml_declaration=True))


def write_verdict(verdict: dict[str, Any], path: Path) -> tuple[Path, Path]:
    """Write ``path`` (JSON) and the JUnit XML beside it (same stem, ``.xml``), each atomically."""
    xml_path = path.with_suffix(".xml")
    atomic_write(path, (json.dumps(verdict, indent=2, sort_keys=True) + "\n").encode())
    atomic_write(xml_path, junit_xml(verdict))
    return path, xml_path


def render_breach(breach: dict[str, Any]) -> str:
    return (
        f"{breach['rule_id']} ({breach['api']} {breach['operation']}, {breach['confidence']}, x{breach['count']})\n"
        f"  Received:   {breach['received']}\n"
        f"  Documented: {breach['documented']}: {breach['claim']}\n"
        f'  Source:     {breach["source"]}: "{breach["quote"]}"\n'
        f"  Request:    {breach['request']['curl']}"
    )


def render_coverage(verdict: dict[str, Any]) -> str:
    coverage = verdict["coverage"]
    lines = [f"{'api':<18} {'documented vendor behaviour':<62} {'produced':>8} {'handled':>8}"]
    for row in coverage["rows"]:
        if row["observable"] and row["produced"] + row["mishandled"]:
            handled = f"{row['handled']}/{row['handled'] + row['mishandled']}"
        else:
            handled = "-"
        lines.append(f"{row['api']:<18} {row['behaviour']:<62} {row['produced']:>8} {handled:>8}")
    lines.append(f"coverage: {coverage['produced']}/{coverage['total']} behaviours produced ({coverage['percent']}%)")
    return "\n".join(lines)


def render(verdict: dict[str, Any]) -> str:
    head = f"client gate: {verdict['requests']} vendor requests judged against {len(verdict['judged_rules'])} rules"
    parts = [head]
    if verdict["breaches"]:
        parts.append(f"{len(verdict['breaches'])} rule(s) broken by the client:")
        parts.extend(render_breach(b) for b in verdict["breaches"])
    else:
        parts.append("no breach: every request matched the documented request rules")
    parts.append(render_coverage(verdict))
    if not verdict["coverage_ok"]:
        parts.append(f"coverage {verdict['coverage']['percent']}% is below --min-coverage {verdict['min_coverage']}%")
    parts.append("verdict: " + ("PASSED" if verdict["passed"] else "FAILED"))
    return "\n".join(parts)

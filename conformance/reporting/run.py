"""End of a run: merge every worker's verdicts into one matrix, write the reports, summarise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.reporting.matrix import build_matrix, load_records, write_json
from conformance.reporting.render import render_markdown, render_summary
from conformance.rules import active_rules

if TYPE_CHECKING:
    import pytest

    from conformance.settings import Settings


def finish_run(settings: Settings, config: pytest.Config) -> str | None:
    records, bindings = load_records(settings.report_dir / "verdicts")
    if not records and not bindings:
        return None
    matrix = build_matrix(active_rules(), records, bindings, target=settings.target, seed=settings.seed)
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    json_path = settings.report_dir / "conformance.json"
    md_path = settings.report_dir / "conformance.md"
    write_json(matrix, json_path)
    md_path.write_text(render_markdown(matrix), encoding="utf-8")
    return render_summary(matrix, [json_path, md_path])

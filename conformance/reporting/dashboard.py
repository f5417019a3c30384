"""Conformance at a glance: a per-API grid of rules coloured by verdict, and each API's score across runs.

Drawn as a list of shapes (``canvas``), written as ``dashboard.svg`` and ``dashboard.png`` beside
``conformance.md``, and wrapped in a self-contained ``dashboard.html``. The output is deterministic for
the same matrix and history: a fixed font and no date or software metadata.

Every drawn cell carries an SVG id, ``cell--<api>--<rule id>``, and a rule whose verdict changed since
the previous run of the same target is outlined (``changed--<api>--<rule id>``); the trend draws one
line per API (``trend--<api>``) and marks a run where rules changed (``change--<api>--<run>``).
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from conformance.apis import APIS
from conformance.reporting.canvas import Canvas, Diamond, Polyline, Rect, Text, to_png, to_svg
from conformance.reporting.history import HISTORY_FILE, HistoryEntry, load_history
from conformance.reporting.matrix import Matrix

# Distinct colours that stay apart for the common colour-vision deficiencies (Okabe-Ito based).
VERDICT_COLOURS: dict[str, str] = {
    "verified": "#009e73",
    "violated": "#d55e00",
    "violated-inferred": "#cc79a7",
    "skipped": "#f0e442",
    "untested": "#bbbbbb",
}
UNKNOWN_COLOUR = "#000000"
TESTED = ("verified", "violated", "violated-inferred")
TREND_RUNS = 20
ROW_STEP = 1.9
LABEL_UNITS = 15.0
NOTE_UNITS = 12.0
FIGURE_WIDTH_IN = 14.0
NAMED_CHANGES = 3
OUTPUTS = ("dashboard.svg", "dashboard.png", "dashboard.html")
FIGURE_WIDTH_PX = 1400
# Font sizes in pixels (the sizes in points a 100 dpi figure drew before).
TITLE_PX, LABEL_PX, NOTE_PX, TICK_PX = 15.0, 12.5, 9.5, 9.0
TREND_HEIGHT_PX = 190.0


class ApiGrid(BaseModel):
    api: str
    title: str
    rules: list[tuple[str, str]]  # (rule id, verdict), by rule id
    changed: list[str] = Field(default_factory=list)  # rule ids whose verdict differs from the previous run
    index: float
    score: float


class TrendPoint(BaseModel):
    time: str
    score: float
    changed: list[str] = Field(default_factory=list)


class Dashboard(BaseModel):
    target: str
    generated_at: str
    grids: list[ApiGrid]
    trend: dict[str, list[TrendPoint]]


def colour_of(verdict: str) -> str:
    return VERDICT_COLOURS.get(verdict, UNKNOWN_COLOUR)


def _score(verdicts: Iterable[str]) -> float:
    values = list(verdicts)
    tested = sum(v in TESTED for v in values)
    return round(sum(v == "verified" for v in values) / tested, 4) if tested else 0.0


def _runs(matrix: Matrix, history: list[HistoryEntry]) -> list[tuple[str, dict[str, tuple[str, str]]]]:
    """The target's runs, oldest first: (time, rule id -> (api, verdict)); the matrix is the last one."""
    runs: dict[str, dict[str, tuple[str, str]]] = {}
    for entry in history:
        if entry.target == matrix.target:
            runs.setdefault(entry.time, {})[entry.rule_id] = (entry.api, entry.verdict)
    runs[matrix.generated_at] = {row.rule_id: (row.api, row.verdict) for row in matrix.rows}
    ordered = sorted(runs.items())
    cut = next(i for i, (time, _) in enumerate(ordered) if time == matrix.generated_at)
    return ordered[: cut + 1][-TREND_RUNS:]


def _changed(previous: dict[str, tuple[str, str]], current: dict[str, tuple[str, str]], api: str) -> list[str]:
    return sorted(
        rid for rid, (a, verdict) in current.items() if a == api and rid in previous and previous[rid][1] != verdict
    )


def build_dashboard(matrix: Matrix, history: list[HistoryEntry]) -> Dashboard:
    runs = _runs(matrix, history)
    previous = runs[-2][1] if len(runs) > 1 else {}
    current = runs[-1][1]
    grids = []
    for api in matrix.apis:
        totals = matrix.totals.get(api)
        rows = sorted((r for r in matrix.rows if r.api == api), key=lambda r: r.rule_id)
        grids.append(
            ApiGrid(
                api=api,
                title=APIS[api].title if api in APIS else api,
                rules=[(r.rule_id, r.verdict) for r in rows],
                changed=_changed(previous, current, api),
                index=totals.index if totals else 0.0,
                score=totals.score if totals else _score(r.verdict for r in rows),
            )
        )
    trend: dict[str, list[TrendPoint]] = {}
    for api in matrix.apis:
        points = []
        for n, (time, verdicts) in enumerate(runs):
            mine = [verdict for a, verdict in verdicts.values() if a == api]
            if not mine:
                continue
            changed = _changed(runs[n - 1][1], verdicts, api) if n else []
            points.append(TrendPoint(time=time, score=_score(mine), changed=changed))
        if points:
            # The last point is this run: its score is the matrix's own.
            points[-1].score = next(g.score for g in grids if g.api == api)
        trend[api] = points
    return Dashboard(target=matrix.target, generated_at=matrix.generated_at, grids=grids, trend=trend)


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _named(rule_ids: list[str]) -> str:
    shown = ", ".join(rule_ids[:NAMED_CHANGES])
    more = len(rule_ids) - NAMED_CHANGES
    return shown + (f" +{more} more" if more > 0 else "")


def _grid_note(grid: ApiGrid) -> str:
    bad = [f"{rid} {v}" for rid, v in grid.rules if v != "verified"]
    if not bad:
        return "every rule verified"
    shown = "\n".join(bad[:NAMED_CHANGES])
    return shown + (f"\n+{len(bad) - NAMED_CHANGES} more" if len(bad) > NAMED_CHANGES else "")


def _legend(canvas: Canvas, dashboard: Dashboard, y: float) -> None:
    counts = {v: sum(rv == v for g in dashboard.grids for _, rv in g.rules) for v in VERDICT_COLOURS}
    items: list[tuple[str, str | None, str]] = [(c, None, f"{v} ({counts[v]})") for v, c in VERDICT_COLOURS.items()]
    if any(g.changed for g in dashboard.grids):
        items.append(("#ffffff", "#000000", "changed since the previous run"))
    widths = [18 + 0.56 * LABEL_PX * len(label) + 24 for _, _, label in items]
    x = (canvas.width - sum(widths)) / 2
    for (fill, stroke, label), width in zip(items, widths, strict=True):
        canvas.add(Rect(x, y - 6, 13, 13, fill, stroke, 1.0 if stroke else 0.0))
        canvas.add(Text(x + 18, y, label, LABEL_PX))
        x += width


def _draw_grid(canvas: Canvas, dashboard: Dashboard, top: float) -> float:
    """Each API a row of its rules' cells, labelled and noted; returns the y below the legend."""
    width = max((len(g.rules) for g in dashboard.grids), default=1)
    unit = canvas.width * 0.95 / (LABEL_UNITS + width + NOTE_UNITS)
    x0 = canvas.width * 0.025 + LABEL_UNITS * unit
    for i, grid in enumerate(dashboard.grids):
        y = top + i * ROW_STEP * unit
        middle = y + 0.45 * unit
        canvas.add(Text(x0 - 0.8 * unit, middle - 0.3 * unit, grid.title, LABEL_PX, "end", bold=True))
        summary = f"{len(grid.rules)} rules · index {_pct(grid.index)} · score {_pct(grid.score)}"
        canvas.add(Text(x0 - 0.8 * unit, middle + 0.45 * unit, summary, LABEL_PX, "end", colour="#333333"))
        for j, (rule_id, verdict) in enumerate(grid.rules):
            x = x0 + j * unit
            canvas.add(Rect(x, y, 0.9 * unit, 0.9 * unit, colour_of(verdict), gid=f"cell--{grid.api}--{rule_id}"))
            if rule_id in grid.changed:
                mark = Rect(x - 0.06 * unit, y - 0.06 * unit, 1.02 * unit, 1.02 * unit, None, "#000000", 1.8)
                canvas.add(Rect(**{**mark.__dict__, "gid": f"changed--{grid.api}--{rule_id}"}))
        canvas.add(Text(x0 + (width + 0.4) * unit, middle, _grid_note(grid), NOTE_PX))
    bottom = top + (max(len(dashboard.grids), 1) - 1) * ROW_STEP * unit + 0.9 * unit
    _legend(canvas, dashboard, bottom + 0.9 * unit)
    return bottom + 0.9 * unit + 20


def _draw_trend(
    canvas: Canvas, api: str, points: list[TrendPoint], times: list[str], box: tuple[float, float, float, float]
) -> None:
    left, top, w, h = box
    x_max = max(len(times) - 0.5, 0.5)

    def at(x: float, score: float) -> tuple[float, float]:
        return left + w * (x + 0.5) / (x_max + 0.5), top + h * (108 - score) / 113

    for tick in (0, 50, 100):
        _x, y = at(0, tick)
        canvas.add(Polyline(((left, y), (left + w, y)), "#dddddd", 0.8))
        canvas.add(Text(left - 4, y, f"{tick}%", TICK_PX, "end"))
    canvas.add(Rect(left, top, w, h, None, "#000000", 0.8))
    position = {t: n for n, t in enumerate(times)}
    xs = [position[p.time] for p in points]
    ys = [p.score * 100 for p in points]
    canvas.add(Polyline(tuple(at(x, y) for x, y in zip(xs, ys, strict=True)), "#0072b2", 1.5, 2.5, f"trend--{api}"))
    changes = [n for n, p in enumerate(points) if p.changed]
    for n in changes:
        canvas.add(Diamond(*at(xs[n], ys[n]), 10, "#d55e00", gid=f"change--{api}--{xs[n]}"))
    if changes:
        note = "changed:\n" + _named(points[changes[-1]].changed).replace(", ", "\n")
        canvas.add(Text(left + 0.02 * w, top + 0.96 * h, note, TICK_PX, valign="bottom"))
    canvas.add(
        Text(left + w / 2, top - 6, f"{api}: {_pct(points[-1].score) if points else '?'}", LABEL_PX, "middle", "bottom")
    )
    ticks = [0, len(times) - 1] if len(times) > 1 else [0]
    for tick, time in zip(ticks, [times[0], times[-1]][: len(times)], strict=True):
        canvas.add(Text(at(tick, 0)[0], top + h + 5, _short(time), TICK_PX, "middle", "top"))


def _short(time: str) -> str:
    return time.replace("T", "\n").removesuffix("Z")


def layout(dashboard: Dashboard) -> Canvas:
    """The dashboard's shapes: the title, the grid of rules with its legend, a trend panel per API."""
    apis = [g.api for g in dashboard.grids] or ["-"]
    times = sorted({p.time for points in dashboard.trend.values() for p in points}) or [dashboard.generated_at]
    canvas = Canvas(FIGURE_WIDTH_PX, 0)
    title = f"Conformance at a glance: target {dashboard.target}, {dashboard.generated_at}"
    canvas.add(Text(FIGURE_WIDTH_PX / 2, 14, title, TITLE_PX, "middle", "top", bold=True))
    top = _draw_grid(canvas, dashboard, 52) + 40
    left, right, gap = FIGURE_WIDTH_PX * 0.045, FIGURE_WIDTH_PX * 0.99, FIGURE_WIDTH_PX * 0.022
    w = (right - left - gap * (len(apis) - 1)) / len(apis)
    canvas.add(Text(left, top - 28, "score across runs", NOTE_PX, valign="bottom"))
    for k, api in enumerate(apis):
        box = (left + k * (w + gap), top, w, TREND_HEIGHT_PX)
        _draw_trend(canvas, api, dashboard.trend.get(api, []), times, box)
    canvas.height = round(top + TREND_HEIGHT_PX + 56)
    note = "◆ a run where rules changed verdict (named in its panel)"
    canvas.add(Text(right, canvas.height - 6, note, NOTE_PX, "end", "bottom"))
    return canvas


def render(dashboard: Dashboard) -> tuple[bytes, bytes]:
    """The dashboard as (SVG, PNG) bytes."""
    canvas = layout(dashboard)
    return to_svg(canvas), to_png(canvas)


def render_html(dashboard: Dashboard, svg: bytes) -> str:
    """A page that opens anywhere: the SVG inline and, per API, the rules that are not verified."""
    inline = svg.decode("utf-8")
    inline = inline[inline.find("<svg") :]
    sections = []
    for grid in dashboard.grids:
        bad = [(rid, v) for rid, v in grid.rules if v != "verified"]
        items = "".join(
            f'<li><span class="sw" style="background:{colour_of(v)}"></span><code>{html.escape(rid)}</code> {html.escape(v)}'
            + (" (changed)" if rid in grid.changed else "")
            + "</li>"
            for rid, v in bad
        )
        sections.append(
            f"<h2>{html.escape(grid.title)}</h2><p>{len(grid.rules)} rules · index {_pct(grid.index)} · "
            f"score {_pct(grid.score)}</p>" + (f"<ul>{items}</ul>" if items else "<p>Every rule verified.</p>")
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Conformance dashboard: {html.escape(dashboard.target)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}svg{max-width:100%;height:auto}"
        ".sw{display:inline-block;width:.9em;height:.9em;margin-right:.4em;vertical-align:middle}</style>"
        f"</head><body><h1>Conformance at a glance</h1><p>Target <code>{html.escape(dashboard.target)}</code>, "
        f'generated {html.escape(dashboard.generated_at)}. The matrix: <a href="conformance.md">conformance.md</a>.</p>'
        f"{inline}{''.join(sections)}</body></html>\n"
    )


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside ``path`` then rename: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_dashboard(matrix: Matrix, report_dir: Path) -> list[Path]:
    """``dashboard.svg``, ``dashboard.png`` and ``dashboard.html`` under ``report_dir``, from the matrix and history."""
    dashboard = build_dashboard(matrix, load_history([report_dir / HISTORY_FILE]))
    svg, png = render(dashboard)
    svg_path, png_path, html_path = (report_dir / name for name in OUTPUTS)
    write_atomic(svg_path, svg)
    write_atomic(png_path, png)
    write_atomic(html_path, render_html(dashboard, svg).encode("utf-8"))
    return [svg_path, png_path, html_path]

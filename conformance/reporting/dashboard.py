"""Conformance at a glance: a per-API grid of rules coloured by verdict, and each API's score across runs.

Drawn with matplotlib (Agg, no pyplot state) as ``dashboard.svg`` and ``dashboard.png`` beside
``conformance.md``, and wrapped in a self-contained ``dashboard.html``. The output is deterministic for
the same matrix and history: a fixed font, a fixed SVG hash salt and no date or software metadata.

Every drawn cell carries an SVG id, ``cell--<api>--<rule id>``, and a rule whose verdict changed since
the previous run of the same target is outlined (``changed--<api>--<rule id>``); the trend draws one
line per API (``trend--<api>``) and marks a run where rules changed (``change--<api>--<run>``).
"""

from __future__ import annotations

import html
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from matplotlib.axes import Axes

from conformance.apis import APIS
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
RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "svg.hashsalt": "conformance-dashboard",
    "svg.fonttype": "none",
    "path.simplify": False,
}


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


def _draw_grid(ax: Axes, dashboard: Dashboard) -> None:
    from matplotlib.patches import Patch, Rectangle

    width = max((len(g.rules) for g in dashboard.grids), default=1)
    for i, grid in enumerate(dashboard.grids):
        y = -i * ROW_STEP
        ax.text(-0.8, y + 0.3, grid.title, ha="right", va="center", fontweight="bold")
        summary = f"{len(grid.rules)} rules · index {_pct(grid.index)} · score {_pct(grid.score)}"
        ax.text(-0.8, y - 0.45, summary, ha="right", va="center", color="#333333")
        for j, (rule_id, verdict) in enumerate(grid.rules):
            cell = Rectangle((j, y - 0.45), 0.9, 0.9, facecolor=colour_of(verdict), edgecolor="none")
            cell.set_gid(f"cell--{grid.api}--{rule_id}")
            ax.add_artist(cell)  # limits are set below: no per-patch data-limit update
            if rule_id in grid.changed:
                mark = Rectangle((j - 0.06, y - 0.51), 1.02, 1.02, fill=False, edgecolor="#000000", linewidth=1.8)
                mark.set_gid(f"changed--{grid.api}--{rule_id}")
                ax.add_artist(mark)
        ax.text(width + 0.4, y, _grid_note(grid), ha="left", va="center", fontsize=7, linespacing=1.1)
    counts = {v: sum(rv == v for g in dashboard.grids for _, rv in g.rules) for v in VERDICT_COLOURS}
    handles = [Patch(facecolor=c, label=f"{v} ({counts[v]})") for v, c in VERDICT_COLOURS.items()]
    if any(g.changed for g in dashboard.grids):
        handles.append(Patch(facecolor="white", edgecolor="black", label="changed since the previous run"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=len(handles), frameon=False)
    ax.set_xlim(-LABEL_UNITS, width + NOTE_UNITS)
    ax.set_ylim(-(len(dashboard.grids) - 1) * ROW_STEP - 0.9, 0.9)
    ax.set_aspect("equal")
    ax.axis("off")


def _draw_trend(ax: Axes, api: str, points: list[TrendPoint], times: list[str]) -> None:
    position = {t: n for n, t in enumerate(times)}
    xs = [position[p.time] for p in points]
    ys = [p.score * 100 for p in points]
    (line,) = ax.plot(xs, ys, marker=".", color="#0072b2", linewidth=1.5)
    line.set_gid(f"trend--{api}")
    changes = [n for n, p in enumerate(points) if p.changed]
    for n in changes:
        (mark,) = ax.plot([xs[n]], [ys[n]], marker="D", markersize=7, color="#d55e00", markeredgecolor="black")
        mark.set_gid(f"change--{api}--{xs[n]}")
    if changes:
        last = points[changes[-1]]
        ax.text(
            0.02,
            0.04,
            "changed:\n" + _named(last.changed).replace(", ", "\n"),
            transform=ax.transAxes,
            fontsize=6.5,
            va="bottom",
            linespacing=1.1,
        )
    ax.set_title(f"{api}: {_pct(points[-1].score) if points else '?'}", fontsize=8.5)
    ax.set_xticks(
        [0, len(times) - 1] if len(times) > 1 else [0],
        [_short(times[0]), _short(times[-1])][: len(times)],
        fontsize=6.5,
    )
    ax.set_xlim(-0.5, max(len(times) - 0.5, 0.5))
    ax.set_ylim(-5, 108)
    ax.set_yticks([0, 50, 100], ["0%", "50%", "100%"], fontsize=7)
    ax.grid(axis="y", color="#dddddd")


def _short(time: str) -> str:
    return time.replace("T", "\n").removesuffix("Z")


def render(dashboard: Dashboard) -> tuple[bytes, bytes]:
    """The dashboard as (SVG, PNG) bytes."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    apis = [g.api for g in dashboard.grids] or ["-"]
    times = sorted({p.time for points in dashboard.trend.values() for p in points})
    with rc_context(RC):  # type: ignore[arg-type]  # matplotlib types rc keys as Literals
        width = max((len(g.rules) for g in dashboard.grids), default=1)
        unit_in = FIGURE_WIDTH_IN * 0.95 / (LABEL_UNITS + width + NOTE_UNITS)
        grid_height = (len(dashboard.grids) * ROW_STEP + 0.2) * unit_in + 0.5
        figure = Figure(figsize=(FIGURE_WIDTH_IN, grid_height + 3.4), dpi=100)
        FigureCanvasAgg(figure)
        layout = figure.add_gridspec(2, len(apis), height_ratios=[grid_height, 2.2], hspace=0.45, wspace=0.3)
        figure.subplots_adjust(left=0.045, right=0.99, top=1 - 0.5 / (grid_height + 3.4), bottom=0.08)
        figure.suptitle(
            f"Conformance at a glance: target {dashboard.target}, {dashboard.generated_at}", fontweight="bold"
        )
        _draw_grid(figure.add_subplot(layout[0, :]), dashboard)
        for k, api in enumerate(apis):
            ax = figure.add_subplot(layout[1, k])
            if k == 0:
                ax.set_ylabel("score across runs", fontsize=8)
            _draw_trend(ax, api, dashboard.trend.get(api, []), times or [dashboard.generated_at])
        figure.text(0.99, 0.005, "◆ a run where rules changed verdict (named in its panel)", ha="right", fontsize=7)
        svg, png = io.BytesIO(), io.BytesIO()
        figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
        figure.savefig(png, format="png", metadata={"Software": None})
    return svg.getvalue(), png.getvalue()


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

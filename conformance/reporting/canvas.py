"""A small drawing: rectangles, polylines, diamonds and text, written as SVG by hand and as PNG with Pillow.

The dashboard is drawn at the end of every run. Importing and running matplotlib for it cost a second
or more of each run (more than a collect-only run spent on anything else); these few primitives are
all it draws. Both outputs come from the same list of shapes, so the SVG and the PNG show the same
thing, and both are deterministic: no date, no software name, the same bytes for the same shapes.
"""

from __future__ import annotations

import html
import importlib.util
import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

Anchor = Literal["start", "middle", "end"]
VAlign = Literal["top", "middle", "bottom"]
LINE_HEIGHT = 1.2
FONT = "DejaVu Sans"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str | None
    stroke: str | None = None
    stroke_width: float = 0.0
    gid: str | None = None


@dataclass(frozen=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    colour: str
    width: float
    dot: float = 0.0  # radius of a dot marker at every point (0: none)
    gid: str | None = None


@dataclass(frozen=True)
class Diamond:
    x: float
    y: float
    size: float
    fill: str
    stroke: str = "#000000"
    gid: str | None = None


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str  # lines separated by "\n"
    size: float
    anchor: Anchor = "start"
    valign: VAlign = "middle"
    bold: bool = False
    colour: str = "#000000"

    def baselines(self) -> list[tuple[float, str]]:
        """Each line with the y of its baseline (ascent taken as 0.8 of the size)."""
        lines = self.text.split("\n")
        height = self.size * LINE_HEIGHT
        top = {"top": self.y, "middle": self.y - len(lines) * height / 2, "bottom": self.y - len(lines) * height}
        first = top[self.valign] + (height - self.size) / 2 + 0.8 * self.size
        return [(first + n * height, line) for n, line in enumerate(lines)]


Shape = Rect | Polyline | Diamond | Text


@dataclass
class Canvas:
    width: int
    height: int
    shapes: list[Shape] = field(default_factory=list)

    def add(self, shape: Shape) -> None:
        self.shapes.append(shape)


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _open_group(gid: str | None) -> str:
    return f'<g id="{html.escape(gid)}">' if gid else "<g>"


def _svg_shape(shape: Shape) -> str:
    if isinstance(shape, Rect):
        fill = f"fill: {shape.fill}" if shape.fill else "fill: none"
        stroke = f"; stroke: {shape.stroke}; stroke-width: {_n(shape.stroke_width)}" if shape.stroke else ""
        rect = f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.w)}" height="{_n(shape.h)}" '
        return f'{_open_group(shape.gid)}{rect}style="{fill}{stroke}"/></g>'
    if isinstance(shape, Polyline):
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in shape.points)
        line = (
            f'<polyline points="{points}" style="fill: none; stroke: {shape.colour}; stroke-width: {_n(shape.width)}"/>'
        )
        dots = "".join(
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(shape.dot)}" style="fill: {shape.colour}"/>'
            for x, y in shape.points
            if shape.dot
        )
        return f"{_open_group(shape.gid)}{line}{dots}</g>"
    if isinstance(shape, Diamond):
        s = shape.size / 2
        points = f"{_n(shape.x)},{_n(shape.y - s)} {_n(shape.x + s)},{_n(shape.y)} {_n(shape.x)},{_n(shape.y + s)} {_n(shape.x - s)},{_n(shape.y)}"
        style = f"fill: {shape.fill}; stroke: {shape.stroke}; stroke-width: 1"
        return f'{_open_group(shape.gid)}<polygon points="{points}" style="{style}"/></g>'
    anchor = f' text-anchor="{shape.anchor}"' if shape.anchor != "start" else ""
    weight = ' font-weight="bold"' if shape.bold else ""
    spans = "".join(
        f'<tspan x="{_n(shape.x)}" y="{_n(y)}">{html.escape(line)}</tspan>' for y, line in shape.baselines()
    )
    return f'<text font-size="{_n(shape.size)}" fill="{shape.colour}"{anchor}{weight}>{spans}</text>'


def to_svg(canvas: Canvas) -> bytes:
    head = (
        '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{canvas.width}pt" height="{canvas.height}pt" '
        f'viewBox="0 0 {canvas.width} {canvas.height}" version="1.1" font-family="{FONT}, sans-serif">\n'
        f'<rect x="0" y="0" width="{canvas.width}" height="{canvas.height}" style="fill: #ffffff"/>\n'
    )
    return (head + "\n".join(_svg_shape(s) for s in canvas.shapes) + "\n</svg>\n").encode("utf-8")


@cache
def _font_file(bold: bool) -> str | None:
    """The DejaVu Sans that ships with matplotlib (found, not imported), as the SVG names it."""
    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "mpl-data" / "fonts" / "ttf" / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
        if path.is_file():
            return str(path)
    return None


@cache
def _font(size: int, bold: bool) -> Any:
    from PIL import ImageFont

    path = _font_file(bold)
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def to_png(canvas: Canvas, scale: float = 1.0) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (round(canvas.width * scale), round(canvas.height * scale)), "#ffffff")
    draw = ImageDraw.Draw(image)
    for shape in canvas.shapes:
        _png_shape(draw, shape, scale)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _png_shape(draw: Any, shape: Shape, k: float) -> None:
    if isinstance(shape, Rect):
        box = (shape.x * k, shape.y * k, (shape.x + shape.w) * k, (shape.y + shape.h) * k)
        width = max(round(shape.stroke_width * k), 1) if shape.stroke else 0
        draw.rectangle(box, fill=shape.fill, outline=shape.stroke, width=width)
    elif isinstance(shape, Polyline):
        points = [(x * k, y * k) for x, y in shape.points]
        if len(points) > 1:
            draw.line(points, fill=shape.colour, width=max(round(shape.width * k), 1), joint="curve")
        for x, y in points if shape.dot else []:
            r = shape.dot * k
            draw.ellipse((x - r, y - r, x + r, y + r), fill=shape.colour)
    elif isinstance(shape, Diamond):
        s, x, y = shape.size * k / 2, shape.x * k, shape.y * k
        draw.polygon([(x, y - s), (x + s, y), (x, y + s), (x - s, y)], fill=shape.fill, outline=shape.stroke)
    else:
        font = _font(max(round(shape.size * k), 6), shape.bold)
        anchor = {"start": "ls", "middle": "ms", "end": "rs"}[shape.anchor]
        for y, line in shape.baselines():
            draw.text((shape.x * k, y * k), line, font=font, fill=shape.colour, anchor=anchor)

"""The funnel chart (PNG and SVG), drawn from one layout of boxes and words.

The layout is computed once, in pixels, with the words measured in the font the PNG is
drawn with, so both files show the same picture and every word is known to fit. Pillow
draws the PNG; the SVG is written as text. matplotlib did this before at about 3 s of
CPU a run (its import, then FreeType drawing the figure twice); this takes a few tens of
milliseconds, which is most of a 1,000-patient run's fixed cost saved.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from xml.sax.saxutils import escape


class Funnel(Protocol):
    """What the chart reads of `outputs.Funnel` (named here, not imported: outputs
    imports the chart)."""

    total: int
    verdicts: dict[str, int]

    def rows(self) -> list[dict]: ...


WIDTH = 1210
ROW = 41  # pixels a criterion
BAR = 31  # the bar's thickness within its row
PAD = 10  # margins and gaps
TITLE_SIZE, LABEL_SIZE, NOTE_SIZE = 14, 12, 11
KNOWN, UNSURE, UNSURE_EDGE, REMOVED = "#1b7837", "#f4a582", "#b2182b", "#bababa"
INK = AXIS = "#000000"


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    fill: str
    edge: str | None = None
    hatched: bool = False


@dataclass(frozen=True)
class Words:
    """Text whose left end (anchor "start"), right end ("end") or middle ("middle") is at
    x, its middle height at y; `width` as measured in the PNG's font."""

    x: float
    y: float
    text: str
    size: int
    anchor: str = "start"
    width: float = 0.0

    @property
    def left(self) -> float:
        return self.x - {"start": 0.0, "middle": self.width / 2, "end": self.width}[
            self.anchor]

    @property
    def right(self) -> float:
        return self.left + self.width


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    boxes: list[Box]
    words: list[Words]
    ticks: list[str]  # the x axis's labels, left to right


Measure = Callable[[str, int], float]


_FONTS: dict[int, object] = {}


def _fonts(size: int):  # noqa: ANN202 - a Pillow font, loaded once a size
    if size not in _FONTS:
        from PIL import ImageFont

        _FONTS[size] = ImageFont.load_default(size=size)
    return _FONTS[size]


def pillow_measure(text: str, size: int) -> float:
    return float(_fonts(size).getlength(text))


def _step(span: float) -> int:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten; whole patients) giving at
    most 8 intervals over the span."""
    for power in range(0, 16):
        for m in (1, 2, 2.5, 5):
            step = m * 10 ** power
            if step == int(step) and span / step <= 8:
                return int(step)
    return 10 ** 16


def layout(funnel: Funnel, measure: Measure = pillow_measure) -> Layout:
    from trialsieve.engine import ELIGIBLE, INCOMPLETE, NOT_ELIGIBLE

    rows = funnel.rows()
    v = funnel.verdicts
    title = (f"LuMEn attrition funnel: {funnel.total:,} patients -> {v[ELIGIBLE]:,} "
             f"eligible, {v[INCOMPLETE]:,} incomplete, {v[NOT_ELIGIBLE]:,} not eligible")
    labels = [f"{r['criterion']} {r['label']}" for r in rows]
    notes = [f"{r['remaining']:,} left ({r['remaining_with_unknown']:,} with an unknown), "
             f"{r['removed']:,} removed" for r in rows]
    left = PAD * 2 + max(measure(t, LABEL_SIZE) for t in labels)
    # room on the right for half the last tick's number, centred under its mark
    right = WIDTH - PAD - measure(f"{max(funnel.total, 1) * 10:,}", LABEL_SIZE) / 2
    plot = right - left
    ends = [r["remaining"] + r["removed"] for r in rows]
    # the x axis reaches far enough that every bar's words fit after it, and never less
    # than 1.6 times the patients counted (as the chart always looked)
    room = [plot - measure(n, NOTE_SIZE) - PAD for n in notes]
    xmax = max([max(funnel.total, 1) * 1.6] +
               [e * plot / r for e, r in zip(ends, room, strict=True) if r > 0])
    step = _step(xmax)
    xmax = math.ceil(xmax / step) * step

    def x(count: float) -> float:
        return left + count / xmax * plot

    top = PAD * 2 + TITLE_SIZE + PAD * 2
    boxes: list[Box] = []
    words = [Words(left + plot / 2, PAD * 2 + TITLE_SIZE / 2, title, TITLE_SIZE, "middle",
                   measure(title, TITLE_SIZE))]
    for i, (r, label, note) in enumerate(zip(rows, labels, notes, strict=True)):
        y = top + i * ROW + (ROW - BAR) / 2
        known, unsure = r["remaining_all_known"], r["remaining_with_unknown"]
        for start, count, fill, edge, hatched in (
                (0, known, KNOWN, None, False),
                (known, unsure, UNSURE, UNSURE_EDGE, True),
                (known + unsure, r["removed"], REMOVED, None, False)):
            if count:
                boxes.append(Box(x(start), y, x(start + count) - x(start), BAR, fill, edge,
                                 hatched))
        mid = y + BAR / 2
        words.append(Words(left - PAD, mid, label, LABEL_SIZE, "end",
                           measure(label, LABEL_SIZE)))
        words.append(Words(x(known + unsure + r["removed"]) + PAD / 2, mid, note,
                           NOTE_SIZE, "start", measure(note, NOTE_SIZE)))
    bottom = top + len(rows) * ROW
    ticks = [f"{t:,}" for t in range(0, int(xmax) + 1, step)]
    for t, text in zip(range(0, int(xmax) + 1, step), ticks, strict=True):
        boxes.append(Box(x(t), bottom, 1, 6, AXIS))
        words.append(Words(x(t), bottom + 6 + PAD, text, LABEL_SIZE, "middle",
                           measure(text, LABEL_SIZE)))
    boxes += [Box(left, top - PAD, 1, bottom - top + PAD, AXIS),
              Box(left, bottom, plot, 1, AXIS)]
    words.append(Words(left + plot / 2, bottom + 6 + PAD * 3 + LABEL_SIZE, "patients",
                       LABEL_SIZE, "middle", measure("patients", LABEL_SIZE)))
    legend_y = bottom + 6 + PAD * 7 + LABEL_SIZE
    keys = [(KNOWN, None, False, "remaining, every criterion so far known"),
            (UNSURE, UNSURE_EDGE, True, "remaining, with an unknown so far"),
            (REMOVED, None, False, "removed by this criterion")]
    widths = [24 + PAD / 2 + measure(k[3], NOTE_SIZE) for k in keys]
    kx = left + (plot - sum(widths) - PAD * 4 * (len(keys) - 1)) / 2
    for (fill, edge, hatched, text), w in zip(keys, widths, strict=True):
        boxes.append(Box(kx, legend_y - 6, 24, 12, fill, edge, hatched))
        words.append(Words(kx + 24 + PAD / 2, legend_y, text, NOTE_SIZE, "start",
                           measure(text, NOTE_SIZE)))
        kx += w + PAD * 4
    return Layout(WIDTH, int(legend_y + PAD * 3), boxes, words, ticks)


def svg(lay: Layout) -> str:
    """The layout as SVG: words as text (the viewer's sans-serif), hatching a pattern."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width}" '
           f'height="{lay.height}" viewBox="0 0 {lay.width} {lay.height}" '
           'font-family="DejaVu Sans, Verdana, sans-serif">',
           '<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse">'
           f'<path d="M0,8 L8,0" stroke="{UNSURE_EDGE}" stroke-width="1"/></pattern></defs>',
           f'<rect width="{lay.width}" height="{lay.height}" fill="#ffffff"/>']
    for b in lay.boxes:
        edge = f' stroke="{b.edge}"' if b.edge else ""
        out.append(f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
                   f'height="{b.h:.1f}" fill="{b.fill}"{edge}/>')
        if b.hatched:
            out.append(f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
                       f'height="{b.h:.1f}" fill="url(#hatch)"/>')
    for w in lay.words:
        out.append(f'<text x="{w.x:.1f}" y="{w.y:.1f}" font-size="{w.size}" '
                   f'text-anchor="{w.anchor}" dominant-baseline="central" fill="{INK}">'
                   f'{escape(w.text)}</text>')
    out.append("</svg>\n")
    return "\n".join(out)


def png(lay: Layout, path: Path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (lay.width, lay.height), "#ffffff")
    draw = ImageDraw.Draw(image)
    for b in lay.boxes:
        x0, y0, x1, y1 = round(b.x), round(b.y), round(b.x + b.w) - 1, round(b.y + b.h) - 1
        draw.rectangle((x0, y0, max(x0, x1), max(y0, y1)), fill=b.fill, outline=b.edge)
        if b.hatched and x1 > x0:
            for d in range(x0 - (y1 - y0), x1, 8):  # lines rising to the right
                draw.line(((max(x0, d), y1 - max(0, x0 - d)),
                           (min(x1, d + y1 - y0), y0 + max(0, d + y1 - y0 - x1))),
                          fill=UNSURE_EDGE)
    anchors = {"start": "lm", "middle": "mm", "end": "rm"}
    for w in lay.words:
        draw.text((w.x, w.y), w.text, fill=INK, font=_fonts(w.size),
                  anchor=anchors[w.anchor])
    image.save(path, format="PNG")


def chart(funnel: Funnel, out: Path) -> None:
    """funnel.png and funnel.svg in `out`, the same picture."""
    lay = layout(funnel)
    png(lay, out / "funnel.png")
    (out / "funnel.svg").write_text(svg(lay), encoding="utf-8")

"""Charts of the baseline benchmark as inline SVG, drawn on the server (like :mod:`nordcert.web.charts`): they
need no script, print in the PDF report, and carry a ``<title>`` per mark for those who hover or read aloud.

- :func:`box_rows`: one row per domain or control on the 0–5 maturity scale: the interquartile range as a box,
  the median as a bar, a member's own score as a diamond, the target as a tick, and beside it the members
  counted by level; a suppressed group is drawn as a hatched band saying so.
- :func:`heat_matrix`: requirements × columns (the sector, member types, a member's own), each cell coloured by
  coverage on a red–amber–green scale, suppressed cells hatched, with a legend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise
from typing import Any

from markupsafe import Markup

_FONT = 'font-family="system-ui, DejaVu Sans, sans-serif" font-size="12"'
#: Maturity levels 0–5, from red (non-existent) to deep green (adaptive).
LEVEL_COLOURS = ("#b4232a", "#e0622b", "#e8a200", "#9bbf3a", "#4a9e4a", "#1f6f3f")
SUPPRESSED_FILL = "#eef2f6"
INK, MUTED, GRID = "#2b3440", "#5b6675", "#dde3ea"


@dataclass(frozen=True, slots=True)
class BoxRow:
    label: str
    cell: Mapping[str, Any]  # a benchmark cell: n, q1, median, q3, levels, suppressed
    own: float | None = None
    target: int | None = None
    suppressed_text: str = ""


def _hatch(pid: str) -> str:
    return (f'<defs><pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{SUPPRESSED_FILL}"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="#c9d1db" stroke-width="2"/></pattern></defs>')


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" {_FONT}><title>{escape(title)}</title>')


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def box_rows(rows: Sequence[BoxRow], *, title: str, chart_id: str, width: int = 860, own_label: str = "you"
             ) -> Markup:
    """The distribution of each row on the 0–5 scale (see the module's docstring)."""
    if not rows:
        return Markup(f'<p class="empty">{escape(title)}: nothing to show.</p>')  # nosec B704 # the title is escaped
    label_w, row_h, top, dist_w = 250, 30, 30, 170
    plot_w = width - label_w - dist_w - 40
    height = top + len(rows) * row_h + 24
    pid = f"{chart_id}-hatch"

    def x_of(value: float) -> float:
        return label_w + plot_w * min(max(value, 0.0), 5.0) / 5

    parts = [_open(width, height, title), _hatch(pid)]
    # Legend: box, median, own, target; the levels' colours.
    parts.append(f'<rect x="{label_w}" y="6" width="18" height="10" fill="#cfe0f5" stroke="#1f5fa8"/>'
                 f'<text x="{label_w + 22}" y="15" fill="{INK}">lower to upper quartile</text>'
                 f'<line x1="{label_w + 175}" y1="4" x2="{label_w + 175}" y2="18" stroke="#0f2740" stroke-width="3"/>'
                 f'<text x="{label_w + 181}" y="15" fill="{INK}">median</text>')
    if any(r.own is not None for r in rows):
        parts.append(f'<path d="M{label_w + 240} 5 l6 6 l-6 6 l-6 -6 z" fill="#5a3fa0"/>'
                     f'<text x="{label_w + 250}" y="15" fill="{INK}">{escape(own_label)}</text>')
    if any(r.target is not None for r in rows):
        parts.append(f'<line x1="{label_w + 300}" y1="4" x2="{label_w + 300}" y2="18" stroke="#b4232a" '
                     f'stroke-dasharray="3 2" stroke-width="2"/><text x="{label_w + 306}" y="15" fill="{INK}">target'
                     f'</text>')
    dist_x = label_w + plot_w + 30
    parts.append(f'<text x="{dist_x}" y="15" fill="{MUTED}">members by level 0–5</text>')
    for level in range(6):
        x = x_of(level)
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 18}" stroke="{GRID}"/>'
                     f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="{MUTED}">{level}</text>')
    for i, r in enumerate(rows):
        y = top + i * row_h
        short = r.label if len(r.label) <= 38 else r.label[:36] + "…"
        parts.append(f'<text x="{label_w - 10}" y="{y + 17}" text-anchor="end" fill="{INK}">{escape(short)}'
                     f'<title>{escape(r.label)}</title></text>')
        c = r.cell
        if c.get("median") is None:
            said = r.suppressed_text if c.get("suppressed") else "no answers"
            parts.append(f'<rect class="suppressed" x="{label_w}" y="{y + 6}" width="{plot_w}" height="16" '
                         f'fill="url(#{pid})"><title>{escape(r.label)}: {escape(said)}</title></rect>'
                         f'<text x="{label_w + plot_w / 2:.1f}" y="{y + 18}" text-anchor="middle" '
                         f'fill="{MUTED}">{escape(said)}</text>')
        else:
            q1, med, q3 = float(c["q1"]), float(c["median"]), float(c["q3"])
            said = f"median {_num(med)}, quartiles {_num(q1)}–{_num(q3)}, {c['n']} members"
            parts.append(f'<rect class="box" x="{x_of(q1):.1f}" y="{y + 6}" width="{max(x_of(q3) - x_of(q1), 2):.1f}" '
                         f'height="16" fill="#cfe0f5" stroke="#1f5fa8"><title>{escape(r.label)}: {escape(said)}'
                         f'</title></rect><line x1="{x_of(med):.1f}" y1="{y + 3}" x2="{x_of(med):.1f}" y2="{y + 25}" '
                         f'stroke="#0f2740" stroke-width="3"/>')
            levels = c.get("levels") or []
            total = sum(levels) or 1
            x = float(dist_x)
            for level, n in enumerate(levels):
                if n:
                    w = n / total * dist_w
                    parts.append(f'<rect x="{x:.1f}" y="{y + 8}" width="{w:.1f}" height="12" '
                                 f'fill="{LEVEL_COLOURS[level]}"><title>{escape(r.label)}: {n} at level {level}'
                                 f'</title></rect>')
                    x += w
        if r.target is not None:
            parts.append(f'<line x1="{x_of(r.target):.1f}" y1="{y + 2}" x2="{x_of(r.target):.1f}" y2="{y + 26}" '
                         f'stroke="#b4232a" stroke-dasharray="3 2" stroke-width="2"><title>target {r.target}'
                         f'</title></line>')
        if r.own is not None:
            ox = x_of(r.own)
            parts.append(f'<path class="own" d="M{ox:.1f} {y + 5} l8 9 l-8 9 l-8 -9 z" fill="#5a3fa0" '
                         f'stroke="#fff"><title>{escape(own_label)}: {_num(r.own)}</title></path>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in the SVG is escaped


def coverage_colour(share: float) -> str:
    """Red (0 %) through amber (50 %) to green (100 %)."""
    stops = ((0.0, (208, 49, 45)), (0.5, (232, 162, 0)), (1.0, (47, 158, 68)))
    share = min(max(share, 0.0), 1.0)
    for (a, ca), (b, cb) in pairwise(stops):
        if share <= b:
            t = (share - a) / (b - a)
            return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))
    return "#2f9e44"


@dataclass(frozen=True, slots=True)
class HeatRow:
    label: str
    title: str
    cells: Sequence[Mapping[str, Any] | float | None]  # a coverage cell, or a member's own share (float/None)
    heading: bool = False  # a chapter's heading row


def heat_matrix(columns: Sequence[str], rows: Sequence[HeatRow], *, title: str, chart_id: str,
                suppressed_text: str) -> Markup:
    """The coverage of each requirement (row) by each column, coloured; numbers in each cell."""
    if not rows:
        return Markup(f'<p class="empty">{escape(title)}: nothing to show.</p>')  # nosec B704 # the title is escaped
    label_w, col_w, row_h, top = 360, 96, 24, 64
    width = label_w + col_w * len(columns) + 10
    height = top + len(rows) * row_h + 10
    pid = f"{chart_id}-hatch"
    parts = [_open(width, height, title), _hatch(pid)]
    x = 0.0
    for share, said in ((0.0, "0 %"), (0.5, "50 %"), (1.0, "100 %")):
        parts.append(f'<rect x="{x:.1f}" y="4" width="14" height="12" fill="{coverage_colour(share)}"/>'
                     f'<text x="{x + 18:.1f}" y="14" fill="{INK}">{said}</text>')
        x += 70
    parts.append(f'<rect x="{x:.1f}" y="4" width="14" height="12" fill="url(#{pid})" stroke="#c9d1db"/>'
                 f'<text x="{x + 18:.1f}" y="14" fill="{INK}">{escape(suppressed_text)}</text>')
    for j, name in enumerate(columns):
        cx = label_w + j * col_w + col_w / 2
        parts.append(f'<text x="{cx:.1f}" y="{top - 10}" text-anchor="middle" font-weight="600" fill="{INK}">'
                     f'{escape(name)}</text>')
    for i, r in enumerate(rows):
        y = top + i * row_h
        if r.heading:
            parts.append(f'<text x="0" y="{y + 17}" font-weight="700" fill="#0f2740">{escape(r.label)}</text>')
            continue
        short = r.title if len(r.title) <= 44 else r.title[:42] + "…"
        parts.append(f'<text x="6" y="{y + 16}" fill="{INK}"><tspan font-weight="600">{escape(r.label)}</tspan> '
                     f'{escape(short)}<title>{escape(r.label)} {escape(r.title)}</title></text>')
        for j, cell in enumerate(r.cells):
            cx = label_w + j * col_w
            where = f"{r.label}, {columns[j]}"
            if isinstance(cell, (int, float)):
                share, tip = float(cell), f"{where}: {cell * 100:.0f} % of the controls at target"
            elif isinstance(cell, Mapping) and cell.get("coverage") is not None:
                share = float(cell["coverage"])
                tip = (f"{where}: coverage {share * 100:.0f} %, fully met by {cell['fully_met'] * 100:.0f} % of "
                       f"{cell['n']} members")
            else:
                supp = isinstance(cell, Mapping) and cell.get("suppressed")
                said = suppressed_text if supp else "no answers"
                parts.append(f'<rect class="{"suppressed" if supp else "none"}" x="{cx + 2}" y="{y + 2}" '
                             f'width="{col_w - 4}" height="{row_h - 4}" fill="url(#{pid})"><title>{escape(where)}: '
                             f'{escape(said)}</title></rect><text x="{cx + col_w / 2:.1f}" y="{y + 16}" '
                             f'text-anchor="middle" fill="{MUTED}">{"—" if supp else "·"}</text>')
                continue
            parts.append(f'<rect class="cov" x="{cx + 2}" y="{y + 2}" width="{col_w - 4}" height="{row_h - 4}" '
                         f'rx="3" fill="{coverage_colour(share)}"><title>{escape(tip)}</title></rect>'
                         f'<text x="{cx + col_w / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="#fff" '
                         f'font-weight="600">{share * 100:.0f} %</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in the SVG is escaped

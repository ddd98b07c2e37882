"""Red-team charts as inline SVG, drawn on the server without scripts: a test's timeline (each phase planned and
actual, the deadlines, today), the remediation progress of a finding or test, and the sector's findings by category
and severity. Each carries a title and an aria-label; the pages show the same figures in tables next to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from html import escape
from typing import Any

from markupsafe import Markup

SEVERITY_COLOURS = {"critical": "#b4232a", "high": "#e8590c", "medium": "#e8a200", "low": "#8a96a3"}
PROGRESS = (("done", "done", "#2f9e44"), ("accepted_risk", "risk accepted", "#8fbf94"),
            ("in_progress", "in progress", "#1f5fa8"), ("open", "open", "#d5dbe3"))
DEADLINE_COLOURS = {"pending": "#2b3440", "met": "#2f9e44", "late": "#c77800", "overdue": "#d0312d",
                    "unknown": "#8a96a3"}
#: Which phase's row shows each deadline.
DEADLINE_ROWS = {"red_team_report": "red_team_report", "blue_team_report": "blue_team_report",
                 "replay_purple_teaming": "replay_purple_teaming", "remediation_plan": "remediation_plan"}
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_INK, _MUTED, _GRID, _RED = "#2b3440", "#5b6675", "#e3e8ee", "#d0312d"
_PLANNED, _ACTUAL = "#b9d3f5", "#1f5fa8"


def _svg(width: int, height: int, title: str, cls: str) -> str:
    return (f'<svg class="chart {cls}" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" {_FONT}><title>{escape(title)}</title>')


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def timeline(engagement: Mapping[str, Any], *, today: date, width: int = 1100) -> Markup:
    """Phases as rows: the planned span (light, above) and the actual one (dark, below; a phase under way runs to
    today), red where a phase is behind its plan; deadlines as diamonds on their phase's row (red when overdue);
    the 12-week minimum of active red teaming as a tick; a line for today."""
    phases = engagement["phases"]
    shown_deadlines = [d for d in engagement["deadlines"] if d["key"] in DEADLINE_ROWS and d["due_on"]]
    overdue_rows = {DEADLINE_ROWS[d["key"]] for d in shown_deadlines if d["state"] == "overdue"}
    days = [today, _day(engagement["opened_on"])]
    for p in phases:
        days += [_day(p[k]) for k in ("planned_start", "planned_end", "actual_start", "actual_end")]
    days += [_day(d["due_on"]) for d in shown_deadlines]
    known = [d for d in days if d is not None]
    first, last = min(known) - timedelta(days=7), max(known) + timedelta(days=14)
    span = max((last - first).days, 1)
    left, right, top, row_h = 250, 16, 34, 26
    plot_w = width - left - right
    height = top + len(phases) * row_h + 30
    title = f"Timeline of {engagement['name']}: phases planned and actual, deadlines and today (UTC dates)"

    def x(day: date) -> float:
        return left + (day - first).days / span * plot_w

    parts = [_svg(width, height, title, "redteam-timeline")]
    parts.append(_legend(left))
    parts += _month_axis(first, last, x, top, height - 24)
    for i, p in enumerate(phases):
        y = top + i * row_h
        overdue = p["current"] and p["key"] in overdue_rows
        late = p["behind_plan"] or overdue
        weight = ' font-weight="700"' if p["current"] else ""
        fill = _RED if late else (_INK if p["current"] or p["done"] else _MUTED)
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end" fill="{fill}"{weight}>'
                     f'{escape(p["name"])}</text>')
        parts.append(f'<line x1="{left}" y1="{y + row_h}" x2="{left + plot_w}" y2="{y + row_h}" stroke="{_GRID}"/>')
        ps, pe = _day(p["planned_start"]), _day(p["planned_end"])
        if ps or pe:
            a, b = ps or pe, pe or ps
            assert a is not None and b is not None
            parts.append(f'<rect class="planned" x="{x(a):.1f}" y="{y + 4}" width="{max(x(b) - x(a), 3):.1f}" '
                         f'height="8" rx="2" fill="{_PLANNED}" stroke="{_RED if late else "none"}">'
                         f'<title>{escape(p["name"])}: planned {_span(ps, pe)}</title></rect>')
        start, end = _day(p["actual_start"]), _day(p["actual_end"])
        if start:
            running = end is None and p["current"]
            stop = end or (today if running else start)
            colour = _RED if late else _ACTUAL
            what = f"under way since {start.isoformat()}" if running else _span(start, end)
            cls, opacity = ("actual running", ' fill-opacity="0.75"') if running else ("actual", "")
            behind = " (overdue)" if overdue else " (behind plan)" if late else ""
            parts.append(f'<rect class="{cls}" x="{x(start):.1f}" y="{y + 13}" width="{max(x(stop) - x(start), 3):.1f}" '
                         f'height="9" rx="2" fill="{colour}"{opacity}><title>{escape(p["name"])}: {what}{behind}'
                         f'</title></rect>')
        if p["key"] == "active_red_teaming" and (start or ps):
            anchor = start or ps
            assert anchor is not None
            tick = x(anchor + timedelta(weeks=12))
            parts.append(f'<line x1="{tick:.1f}" y1="{y + 2}" x2="{tick:.1f}" y2="{y + row_h - 2}" stroke="{_INK}" '
                         f'stroke-dasharray="2 2"><title>12 weeks after the start: the shortest active red '
                         f'teaming (CDR 2025/1190 Art 11(5))</title></line>')
    rows = {p["key"]: i for i, p in enumerate(phases)}
    for d in shown_deadlines:
        due = _day(d["due_on"])
        assert due is not None
        cx, cy = x(due), top + rows[DEADLINE_ROWS[d["key"]]] * row_h + 13
        colour = DEADLINE_COLOURS[d["state"]]
        state = d["state"] + (", from the plan" if d["from_planned"] else "")
        parts.append(f'<path class="deadline deadline-{d["state"]}" d="M{cx:.1f} {cy - 7} l7 7 l-7 7 l-7 -7 z" '
                     f'fill="{colour}" stroke="#fff"><title>{escape(d["name"])} due {d["due_on"]} ({state}): '
                     f'{escape(d["rule"])}, {escape(d["source"])}</title></path>')
    tx = x(today)
    parts.append(f'<line class="today" x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{height - 24}" '
                 f'stroke="{_RED}" stroke-width="1.5"/><text x="{tx:.1f}" y="{top - 9}" text-anchor="middle" '
                 f'fill="{_RED}">today</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in the SVG is escaped


def _legend(left: int) -> str:
    items = [("planned", _PLANNED), ("actual", _ACTUAL), ("behind plan or overdue", _RED)]
    out, x = [], float(left)
    for name, colour in items:
        out.append(f'<rect x="{x:.1f}" y="4" width="14" height="8" rx="2" fill="{colour}"/>'
                   f'<text x="{x + 18:.1f}" y="12" fill="{_INK}">{name}</text>')
        x += 18 + len(name) * 6.5 + 18
    out.append(f'<path d="M{x + 5:.1f} 2 l5 5 l-5 5 l-5 -5 z" fill="{_INK}"/>'
               f'<text x="{x + 14:.1f}" y="12" fill="{_INK}">deadline (green met, orange late)</text>')
    return "".join(out)


def _month_axis(first: date, last: date, x: Any, top: int, bottom: int) -> list[str]:
    out = []
    month = date(first.year, first.month, 1)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    every = max(1, -(-months // 14))
    n = 0
    while month <= last:
        if month >= first:
            mx = x(month)
            out.append(f'<line x1="{mx:.1f}" y1="{top - 4}" x2="{mx:.1f}" y2="{bottom}" stroke="{_GRID}"/>')
            if n % every == 0:
                out.append(f'<text x="{mx + 3:.1f}" y="{bottom + 14}" fill="{_MUTED}">{month.strftime("%b %Y")}'
                           f'</text>')
            n += 1
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return out


def _span(start: date | None, end: date | None) -> str:
    return f"{start.isoformat() if start else '?'} to {end.isoformat() if end else '?'}"


def progress_bar(progress: Mapping[str, int], *, label: str, width: int = 180) -> Markup:
    """One bar of a finding's (or test's) measures: done, risk accepted, in progress, open; overdue said after it."""
    total = progress["total"]
    said = ", ".join(f"{progress[k]} {name}" for k, name, _ in PROGRESS)
    title = f"{label}: {progress['resolved']} of {total} measures resolved ({said}; {progress['overdue']} overdue)"
    parts = [_svg(width + 90, 16, title, "progress-bar")]
    parts.append(f'<rect x="0" y="3" width="{width}" height="10" rx="3" fill="#eef2f6"/>')
    xpos = 0.0
    for key, name, colour in PROGRESS:
        n = progress[key]
        if n and total:
            w = n / total * width
            parts.append(f'<rect x="{xpos:.1f}" y="3" width="{w:.1f}" height="10" fill="{colour}">'
                         f'<title>{n} {name}</title></rect>')
            xpos += w
    text = f"{progress['resolved']}/{total}" if total else "no measures"
    colour = _RED if progress["overdue"] else _INK
    parts.append(f'<text x="{width + 6}" y="12.5" fill="{colour}">{text}</text></svg>')
    return Markup("".join(parts))  # nosec B704 # numbers and constant words only


def sector_bars(categories: Sequence[Mapping[str, Any]], severities: Sequence[str], *, min_group: int,
                width: int = 900) -> Markup:
    """One bar per category: its findings by severity (shown counts), the rest of its total as "not broken down",
    and suppressed categories said so instead of a bar."""
    title = "Findings of the sector's red-team tests by category and severity"
    rows = [c for c in categories if c["suppressed"] or c["total"]]
    if not rows:
        return Markup(f'<p class="empty">{escape(title)}: nothing to show yet.</p>')  # nosec B704 # the title is escaped
    left, row_h, top = 300, 24, 26
    plot_w = width - left - 60
    peak = max([c["total"] or 0 for c in rows] + [1])
    height = top + len(rows) * row_h + 8
    parts = [_svg(width, height, title, "redteam-sector")]
    x = float(left)
    for s in [*severities, "not broken down"]:
        colour = SEVERITY_COLOURS.get(s, "#c9d1db")
        parts.append(f'<rect x="{x:.1f}" y="4" width="10" height="10" rx="2" fill="{colour}"/>'
                     f'<text x="{x + 14:.1f}" y="13" fill="{_INK}">{s}</text>')
        x += 14 + len(s) * 7 + 14
    for i, c in enumerate(rows):
        y = top + i * row_h
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" fill="{_INK}">{escape(c["name"])}</text>')
        if c["suppressed"]:
            parts.append(f'<text x="{left}" y="{y + 14}" fill="{_MUTED}" font-style="italic">suppressed: fewer '
                         f'than {min_group} members</text>')
            continue
        xpos = float(left)
        segments = [(s, c["counts"][s], SEVERITY_COLOURS[s]) for s in severities]
        segments.append(("not broken down", c["not_broken_down"], "#c9d1db"))
        for name, n, colour in segments:
            if n:
                w = n / peak * plot_w
                parts.append(f'<rect x="{xpos:.1f}" y="{y + 4}" width="{w:.1f}" height="14" fill="{colour}">'
                             f'<title>{escape(c["name"])}: {n} {name}</title></rect>')
                xpos += w
        parts.append(f'<text x="{xpos + 6:.1f}" y="{y + 15}" fill="{_INK}">{c["total"]}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in the SVG is escaped

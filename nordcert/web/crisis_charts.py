"""The situation of a crisis over time as inline SVG: per time bucket, how many member services were down and
how many degraded, stacked, with a legend and the time axis in UTC. Drawn on the server, without scripts.

The input is :func:`nordcert.crisis.picture.timeline`; the page puts the same numbers in a table next to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Any

from markupsafe import Markup

#: The two statuses plotted, bottom up, with their colours (the matrix's cells use the same hues).
SERIES = (("down", "Down", "#d0312d"), ("degraded", "Degraded", "#e8a200"))
#: Bucket sizes a plot may use, in minutes: the smallest that keeps the plot to :data:`MAX_COLUMNS` columns.
BUCKETS = (5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
MAX_COLUMNS = 48
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_INK, _MUTED, _GRID = "#2b3440", "#5b6675", "#e3e8ee"


def bucket_minutes(first: datetime, last: datetime) -> int:
    """The bucket size for a crisis running from ``first`` to ``last``: at most :data:`MAX_COLUMNS` columns
    (a day per column beyond that)."""
    minutes = max((last - first).total_seconds() / 60, 1)
    return next((b for b in BUCKETS if minutes / b <= MAX_COLUMNS - 1), BUCKETS[-1])


def rows(timeline: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per bucket: its start and end in UTC and the degraded and down counts (the chart's table)."""
    step = timedelta(minutes=int(timeline["bucket_minutes"]))
    total = timeline["total"]
    out = []
    for n, iso in enumerate(timeline["times"]):
        start = _moment(iso)
        out.append({"start": start, "end": start + step, "label": _span_label(start, start + step),
                    "degraded": int(total["degraded"][n]), "down": int(total["down"][n])})
    return out


def situation_over_time(timeline: Mapping[str, Any], *, width: int = 1100, height: int = 260) -> Markup:
    """Stacked columns per bucket: member services down (bottom) and degraded (top), summed over the services."""
    points = rows(timeline)
    title = (f"Member services degraded and down, per {_duration(int(timeline['bucket_minutes']))} (UTC); "
             f"{timeline['members_total']} members")
    if not points:
        return Markup(f'<p class="empty">{escape(title)}: nothing yet.</p>')  # nosec B704 # title escaped
    left, right, top, bottom = 44, 10, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _ceiling(max(p["down"] + p["degraded"] for p in points))
    slot = plot_w / len(points)
    parts = [(f'<svg class="chart crisis-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" {_FONT}><title>{escape(title)}</title>')]
    x = float(left)
    for _, name, colour in SERIES:  # the legend, in the order the eye meets the columns: top first
        parts.append(f'<rect x="{x:.1f}" y="6" width="11" height="11" rx="2" fill="{colour}"/>'
                     f'<text x="{x + 15:.1f}" y="15.5" fill="{_INK}">{escape(name)}</text>')
        x += 15 + len(name) * 7 + 18
    parts.append(f'<text x="{width - right}" y="15.5" text-anchor="end" fill="{_MUTED}">'
                 f'member services (members × services)</text>')
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        value = peak * frac
        label = f"{value:,.0f}" if value == int(value) else ""
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{_GRID}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{_MUTED}">{label}</text>')
    for i, p in enumerate(points):
        x = left + i * slot + slot * 0.12
        y = float(top + plot_h)
        for key, name, colour in SERIES:
            if not p[key]:
                continue
            h = p[key] / peak * plot_h
            y -= h
            parts.append(f'<rect class="seg-{key}" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.76:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{escape(p["label"])}: {p[key]} '
                         f'{name.lower()}</title></rect>')
    parts.extend(_time_axis(points, left=left, slot=slot, y=top + plot_h))
    parts.append(f'<text x="{left + plot_w}" y="{height - 2}" text-anchor="end" fill="{_MUTED}">time (UTC)</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in parts is escaped, the rest is numbers


def _time_axis(points: Sequence[Mapping[str, Any]], *, left: int, slot: float, y: float) -> list[str]:
    """Ticks and labels under the columns: the hour (or day) at most every ~60 px, the date where it changes."""
    every = max(1, -(-60 // max(int(slot), 1)))
    daily = (points[1]["start"] - points[0]["start"]) >= timedelta(days=1) if len(points) > 1 else False
    parts = []
    shown_date = None
    for i in range(0, len(points), every):
        start: datetime = points[i]["start"]
        x = left + i * slot
        parts.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y + 4:.1f}" stroke="{_MUTED}"/>')
        text = start.strftime("%d %b") if daily else start.strftime("%H:%M")
        parts.append(f'<text x="{x:.1f}" y="{y + 16:.1f}" text-anchor="middle" fill="{_INK}">{text}</text>')
        if not daily and start.date() != shown_date:
            shown_date = start.date()
            parts.append(f'<text x="{x:.1f}" y="{y + 30:.1f}" text-anchor="middle" fill="{_MUTED}">'
                         f'{start.strftime("%d %b")}</text>')
    return parts


def _ceiling(value: int) -> int:
    """A round top for the y axis (1, 2, 5 × a power of ten), at least 2 so the middle line has a label."""
    if value <= 2:
        return 2
    if value <= 10:
        return value + value % 2
    step: int = 10 ** (len(str(value)) - 1)
    return next(m * step for m in (1, 2, 5, 10) if value <= m * step)


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _span_label(start: datetime, end: datetime) -> str:
    if end - start >= timedelta(days=1):
        return f"{start:%d %b %Y} UTC"
    return f"{start:%d %b %H:%M}–{end:%H:%M} UTC"


def _duration(minutes: int) -> str:
    if minutes % 1440 == 0:
        return "day" if minutes == 1440 else f"{minutes // 1440} days"
    if minutes % 60 == 0:
        return "hour" if minutes == 60 else f"{minutes // 60} hours"
    return f"{minutes} minutes"

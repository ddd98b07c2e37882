"""Charts as inline SVG, drawn on the server: no JavaScript, readable by screen readers.

Each chart carries a ``<title>`` and an ``aria-label``; pages put the same numbers in a table
next to it for those who cannot see it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

#: TLP 2.0 colours (FIRST), darkened where the original would vanish on white.
TLP_COLOURS = {"clear": "#8a96a3", "green": "#2f9e44", "amber": "#e8a200", "amber+strict": "#b35f00", "red": "#d0312d"}
TLP_ORDER = ("clear", "green", "amber", "amber+strict", "red")
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _nice_max(value: int) -> int:
    if value <= 5:
        return max(value, 1)
    step: int = 10 ** (len(str(value)) - 1)
    for m in (1, 2, 5, 10):
        if value <= m * step:
            return m * step
    return value


def stacked_bars(rows: Sequence[tuple[str, dict[str, int]]], *, title: str, width: int = 520) -> Markup:
    """One horizontal bar per row (a STIX type), its segments coloured by TLP."""
    if not rows:
        return Markup(f'<p class="empty">{escape(title)}: nothing yet.</p>')  # nosec B704 # title escaped
    label_w, bar_h, gap, top = 150, 18, 8, 8
    total_max = _nice_max(max(sum(c.values()) for _, c in rows))
    plot_w = width - label_w - 50
    height = top + len(rows) * (bar_h + gap) + 24
    parts = [(f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" {_FONT}><title>{escape(title)}</title>')]
    for i, (label, counts) in enumerate(rows):
        y = top + i * (bar_h + gap)
        parts.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" fill="#2b3440">{escape(label)}</text>')
        x = float(label_w)
        for tlp in TLP_ORDER:
            n = counts.get(tlp, 0)
            if not n:
                continue
            w = max(1.5, n / total_max * plot_w)
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{TLP_COLOURS[tlp]}">'
                         f'<title>{escape(label)}: {n} TLP:{tlp.upper()}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 13}" fill="#2b3440">{sum(counts.values()):,}</text>')
    axis_y = top + len(rows) * (bar_h + gap) + 4
    parts.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" stroke="#c9d1db"/>')
    parts.append(f'<text x="{label_w}" y="{axis_y + 14}" fill="#5b6675">0</text>'
                 f'<text x="{label_w + plot_w}" y="{axis_y + 14}" text-anchor="end" fill="#5b6675">{total_max:,}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in parts is escaped, the rest is numbers


def columns(points: Sequence[tuple[str, int]], *, title: str, width: int = 520, height: int = 160,
            colour: str = "#1f5fa8") -> Markup:
    """One column per day (or any ordered label), labelled at both ends and at its peak."""
    if not points:
        return Markup(f'<p class="empty">{escape(title)}: nothing yet.</p>')  # nosec B704 # title escaped
    left, bottom, top = 46, 22, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = _nice_max(max(n for _, n in points))
    slot = plot_w / len(points)
    parts = [(f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" {_FONT}><title>{escape(title)}</title>')]
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        label = f"{peak * frac:,.0f}" if frac != 0.5 or peak % 2 == 0 else ""
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e8ee"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#5b6675">{label}</text>')
    for i, (label, n) in enumerate(points):
        h = n / peak * plot_h
        x = left + i * slot + slot * 0.15
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                     f'fill="{colour}"><title>{escape(label)}: {n:,}</title></rect>')
    parts.append(f'<text x="{left}" y="{height - 6}" fill="#5b6675">{escape(points[0][0])}</text>'
                 f'<text x="{left + plot_w}" y="{height - 6}" text-anchor="end" fill="#5b6675">'
                 f'{escape(points[-1][0])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in parts is escaped, the rest is numbers


def bars(items: Sequence[tuple[str, int, str]], *, title: str, width: int = 520, unit: str = "") -> Markup:
    """Horizontal bars with their labels above them (long values such as URLs fit), each a link."""
    if not items:
        return Markup(f'<p class="empty">{escape(title)}: nothing yet.</p>')  # nosec B704 # title escaped
    row_h, bar_h = 34, 12
    peak = _nice_max(max(n for _, n, _ in items))
    plot_w = width - 100
    height = len(items) * row_h + 6
    parts = [(f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" {_FONT}><title>{escape(title)}</title>')]
    for i, (label, n, href) in enumerate(items):
        y = i * row_h + 4
        short = label if len(label) <= 70 else label[:67] + "…"
        w = max(2.0, n / peak * plot_w)
        parts.append(f'<a href="{escape(href)}"><text x="0" y="{y + 11}" fill="#1f5fa8">{escape(short)}</text>'
                     f'<rect x="0" y="{y + 16}" width="{w:.1f}" height="{bar_h}" fill="#5a3fa0">'
                     f'<title>{escape(label)}: {n}{escape(unit)}</title></rect></a>'
                     f'<text x="{w + 6:.1f}" y="{y + 26}" fill="#2b3440">{n}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in parts is escaped, the rest is numbers


def stacked_columns(points: Sequence[tuple[str, Mapping[str, int]]], *, title: str,
                    series: Sequence[tuple[str, str, str]], width: int = 520, height: int = 180) -> Markup:
    """One column per label (a month, a member type), its segments stacked in the order of ``series``
    (``(key, label, colour)``, bottom up), with a legend above and each column's total on top."""
    if not points:
        return Markup(f'<p class="empty">{escape(title)}: nothing yet.</p>')  # nosec B704 # title escaped
    left, bottom, top = 46, 22, 30
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = _nice_max(max(sum(counts.get(key, 0) for key, _, _ in series) for _, counts in points))
    slot = plot_w / len(points)
    # Label every column when the labels fit (about 7 px a character), else every n-th from the first.
    every = max(1, -(-max(len(label) for label, _ in points) * 7 // max(int(slot), 1)))
    parts = [(f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" {_FONT}><title>{escape(title)}</title>')]
    x = float(left)
    for _, name, colour in series:
        parts.append(f'<rect x="{x:.1f}" y="4" width="10" height="10" rx="2" fill="{colour}"/>'
                     f'<text x="{x + 14:.1f}" y="13" fill="#2b3440">{escape(name)}</text>')
        x += 14 + len(name) * 7 + 16
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        label = f"{peak * frac:,.0f}" if frac != 0.5 or peak % 2 == 0 else ""
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e8ee"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#5b6675">{label}</text>')
    bar_w = min(slot * 0.7, 64.0)  # a few columns stay columns, not walls
    for i, (label, counts) in enumerate(points):
        x = left + i * slot + (slot - bar_w) / 2
        y = float(top + plot_h)
        for key, name, colour in series:
            n = counts.get(key, 0)
            if not n:
                continue
            h = n / peak * plot_h
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{escape(label)}: {n:,} {escape(name)}</title></rect>')
        total = sum(counts.get(key, 0) for key, _, _ in series)
        if total:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                         f'fill="#2b3440">{total:,}</text>')
        if i % every == 0:
            parts.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                         f'fill="#5b6675">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in parts is escaped, the rest is numbers


def share_bars(items: Sequence[tuple[str, float, str, str]], *, title: str, width: int = 860) -> Markup:
    """Horizontal bars of shares (0 to 1) on a fixed 0–100 % scale, each labelled above with its name and
    beside with its percentage and a note ("3 members"), each a link: ``(label, share, note, href)``. Drawn at
    its own size (``width`` pixels, narrower on a small screen)."""
    if not items:
        return Markup(f'<p class="empty">{escape(title)}: nothing yet.</p>')  # nosec B704 # title escaped
    row_h, bar_h, left = 36, 13, 16
    plot_w = width - left - 230
    height = len(items) * row_h + 22
    parts = [(f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" {_FONT}><title>{escape(title)}</title>')]
    for frac in (0, 0.25, 0.5, 0.75, 1):
        x = left + frac * plot_w
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 16}" stroke="#eef2f6"/>'
                     f'<text x="{x:.1f}" y="{height - 3}" text-anchor="middle" fill="#5b6675">{frac * 100:.0f} %</text>')
    for i, (label, share, note, href) in enumerate(items):
        y = i * row_h + 4
        short = label if len(label) <= 90 else label[:87] + "…"
        w = max(2.0, min(share, 1.0) * plot_w)
        said = f"{share * 100:.0f} %" + (f" · {note}" if note else "")
        parts.append(f'<a href="{escape(href)}"><text x="{left}" y="{y + 11}" fill="#1f5fa8">{escape(short)}</text>'
                     f'<rect x="{left}" y="{y + 16}" width="{w:.1f}" height="{bar_h}" fill="#5a3fa0">'
                     f'<title>{escape(label)}: {escape(said)}</title></rect></a>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 27}" fill="#2b3440">{escape(said)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in parts is escaped, the rest is numbers


#: An HHI reading's colour: unconcentrated green, moderately amber, highly red.
HHI_COLOURS = {"unconcentrated": "#2f9e44", "moderately concentrated": "#e8a200", "highly concentrated": "#d0312d"}


def hhi_bars(items: Sequence[tuple[str, float, str, str]], *, title: str, moderate: float, high: float,
             width: int = 860) -> Markup:
    """The HHI of each market (0 to 10,000) as a horizontal bar coloured by its reading, over the bands of
    the reading (from ``moderate`` and from ``high``, shaded, with a legend above): ``(label, hhi, reading,
    href)``. Drawn at its own size like :func:`share_bars`."""
    if not items:
        return Markup(f'<p class="empty">{escape(title)}: nothing yet.</p>')  # nosec B704 # title escaped
    row_h, bar_h, top, left = 36, 13, 26, 16
    plot_w = width - left - 240
    height = top + len(items) * row_h + 20

    def x_of(value: float) -> float:
        return left + plot_w * min(max(value, 0.0), 10_000.0) / 10_000

    parts = [(f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" {_FONT}><title>{escape(title)}</title>')]
    bands = (("unconcentrated", 0.0, moderate, f"below {moderate:,.0f}"),
             ("moderately concentrated", moderate, high, f"{moderate:,.0f}–{high:,.0f}"),
             ("highly concentrated", high, 10_000.0, f"above {high:,.0f}"))
    key_x = float(left)
    for name, start, end, said in bands:
        colour = HHI_COLOURS[name]
        parts.append(f'<rect x="{x_of(start):.1f}" y="{top - 4}" width="{x_of(end) - x_of(start):.1f}" '
                     f'height="{height - top - 16}" fill="{colour}" fill-opacity="0.08"/>'
                     f'<rect x="{key_x:.1f}" y="3" width="10" height="10" rx="2" fill="{colour}"/>'
                     f'<text x="{key_x + 14:.1f}" y="12" fill="#2b3440">{escape(name)} ({escape(said)})</text>')
        key_x += 14 + (len(name) + len(said) + 3) * 6.6 + 16
    for value in (0, moderate, high, 10_000):
        parts.append(f'<line x1="{x_of(value):.1f}" y1="{top - 4}" x2="{x_of(value):.1f}" y2="{height - 16}" '
                     f'stroke="#c9d1db"/><text x="{x_of(value):.1f}" y="{height - 3}" text-anchor="middle" '
                     f'fill="#5b6675">{value:,.0f}</text>')
    for i, (label, value, reading, href) in enumerate(items):
        y = top + i * row_h
        short = label if len(label) <= 90 else label[:87] + "…"
        w = max(2.0, x_of(value) - left)
        said = f"{value:,.0f} · {reading}"
        parts.append(f'<a href="{escape(href)}"><text x="{left}" y="{y + 10}" fill="#1f5fa8">{escape(short)}</text>'
                     f'<rect x="{left}" y="{y + 14}" width="{w:.1f}" height="{bar_h}" '
                     f'fill="{HHI_COLOURS.get(reading, "#5a3fa0")}"><title>{escape(label)}: HHI {escape(said)}'
                     f'</title></rect></a>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 25}" fill="#2b3440">{escape(said)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in parts is escaped, the rest is numbers

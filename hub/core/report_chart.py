"""The chart of calls per day, drawn on the server: SVG for pages, bar rows for emails.

Pages get an inline SVG (no script, no style attribute: it passes the pages' Content
Security Policy). Many mail clients do not show SVG, so emails get the same bars as a
table whose cells are coloured to a width: plain HTML that every mail client renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from hub.core.reports import DayCount

ANSWERED_COLOUR = "#2f6fde"
OTHER_COLOUR = "#b8c7e0"
AXIS_COLOUR = "#7b8794"

_WIDTH = 760
_HEIGHT = 240
_LEFT = 36
_RIGHT = 8
_TOP = 12
_BOTTOM = 28


def scale_top(largest: int) -> int:
    """The top of the y axis: `largest` rounded up to a number that halves evenly (at least 2)."""
    if largest <= 2:
        return 2
    step = 1
    while largest > step * 10:
        step *= 10
    top = -(-largest // step) * step
    return top if top % 2 == 0 else top + step


def svg_chart(days: list[DayCount], *, title: str, answered_label: str, other_label: str) -> str:
    """An SVG bar chart: one bar per day, the answered part below the rest of the day's calls."""
    top = scale_top(max((day.calls for day in days), default=0))
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="calls-chart" role="img" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" aria-label="{escape(title)}" '
        f'font-family="Arial, Helvetica, sans-serif" font-size="10">',
        f"<title>{escape(title)}</title>",
    ]
    for value in (0, top // 2, top):
        y = _TOP + plot_h - plot_h * value / top
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_WIDTH - _RIGHT}" y2="{y:.1f}" stroke="#e4e7eb" stroke-width="1"/>'
            f'<text x="{_LEFT - 4}" y="{y + 3:.1f}" text-anchor="end" fill="{AXIS_COLOUR}">{value}</text>'
        )
    for index, day in enumerate(days):
        x = _LEFT + slot * index + (slot - bar) / 2
        total_h = plot_h * day.calls / top
        answered_h = plot_h * day.answered / top
        base = _TOP + plot_h
        tip = f"{day.day.isoformat()}: {day.calls} ({answered_label.lower()} {day.answered})"
        parts.append(
            f'<g class="day" data-day="{day.day.isoformat()}" data-calls="{day.calls}" data-answered="{day.answered}">'
            f"<title>{escape(tip)}</title>"
            f'<rect x="{x:.1f}" y="{base - total_h:.1f}" width="{bar:.1f}" height="{total_h - answered_h:.1f}" '
            f'fill="{OTHER_COLOUR}"/>'
            f'<rect x="{x:.1f}" y="{base - answered_h:.1f}" width="{bar:.1f}" height="{answered_h:.1f}" '
            f'fill="{ANSWERED_COLOUR}"/>'
            f'<text x="{x + bar / 2:.1f}" y="{_HEIGHT - _BOTTOM + 14}" text-anchor="middle" '
            f'fill="{AXIS_COLOUR}">{day.day.day}</text></g>'
        )
    legend_y = _HEIGHT - 4
    parts.append(
        f'<rect x="{_LEFT}" y="{legend_y - 8}" width="10" height="8" fill="{ANSWERED_COLOUR}"/>'
        f'<text x="{_LEFT + 14}" y="{legend_y}" fill="#1f2933">{escape(answered_label)}</text>'
        f'<rect x="{_LEFT + 120}" y="{legend_y - 8}" width="10" height="8" fill="{OTHER_COLOUR}"/>'
        f'<text x="{_LEFT + 134}" y="{legend_y}" fill="#1f2933">{escape(other_label)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class BarRow:
    """One day of the email chart: the widths in pixels of its answered and other parts."""

    day: DayCount
    answered_px: int
    other_px: int


def bar_rows(days: list[DayCount], *, width_px: int = 320) -> list[BarRow]:
    """The email chart's rows: bars scaled so that the busiest day is `width_px` wide."""
    largest = max((day.calls for day in days), default=0)
    rows = []
    for day in days:
        total = round(width_px * day.calls / largest) if largest else 0
        answered = round(width_px * day.answered / largest) if largest else 0
        rows.append(BarRow(day=day, answered_px=answered, other_px=max(total - answered, 0)))
    return rows

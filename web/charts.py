"""Charts drawn on the server as SVG: bars for a report's figures (each bar a link to its cases), a line for the
crisis monitor's hourly counts.

Why server-side SVG and not a chart library in the browser: the figures are already computed on the server;
an SVG needs no script, so the pages keep a Content-Security-Policy without script exceptions, print as
they look, and show the same in every browser. Only presentation attributes are used (no ``style``), which a
strict ``style-src`` allows too.
"""

from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

__all__ = ["bar_chart", "line_chart"]

PALETTE = ("#2f6fb0", "#c8553d", "#3c9d5d", "#8e6bb8", "#d49a2a")


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def bar_chart(title: str, labels: Sequence[str], values: Sequence, links: Sequence[str | None] = (),
              width: int = 640) -> Markup:
    """Return a horizontal bar chart: one bar per label, its value written at its end, linked when given."""
    row, label_w, pad = 26, 200, 8
    height = row * max(len(labels), 1) + 40
    peak = max([_num(v) for v in values] + [0]) or 1.0
    span = width - label_w - 60
    parts = [f'<svg class="chart bar-chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="0" y="16" font-size="14" font-weight="bold" fill="#222">{escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 30 + i * row
        bar = max(_num(value) / peak * span, 1.0 if _num(value) else 0.0)
        link = links[i] if i < len(links) else None
        item = (f'<text x="{label_w - pad}" y="{y + 16}" font-size="12" text-anchor="end" fill="#333">'
                f'{escape(label)}</text>'
                f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="{row - 8}" '
                f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)}: {escape(value)}</title></rect>'
                f'<text class="value" x="{label_w + bar + 6:.1f}" y="{y + 16}" font-size="12" fill="#222">'
                f'{escape(value)}</text>')
        parts.append(f'<a href="{escape(link)}">{item}</a>' if link else item)
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(title: str, labels: Sequence[str], values: Sequence[int], width: int = 640,
               height: int = 220) -> Markup:
    """Return a line chart of a series (the hourly counts), one labelled point per value."""
    left, right, top, bottom = 40, 30, 28, 40
    n = max(len(values), 1)
    peak = max(list(values) + [1])
    step = (width - left - right) / max(n - 1, 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        return left + i * step, top + (height - top - bottom) * (1 - v / peak)

    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(values)))
    parts = [f'<svg class="chart line-chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="0" y="16" font-size="14" font-weight="bold" fill="#222">{escape(title)}</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#999"/>',
             f'<text x="{left - 6}" y="{top + 4}" font-size="11" text-anchor="end" fill="#555">{peak}</text>',
             f'<polyline points="{points}" fill="none" stroke="{PALETTE[1]}" stroke-width="2"/>']
    every = max(1, n // 12)
    for i, v in enumerate(values):
        x, y = xy(i, v)
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PALETTE[1]}">'
                     f'<title>{escape(labels[i])}: {v}</title></circle>')
        if i % every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle" '
                         f'fill="#555">{escape(labels[i])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

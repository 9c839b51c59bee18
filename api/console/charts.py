"""Charts as server-rendered SVG: no script, no library, no outside request; readable without colour.

``bar_chart`` draws horizontal grouped bars: one group per row (a unit), one bar per series, each bar
labelled with its value, so the figure stays readable in greyscale and to a screen reader (the
``<title>``/``<desc>`` and the table next to it on the page carry the same numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Colours with >= 3:1 contrast against white (WCAG non-text contrast), distinct in greyscale too.
PALETTE = ("#0b4f9c", "#1e5a2c", "#8a1414", "#7a3e00")
LABEL_W, BAR_H, GAP, VALUE_W, WIDTH = 220, 14, 10, 56, 720


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per row; None: no figure (drawn as "—")


def bar_chart(
    key: str, title: str, rows: Sequence[str], series: Sequence[Series], *, unit: str = "", maximum: float | None = None
) -> Markup:
    """Grouped horizontal bars; ``maximum`` fixes the scale (100 for percentages), else the largest value."""
    top = max((v for s in series for v in s.values if v is not None), default=0.0)
    scale_max = maximum if maximum is not None else (top or 1.0)
    plot_w = WIDTH - LABEL_W - VALUE_W
    group_h = len(series) * BAR_H + GAP
    legend_h = 24
    height = legend_h + len(rows) * group_h + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-labelledby="chart-{key}"><title id="chart-{key}">{escape(title)}'
        f"</title>"
    ]
    x = LABEL_W
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="16" font-size="13">{escape(s.name)}</text>'
        )
        x += 24 + 8 * len(s.name)
    for r, label in enumerate(rows):
        y0 = legend_h + r * group_h
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y0 + len(series) * BAR_H / 2 + 4}" font-size="13" '
            f'text-anchor="end">{escape(_clip(label))}</text>'
        )
        for i, s in enumerate(series):
            value = s.values[r]
            y = y0 + i * BAR_H
            w = 0.0 if not value else max(1.0, plot_w * min(value, scale_max) / scale_max)
            parts.append(
                f'<rect x="{LABEL_W}" y="{y + 1}" width="{w:.1f}" height="{BAR_H - 2}" '
                f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)} — {escape(s.name)}: '
                f"{_fmt(value, unit)}</title></rect>"
                f'<text x="{LABEL_W + w + 4:.1f}" y="{y + BAR_H - 3}" font-size="12">{_fmt(value, unit)}'
                "</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return (f"{value:g}" if isinstance(value, float) else str(value)) + unit


def _clip(label: str, n: int = 30) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"

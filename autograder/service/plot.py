"""The distribution of scores as a plot: a histogram drawn as SVG (no script, no library, no
download: the instructor page shows it as it is served)."""

from __future__ import annotations

import html
import math

__all__ = ["histogram_bins", "histogram_svg"]


def histogram_bins(values: list[float], top: float, bins: int = 10) -> list[int]:
    """Counts of ``values`` in ``bins`` equal bins over ``[0, top]`` (the last bin closed;
    values outside are clipped into the end bins)."""
    counts = [0] * bins
    if top <= 0:
        counts[0] = len(values)
        return counts
    for v in values:
        i = math.floor(v / top * bins)
        counts[min(max(i, 0), bins - 1)] += 1
    return counts


def histogram_svg(
    values: list[float], top: float, title: str, bins: int = 10, width: int = 520, height: int = 240
) -> str:
    """An SVG histogram of ``values`` over ``[0, top]`` with axes, tick labels and a title."""
    counts = histogram_bins(values, top, bins)
    left, right, upper, lower = 44, 12, 28, 40
    pw, ph = width - left - right, height - upper - lower
    peak = max(counts) or 1
    step = max(1, math.ceil(peak / 5))
    ymax = step * math.ceil(peak / step)
    bw = pw / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" font-size="13" '
        f'font-weight="600">{html.escape(title)}</text>',
    ]
    for k in range(0, ymax + 1, step):
        y = upper + ph - ph * k / ymax
        parts.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{k}</text>'
        )
    for i, n in enumerate(counts):
        h = ph * n / ymax
        x = left + i * bw
        lo, hi = top * i / bins, top * (i + 1) / bins
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{upper + ph - h:.1f}" width="{bw - 2:.1f}" '
            f'height="{h:.1f}" fill="#0969da" data-count="{n}">'
            f"<title>{lo:g}–{hi:g} points: {n} learner{'s' if n != 1 else ''}</title></rect>"
        )
    for i in range(bins + 1):
        x = left + i * bw
        parts.append(
            f'<text x="{x:.1f}" y="{upper + ph + 14}" text-anchor="middle" font-size="10">'
            f"{top * i / bins:g}</text>"
        )
    parts.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{upper + ph}" y2="{upper + ph}" stroke="#57606a"/>'
        f'<text x="{left + pw / 2:.0f}" y="{height - 6}" text-anchor="middle" font-size="11">'
        f"score (points, after any late penalty); bars: learners</text></svg>"
    )
    return "".join(parts)

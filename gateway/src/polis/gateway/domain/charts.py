"""Small inline SVG charts (pure): grouped bars for baseline vs actual, a cumulative line."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

W, H, PAD_L, PAD_B, PAD_T, PAD_R = 640, 280, 56, 36, 24, 16


def _scale(values: Sequence[float]) -> float:
    top = max([abs(v) for v in values] + [1e-9])
    return top * 1.1


def savings_chart(
    labels: Sequence[str],
    baseline: Sequence[float],
    actual: Sequence[float],
    cumulative: Sequence[float],
    title: str,
) -> str:
    """Baseline vs actual bars per period and a cumulative-savings polyline, in kWh."""
    n = max(1, len(labels))
    top = _scale([*baseline, *actual, *cumulative])
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    zero_y = PAD_T + plot_h / 2 if min([*cumulative, 0.0]) < 0 else PAD_T + plot_h

    def y(v: float) -> float:
        span = plot_h / 2 if zero_y < PAD_T + plot_h else plot_h
        return zero_y - v / top * span

    step = plot_w / n
    bar = step * 0.35
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'aria-labelledby="chart-title"><title id="chart-title">{escape(title)}</title>',
        f'<line x1="{PAD_L}" y1="{zero_y:.1f}" x2="{W - PAD_R}" y2="{zero_y:.1f}" stroke="#555"/>',
        f'<text x="4" y="{PAD_T + 4}" font-size="11">{top:.0f} kWh</text>',
    ]
    points = []
    for i, label in enumerate(labels):
        x0 = PAD_L + i * step + step * 0.12
        for j, (series, colour) in enumerate(((baseline, "#9aa5b1"), (actual, "#1f6feb"))):
            v = series[i]
            top_y, bottom_y = sorted((y(v), zero_y))
            parts.append(
                f'<rect class="bar-{"baseline" if j == 0 else "actual"}" x="{x0 + j * bar:.1f}" '
                f'y="{top_y:.1f}" width="{bar:.1f}" height="{bottom_y - top_y:.1f}" '
                f'fill="{colour}"><title>{escape(label)}: {v:.0f} kWh</title></rect>'
            )
        parts.append(
            f'<text x="{x0 + bar:.1f}" y="{H - 12}" font-size="10" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
        points.append(f"{x0 + bar:.1f},{y(cumulative[i]):.1f}")
    if points:
        parts.append(
            f'<polyline class="cumulative" points="{" ".join(points)}" fill="none" '
            'stroke="#2da44e" stroke-width="2.5"/>'
        )
    parts.append(
        f'<g font-size="11"><rect x="{PAD_L}" y="4" width="10" height="10" fill="#9aa5b1"/>'
        f'<text x="{PAD_L + 14}" y="13">baseline</text>'
        f'<rect x="{PAD_L + 80}" y="4" width="10" height="10" fill="#1f6feb"/>'
        f'<text x="{PAD_L + 94}" y="13">actual</text>'
        f'<rect x="{PAD_L + 150}" y="8" width="14" height="3" fill="#2da44e"/>'
        f'<text x="{PAD_L + 168}" y="13">cumulative savings</text></g>'
    )
    parts.append("</svg>")
    return "".join(parts)

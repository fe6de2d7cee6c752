"""Charts of a savings report: adjusted baseline versus actual per month, cumulative savings."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from polis.savings.application import SavingsReport
from polis.savings.measurement import TOTAL


def write_charts(report: SavingsReport, directory: Path, stem: str) -> list[Path]:
    """Write <stem>.svg and <stem>.png; returns the paths."""
    months = [p for p in report.total if p.period != TOTAL]
    cumulative = list(report.cumulative)
    labels = [p.period for p in months]
    x = np.arange(len(labels))

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7.5), sharex=True)
    title = f"{report.scope.kind.value.capitalize()} {report.scope.name}: avoided energy"
    fig.suptitle(f"{title}\n{report.method}", fontsize=12)

    width = 0.38
    top.bar(
        x - width / 2,
        [p.baseline_kwh / 1000 for p in months],
        width,
        label="Adjusted baseline",
        color="#9aa5b1",
    )
    top.bar(
        x + width / 2, [p.actual_kwh / 1000 for p in months], width, label="Actual", color="#2f6db5"
    )
    top.set_ylabel("Energy per month (MWh)")
    top.legend(loc="upper right", frameon=False)
    top.grid(axis="y", alpha=0.3)

    saved = np.array([p.avoided_kwh / 1000 for p in cumulative])
    band = np.array([p.uncertainty_90_kwh / 1000 for p in cumulative])
    bottom.fill_between(
        x, saved - band, saved + band, color="#59a14f", alpha=0.25, label="90 % confidence"
    )
    bottom.plot(x, saved, marker="o", color="#2e7d32", label="Cumulative avoided energy")
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.set_ylabel("Cumulative savings (MWh)")
    bottom.legend(loc="upper left", frameon=False)
    bottom.grid(axis="y", alpha=0.3)
    if cumulative:
        last = cumulative[-1]
        note = (
            f"{last.avoided_kwh / 1000:,.1f} MWh ± {last.uncertainty_90_kwh / 1000:,.1f} "
            f"(90 %)  ·  €{last.avoided_eur:,.0f}  ·  {last.avoided_co2_kg / 1000:,.1f} t CO₂"
        )
        bottom.annotate(
            note,
            xy=(0.99, 0.06),
            xycoords="axes fraction",
            ha="right",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#cccccc"},
        )
    bottom.set_xticks(x, labels, rotation=45, ha="right")
    fig.tight_layout()

    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{stem}.svg", directory / f"{stem}.png"]
    fig.savefig(paths[0])
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)
    return paths

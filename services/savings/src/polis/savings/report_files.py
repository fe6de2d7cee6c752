"""Savings reports as JSON and CSV (for the energy department, the council and funders)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from polis.savings.application import SavingsReport
from polis.savings.measurement import PeriodSavings


def _num(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


def period_dict(p: PeriodSavings) -> dict[str, Any]:
    return {
        "period": p.period,
        "baseline_kwh": _num(p.baseline_kwh),
        "actual_kwh": _num(p.actual_kwh),
        "avoided_kwh": _num(p.avoided_kwh),
        "avoided_eur": _num(p.avoided_eur),
        "baseline_eur": _num(p.baseline_eur),
        "actual_eur": _num(p.actual_eur),
        "avoided_co2_kg": _num(p.avoided_co2_kg),
        "fractional_savings": _num(p.fractional_savings),
        "uncertainty_68_kwh": _num(p.uncertainty_68_kwh),
        "uncertainty_90_kwh": _num(p.uncertainty_90_kwh),
        "points": p.points,
    }


def report_dict(report: SavingsReport) -> dict[str, Any]:
    buildings = []
    for b in report.buildings:
        m = b.measurement
        s = m.statistics
        buildings.append(
            {
                "building": b.site.building,
                "neighbourhood": b.site.neighbourhood,
                "municipality": b.site.municipality,
                "model": m.model_label,
                "accepted": m.accepted,
                "reason": m.reason,
                "data_coverage": _num(m.sufficiency.coverage),
                "statistics": None
                if s is None
                else {
                    "r_squared": _num(s.r_squared),
                    "cv_rmse": _num(s.cv_rmse),
                    "nmbe": _num(s.nmbe),
                    "n": s.n,
                    "parameters": s.parameters,
                    "autocorrelation": _num(s.autocorrelation),
                },
                "periods": [period_dict(p) for p in m.periods],
                "cumulative": [period_dict(p) for p in m.cumulative],
            }
        )
    return {
        "method": report.method,
        "scope": {"kind": report.scope.kind.value, "name": report.scope.name},
        "baseline": {
            "start": report.baseline.start.isoformat(),
            "end": report.baseline.end.isoformat(),
        },
        "reporting": {
            "start": report.reporting.start.isoformat(),
            "end": report.reporting.end.isoformat(),
        },
        "buildings": buildings,
        "total": [period_dict(p) for p in report.total],
        "cumulative": [period_dict(p) for p in report.cumulative],
    }


CSV_COLUMNS = (
    "scope",
    "building",
    "neighbourhood",
    "model",
    "accepted",
    "period",
    "baseline_kwh",
    "actual_kwh",
    "avoided_kwh",
    "avoided_eur",
    "avoided_co2_kg",
    "fractional_savings",
    "uncertainty_68_kwh",
    "uncertainty_90_kwh",
    "baseline_eur",
    "actual_eur",
)


def report_csv(report: SavingsReport) -> str:
    """One row per building and period, then the scope total rows (building = "*")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    scope = f"{report.scope.kind.value}:{report.scope.name}"

    def row(building: str, neighbourhood: str, model: str, ok: bool, p: PeriodSavings) -> None:
        d = period_dict(p)
        writer.writerow(
            [scope, building, neighbourhood, model, "yes" if ok else "no", p.period]
            + ["" if d[c] is None else d[c] for c in CSV_COLUMNS[6:]]
        )

    for b in report.buildings:
        for p in b.measurement.periods:
            row(
                b.site.building,
                b.site.neighbourhood,
                b.measurement.model_label,
                b.measurement.accepted,
                p,
            )
    for p in report.total:
        row("*", "*", "accepted buildings", True, p)
    return out.getvalue()


def write_report(report: SavingsReport, directory: Path, stem: str) -> list[Path]:
    """Write <stem>.json and <stem>.csv into ``directory``; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{stem}.json"
    csv_path = directory / f"{stem}.csv"
    json_path.write_text(json.dumps(report_dict(report), indent=2) + "\n", encoding="utf-8")
    csv_path.write_text(report_csv(report), encoding="utf-8")
    return [json_path, csv_path]

"""Savings reports: protobuf → dict, CSV rows, and cumulative series (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from polis.mv.v1 import savings_pb2

PERIOD_FIELDS = (
    "period",
    "baseline_kwh",
    "actual_kwh",
    "avoided_kwh",
    "avoided_eur",
    "avoided_co2_kg",
    "fractional_savings",
    "uncertainty_68_kwh",
    "uncertainty_90_kwh",
)


def period_dict(p: savings_pb2.PeriodSavings) -> dict[str, Any]:
    return {name: getattr(p, name) for name in PERIOD_FIELDS}


def report_dict(
    report: savings_pb2.SavingsReport, scope: str, scope_id: str, *, per_building: bool
) -> dict[str, Any]:
    buildings = []
    if per_building:
        for b in report.buildings:
            s = b.statistics
            buildings.append(
                {
                    "building": b.building,
                    "neighbourhood": b.neighbourhood,
                    "model": b.model,
                    "statistics": {
                        "r_squared": s.r_squared,
                        "cv_rmse": s.cv_rmse,
                        "nmbe": s.nmbe,
                        "n": s.n,
                        "parameters": s.parameters,
                        "accepted": s.accepted,
                        "reason": s.reason,
                    },
                    "periods": [period_dict(p) for p in b.periods],
                }
            )
    return {
        "scope": scope,
        "scope_id": scope_id,
        "method": report.method,
        "total": [period_dict(p) for p in report.total],
        "buildings": buildings,
    }


def csv_rows(report: dict[str, Any]) -> list[list[object]]:
    """One row per (building or 'total') and period."""
    rows: list[list[object]] = []
    for p in report["total"]:
        rows.append([report["scope_id"], *(p[name] for name in PERIOD_FIELDS)])
    for b in report["buildings"]:
        for p in b["periods"]:
            rows.append([b["building"], *(p[name] for name in PERIOD_FIELDS)])
    return rows


def monthly(periods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((p for p in periods if p["period"] != "total"), key=lambda p: p["period"])


def cumulative_avoided(periods: list[dict[str, Any]]) -> list[tuple[str, float]]:
    total = 0.0
    out = []
    for p in monthly(periods):
        total += p["avoided_kwh"]
        out.append((p["period"], total))
    return out


@dataclass(frozen=True, slots=True)
class ServedReport:
    """A report as this gateway serves it: the data, and its JSON (validated against
    SavingsOut once). Cached and shared between requests: read it, never change it."""

    data: dict[str, Any]
    json: bytes

"""Savings reports (IPMVP Option C): types, the API's dict, CSV rows, cumulative series (pure).

The savings service's protobuf messages are translated into these types in
``polis.gateway.peers``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any


class Scope(StrEnum):
    BUILDING = "building"
    NEIGHBOURHOOD = "neighbourhood"
    MUNICIPALITY = "municipality"


@dataclass(frozen=True, slots=True)
class ReportQuery:
    scope: Scope
    scope_id: str
    baseline_start: datetime
    baseline_end: datetime
    reporting_start: datetime
    reporting_end: datetime

    def key(self) -> tuple[object, ...]:
        return (
            self.scope.value,
            self.scope_id,
            self.baseline_start,
            self.baseline_end,
            self.reporting_start,
            self.reporting_end,
        )


@dataclass(frozen=True, slots=True)
class PeriodSavings:
    period: str  # "2026-03" for a month, "total" for the whole reporting period
    baseline_kwh: float
    actual_kwh: float
    avoided_kwh: float
    avoided_eur: float
    avoided_co2_kg: float
    fractional_savings: float
    uncertainty_68_kwh: float
    uncertainty_90_kwh: float


# The columns of a period in the API's CSV, in this order.
PERIOD_FIELDS = tuple(f.name for f in fields(PeriodSavings))


@dataclass(frozen=True, slots=True)
class Statistics:
    r_squared: float
    cv_rmse: float
    nmbe: float
    n: int
    parameters: int
    accepted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class BuildingSavings:
    building: str
    neighbourhood: str
    model: str
    statistics: Statistics
    periods: tuple[PeriodSavings, ...]


@dataclass(frozen=True, slots=True)
class SavingsReport:
    buildings: tuple[BuildingSavings, ...]
    total: tuple[PeriodSavings, ...]
    method: str


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    points_written: int
    errors: tuple[RowError, ...] = ()  # non-empty: nothing was written


def report_dict(
    report: SavingsReport, scope: str, scope_id: str, *, per_building: bool
) -> dict[str, Any]:
    buildings = [
        {
            "building": b.building,
            "neighbourhood": b.neighbourhood,
            "model": b.model,
            "statistics": asdict(b.statistics),
            "periods": [asdict(p) for p in b.periods],
        }
        for b in (report.buildings if per_building else ())
    ]
    return {
        "scope": scope,
        "scope_id": scope_id,
        "method": report.method,
        "total": [asdict(p) for p in report.total],
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
    """A report as this gateway serves it: the data, and its JSON (validated against the API's
    schema once). Cached and shared between requests: read it, never change it."""

    data: dict[str, Any]
    json: bytes

"""Commissioning reports: a building's learned zone models and why each was accepted or
rejected, as the optimizer serves them (pure; translated from protobuf in ``peers``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str  # tau_h, r_k_per_kw, c_kwh_per_k, gains_occupied_kw, ...
    value: float
    standard_error: float | None  # from the fit's Jacobian: optimistic, not a confidence limit


@dataclass(frozen=True, slots=True)
class ZoneCommissioning:
    zone: str
    accepted: bool
    reasons: tuple[str, ...]
    structure: str  # 1R1C, 2R2C; "" when nothing was fitted
    parameters: tuple[Parameter, ...]
    holdout_rmse_k: float | None
    energy_cv: float | None
    holdout_days: int
    cop_source: str
    notes: tuple[str, ...]
    points: dict[str, str]
    readings: dict[str, int]
    has_plot: bool


@dataclass(frozen=True, slots=True)
class CommissioningReport:
    building: str
    since: str
    until: str
    generated_at: datetime | None
    zones: tuple[ZoneCommissioning, ...]


@dataclass(frozen=True, slots=True)
class Plot:
    media_type: str
    data: bytes
    generated_at: datetime | None


def report_dict(report: CommissioningReport, plot_path: str) -> dict[str, Any]:
    """The API's body; ``plot_path`` is the URL of a zone's plot with ``{zone}`` in it."""
    return {
        "building": report.building,
        "span": {"since": report.since, "until": report.until},
        "generated_at": report.generated_at,
        "accepted": [z.zone for z in report.zones if z.accepted],
        "rejected": [z.zone for z in report.zones if not z.accepted],
        "zones": [
            {
                "zone": z.zone,
                "accepted": z.accepted,
                "reasons": list(z.reasons),
                "structure": z.structure or None,
                "parameters": [
                    {"name": p.name, "value": p.value, "standard_error": p.standard_error}
                    for p in z.parameters
                ],
                "holdout_rmse_k": z.holdout_rmse_k,
                "energy_cv": z.energy_cv,
                "holdout_days": z.holdout_days,
                "cop_source": z.cop_source or None,
                "notes": list(z.notes),
                "points": z.points,
                "readings": z.readings,
                "plot": plot_path.format(zone=z.zone) if z.has_plot else None,
            }
            for z in report.zones
        ],
    }

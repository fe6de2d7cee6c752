"""Plans from the optimizer as the gateway knows them, and how the API shows them (pure).

The optimizer's protobuf messages are translated into these types in ``polis.gateway.peers``;
nothing here knows about gRPC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    """Dry run (plan only) or apply (the adapter sends the plan's commands)."""

    DRY_RUN = "dry_run"
    APPLY = "apply"
    UNSPECIFIED = "unspecified"


@dataclass(frozen=True, slots=True)
class Figures:
    energy_kwh: float = 0.0
    cost_eur: float = 0.0
    peak_kw: float = 0.0
    co2_kg: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "energy_kwh": self.energy_kwh,
            "cost_eur": self.cost_eur,
            "peak_kw": self.peak_kw,
            "co2_kg": self.co2_kg,
        }


@dataclass(frozen=True, slots=True)
class LoadSchedule:
    load_id: str
    kind: str
    power_kw: tuple[float, ...] = ()
    setpoint: tuple[float, ...] = ()
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    building: str
    neighbourhood: str = ""
    start: datetime | None = None
    slot_minutes: int = 15
    loads: tuple[LoadSchedule, ...] = ()
    planned: Figures = field(default_factory=Figures)
    baseline: Figures = field(default_factory=Figures)
    status: str = "unspecified"
    gap: float = 0.0
    mode: Mode = Mode.UNSPECIFIED
    created_at: datetime | None = None
    conflicts: tuple[str, ...] = ()
    grid_kw: tuple[float, ...] = ()

    @property
    def version(self) -> str:
        """What identifies this plan among the building's plans: its creation instant."""
        return self.created_at.isoformat() if self.created_at is not None else ""


@dataclass(frozen=True, slots=True)
class SolveResult:
    status: str
    gap: float
    solve_time_s: float
    conflicts: tuple[str, ...] = ()
    plans: tuple[Plan, ...] = ()

    def plan_of(self, building: str) -> Plan | None:
        return next((p for p in self.plans if p.building == building), None)


@dataclass(frozen=True, slots=True)
class FlexibilityRequest:
    neighbourhood: str
    window_start: datetime
    window_end: datetime
    peak_limit_kw: float
    requested_by: str


@dataclass(frozen=True, slots=True)
class FlexibilityResult:
    outcome: str  # accepted, partial, rejected or unspecified
    achieved_peak_kw: float
    reduction_kw: float
    message: str


def savings(planned: Figures, baseline: Figures) -> dict[str, float]:
    planned_d, baseline_d = planned.as_dict(), baseline.as_dict()
    return {key: baseline_d[key] - planned_d[key] for key in planned_d}


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "building": plan.building,
        "neighbourhood": plan.neighbourhood,
        "start": plan.start or datetime.fromtimestamp(0, UTC),
        "slot_minutes": plan.slot_minutes,
        "mode": plan.mode.value,
        "status": plan.status,
        "gap": plan.gap,
        "created_at": plan.created_at,
        "loads": [
            {
                "load_id": load.load_id,
                "kind": load.kind,
                "power_kw": list(load.power_kw),
                "setpoint": list(load.setpoint),
                "explanation": load.explanation,
            }
            for load in plan.loads
        ],
        "grid_kw": list(plan.grid_kw),
        "planned": plan.planned.as_dict(),
        "baseline": plan.baseline.as_dict(),
        "expected_savings": savings(plan.planned, plan.baseline),
        "conflicts": list(plan.conflicts),
    }


FLEXIBLE_KINDS = frozenset({"water_heater", "ev_charger", "battery", "pump", "deferrable", "hvac"})


def current_flexibility_kw(plan: Plan, now: datetime) -> float:
    """Planned power of flexible loads in the slot containing ``now`` (0 outside the plan)."""
    start = plan.start
    if start is None or now < start:
        return 0.0
    index = int((now - start).total_seconds() // (plan.slot_minutes * 60))
    total = 0.0
    for load in plan.loads:
        if load.kind in FLEXIBLE_KINDS and index < len(load.power_kw):
            total += max(0.0, load.power_kw[index])
    return total


def plan_summary(plan: Plan) -> dict[str, object]:
    """What a ``plan.updated`` webhook carries: enough to decide whether to fetch the plan."""
    return {
        "building": plan.building,
        "status": plan.status,
        "mode": plan.mode.value,
        "created_at": plan.created_at.isoformat() if plan.created_at else None,
        "expected_savings": savings(plan.planned, plan.baseline),
    }

"""Plans from the optimizer, as the API shows them (pure protobuf → dict translation)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from polis.planning.v1 import planning_pb2

MODES = {"dry_run": planning_pb2.MODE_DRY_RUN, "apply": planning_pb2.MODE_APPLY}


def mode_name(mode: int) -> str:
    names: dict[int, str] = {planning_pb2.MODE_DRY_RUN: "dry_run", planning_pb2.MODE_APPLY: "apply"}
    return names.get(mode, "unspecified")


def _time(ts: Any) -> datetime | None:
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, UTC)


def figures(f: planning_pb2.Figures) -> dict[str, float]:
    return {
        "energy_kwh": f.energy_kwh,
        "cost_eur": f.cost_eur,
        "peak_kw": f.peak_kw,
        "co2_kg": f.co2_kg,
    }


def savings(planned: dict[str, float], baseline: dict[str, float]) -> dict[str, float]:
    return {key: baseline[key] - planned[key] for key in planned}


def plan_dict(plan: planning_pb2.Plan) -> dict[str, Any]:
    planned, baseline = figures(plan.planned), figures(plan.baseline)
    return {
        "building": plan.building,
        "neighbourhood": plan.neighbourhood,
        "start": _time(plan.start) or datetime.fromtimestamp(0, UTC),
        "slot_minutes": plan.slot_minutes or 15,
        "mode": mode_name(plan.mode),
        "status": planning_pb2.SolveStatus.Name(plan.status).removeprefix("SOLVE_STATUS_").lower(),
        "gap": plan.gap,
        "created_at": _time(plan.created_at),
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
        "planned": planned,
        "baseline": baseline,
        "expected_savings": savings(planned, baseline),
        "conflicts": list(plan.conflicts),
    }


FLEXIBLE_KINDS = frozenset({"water_heater", "ev_charger", "battery", "pump", "deferrable", "hvac"})


def current_flexibility_kw(plan: planning_pb2.Plan, now: datetime) -> float:
    """Planned power of flexible loads in the slot containing ``now`` (0 outside the plan)."""
    start = _time(plan.start)
    slot = plan.slot_minutes or 15
    if start is None or now < start:
        return 0.0
    index = int((now - start).total_seconds() // (slot * 60))
    total = 0.0
    for load in plan.loads:
        if load.kind in FLEXIBLE_KINDS and index < len(load.power_kw):
            total += max(0.0, load.power_kw[index])
    return total


def plan_summary(plan: planning_pb2.Plan) -> dict[str, object]:
    """What a ``plan.updated`` webhook carries: enough to decide whether to fetch the plan."""
    planned, baseline = figures(plan.planned), figures(plan.baseline)
    created = _time(plan.created_at)
    return {
        "building": plan.building,
        "status": planning_pb2.SolveStatus.Name(plan.status).removeprefix("SOLVE_STATUS_").lower(),
        "mode": mode_name(plan.mode),
        "created_at": created.isoformat() if created else None,
        "expected_savings": savings(planned, baseline),
    }

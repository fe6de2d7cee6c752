"""Small hand-made instances for the optimizer tests, and the LP steps they go through."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ortools.sat.python import cp_model

from polis.optimizer.domain import (
    Battery,
    Building,
    Horizon,
    Load,
    Plan,
    SlotTariff,
    SolveStatus,
    ThermalMode,
    ThermalZone,
)
from polis.optimizer.extract import extract_plans
from polis.optimizer.model import PlanModel
from polis.optimizer.relaxation import LpRelaxation, lp_relaxation
from polis.optimizer.rounding import lp_rounded_solution

START = datetime(2025, 1, 15, tzinfo=UTC)


def per_slot(value: float | Sequence[float], slots: int) -> tuple[float, ...]:
    """One value holds in every slot; a sequence gives each slot its own."""
    return (value,) * slots if isinstance(value, int | float) else tuple(value)


def building(
    prices: list[float],
    loads: tuple[Load, ...],
    base: float | list[float] = 1.0,
    pv: float | list[float] = 0.0,
    demand_charge: float = 0.0,
    contracted_peak: float | None = None,
    feed_in: float = 0.0,
) -> Building:
    n = len(prices)
    return Building(
        id="school",
        horizon=Horizon(start=START, slots=n),
        tariff=SlotTariff(
            import_eur_per_kwh=tuple(prices),
            feed_in_eur_per_kwh=(feed_in,) * n,
            co2_kg_per_kwh=(0.4,) * n,
            demand_charge_eur_per_kw=demand_charge,
            contracted_peak_kw=contracted_peak,
        ),
        base_load_kw=per_slot(base, n),
        pv_kw=per_slot(pv, n),
        loads=loads,
    )


def heat_zone(
    slots: int,
    *,
    outdoor_c: float = 5.0,
    gains_kw: float = 0.0,
    comfort_lo: float | Sequence[float] = 18.0,
    comfort_hi: float = 24.0,
    baseline_setpoint: float = 20.0,
    **options: Any,
) -> ThermalZone:
    """The zone ``hall`` heated by a heat pump of COP 3, its inputs the same in every slot
    (but a comfort floor given slot by slot); ``options`` set the zone's other fields."""
    fields: dict[str, Any] = {
        "id": "hall",
        "r_k_per_kw": 2.0,
        "c_kwh_per_k": 2.0,
        "initial_temp_c": 20.0,
        "max_kw": 2.0,
        **options,
    }
    return ThermalZone(
        mode=ThermalMode.HEAT,
        cop=per_slot(3.0, slots),
        outdoor_c=per_slot(outdoor_c, slots),
        gains_kw=per_slot(gains_kw, slots),
        comfort_lo=per_slot(comfort_lo, slots),
        comfort_hi=per_slot(comfort_hi, slots),
        baseline_setpoint=per_slot(baseline_setpoint, slots),
        **fields,
    )


def lossless_battery(initial_kwh: float, **options: Any) -> Battery:
    """A lossless 4 kWh battery that charges and discharges at up to 4 kW."""
    return Battery(
        "bat",
        capacity_kwh=4.0,
        initial_kwh=initial_kwh,
        max_charge_kw=4.0,
        max_discharge_kw=4.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        **options,
    )


def finished_model(b: Building) -> PlanModel:
    pm = PlanModel()
    pm.add_building(b)
    pm.finish()
    return pm


def relaxed(pm: PlanModel) -> LpRelaxation:
    """The model's LP relaxation, which every test instance has."""
    lp = lp_relaxation(pm.model)
    assert lp is not None
    return lp


def rounded(pm: PlanModel, lp: LpRelaxation) -> tuple[cp_model.CpSolver, Plan]:
    """The LP point rounded into a solution, and the first building's plan read off it."""
    solver = lp_rounded_solution(pm, lp, 10.0)
    assert solver is not None
    return solver, extract_plans(pm, solver, SolveStatus.FEASIBLE, 0.0)[0]

"""Domain types of the optimizer: what a building's flexible loads are and what a plan is.

Everything here is plain data (frozen dataclasses) with per-slot series already resolved for
the planning horizon. Powers are in kW, energies in kWh, temperatures in degC, prices in
EUR/kWh, CO2 intensities in kg/kWh. Slot ``t`` covers ``[start + t*dt, start + (t+1)*dt)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

# one definition for the catalogue and the plan (re-exported)
from polis.common.catalogue.loads import ThermalMode as ThermalMode

Series = tuple[float, ...]


def series(values: Sequence[float] | float, slots: int, name: str) -> Series:
    """A per-slot series of exactly ``slots`` values (a scalar is broadcast)."""
    if isinstance(values, int | float):
        return (float(values),) * slots
    out = tuple(float(v) for v in values)
    if len(out) != slots:
        raise ValueError(f"{name}: expected {slots} values, got {len(out)}")
    return out


@dataclass(frozen=True)
class Horizon:
    start: datetime
    slots: int = 96
    slot_minutes: int = 15

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("horizon start must be timezone-aware")
        if self.slots <= 0 or self.slot_minutes <= 0:
            raise ValueError("horizon needs a positive number of slots and slot length")

    @property
    def dt_h(self) -> float:
        return self.slot_minutes / 60.0

    def slot_start(self, t: int) -> datetime:
        return self.start + timedelta(minutes=self.slot_minutes * t)


class LoadKind(StrEnum):
    HVAC = "hvac"
    WATER_HEATER = "water_heater"
    EV_CHARGER = "ev_charger"
    BATTERY = "battery"
    PUMP = "pump"
    DEFERRABLE = "deferrable"


@dataclass(frozen=True)
class DeferrableLoad:
    """An on/off load that must run ``run_slots`` slots inside ``[earliest, latest)``.

    ``baseline_start`` is the slot where the building's own timer starts it (it then runs
    continuously until done). ``max_starts`` limits how often it may be switched on.
    """

    id: str
    power_kw: float
    earliest: int
    latest: int
    run_slots: int
    min_run_slots: int = 1
    min_off_slots: int = 1
    max_starts: int | None = None
    baseline_start: int | None = None
    kind: LoadKind = LoadKind.DEFERRABLE

    def __post_init__(self) -> None:
        if self.power_kw <= 0:
            raise ValueError(f"{self.id}: power_kw must be positive")
        if not 0 <= self.earliest < self.latest:
            raise ValueError(f"{self.id}: window must satisfy 0 <= earliest < latest")
        if self.run_slots < 0 or self.min_run_slots < 1 or self.min_off_slots < 0:
            raise ValueError(f"{self.id}: run_slots >= 0, min_run_slots >= 1, min_off >= 0")
        if self.max_starts is not None and self.max_starts < 0:
            raise ValueError(f"{self.id}: max_starts must be >= 0")

    @staticmethod
    def slots_for_energy(energy_kwh: float, power_kw: float, dt_h: float) -> int:
        """Run time (slots) that delivers at least ``energy_kwh`` at ``power_kw``."""
        return math.ceil(energy_kwh / (power_kw * dt_h) - 1e-9)

    @property
    def timer_start(self) -> int:
        return self.earliest if self.baseline_start is None else self.baseline_start


@dataclass(frozen=True)
class ThermalZone:
    """A zone as a first-order RC model served by a heat pump.

    ``T[t+1] = a*T[t] + (1-a)*(Tout[t] + R*(s*COP[t]*P[t] + gains[t]))`` with
    ``a = exp(-dt/(R*C))`` and ``s = +1`` heating, ``-1`` cooling; ``P`` is electric kW.
    Comfort ``[comfort_lo, comfort_hi]`` applies to the temperature at the end of each slot.
    """

    id: str
    mode: ThermalMode
    r_k_per_kw: float
    c_kwh_per_k: float
    initial_temp_c: float
    max_kw: float
    cop: Series
    outdoor_c: Series
    gains_kw: Series
    comfort_lo: Series
    comfort_hi: Series
    baseline_setpoint: Series
    levels_kw: tuple[float, ...] | None = None
    comfort_hard: bool = False
    comfort_penalty_eur_per_kh: float = 1.0
    # the zone controller's proportional band and linked cooling (ZoneControllerConfig)
    control_band_k: float = 0.0
    cooling_offset_k: float | None = None
    kind: LoadKind = LoadKind.HVAC

    def __post_init__(self) -> None:
        if self.r_k_per_kw <= 0 or self.c_kwh_per_k <= 0 or self.max_kw <= 0:
            raise ValueError(f"{self.id}: R, C and max_kw must be positive")
        if any(c <= 0 for c in self.cop):
            raise ValueError(f"{self.id}: COP must be positive")
        if self.levels_kw is not None and any(
            lv < 0 or lv > self.max_kw + 1e-9 for lv in self.levels_kw
        ):
            raise ValueError(f"{self.id}: levels must lie in [0, max_kw]")

    @property
    def sign(self) -> int:
        return 1 if self.mode is ThermalMode.HEAT else -1

    def decay(self, dt_h: float) -> float:
        return math.exp(-dt_h / (self.r_k_per_kw * self.c_kwh_per_k))


def cop_series(
    outdoor_c: Sequence[float],
    mode: ThermalMode,
    cop_nominal: float = 3.5,
    slope_per_k: float = 0.08,
    reference_c: float = 7.0,
    lowest: float = 1.0,
    highest: float = 7.0,
) -> Series:
    """COP per slot as a linear function of outdoor temperature, clipped.

    Heating COP rises with outdoor temperature; cooling COP (EER) falls with it. The nominal
    value applies at ``reference_c`` (EN 14511 A7 for heating; use 35 for cooling).
    """
    sign = 1.0 if mode is ThermalMode.HEAT else -1.0
    return tuple(
        min(highest, max(lowest, cop_nominal + sign * slope_per_k * (t - reference_c)))
        for t in outdoor_c
    )


@dataclass(frozen=True)
class WaterTank:
    """Hot water storage as an energy state: ``E[t+1] = E[t] + eff*P[t]*dt - draw[t] - loss*dt``."""

    id: str
    min_kwh: float
    max_kwh: float
    initial_kwh: float
    heater_kw: float
    draw_kwh: Series
    loss_kw: float = 0.0
    efficiency: float = 1.0
    on_off: bool = False
    baseline_deadband_kwh: float = 1.0
    kind: LoadKind = LoadKind.WATER_HEATER

    def __post_init__(self) -> None:
        if not 0 <= self.min_kwh <= self.max_kwh:
            raise ValueError(f"{self.id}: need 0 <= min_kwh <= max_kwh")
        if not self.min_kwh <= self.initial_kwh <= self.max_kwh:
            raise ValueError(f"{self.id}: initial_kwh outside [min_kwh, max_kwh]")
        if self.heater_kw <= 0 or self.efficiency <= 0 or self.loss_kw < 0:
            raise ValueError(f"{self.id}: heater_kw, efficiency > 0 and loss_kw >= 0")


@dataclass(frozen=True)
class EVSession:
    """A plugged-in EV: ``energy_kwh`` into the battery by ``departure`` (exclusive slot)."""

    id: str
    arrival: int
    departure: int
    energy_kwh: float
    max_kw: float
    min_kw: float = 0.0
    efficiency: float = 0.92
    kind: LoadKind = LoadKind.EV_CHARGER

    def __post_init__(self) -> None:
        if not 0 <= self.arrival < self.departure:
            raise ValueError(f"{self.id}: need 0 <= arrival < departure")
        if not 0 <= self.min_kw <= self.max_kw or self.max_kw <= 0:
            raise ValueError(f"{self.id}: need 0 <= min_kw <= max_kw, max_kw > 0")
        if self.energy_kwh < 0 or not 0 < self.efficiency <= 1:
            raise ValueError(f"{self.id}: energy_kwh >= 0 and 0 < efficiency <= 1")


@dataclass(frozen=True)
class Battery:
    id: str
    capacity_kwh: float
    initial_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    min_kwh: float = 0.0
    max_kwh: float | None = None
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    terminal_min_kwh: float | None = None
    kind: LoadKind = LoadKind.BATTERY

    def __post_init__(self) -> None:
        if not 0 <= self.min_kwh <= self.upper_kwh <= self.capacity_kwh:
            raise ValueError(f"{self.id}: need 0 <= min_kwh <= max_kwh <= capacity_kwh")
        if not self.min_kwh <= self.initial_kwh <= self.upper_kwh:
            raise ValueError(f"{self.id}: initial_kwh outside the SOC limits")
        if not (0 < self.charge_efficiency <= 1 and 0 < self.discharge_efficiency <= 1):
            raise ValueError(f"{self.id}: efficiencies must be in (0, 1]")

    @property
    def upper_kwh(self) -> float:
        return self.capacity_kwh if self.max_kwh is None else self.max_kwh

    @property
    def terminal_kwh(self) -> float:
        return self.initial_kwh if self.terminal_min_kwh is None else self.terminal_min_kwh


Load = DeferrableLoad | ThermalZone | WaterTank | EVSession | Battery


@dataclass(frozen=True)
class Weights:
    """Objective weights: EUR per EUR of cost, EUR per kg CO2, and a multiplier on comfort."""

    cost: float = 1.0
    co2_eur_per_kg: float = 0.0
    comfort: float = 1.0


@dataclass(frozen=True)
class SlotTariff:
    """A tariff resolved to the horizon: per-slot prices plus peak terms."""

    import_eur_per_kwh: Series
    feed_in_eur_per_kwh: Series
    co2_kg_per_kwh: Series
    demand_charge_eur_per_kw: float = 0.0
    peak_already_kw: float = 0.0
    contracted_peak_kw: float | None = None
    fixed_eur: float = 0.0

    def __post_init__(self) -> None:
        for t, (imp, feed) in enumerate(
            zip(self.import_eur_per_kwh, self.feed_in_eur_per_kwh, strict=True)
        ):
            if feed > imp:
                raise ValueError(f"slot {t}: feed-in price {feed} exceeds import price {imp}")


@dataclass(frozen=True)
class Building:
    id: str
    horizon: Horizon
    tariff: SlotTariff
    base_load_kw: Series
    pv_kw: Series
    loads: tuple[Load, ...] = ()
    neighbourhood: str = ""
    weights: Weights = field(default_factory=Weights)
    timezone: str = "Europe/Athens"

    def __post_init__(self) -> None:
        n = self.horizon.slots
        for name, values in (
            ("base_load_kw", self.base_load_kw),
            ("pv_kw", self.pv_kw),
            ("import price", self.tariff.import_eur_per_kwh),
            ("feed-in price", self.tariff.feed_in_eur_per_kwh),
            ("co2 intensity", self.tariff.co2_kg_per_kwh),
        ):
            if len(values) != n:
                raise ValueError(f"{self.id}: {name} has {len(values)} slots, horizon has {n}")
        ids = [load.id for load in self.loads]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.id}: duplicate load ids")


@dataclass(frozen=True)
class Neighbourhood:
    """Buildings behind one transformer, optionally sharing a community PV array."""

    id: str
    buildings: tuple[Building, ...]
    transformer_kw: float | None = None
    shared_pv_kw: Series | None = None
    shared_feed_in_eur_per_kwh: Series | None = None
    # a tighter limit on the transformer flow per slot (a flexibility request); None: none
    flow_limit_kw: tuple[float | None, ...] | None = None

    def limit_kw(self, t: int) -> float | None:
        """The flow limit of slot ``t``: the transformer's, or a requested one if tighter."""
        requested = self.flow_limit_kw[t] if self.flow_limit_kw is not None else None
        if requested is None:
            return self.transformer_kw
        if self.transformer_kw is None:
            return requested
        return min(requested, self.transformer_kw)

    @property
    def limited(self) -> bool:
        return self.transformer_kw is not None or (
            self.flow_limit_kw is not None and any(v is not None for v in self.flow_limit_kw)
        )


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    FALLBACK = "fallback"


@dataclass(frozen=True)
class Figures:
    energy_kwh: float
    cost_eur: float
    peak_kw: float
    co2_kg: float


@dataclass(frozen=True)
class LoadSchedule:
    load_id: str
    kind: LoadKind
    power_kw: Series
    setpoint_c: Series = ()
    explanation: str = ""


@dataclass(frozen=True)
class Plan:
    building: str
    horizon: Horizon
    loads: tuple[LoadSchedule, ...]
    grid_kw: Series
    planned: Figures
    baseline: Figures
    status: SolveStatus
    gap: float
    neighbourhood: str = ""
    conflicts: tuple[str, ...] = ()
    shared_pv_kw: Series = ()

    def load(self, load_id: str) -> LoadSchedule:
        for schedule in self.loads:
            if schedule.load_id == load_id:
                return schedule
        raise KeyError(load_id)

    @property
    def savings(self) -> Figures:
        return Figures(
            energy_kwh=self.baseline.energy_kwh - self.planned.energy_kwh,
            cost_eur=self.baseline.cost_eur - self.planned.cost_eur,
            peak_kw=self.baseline.peak_kw - self.planned.peak_kw,
            co2_kg=self.baseline.co2_kg - self.planned.co2_kg,
        )


@dataclass(frozen=True)
class SolveResult:
    status: SolveStatus
    plans: tuple[Plan, ...]
    objective_eur: float
    best_bound_eur: float
    gap: float
    solve_time_s: float
    first_solution_s: float | None
    conflicts: tuple[str, ...] = ()
    method: str = "monolithic"

"""The optimizer's view of the municipality catalogue, and from it planning instances.

Buildings, loads, tariffs and neighbourhoods come from the catalogue
(:mod:`polis.common.catalogue`), with every point reference resolved to a full point id;
:func:`optimizer_view` makes the view, :func:`parse_config` builds one from a plain document
(tests and synthetic instances).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from polis.common.catalogue import Catalogue, resolve_point_ref
from polis.common.catalogue.loads import (
    BatteryConfig,
    ComfortPeriod,
    DeferrableConfig,
    EVConfig,
    LoadConfig,
    ModelState,
    SessionConfig,
    TankConfig,
    ZoneConfig,
    ZoneControllerConfig,
)
from polis.common.catalogue.periods import DAYS, Period
from polis.common.catalogue.schema import by_id
from polis.common.catalogue.tariffs import PricePeriod, TariffConfig
from polis.optimizer.domain import (
    Battery,
    Building,
    DeferrableLoad,
    EVSession,
    Horizon,
    Load,
    LoadKind,
    Neighbourhood,
    SlotTariff,
    ThermalMode,
    ThermalZone,
    WaterTank,
    Weights,
    cop_series,
)

__all__ = [
    "BatteryConfig",
    "BuildingConfig",
    "ComfortPeriod",
    "ConfigError",
    "DeferrableConfig",
    "EVConfig",
    "LoadConfig",
    "NeighbourhoodConfig",
    "OptimizerConfig",
    "PricePeriod",
    "SessionConfig",
    "TankConfig",
    "TariffConfig",
    "ZoneConfig",
    "ZoneControllerConfig",
    "build_building",
    "neighbourhood_of",
    "optimizer_view",
    "parse_config",
    "resolve_tariff",
    "uncommissioned",
    "uncommissioned_loads",
]

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class ConfigError(ValueError):
    pass


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BuildingConfig(_Model):
    id: str
    neighbourhood: str = ""
    tariff: str
    pv_kwp: NonNegative = 0.0
    base_load_kw: NonNegative = 5.0  # used until enough history exists
    meter_point: str | None = None
    loads: tuple[LoadConfig, ...] = ()


class NeighbourhoodConfig(_Model):
    id: str
    transformer_kw: Positive | None = None
    shared_pv_kwp: NonNegative = 0.0
    shared_feed_in_eur_per_kwh: float = 0.0


class OptimizerConfig(_Model):
    timezone: str = "Europe/Athens"
    weights: Weights = Weights()
    tariffs: tuple[TariffConfig, ...]
    buildings: tuple[BuildingConfig, ...]
    neighbourhoods: tuple[NeighbourhoodConfig, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> OptimizerConfig:
        tariffs = {t.id for t in self.tariffs}
        hoods = {n.id for n in self.neighbourhoods}
        for i, b in enumerate(self.buildings):
            if b.tariff not in tariffs:
                raise ValueError(f"buildings.{i}.tariff: unknown tariff {b.tariff!r}")
            if b.neighbourhood and b.neighbourhood not in hoods:
                raise ValueError(f"buildings.{i}.neighbourhood: unknown {b.neighbourhood!r}")
        ids = [b.id for b in self.buildings]
        if len(ids) != len(set(ids)):
            raise ValueError("building ids must be unique")
        return self

    def building(self, building_id: str) -> BuildingConfig:
        return by_id(self.buildings, building_id)

    def tariff(self, tariff_id: str) -> TariffConfig:
        return by_id(self.tariffs, tariff_id)

    def command_points(self) -> dict[str, dict[str, str]]:
        """building -> load id -> the adapter point receiving the load's command."""
        return {
            b.id: {load.id: load.command_point for load in b.loads if load.command_point}
            for b in self.buildings
        }

    def on_off_loads(self) -> frozenset[str]:
        """Water heaters commanded as 1/0 enables rather than kW."""
        return frozenset(
            load.id
            for b in self.buildings
            for load in b.loads
            if isinstance(load, TankConfig) and load.on_off and load.command_point
        )


def _resolved(load: LoadConfig, municipality: str, building: str) -> LoadConfig:
    refs = {k: resolve_point_ref(v, municipality, building) for k, v in load.point_refs().items()}
    return load.model_copy(update=refs) if refs else load


def uncommissioned(load: LoadConfig) -> bool:
    """A load without a model yet: its own controller runs it (never planned or commanded)."""
    return isinstance(load, ZoneConfig | TankConfig) and load.model is ModelState.UNCOMMISSIONED


def uncommissioned_loads(catalogue: Catalogue) -> dict[str, list[str]]:
    """building -> the ids of its loads left out of planning until commissioned."""
    out = {b.id: [x.id for x in b.loads if uncommissioned(x)] for b in catalogue.buildings}
    return {b: ids for b, ids in out.items() if ids}


def optimizer_view(catalogue: Catalogue, weights: Weights | None = None) -> OptimizerConfig:
    """The buildings with loads to plan, their tariffs and neighbourhoods; uncommissioned
    loads are left out."""
    m = catalogue.municipality
    buildings = []
    for b in catalogue.buildings:
        loads = [load for load in b.loads if not uncommissioned(load)]
        if not loads or b.tariff is None:
            continue  # nothing to plan, or nothing to price it with
        meter = None
        if b.meters is not None:
            main = b.device(b.meters.main)
            power = [p for p in main.all_points() if p.quantity.value == "active_power"]
            power.sort(key=lambda p: "total" not in p.id)  # the total, not one phase
            meter = resolve_point_ref(f"{main.id}/{power[0].id}", m, b.id) if power else None
        buildings.append(
            BuildingConfig(
                id=b.id,
                neighbourhood=b.neighbourhood,
                tariff=b.tariff,
                pv_kwp=b.pv_kwp,
                base_load_kw=b.base_load_kw,
                meter_point=meter,
                loads=tuple(_resolved(load, m, b.id) for load in loads),
            )
        )
    used = {b.neighbourhood for b in buildings}
    return OptimizerConfig(
        timezone=catalogue.timezone,
        weights=weights or Weights(),
        tariffs=catalogue.tariffs,
        buildings=tuple(buildings),
        neighbourhoods=tuple(
            NeighbourhoodConfig(
                id=n.id,
                transformer_kw=n.transformer_kw,
                shared_pv_kwp=n.shared_pv_kwp,
                shared_feed_in_eur_per_kwh=n.shared_feed_in_eur_per_kwh,
            )
            for n in catalogue.neighbourhoods
            if n.id in used
        )
        or tuple(NeighbourhoodConfig(id=h) for h in sorted(used)),
    )


def parse_config(data: object, source: str = "config") -> OptimizerConfig:
    try:
        return OptimizerConfig.model_validate(data)
    except ValidationError as error:
        lines = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"]) or "(top level)"
            lines.append(f"{source}: {where}: {item['msg']}")
        raise ConfigError("\n".join(lines)) from None


# -- from configuration to a planning instance ----------------------------------------------
def resolve_tariff(
    tariff: TariffConfig, horizon: Horizon, tz: ZoneInfo, peak_already_kw: float = 0.0
) -> SlotTariff:
    """The tariff's prices and CO2 intensity per slot of the horizon."""
    locals_ = [horizon.slot_start(t).astimezone(tz) for t in range(horizon.slots)]
    prices = [tariff.price_at(local) for local in locals_]
    return SlotTariff(
        import_eur_per_kwh=tuple(prices),
        feed_in_eur_per_kwh=tuple(min(tariff.feed_in_eur_per_kwh, p) for p in prices),
        co2_kg_per_kwh=tuple(tariff.co2_at(local) for local in locals_),
        demand_charge_eur_per_kw=tariff.demand_charge_eur_per_kw,
        peak_already_kw=peak_already_kw,
        contracted_peak_kw=tariff.contracted_peak_kw,
        fixed_eur=tariff.fixed_eur_per_day * horizon.slots * horizon.dt_h / 24,
    )


def _slots_within(horizon: Horizon, tz: ZoneInfo, period: Period) -> list[int]:
    return [
        t for t in range(horizon.slots) if period.contains(horizon.slot_start(t).astimezone(tz))
    ]


def _deferrable(cfg: DeferrableConfig, horizon: Horizon, tz: ZoneInfo) -> DeferrableLoad | None:
    inside = _slots_within(horizon, tz, cfg.window)
    if not inside:
        return None
    earliest = inside[0]
    latest = earliest
    while latest < horizon.slots and latest in inside:  # first contiguous window
        latest += 1
    dt = horizon.dt_h
    if cfg.run_hours is not None:
        run = math.ceil(cfg.run_hours / dt - 1e-9)
    else:
        run = DeferrableLoad.slots_for_energy(cfg.energy_kwh or 0.0, cfg.power_kw, dt)
    run = min(run, latest - earliest)
    step = horizon.slot_minutes
    timer = earliest
    if cfg.timer_start is not None:
        for t in range(earliest, latest):
            if horizon.slot_start(t).astimezone(tz).time() >= cfg.timer_start:
                timer = t
                break
    return DeferrableLoad(
        id=cfg.id,
        power_kw=cfg.power_kw,
        earliest=earliest,
        latest=latest,
        run_slots=run,
        min_run_slots=min(run, max(1, math.ceil(cfg.min_run_minutes / step))) or 1,
        min_off_slots=math.ceil(cfg.min_off_minutes / step),
        max_starts=cfg.max_starts,
        baseline_start=min(timer, latest - run),
        kind=LoadKind(cfg.kind),
    )


def _zone(
    cfg: ZoneConfig,
    horizon: Horizon,
    tz: ZoneInfo,
    outdoor: tuple[float, ...],
    temp: float | None,
    irradiance_w_m2: tuple[float, ...] | None,
) -> ThermalZone:
    lo, hi, gains = [], [], []
    for t in range(horizon.slots):
        local = horizon.slot_start(t + 1).astimezone(tz)  # comfort at the end of the slot
        period = next((p for p in cfg.occupied if p.contains(local)), None)
        lo.append(period.lo_c if period else cfg.unoccupied_lo_c)
        hi.append(period.hi_c if period else cfg.unoccupied_hi_c)
        internal = cfg.gains_occupied_kw if period else cfg.gains_unoccupied_kw
        solar = cfg.solar_aperture_m2 * irradiance_w_m2[t] / 1000.0 if irradiance_w_m2 else 0.0
        gains.append(internal + solar)
    setpoint = lo if cfg.mode is ThermalMode.HEAT else hi
    if cfg.r_k_per_kw is None or cfg.c_kwh_per_k is None:
        raise ConfigError(f"zone {cfg.id}: no model to plan with (uncommissioned)")
    return ThermalZone(
        id=cfg.id,
        mode=cfg.mode,
        r_k_per_kw=cfg.r_k_per_kw,
        c_kwh_per_k=cfg.c_kwh_per_k,
        initial_temp_c=cfg.initial_temp_c if temp is None else temp,
        max_kw=cfg.max_kw,
        cop=cop_series(
            outdoor, cfg.mode, cfg.cop_nominal, cfg.cop_slope_per_k, cfg.cop_reference_c
        ),
        outdoor_c=outdoor,
        gains_kw=tuple(gains),
        comfort_lo=tuple(lo),
        comfort_hi=tuple(hi),
        baseline_setpoint=tuple(setpoint),
        levels_kw=cfg.levels_kw,
        comfort_hard=cfg.comfort_hard,
        comfort_penalty_eur_per_kh=cfg.comfort_penalty_eur_per_kh,
        control_band_k=cfg.controller.proportional_band_k,
        cooling_offset_k=cfg.controller.cooling_offset_k,
    )


def _ev(cfg: EVConfig, horizon: Horizon, tz: ZoneInfo) -> list[EVSession]:
    out = []
    first_day = horizon.start.astimezone(tz).date() - timedelta(days=1)
    end = horizon.slot_start(horizon.slots)
    for offset in range(4):
        day = first_day + timedelta(days=offset)
        for k, s in enumerate(cfg.sessions):
            if DAYS[day.weekday()] not in s.days:
                continue
            arrive = datetime.combine(day, s.arrival, tz)
            leave = datetime.combine(day, s.departure, tz)
            if leave <= arrive:
                leave += timedelta(days=1)
            if leave <= horizon.start or arrive >= end:
                continue
            step = timedelta(minutes=horizon.slot_minutes)
            a = max(0, math.ceil((arrive - horizon.start) / step))
            d = min(horizon.slots, math.floor((leave - horizon.start) / step))
            if d > a:
                # a session already under way still needs the share of its remaining time
                remaining = (leave - max(arrive, horizon.start)) / (leave - arrive)
                energy = s.energy_kwh * min(1.0, remaining)
                out.append(
                    EVSession(
                        id=f"{cfg.id}@{day.isoformat()}#{k}",
                        arrival=a,
                        departure=d,
                        energy_kwh=min(
                            energy, cfg.max_kw * cfg.efficiency * (d - a) * horizon.dt_h
                        ),
                        max_kw=cfg.max_kw,
                        min_kw=cfg.min_kw,
                        efficiency=cfg.efficiency,
                    )
                )
    return out


def build_building(
    config: OptimizerConfig,
    building_id: str,
    horizon: Horizon,
    outdoor_c: tuple[float, ...],
    base_load_kw: tuple[float, ...],
    pv_kw: tuple[float, ...],
    actuals: dict[str, float] | None = None,
    peak_already_kw: float = 0.0,
    irradiance_w_m2: tuple[float, ...] | None = None,
) -> Building:
    """A planning instance for one building; ``actuals`` maps load id to its measured state
    (zone temperature degC, tank or battery energy kWh); ``irradiance_w_m2`` per slot gives
    zones with a solar aperture their solar gains."""
    cfg = config.building(building_id)
    tz = ZoneInfo(config.timezone)
    actuals = actuals or {}
    loads: list[Load] = []
    for load in cfg.loads:
        if isinstance(load, DeferrableConfig):
            made = _deferrable(load, horizon, tz)
            if made is not None:
                loads.append(made)
        elif isinstance(load, ZoneConfig):
            loads.append(_zone(load, horizon, tz, outdoor_c, actuals.get(load.id), irradiance_w_m2))
        elif isinstance(load, TankConfig):
            draw = tuple(
                load.daily_draw_kwh[horizon.slot_start(t).astimezone(tz).hour] * horizon.dt_h
                for t in range(horizon.slots)
            )
            initial = min(load.max_kwh, max(load.min_kwh, actuals.get(load.id, load.initial_kwh)))
            loads.append(
                WaterTank(
                    id=load.id,
                    min_kwh=load.min_kwh,
                    max_kwh=load.max_kwh,
                    initial_kwh=initial,
                    heater_kw=load.heater_kw,
                    draw_kwh=draw,
                    loss_kw=load.loss_kw,
                    efficiency=load.efficiency,
                    on_off=load.on_off,
                )
            )
        elif isinstance(load, EVConfig):
            loads.extend(_ev(load, horizon, tz))
        else:
            soc = actuals.get(load.id, load.initial_kwh)
            soc = min(load.capacity_kwh, max(load.min_kwh, soc))
            loads.append(
                Battery(
                    id=load.id,
                    capacity_kwh=load.capacity_kwh,
                    initial_kwh=soc,
                    max_charge_kw=load.max_charge_kw,
                    max_discharge_kw=load.max_discharge_kw,
                    min_kwh=load.min_kwh,
                    charge_efficiency=load.charge_efficiency,
                    discharge_efficiency=load.discharge_efficiency,
                    terminal_min_kwh=min(soc, load.initial_kwh),
                )
            )
    return Building(
        id=cfg.id,
        horizon=horizon,
        tariff=resolve_tariff(config.tariff(cfg.tariff), horizon, tz, peak_already_kw),
        base_load_kw=base_load_kw,
        pv_kw=pv_kw,
        loads=tuple(loads),
        neighbourhood=cfg.neighbourhood,
        weights=config.weights,
        timezone=config.timezone,
    )


def neighbourhood_of(
    config: OptimizerConfig,
    hood_id: str,
    members: tuple[Building, ...],
    shared_pv: tuple[float, ...] | None,
) -> Neighbourhood:
    cfg = next((n for n in config.neighbourhoods if n.id == hood_id), None)
    if cfg is None:
        raise KeyError(hood_id)
    n = members[0].horizon.slots if members else 0
    return Neighbourhood(
        id=hood_id,
        buildings=members,
        transformer_kw=cfg.transformer_kw,
        shared_pv_kw=shared_pv if cfg.shared_pv_kwp > 0 else None,
        shared_feed_in_eur_per_kwh=(cfg.shared_feed_in_eur_per_kwh,) * n
        if cfg.shared_pv_kwp > 0
        else None,
    )

"""YAML configuration of buildings, loads and tariffs, validated by pydantic.

A bad file fails with :class:`ConfigError` naming the file and the path inside it, e.g.
``optimizer.yaml: buildings.0.loads.2.power_kw: Input should be greater than 0``.
The schema is documented in docs/optimizer.md.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class ConfigError(ValueError):
    pass


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Model):
    """A daily time window on some weekdays, optionally only between two dates."""

    days: tuple[Day, ...] = DAYS
    start: time = time(0, 0)
    end: time = time(0, 0)  # 00:00 as end means midnight
    valid_from: date | None = None
    valid_to: date | None = None

    def contains(self, local: datetime) -> bool:
        if DAYS[local.weekday()] not in self.days:
            return False
        if self.valid_from and local.date() < self.valid_from:
            return False
        if self.valid_to and local.date() > self.valid_to:
            return False
        now = local.time()
        end = self.end if self.end != time(0, 0) else time.max
        return self.start <= now < end if self.start <= end else now >= self.start or now < end


class PricePeriod(Period):
    price_eur_per_kwh: float


class TariffConfig(_Model):
    id: str
    default_price_eur_per_kwh: NonNegative
    periods: tuple[PricePeriod, ...] = ()
    feed_in_eur_per_kwh: float = 0.0
    co2_kg_per_kwh: NonNegative | tuple[NonNegative, ...] = 0.4
    demand_charge_eur_per_kw: NonNegative = 0.0
    contracted_peak_kw: Positive | None = None
    fixed_eur_per_day: NonNegative = 0.0

    @model_validator(mode="after")
    def _co2_hourly(self) -> TariffConfig:
        if isinstance(self.co2_kg_per_kwh, tuple) and len(self.co2_kg_per_kwh) != 24:
            raise ValueError("co2_kg_per_kwh must be one value or 24 hourly values")
        return self

    def resolve(self, horizon: Horizon, tz: ZoneInfo, peak_already_kw: float = 0.0) -> SlotTariff:
        prices, co2 = [], []
        for t in range(horizon.slots):
            local = horizon.slot_start(t).astimezone(tz)
            price = self.default_price_eur_per_kwh
            for period in self.periods:  # the last matching period wins
                if period.contains(local):
                    price = period.price_eur_per_kwh
            prices.append(price)
            c = self.co2_kg_per_kwh
            co2.append(c[local.hour] if isinstance(c, tuple) else c)
        n = horizon.slots
        return SlotTariff(
            import_eur_per_kwh=tuple(prices),
            feed_in_eur_per_kwh=tuple(min(self.feed_in_eur_per_kwh, p) for p in prices),
            co2_kg_per_kwh=tuple(co2),
            demand_charge_eur_per_kw=self.demand_charge_eur_per_kw,
            peak_already_kw=peak_already_kw,
            contracted_peak_kw=self.contracted_peak_kw,
            fixed_eur=self.fixed_eur_per_day * n * horizon.dt_h / 24,
        )


class _LoadConfig(_Model):
    id: str
    command_point: str | None = None  # adapter point receiving the plan's command


class DeferrableConfig(_LoadConfig):
    kind: Literal["pump", "deferrable"]
    power_kw: Positive
    window: Period = Period()
    run_hours: Positive | None = None
    energy_kwh: Positive | None = None
    min_run_minutes: Annotated[int, Field(ge=15)] = 15
    min_off_minutes: Annotated[int, Field(ge=0)] = 15
    max_starts: Annotated[int, Field(ge=1)] | None = None
    timer_start: time | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DeferrableConfig:
        if (self.run_hours is None) == (self.energy_kwh is None):
            raise ValueError("give exactly one of run_hours or energy_kwh")
        return self


class ComfortPeriod(Period):
    lo_c: float
    hi_c: float


class ZoneControllerConfig(_Model):
    """How the zone's own controller turns its setpoint into heating and cooling.

    Commands for a zone the plan lets float keep the temperature where this controller does
    neither (``polis.optimizer.commands``).
    """

    # heating fades out over this band centred on the setpoint (0: integral action, which
    # stops heating at the setpoint itself)
    proportional_band_k: NonNegative = 0.0
    # the same setpoint also drives cooling, from this far above it (None: it never cools)
    cooling_offset_k: Positive | None = None

    @model_validator(mode="after")
    def _deadband(self) -> ZoneControllerConfig:
        if self.cooling_offset_k is not None and self.cooling_offset_k <= self.proportional_band_k:
            raise ValueError(
                f"cooling_offset_k ({self.cooling_offset_k}) must exceed proportional_band_k "
                f"({self.proportional_band_k}): heating and cooling would overlap"
            )
        return self


class ZoneConfig(_LoadConfig):
    kind: Literal["hvac"]
    mode: ThermalMode = ThermalMode.HEAT
    r_k_per_kw: Positive
    c_kwh_per_k: Positive
    max_kw: Positive
    levels_kw: tuple[Positive, ...] | None = None
    cop_nominal: Positive = 3.5
    cop_slope_per_k: float = 0.08
    cop_reference_c: float = 7.0
    occupied: tuple[ComfortPeriod, ...] = ()
    unoccupied_lo_c: float = 16.0
    unoccupied_hi_c: float = 28.0
    comfort_hard: bool = False
    comfort_penalty_eur_per_kh: NonNegative = 1.0
    gains_occupied_kw: NonNegative = 0.0
    gains_unoccupied_kw: NonNegative = 0.0
    # glazing area × g-value: solar gains are this times the irradiance forecast (kW per kW/m2)
    solar_aperture_m2: NonNegative = 0.0
    initial_temp_c: float = 19.0
    temperature_point: str | None = None
    controller: ZoneControllerConfig = ZoneControllerConfig()


class TankConfig(_LoadConfig):
    kind: Literal["water_heater"]
    min_kwh: NonNegative
    max_kwh: Positive
    initial_kwh: NonNegative
    heater_kw: Positive
    daily_draw_kwh: tuple[NonNegative, ...] = Field(default=(0.0,) * 24)
    loss_kw: NonNegative = 0.0
    efficiency: Positive = 1.0
    on_off: bool = False
    # a measured tank temperature (degC) converts to stored energy above cold water
    temperature_point: str | None = None
    volume_l: Positive | None = None
    cold_water_c: float = 14.0

    def kwh_at(self, temperature_c: float) -> float:
        """Stored heat above cold water at ``temperature_c`` (needs ``volume_l``)."""
        if self.volume_l is None:
            raise ValueError(f"{self.id}: volume_l is needed to convert a temperature")
        return self.volume_l * 4186.0 * (temperature_c - self.cold_water_c) / 3.6e6

    @model_validator(mode="after")
    def _hourly(self) -> TankConfig:
        if len(self.daily_draw_kwh) != 24:
            raise ValueError("daily_draw_kwh needs 24 hourly values")
        if self.temperature_point is not None and self.volume_l is None:
            raise ValueError("temperature_point needs volume_l")
        return self


class SessionConfig(_Model):
    days: tuple[Day, ...] = DAYS
    arrival: time
    departure: time
    energy_kwh: NonNegative


class EVConfig(_LoadConfig):
    kind: Literal["ev_charger"]
    max_kw: Positive
    min_kw: NonNegative = 0.0
    efficiency: Annotated[float, Field(gt=0, le=1)] = 0.92
    sessions: tuple[SessionConfig, ...] = ()


class BatteryConfig(_LoadConfig):
    kind: Literal["battery"]
    capacity_kwh: Positive
    initial_kwh: NonNegative
    max_charge_kw: Positive
    max_discharge_kw: Positive
    min_kwh: NonNegative = 0.0
    charge_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.95
    discharge_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.95
    soc_point: str | None = None


LoadConfig = Annotated[
    DeferrableConfig | ZoneConfig | TankConfig | EVConfig | BatteryConfig,
    Field(discriminator="kind"),
]


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
        for b in self.buildings:
            if b.id == building_id:
                return b
        raise KeyError(building_id)

    def tariff(self, tariff_id: str) -> TariffConfig:
        return next(t for t in self.tariffs if t.id == tariff_id)

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


def load_config(path: Path) -> OptimizerConfig:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: {error}") from None
    return parse_config(data, str(path))


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
        tariff=config.tariff(cfg.tariff).resolve(horizon, tz, peak_already_kw),
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

"""The simulated municipality as declarative YAML, validated by pydantic.

The default municipality ships inside the package (``data/municipality.yaml``). Every error
names the offending field with its full path, e.g.
``buildings.2.zones.0.ua_w_per_k: Input should be greater than 0``.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from polis.simulator.faults import Fault, FaultError, check_faults, parse_faults

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=48)]


class ConfigError(Exception):
    """The simulator configuration is invalid; the message names every offending field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        return list(Weekday).index(self)


WORKDAYS = [Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI]


class Period(_Model):
    """A value that applies on the given weekdays between two local times."""

    days: list[Weekday] = Field(default_factory=lambda: list(WORKDAYS), min_length=1)
    start: time
    end: time
    value: float

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError("end must be after start (periods do not cross midnight)")
        return self


class Closure(_Model):
    """A recurring yearly closure (holidays), month-day inclusive, e.g. 06-15 to 09-10."""

    start: str = Field(pattern=r"^\d\d-\d\d$")
    end: str = Field(pattern=r"^\d\d-\d\d$")

    def days_of_year(self) -> tuple[tuple[int, int], tuple[int, int]]:
        sm, sd = (int(part) for part in self.start.split("-"))
        em, ed = (int(part) for part in self.end.split("-"))
        return (sm, sd), (em, ed)


class WeeklySchedule(_Model):
    """A weekly local-time schedule: ``default`` outside periods and during closures."""

    default: float
    periods: list[Period] = Field(default_factory=list)
    closures: list[Closure] = Field(default_factory=list)


class HeatPump(_Model):
    """An air-to-water reversible heat pump serving one zone."""

    heating_capacity_kw: float = Field(gt=0, description="thermal capacity at 7 °C outdoor")
    cooling_capacity_kw: float = Field(ge=0, description="0 disables cooling")
    proportional_band_k: float = Field(default=0.5, gt=0)
    carnot_efficiency: float = Field(default=0.45, gt=0, le=1)
    supply_temperature_c: float = Field(default=35.0, ge=25, le=65)


class Zone(_Model):
    id: Identifier
    name: str
    floor_area_m2: float = Field(gt=0)
    ua_w_per_k: float = Field(gt=0, description="envelope + ventilation conductance")
    thermal_mass_kwh_per_k: float = Field(gt=0, description="effective thermal capacitance")
    solar_aperture_m2: float = Field(ge=0, description="glazing area × g-value")
    heat_pump: HeatPump
    setpoint_offset_k: float = Field(
        default=0.0, ge=-5, le=12, description="added to the building's heating schedule"
    )
    initial_temperature_c: float = Field(default=20.0, ge=-10, le=40)


class HotWater(_Model):
    volume_l: float = Field(gt=0)
    setpoint_c: float = Field(default=60.0, ge=40, le=80)
    hysteresis_k: float = Field(default=5.0, gt=0)
    heater_kw: float = Field(gt=0)
    standby_loss_w_per_k: float = Field(default=2.0, ge=0)
    daily_draw_l: float = Field(ge=0, description="draw on a fully occupied day")
    cold_water_c: float = Field(default=14.0)


class Pool(_Model):
    circulation_pump_kw: float = Field(gt=0)
    schedule: WeeklySchedule = Field(description="1 = pump runs, 0 = off")


class OcppVersion(StrEnum):
    V16 = "1.6"
    V201 = "2.0.1"


class ChargePoint(_Model):
    """An OCPP charge point serving some of the chargers (one connector each)."""

    version: OcppVersion
    connectors: int = Field(ge=1, le=32)


class EvChargers(_Model):
    count: int = Field(ge=1, le=64)
    power_kw: float = Field(gt=0, description="charger power limit")
    arrival_hour_mean: float = Field(default=8.0, ge=0, lt=24)
    arrival_hour_sd: float = Field(default=1.0, ge=0)
    stay_hours_mean: float = Field(default=7.0, gt=0)
    energy_kwh_min: float = Field(default=8.0, ge=0)
    energy_kwh_max: float = Field(default=40.0, gt=0)
    days: list[Weekday] = Field(default_factory=lambda: list(WORKDAYS))
    probability: float = Field(default=0.85, ge=0, le=1, description="a session on a given day")
    # chargers served over OCPP, in charger order; none: the chargers have no OCPP link
    charge_points: list[ChargePoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _energy_range(self) -> EvChargers:
        if self.energy_kwh_max < self.energy_kwh_min:
            raise ValueError("energy_kwh_max must be >= energy_kwh_min")
        served = sum(cp.connectors for cp in self.charge_points)
        if self.charge_points and served != self.count:
            raise ValueError(
                f"charge_points serve {served} chargers, not the {self.count} there are"
            )
        return self

    def charge_point_of(self) -> list[int]:
        """Per charger, the index of its charge point."""
        return [i for i, cp in enumerate(self.charge_points) for _ in range(cp.connectors)]


class Photovoltaic(_Model):
    peak_kw: float = Field(gt=0)
    performance_ratio: float = Field(default=0.8, gt=0, le=1)
    temperature_coefficient_per_k: float = Field(default=-0.004, le=0)


class Battery(_Model):
    capacity_kwh: float = Field(gt=0)
    power_kw: float = Field(gt=0)
    round_trip_efficiency: float = Field(default=0.9, gt=0, le=1)
    initial_soc: float = Field(default=0.5, ge=0, le=1)


class MeterRole(StrEnum):
    MAIN = "main"
    HVAC = "hvac"
    LIGHTING = "lighting"
    EV = "ev"
    PV = "pv"
    POOL = "pool"
    DHW = "dhw"
    BATTERY = "battery"  # charging is import, discharging export


class ModbusProfile(StrEnum):
    EASTRON_SDM630 = "eastron_sdm630"
    CARLO_GAVAZZI_EM24 = "carlo_gavazzi_em24"


class Meter(_Model):
    role: MeterRole
    profile: ModbusProfile
    initial_import_kwh: float = Field(default=0.0, ge=0)


class Building(_Model):
    id: Identifier
    name: str
    neighbourhood: Identifier
    kind: Literal["office", "school", "library", "sports", "depot"]
    floor_area_m2: float = Field(gt=0)
    bacnet_device_instance: int = Field(ge=1, le=4_194_302)
    modbus_gateway: bool = Field(
        default=False, description="all meters behind one TCP port with unit ids 1..n"
    )
    occupancy: WeeklySchedule = Field(description="fraction of full occupancy, 0..1")
    heating_setpoint: WeeklySchedule = Field(description="the building's own schedule, °C")
    cooling_offset_k: float = Field(default=5.0, gt=0, description="cooling sp = heating + this")
    occupant_gain_w_per_m2: float = Field(ge=0)
    lighting_w_per_m2: float = Field(ge=0)
    plug_w_per_m2: float = Field(ge=0)
    plug_base_fraction: float = Field(default=0.25, ge=0, le=1)
    zones: list[Zone] = Field(min_length=1)
    hot_water: HotWater | None = None
    pool: Pool | None = None
    ev_chargers: EvChargers | None = None
    pv: Photovoltaic | None = None
    battery: Battery | None = None
    meters: list[Meter] = Field(min_length=1)

    @field_validator("occupancy")
    @classmethod
    def _fractions(cls, value: WeeklySchedule) -> WeeklySchedule:
        for v in [value.default, *(p.value for p in value.periods)]:
            if not 0 <= v <= 1:
                raise ValueError(f"occupancy fractions must lie in 0..1, got {v}")
        return value

    @model_validator(mode="after")
    def _meters_match_equipment(self) -> Building:
        roles = [m.role for m in self.meters]
        if MeterRole.MAIN not in roles:
            raise ValueError("meters: a building needs a meter with role 'main'")
        if len(set(roles)) != len(roles):
            raise ValueError("meters: each role may appear once")
        needs = {
            MeterRole.EV: self.ev_chargers,
            MeterRole.PV: self.pv,
            MeterRole.POOL: self.pool,
            MeterRole.DHW: self.hot_water,
            MeterRole.BATTERY: self.battery,
        }
        for role, equipment in needs.items():
            if role in roles and equipment is None:
                raise ValueError(f"meters: role '{role}' but the building has no such equipment")
        zone_ids = [z.id for z in self.zones]
        if len(set(zone_ids)) != len(zone_ids):
            raise ValueError("zones: zone ids must be unique")
        return self


class Climate(_Model):
    """A deterministic climate profile; the defaults describe Larissa, Thessaly."""

    latitude: float = Field(default=39.64, ge=-66, le=66)
    longitude: float = Field(default=22.42, ge=-180, le=180)
    timezone: str = "Europe/Athens"
    annual_mean_c: float = 16.2
    annual_amplitude_c: float = Field(default=11.3, ge=0)
    coldest_day_of_year: int = Field(default=20, ge=1, le=366)
    diurnal_amplitude_winter_k: float = Field(default=4.8, ge=0)
    diurnal_amplitude_summer_k: float = Field(default=7.5, ge=0)
    anomaly_sd_k: float = Field(default=2.6, ge=0)
    cloud_cover_winter: float = Field(default=0.55, ge=0, le=1)
    cloud_cover_summer: float = Field(default=0.12, ge=0, le=1)


class Neighbourhood(_Model):
    id: Identifier
    name: str


class MunicipalityConfig(_Model):
    municipality: Identifier
    seed: int = 1
    step_seconds: int = Field(default=60, ge=1, le=900)
    climate: Climate = Field(default_factory=Climate)
    neighbourhoods: list[Neighbourhood] = Field(min_length=1)
    buildings: list[Building] = Field(min_length=1)
    # injected faults (polis.simulator.faults), each in a window of simulated time
    faults: list[Fault] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> MunicipalityConfig:
        hoods = {n.id for n in self.neighbourhoods}
        ids: set[str] = set()
        instances: set[int] = set()
        for building in self.buildings:
            if building.neighbourhood not in hoods:
                raise ValueError(
                    f"buildings: {building.id} names unknown neighbourhood "
                    f"'{building.neighbourhood}'"
                )
            if building.id in ids:
                raise ValueError(f"buildings: duplicate building id '{building.id}'")
            if building.bacnet_device_instance in instances:
                raise ValueError(
                    f"buildings: duplicate bacnet_device_instance {building.bacnet_device_instance}"
                )
            ids.add(building.id)
            instances.add(building.bacnet_device_instance)
        check_faults(self.faults, self.buildings)
        return self

    def with_copies(self, copies: int) -> MunicipalityConfig:
        """N copies of every building (ids suffixed ``-cK``), for scale tests."""
        if copies <= 1:
            return self
        buildings = list(self.buildings)
        stride = 1 + max(b.bacnet_device_instance for b in self.buildings)
        for k in range(2, copies + 1):
            for b in self.buildings:
                buildings.append(
                    b.model_copy(
                        update={
                            "id": f"{b.id}-c{k}",
                            "name": f"{b.name} (copy {k})",
                            "bacnet_device_instance": b.bacnet_device_instance + stride * (k - 1),
                        }
                    )
                )
        return self.model_copy(update={"buildings": buildings})


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "config"
        lines.append(f"{where}: {item['msg']}")
    return "invalid simulator configuration:\n  " + "\n  ".join(lines)


def parse_config(data: Any) -> MunicipalityConfig:
    """Validate already-parsed YAML data, raising ConfigError naming each bad field."""
    if isinstance(data, dict) and "faults" in data:
        # faults first, on their own: each error names its field, not the kind's union
        try:
            data = {**data, "faults": parse_faults(data["faults"])}
        except FaultError as error:
            raise ConfigError(f"invalid simulator configuration:\n  {error}") from None
    try:
        return MunicipalityConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None


def default_config_text() -> str:
    return resources.files("polis.simulator").joinpath("data/municipality.yaml").read_text("utf-8")


def load_config(path: Path | None = None) -> MunicipalityConfig:
    """Load a municipality from YAML; without a path, the packaged default."""
    text = default_config_text() if path is None else path.read_text("utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid simulator configuration: not YAML: {error}") from None
    return parse_config(data)

"""Loads: the controllable things the optimizer schedules, with the points that carry them.

A load's point references (``command_point``, ``temperature_point``, ``soc_point``) name a
point of the same building as ``device/point`` (or a full point id); the catalogue checks
that each exists and that a command point has write limits.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from polis.common.catalogue.ids import ID_PATTERN
from polis.common.catalogue.periods import DAYS, Day, Period

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class ThermalMode(StrEnum):
    HEAT = "heat"
    COOL = "cool"


class ModelState(StrEnum):
    """Where a load's model comes from (docs/catalogue.md, Loads).

    ``uncommissioned``: not known yet; the optimizer leaves the load to its own controller
    (never planned, never commanded) until commissioning learns it from measured history.
    """

    GIVEN = "given"  # written by hand, e.g. from a design study
    LEARNED = "learned"  # written by commissioning from the load's own history
    UNCOMMISSIONED = "uncommissioned"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _LoadConfig(_Model):
    id: str = Field(pattern=ID_PATTERN)
    command_point: str | None = None  # the point receiving the plan's command

    def point_refs(self) -> dict[str, str]:
        """Field name -> point reference, for every point this load names."""
        names = ("command_point", "temperature_point", "soc_point")
        return {n: v for n in names if isinstance(v := getattr(self, n, None), str)}


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


class ExcitationConfig(_Model):
    """Setpoint steps a facility manager allows on a zone for identification
    (docs/commissioning.md, Excitation). The block only allows them: a run starts on request
    (``python -m polis.optimizer excite``) and stays inside these bounds and the zone's
    comfort band."""

    enabled: bool = True
    amplitude_k: float = Field(default=1.0, ge=0.25, le=1.0)  # steps of ± this around the setpoint
    step_minutes: int = Field(default=120, ge=15, le=720, multiple_of=15)
    hours: tuple[Period, ...] = (Period(),)  # local windows in which steps are written
    max_days: int = Field(default=14, ge=1, le=42)


class ZoneConfig(_LoadConfig):
    kind: Literal["hvac"]
    mode: ThermalMode = ThermalMode.HEAT
    model: ModelState = ModelState.GIVEN
    # the 1R1C model: required unless the zone is uncommissioned, which has none
    r_k_per_kw: Positive | None = None
    c_kwh_per_k: Positive | None = None
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
    # outdoor temperature above which the zone needs no heating (alarms: heating above it)
    heating_limit_c: float | None = None
    excitation: ExcitationConfig | None = None  # absent: never excited

    @model_validator(mode="after")
    def _model_state(self) -> ZoneConfig:
        rc = ("r_k_per_kw", "c_kwh_per_k")
        if self.model is ModelState.UNCOMMISSIONED:
            given = [name for name in rc if getattr(self, name) is not None]
            if given:
                raise ValueError(
                    f"an uncommissioned zone has no model: remove {' and '.join(given)} "
                    "or set model: given"
                )
        else:
            missing = [name for name in rc if getattr(self, name) is None]
            if missing:
                raise ValueError(
                    f"{' and '.join(missing)} required (model: {self.model.value}); "
                    "a zone without a model yet is model: uncommissioned"
                )
        return self


class TankConfig(_LoadConfig):
    kind: Literal["water_heater"]
    # uncommissioned: draw profile and losses not learned yet, so the tank is not planned
    model: ModelState = ModelState.GIVEN
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
        given = sorted({"daily_draw_kwh", "loss_kw"} & self.model_fields_set)
        if self.model is ModelState.UNCOMMISSIONED and given:
            raise ValueError(
                f"an uncommissioned water heater has no model: remove {' and '.join(given)} "
                "or set model: given"
            )
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

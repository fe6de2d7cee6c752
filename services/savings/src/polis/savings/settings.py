"""Savings service settings (env POLIS_*; lists as JSON, e.g. POLIS_SAVINGS_EXCLUSIONS).

Buildings come from the municipality catalogue (``POLIS_CATALOGUE``): each one's
neighbourhood, occupancy calendar (closures), meters and tariff. ``POLIS_SAVINGS_CLOSURES``
adds closures for one building or for all; the device-name templates and the flat
``POLIS_SAVINGS_TARIFF`` / ``POLIS_SAVINGS_EMISSION_FACTOR`` apply only to buildings the
catalogue does not describe (data imported by CSV, say).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from polis.common.catalogue import load_catalogue
from polis.common.settings import PolisSettings
from polis.common.timezone import TimezoneName
from polis.savings.catalogue_view import site_directory
from polis.savings.closures import Closure, DayTypes
from polis.savings.measurement import MeasurementOptions, Window
from polis.savings.pricing import DAY_MINUTES, WEEKDAYS, RateSchedule, RateStep, TouPeriod
from polis.savings.sites import SiteDirectory
from polis.savings.statistics import Gates
from polis.savings.sufficiency import SufficiencyRules

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EVERY_DAY: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class TouPeriodSetting(BaseModel):
    """A time-of-use rate on local weekdays between two local times (``24:00`` = midnight)."""

    days: list[Weekday] = Field(default_factory=lambda: list(EVERY_DAY), min_length=1)
    start: str = Field(pattern=r"^\d\d:\d\d$")
    end: str = Field(pattern=r"^\d\d:\d\d$")
    rate: float = Field(ge=0)

    @staticmethod
    def _minutes(text: str) -> int:
        hours, minutes = int(text[:2]), int(text[3:])
        if minutes >= 60 or hours * 60 + minutes > DAY_MINUTES:
            raise ValueError(f"{text} is not a time of day")
        return hours * 60 + minutes

    @model_validator(mode="after")
    def _valid(self) -> TouPeriodSetting:
        self.period()
        return self

    def period(self) -> TouPeriod:
        return TouPeriod(
            frozenset(WEEKDAYS.index(d) for d in self.days),
            self._minutes(self.start),
            self._minutes(self.end),
            self.rate,
        )


class RateStepSetting(BaseModel):
    """A rate in force from ``valid_from`` (until the next step or ``valid_to``).

    ``rate`` is the flat rate, or the base rate of a time-of-use step whose ``periods`` set
    other rates at given hours.
    """

    valid_from: datetime = EPOCH
    valid_to: datetime | None = None
    rate: float = Field(ge=0)
    periods: list[TouPeriodSetting] = Field(default_factory=list)

    @field_validator("valid_from", "valid_to")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a UTC offset")
        return value

    @model_validator(mode="after")
    def _valid(self) -> RateStepSetting:
        self.step()
        return self

    def step(self) -> RateStep:
        return RateStep(
            self.valid_from, self.rate, tuple(p.period() for p in self.periods), self.valid_to
        )


def rate_schedule(steps: list[RateStepSetting]) -> RateSchedule:
    return RateSchedule(tuple(s.step() for s in steps))


class ExclusionSetting(BaseModel):
    """A non-routine event: its intervals count neither in the baseline nor in savings."""

    start: datetime
    end: datetime
    building: str | None = None  # None: every building
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> ExclusionSetting:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a UTC offset")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def window(self) -> Window:
        return Window(self.start, self.end)


class ClosureSetting(BaseModel):
    """Days a building is closed, inclusive: ``MM-DD`` every year or ``YYYY-MM-DD`` once."""

    start: str
    end: str
    building: str | None = None  # None: every building (a public holiday)
    reason: str = ""

    @model_validator(mode="after")
    def _valid(self) -> ClosureSetting:
        self.closure()  # raises ValueError with the reason
        return self

    def closure(self) -> Closure:
        return Closure(self.start, self.end, self.reason)


class SavingsSettings(PolisSettings):
    savings_grpc_host: str = "127.0.0.1"
    savings_grpc_port: int = Field(default=50053, ge=0, le=65535)
    savings_timezone: TimezoneName = "Europe/Athens"
    # The whole-building meter device; "{building}" is replaced by the building id.
    savings_energy_device: str = "{building}-main"
    # On-site generation (rooftop PV) added back to the main meter's net energy, so the baseline
    # models consumption, as IPMVP Option C asks; a building without this device has none.
    savings_generation_device: str | None = "{building}-pv"
    # Sub-meters whose loads lie outside the measurement boundary, subtracted from consumption.
    savings_excluded_devices: list[str] = Field(default_factory=lambda: ["{building}-ev"])
    # Storage behind the main meter (charging positive): its flows are not consumption. Read
    # from a storage meter device, else from the hourly mean of the building's storage power
    # point (kW) as the adapter records it.
    savings_storage_devices: list[str] = Field(default_factory=lambda: ["{building}-battery"])
    savings_storage_power_point: str | None = "battery-power"
    savings_tariff: list[RateStepSetting] = Field(
        default_factory=lambda: [RateStepSetting(rate=0.20)]
    )
    savings_emission_factor: list[RateStepSetting] = Field(
        default_factory=lambda: [RateStepSetting(rate=0.35)]
    )
    savings_exclusions: list[ExclusionSetting] = Field(default_factory=list)
    # Wall seconds an expectation's baseline fit is reused for (0: fitted on every request);
    # a CSV import forgets every fit at once.
    savings_baseline_cache_s: float = Field(default=86400.0, ge=0)
    # Closures and holidays in addition to the sites file's (``building`` absent: all buildings).
    savings_closures: list[ClosureSetting] = Field(default_factory=list)
    # Day types of the daily model: day_of_week, weekday_weekend or none (CalTRACK).
    savings_daily_day_types: DayTypes = DayTypes.DAY_OF_WEEK
    savings_monthly_max_cv_rmse: float = Field(default=0.15, gt=0)
    savings_monthly_max_abs_nmbe: float = Field(default=0.05, gt=0)
    savings_hourly_max_cv_rmse: float = Field(default=0.30, gt=0)
    savings_hourly_max_abs_nmbe: float = Field(default=0.10, gt=0)
    savings_min_baseline_days: int = Field(default=365, ge=1)
    savings_min_coverage: float = Field(default=0.9, gt=0, le=1)
    savings_max_gap_days: int | None = Field(default=None, ge=1)

    @field_validator("savings_tariff", "savings_emission_factor")
    @classmethod
    def _not_empty(cls, value: list[RateStepSetting]) -> list[RateStepSetting]:
        if not value:
            raise ValueError("needs at least one step")
        rate_schedule(value)  # steps must join without gaps or overlaps
        return value

    def measurement_options(self) -> MeasurementOptions:
        hourly_gates = Gates(self.savings_hourly_max_cv_rmse, self.savings_hourly_max_abs_nmbe)
        return MeasurementOptions(
            timezone=self.savings_timezone,
            sufficiency=SufficiencyRules(
                min_days=self.savings_min_baseline_days,
                min_daily_coverage=self.savings_min_coverage,
                min_hourly_coverage=self.savings_min_coverage,
                min_monthly_hourly_coverage=self.savings_min_coverage,
                max_gap_days=self.savings_max_gap_days,
            ),
            daily_gates=hourly_gates,
            monthly_gates=Gates(
                self.savings_monthly_max_cv_rmse, self.savings_monthly_max_abs_nmbe
            ),
            hourly_gates=hourly_gates,
            day_types=self.savings_daily_day_types,
            tariff=rate_schedule(self.savings_tariff),
            emission_factor=rate_schedule(self.savings_emission_factor),
        )

    def site_directory(self) -> SiteDirectory:
        """Buildings from the catalogue (``POLIS_CATALOGUE``); none when it is not set."""
        if self.catalogue is None:
            return SiteDirectory({})
        return site_directory(load_catalogue(self.catalogue))

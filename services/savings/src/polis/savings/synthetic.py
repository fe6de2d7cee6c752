"""Seeded synthetic buildings with known temperature and time-of-week effects.

Used by the acceptance tests and the benchmark: consumption is generated from a known
occupancy schedule, heating and cooling slopes and noise, so the true savings of a
reporting-period reduction are known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from polis.savings.calendar import HourlySeries, _calendar
from polis.savings.closures import NO_CLOSURES, BuildingCalendar


@dataclass(frozen=True, slots=True)
class SyntheticBuilding:
    base_kw: float = 20.0
    occupied_kw: float = 35.0
    heating_kw_per_k: float = 3.0
    cooling_kw_per_k: float = 4.0
    heating_balance_c: float = 16.0
    cooling_balance_c: float = 22.0
    noise_kw: float = 4.0
    noise_autocorrelation: float = 0.5
    open_hour: int = 8
    close_hour: int = 18
    weekdays: int = 5


@dataclass(frozen=True, slots=True)
class SyntheticData:
    series: HourlySeries  # actual metered energy, reduction applied from reduction_start
    counterfactual_kwh: np.ndarray  # the same building without the reduction
    occupied: np.ndarray  # per hour


def synthetic_building(
    start: datetime,
    hours: int,
    seed: int,
    building: SyntheticBuilding | None = None,
    reduction: float = 0.0,
    reduction_start: datetime | None = None,
    timezone: str = "Europe/Athens",
    calendar: BuildingCalendar = NO_CLOSURES,
) -> SyntheticData:
    """Hourly data for a building in a Mediterranean climate (mean 17 °C, ±10 °C seasonal).

    On the days ``calendar`` closes the building it is unoccupied all day.
    """
    b = building or SyntheticBuilding()
    rng = np.random.default_rng(seed)
    cal = _calendar(int(start.timestamp()), hours, timezone)
    day_of_year = (cal.day % 365.25).astype(float)
    hour = (cal.hour_of_week % 24).astype(float)
    weather_noise = np.convolve(rng.normal(0.0, 1.0, hours + 47), np.ones(48) / 48**0.5, "valid")
    temperature = (
        17.0
        - 10.0 * np.cos(2 * np.pi * (day_of_year - 20.0) / 365.25)
        + 4.0 * np.sin(2 * np.pi * (hour - 9.0) / 24.0)
        + 1.5 * weather_noise
    )
    weekday = cal.hour_of_week // 24
    occupied = (
        (weekday < b.weekdays)
        & (hour >= b.open_hour)
        & (hour < b.close_hour)
        & ~calendar.closed(cal.day)
    )
    load = (
        b.base_kw
        + b.occupied_kw * occupied
        + b.heating_kw_per_k * np.maximum(b.heating_balance_c - temperature, 0.0)
        + b.cooling_kw_per_k * np.maximum(temperature - b.cooling_balance_c, 0.0)
    )
    shocks = rng.normal(0.0, b.noise_kw * np.sqrt(1 - b.noise_autocorrelation**2), hours)
    noise = np.empty(hours)
    previous = rng.normal(0.0, b.noise_kw)
    for i in range(hours):
        previous = b.noise_autocorrelation * previous + shocks[i]
        noise[i] = previous
    counterfactual = np.maximum(load + noise, 0.0)
    actual = counterfactual.copy()
    if reduction and reduction_start is not None:
        after = cal.utc_seconds >= int(reduction_start.timestamp())
        actual[after] *= 1.0 - reduction
    return SyntheticData(
        series=HourlySeries(start=start, energy_kwh=actual, temperature_c=temperature),
        counterfactual_kwh=counterfactual,
        occupied=occupied,
    )

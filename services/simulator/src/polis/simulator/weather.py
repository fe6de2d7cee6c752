"""Deterministic, seeded weather: outdoor temperature, cloudiness and solar irradiance.

Everything is a pure function of (climate, seed, instant): the value at an instant never
depends on which period was asked for, so the live simulation and the history export agree.

- Temperature: annual cosine + a diurnal cosine peaking mid-afternoon (solar time) whose
  amplitude grows from winter to summer and shrinks under cloud, plus a day-to-day anomaly
  (a moving average of seeded daily innovations, so warm and cold spells last a few days).
- Cloud cover: one seeded value per day around a seasonal mean, interpolated through the day.
- Irradiance: solar position (declination, equation of time, hour angle), Haurwitz clear-sky
  global horizontal irradiance, reduced by cloud with the Kasten–Czeplak relation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from polis.simulator.config import Climate

FloatArray = NDArray[np.float64]
DAY = 86_400.0
YEAR_DAYS = 365.2422
_TEMPERATURE_STREAM = 1
_CLOUD_STREAM = 2
_MA_WEIGHTS = np.array([0.62, 0.5, 0.38, 0.27, 0.16])
_MA_WEIGHTS = _MA_WEIGHTS / np.sqrt(np.sum(_MA_WEIGHTS**2))


@lru_cache(maxsize=65_536)
def _innovation(seed: int, stream: int, day: int) -> float:
    """A standard-normal draw owned by one (seed, stream, day)."""
    rng = np.random.default_rng([seed & 0xFFFFFFFF, stream, day + 1_000_000])
    return float(rng.standard_normal())


def _innovations(seed: int, stream: int, days: NDArray[np.int64]) -> FloatArray:
    return np.array([_innovation(seed, stream, int(d)) for d in days], dtype=np.float64)


@dataclass(frozen=True)
class WeatherSample:
    temperature_c: FloatArray
    ghi_w_m2: FloatArray
    clear_sky_ghi_w_m2: FloatArray
    cloud_cover: FloatArray


def day_of_year(t: FloatArray) -> FloatArray:
    """Fractional day of year (0 = 1 January 00:00 UTC) for epoch seconds."""
    days = np.floor(t / DAY).astype("datetime64[D]")
    years = days.astype("datetime64[Y]")
    jan1 = years.astype("datetime64[D]").astype(np.int64) * DAY
    return np.asarray((t - jan1) / DAY, dtype=np.float64)


def solar_cos_zenith(t: FloatArray, latitude: float, longitude: float) -> FloatArray:
    """Cosine of the solar zenith angle (negative at night)."""
    doy = day_of_year(t)
    declination = np.radians(23.45) * np.sin(2 * np.pi * (284.0 + doy) / 365.0)
    b = 2 * np.pi * (doy - 81.0) / 364.0
    equation_of_time_min = 9.87 * np.sin(2 * b) - 7.53 * np.cos(b) - 1.5 * np.sin(b)
    utc_hours = np.mod(t, DAY) / 3600.0
    solar_hours = utc_hours + longitude / 15.0 + equation_of_time_min / 60.0
    hour_angle = np.radians(15.0 * (solar_hours - 12.0))
    phi = np.radians(latitude)
    result = np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(
        hour_angle
    )
    return np.asarray(result, dtype=np.float64)


def clear_sky_ghi(cos_zenith: FloatArray) -> FloatArray:
    """Haurwitz clear-sky global horizontal irradiance (W/m²)."""
    mu = np.clip(cos_zenith, 0.0, None)
    safe = np.where(mu > 0.01, mu, 1.0)
    ghi = np.where(mu > 0.01, 1098.0 * mu * np.exp(-0.059 / safe), 0.0)
    return np.asarray(ghi, dtype=np.float64)


class Weather:
    """The climate of one site for one seed."""

    def __init__(self, climate: Climate, seed: int) -> None:
        self.climate = climate
        self.seed = seed

    def _season(self, doy: FloatArray) -> FloatArray:
        """0 on the coldest day of the year, 1 half a year later."""
        phase = 2 * np.pi * (doy - self.climate.coldest_day_of_year) / YEAR_DAYS
        return np.asarray((1.0 - np.cos(phase)) / 2.0, dtype=np.float64)

    def _daily_series(self, t: FloatArray, stream: int) -> FloatArray:
        """Seeded daily values (moving average over days) interpolated linearly between noons."""
        local_days = (t + self.climate.longitude / 15.0 * 3600.0) / DAY - 0.5
        first = int(np.floor(local_days.min())) - len(_MA_WEIGHTS)
        last = int(np.floor(local_days.max())) + 1
        days = np.arange(first, last + 1, dtype=np.int64)
        z = _innovations(self.seed, stream, days)
        smooth = np.convolve(z, _MA_WEIGHTS, mode="full")[: len(z)]
        index = local_days - first
        return np.asarray(np.interp(index, np.arange(len(z)), smooth), dtype=np.float64)

    def cloud_cover(self, t: FloatArray) -> FloatArray:
        c = self.climate
        season = self._season(day_of_year(t))
        mean = c.cloud_cover_winter + (c.cloud_cover_summer - c.cloud_cover_winter) * season
        mean = np.clip(mean, 0.02, 0.98)
        logit = np.log(mean / (1.0 - mean)) + 1.6 * self._daily_series(t, _CLOUD_STREAM)
        return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)

    def sample(self, t: FloatArray) -> WeatherSample:
        """Weather at the given epoch seconds (UTC)."""
        t = np.asarray(t, dtype=np.float64)
        c = self.climate
        doy = day_of_year(t)
        season = self._season(doy)
        cloud = self.cloud_cover(t)
        seasonal = c.annual_mean_c + c.annual_amplitude_c * (2.0 * season - 1.0)
        amplitude = (
            c.diurnal_amplitude_winter_k
            + (c.diurnal_amplitude_summer_k - c.diurnal_amplitude_winter_k) * season
        )
        amplitude = amplitude * (1.0 - 0.45 * cloud)
        solar_hours = np.mod(t, DAY) / 3600.0 + c.longitude / 15.0
        diurnal = amplitude * np.cos(2 * np.pi * (solar_hours - 15.0) / 24.0)
        anomaly = c.anomaly_sd_k * self._daily_series(t, _TEMPERATURE_STREAM)
        temperature = seasonal + diurnal + anomaly
        cs = clear_sky_ghi(solar_cos_zenith(t, c.latitude, c.longitude))
        ghi = cs * (1.0 - 0.75 * cloud**3.4)
        return WeatherSample(
            temperature_c=np.asarray(temperature, dtype=np.float64),
            ghi_w_m2=np.asarray(ghi, dtype=np.float64),
            clear_sky_ghi_w_m2=cs,
            cloud_cover=cloud,
        )

"""Forecasts the optimizer needs: outdoor temperature, base load and PV, per 15-minute slot.

Each source sits behind a small interface so the service can read InfluxDB or HTTP while
tests pass arrays:

- :class:`TemperatureProvider` — :class:`ClimatologyTemperature` (offline default, a
  Thessaly-like climate) or :class:`HttpTemperature` (JSON over httpx, format in
  docs/optimizer.md), which falls back to climatology when the service is unreachable;
- :class:`LoadHistory` — past base-load samples; :class:`ArrayHistory` for tests,
  :class:`InfluxHistory` for the service; :class:`TimeOfWeekModel` fits a time-of-week
  profile with a heating-degree temperature adjustment and predicts the horizon;
- :func:`pv_forecast` — PV from irradiance scaled by the recent performance ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import httpx

from polis.optimizer.domain import Horizon

# Larissa (Thessaly) monthly mean temperature and mean daily range, degC (Jan..Dec).
THESSALY_MEAN_C = (5.5, 7.0, 10.0, 14.5, 20.0, 25.0, 27.8, 27.2, 22.5, 16.8, 11.0, 6.8)
THESSALY_RANGE_C = (8.5, 9.5, 11.0, 12.5, 13.5, 14.5, 15.0, 15.0, 14.0, 12.0, 9.5, 8.0)
THESSALY_LATITUDE = 39.64


class TemperatureProvider(Protocol):
    def outdoor_c(self, horizon: Horizon) -> tuple[float, ...]: ...


@dataclass(frozen=True)
class ClimatologyTemperature:
    """Monthly mean with a diurnal sine: minimum at 03:00, maximum at 15:00 local time."""

    mean_c: Sequence[float] = THESSALY_MEAN_C
    range_c: Sequence[float] = THESSALY_RANGE_C
    utc_offset_h: float = 2.0

    def at(self, moment: datetime) -> float:
        local = moment.astimezone(UTC) + timedelta(hours=self.utc_offset_h)
        month = local.month - 1
        hour = local.hour + local.minute / 60
        swing = 0.5 * self.range_c[month] * math.sin(2 * math.pi * (hour - 9.0) / 24)
        return self.mean_c[month] + swing

    def outdoor_c(self, horizon: Horizon) -> tuple[float, ...]:
        return tuple(self.at(horizon.slot_start(t)) for t in range(horizon.slots))


class ForecastFormatError(ValueError):
    pass


def parse_temperature_json(payload: object, horizon: Horizon) -> tuple[float, ...]:
    """Resample ``{"start": ISO-8601, "step_minutes": int, "temperature_c": [...]}``.

    Values are held constant over each step; the forecast must cover the whole horizon.
    """
    if not isinstance(payload, dict):
        raise ForecastFormatError("forecast must be a JSON object")
    try:
        start = datetime.fromisoformat(str(payload["start"]))
        step = int(payload["step_minutes"])
        values = [float(v) for v in payload["temperature_c"]]
    except (KeyError, TypeError, ValueError) as error:
        raise ForecastFormatError(f"bad temperature forecast: {error}") from None
    if start.tzinfo is None or step <= 0:
        raise ForecastFormatError("start must carry a timezone and step_minutes be positive")
    out = []
    for t in range(horizon.slots):
        index = int((horizon.slot_start(t) - start).total_seconds() // (step * 60))
        if not 0 <= index < len(values):
            raise ForecastFormatError(f"forecast does not cover {horizon.slot_start(t)}")
        out.append(values[index])
    return tuple(out)


@dataclass
class HttpTemperature:
    """GET ``url?latitude=..&longitude=..&start=..&hours=..`` returning the JSON above."""

    url: str
    latitude: float
    longitude: float
    client: httpx.Client
    fallback: TemperatureProvider = ClimatologyTemperature()
    last_error: str | None = None

    def outdoor_c(self, horizon: Horizon) -> tuple[float, ...]:
        hours = math.ceil(horizon.slots * horizon.slot_minutes / 60)
        params: dict[str, str | float | int] = {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "start": horizon.start.isoformat(),
            "hours": hours,
        }
        try:
            response = self.client.get(self.url, params=params)
            response.raise_for_status()
            values = parse_temperature_json(response.json(), horizon)
        except (httpx.HTTPError, ValueError) as error:
            self.last_error = str(error)
            return self.fallback.outdoor_c(horizon)
        self.last_error = None
        return values


class LoadHistory(Protocol):
    def base_load(
        self, building: str, start: datetime, stop: datetime
    ) -> list[tuple[datetime, float]]:
        """Mean base-load kW per slot in [start, stop) (timestamps at slot start)."""
        ...


@dataclass(frozen=True)
class ArrayHistory:
    start: datetime
    slot_minutes: int
    values_kw: Sequence[float]

    def base_load(
        self, building: str, start: datetime, stop: datetime
    ) -> list[tuple[datetime, float]]:
        out = []
        for i, value in enumerate(self.values_kw):
            moment = self.start + timedelta(minutes=self.slot_minutes * i)
            if start <= moment < stop:
                out.append((moment, value))
        return out


class InfluxHistory:
    """Base load from the raw bucket: the building's main meter active power, 15-min means."""

    def __init__(self, store: object, point_by_building: dict[str, str]) -> None:
        self._store = store
        self._points = point_by_building

    def base_load(
        self, building: str, start: datetime, stop: datetime
    ) -> list[tuple[datetime, float]]:
        from polis.common.influx import InfluxStore

        store = self._store
        assert isinstance(store, InfluxStore)
        point = self._points.get(building)
        if point is None:
            return []
        rows = store.query_window(
            start, stop, {"building": building, "point": point}, timedelta(minutes=15)
        )
        return [(row.time, row.value) for row in rows]


HOURS_PER_WEEK = 168
BALANCE_POINT_C = 15.0


@dataclass(frozen=True)
class TimeOfWeekModel:
    """``load = profile[hour of week] + k * max(0, balance - T_out)``, least squares for k."""

    profile_kw: tuple[float, ...]
    heating_kw_per_k: float
    fallback_kw: float

    @classmethod
    def fit(
        cls,
        samples: Sequence[tuple[datetime, float]],
        temperature: TemperatureProvider | None = None,
        outdoor_c: Sequence[float] | None = None,
    ) -> TimeOfWeekModel:
        if not samples:
            return cls((0.0,) * HOURS_PER_WEEK, 0.0, 0.0)
        if outdoor_c is None:
            clim = temperature or ClimatologyTemperature()
            at = getattr(clim, "at", None)
            outdoor_c = [at(m) if at else BALANCE_POINT_C for m, _ in samples]
        hdd = [max(0.0, BALANCE_POINT_C - t) for t in outdoor_c]
        buckets: dict[int, list[int]] = {}
        for i, (moment, _) in enumerate(samples):
            buckets.setdefault(_hour_of_week(moment), []).append(i)
        # alternate: slope from within-bucket deviations, then profile as the bucket means
        slope = 0.0
        num = den = 0.0
        for idx in buckets.values():
            mean_load = sum(samples[i][1] for i in idx) / len(idx)
            mean_hdd = sum(hdd[i] for i in idx) / len(idx)
            for i in idx:
                num += (hdd[i] - mean_hdd) * (samples[i][1] - mean_load)
                den += (hdd[i] - mean_hdd) ** 2
        if den > 1e-9:
            slope = max(0.0, num / den)
        overall = sum(v for _, v in samples) / len(samples)
        profile = []
        for hour in range(HOURS_PER_WEEK):
            members = buckets.get(hour)
            if members:
                profile.append(sum(samples[i][1] - slope * hdd[i] for i in members) / len(members))
            else:
                profile.append(math.nan)
        filled = tuple(overall if math.isnan(p) else p for p in profile)
        return cls(filled, slope, overall)

    def predict(self, horizon: Horizon, outdoor_c: Sequence[float]) -> tuple[float, ...]:
        return tuple(
            max(
                0.0,
                self.profile_kw[_hour_of_week(horizon.slot_start(t))]
                + self.heating_kw_per_k * max(0.0, BALANCE_POINT_C - outdoor_c[t]),
            )
            for t in range(horizon.slots)
        )


def _hour_of_week(moment: datetime) -> int:
    moment = moment.astimezone(UTC)
    return moment.weekday() * 24 + moment.hour


def clear_sky_w_m2(moment: datetime, latitude: float = THESSALY_LATITUDE) -> float:
    """Plane-of-array irradiance proxy: 1000 W/m2 times the sine of the solar elevation."""
    moment = moment.astimezone(UTC)
    day = moment.timetuple().tm_yday
    declination = math.radians(23.44) * math.sin(2 * math.pi * (284 + day) / 365)
    solar_hour = moment.hour + moment.minute / 60 + 22.4 / 15  # Thessaly ~22.4 deg E
    angle = math.radians(15 * (solar_hour - 12))
    lat = math.radians(latitude)
    sin_elev = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(
        declination
    ) * math.cos(angle)
    return max(0.0, 1000.0 * sin_elev)


def performance_ratio(
    recent_yield_kwh: float, recent_irradiance_kwh_m2: float, kwp: float, default: float = 0.8
) -> float:
    """Measured yield over the yield irradiance predicts (1 kWp per kW/m2), clipped to [0.1, 1]."""
    expected = recent_irradiance_kwh_m2 * kwp
    if expected <= 1e-6:
        return default
    return min(1.0, max(0.1, recent_yield_kwh / expected))


def pv_forecast(
    irradiance_w_m2: Sequence[float], kwp: float, ratio: float = 0.8
) -> tuple[float, ...]:
    return tuple(kwp * ratio * g / 1000.0 for g in irradiance_w_m2)


def clear_sky_series(horizon: Horizon, latitude: float = THESSALY_LATITUDE) -> tuple[float, ...]:
    half = timedelta(minutes=horizon.slot_minutes / 2)
    return tuple(
        clear_sky_w_m2(horizon.slot_start(t) + half, latitude) for t in range(horizon.slots)
    )

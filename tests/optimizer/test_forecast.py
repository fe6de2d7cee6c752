"""Forecasts: time-of-week base load, HTTP temperature with fallback, PV."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from polis.optimizer.domain import Horizon
from polis.optimizer.forecast import (
    ArrayHistory,
    ClimatologyTemperature,
    HttpTemperature,
    TimeOfWeekModel,
    performance_ratio,
    pv_forecast,
)

pytestmark = pytest.mark.unit

START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday


def test_time_of_week_model_recovers_profile_and_heating_slope() -> None:
    # two weeks of hourly-constant load: 10 kW on weekdays 08-16, 4 kW otherwise,
    # plus 0.5 kW per degree below 15 degC
    slots = 14 * 96
    outdoor = [5.0 + 6.0 * ((i // 96) % 3) for i in range(slots)]  # 5, 11, 17 degC days
    load = []
    for i in range(slots):
        moment = START + timedelta(minutes=15 * i)
        occupied = moment.weekday() < 5 and 8 <= moment.hour < 16
        load.append((10.0 if occupied else 4.0) + 0.5 * max(0.0, 15.0 - outdoor[i]))
    history = ArrayHistory(START, 15, load)
    samples = history.base_load("b", START, START + timedelta(days=14))
    model = TimeOfWeekModel.fit(samples, outdoor_c=outdoor)
    assert model.heating_kw_per_k == pytest.approx(0.5)
    horizon = Horizon(START + timedelta(days=14), slots=96)  # a Monday again
    predicted = model.predict(horizon, [0.0] * 96)
    assert predicted[40] == pytest.approx(10.0 + 7.5)  # 10:00, occupied, 15 K below balance
    assert predicted[8] == pytest.approx(4.0 + 7.5)  # 02:00


def _http(handler: httpx.MockTransport) -> httpx.Client:
    return httpx.Client(transport=handler)


def test_http_temperature_resamples_hourly_forecast() -> None:
    horizon = Horizon(START, slots=8)
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {"start": START.isoformat(), "step_minutes": 60, "temperature_c": [3.0, 4.5]}
        return httpx.Response(200, content=json.dumps(body))

    provider = HttpTemperature(
        "http://weather/forecast", 39.6, 22.4, _http(httpx.MockTransport(handle))
    )
    assert provider.outdoor_c(horizon) == (3.0, 3.0, 3.0, 3.0, 4.5, 4.5, 4.5, 4.5)
    assert seen[0].url.params["hours"] == "2"
    assert provider.last_error is None


def test_http_temperature_falls_back_to_climatology() -> None:
    horizon = Horizon(START, slots=4)

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    provider = HttpTemperature(
        "http://weather/forecast", 39.6, 22.4, _http(httpx.MockTransport(handle))
    )
    assert provider.outdoor_c(horizon) == ClimatologyTemperature().outdoor_c(horizon)
    assert provider.last_error is not None
    assert "503" in provider.last_error


def test_climatology_is_a_cold_january_night_and_a_hot_july_afternoon() -> None:
    clim = ClimatologyTemperature()
    january_dawn = clim.at(datetime(2025, 1, 15, 1, 0, tzinfo=UTC))  # 03:00 local
    july_afternoon = clim.at(datetime(2025, 7, 15, 13, 0, tzinfo=UTC))  # 15:00 local
    assert january_dawn == pytest.approx(5.5 - 8.5 / 2, abs=0.05)
    assert july_afternoon == pytest.approx(27.8 + 15.0 / 2, abs=0.05)


def test_pv_scales_irradiance_by_measured_performance_ratio() -> None:
    ratio = performance_ratio(recent_yield_kwh=60.0, recent_irradiance_kwh_m2=4.0, kwp=20.0)
    assert ratio == pytest.approx(0.75)
    assert pv_forecast([0.0, 500.0, 1000.0], kwp=20.0, ratio=ratio) == (0.0, 7.5, 15.0)

"""The controller, hot-water tank and base-load fits on data whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from polis.optimizer.identify.base_load import base_load
from polis.optimizer.identify.controller import cooling_offset, fit_band, fit_controller
from polis.optimizer.identify.tank import WATER_KWH_PER_L_K, fit_tank, outflow_kw

pytestmark = pytest.mark.unit

STEP_H = 0.25
PER_DAY = 96


def _proportional(band: float, error: np.ndarray) -> np.ndarray:
    return np.clip(50.0 + 100.0 * error / band, 0.0, 100.0)


def test_the_band_is_the_slope_of_the_unsaturated_output() -> None:
    rng = np.random.default_rng(1)
    setpoint = np.full(2000, 21.0)
    temperature = 21.0 + rng.normal(0.0, 0.6, 2000)
    output = _proportional(0.5, setpoint - temperature) + rng.normal(0.0, 1.0, 2000)
    band, steps, r2, why = fit_band(setpoint, temperature, output)
    assert why is None
    assert band == pytest.approx(0.5, rel=0.03)
    assert steps > 300
    assert r2 is not None
    assert r2 > 0.95


def test_no_band_where_the_output_only_saturates_or_is_not_proportional() -> None:
    rng = np.random.default_rng(2)
    setpoint = np.full(500, 21.0)
    # always far from the setpoint: on or off, never in between
    far = 21.0 + np.where(rng.random(500) > 0.5, 3.0, -3.0)
    band, _, _, why = fit_band(setpoint, far, _proportional(0.5, setpoint - far))
    assert band is None
    assert why is not None
    assert "unsaturated steps" in why
    noise = rng.uniform(10.0, 90.0, 500)
    band, _, _, why = fit_band(setpoint, 21.0 + rng.normal(0, 0.3, 500), noise)
    assert band is None
    assert why is not None
    assert "not proportional" in why


def test_controller_reads_the_cooling_offset_and_the_full_output_input() -> None:
    rng = np.random.default_rng(3)
    n = 1500
    setpoint = np.where(np.arange(n) % 96 < 40, 21.0, 16.0)
    temperature = setpoint + rng.normal(0.0, 0.8, n)
    output = _proportional(1.0, setpoint - temperature)
    power = output / 100.0 * rng.uniform(12.0, 15.0, n)
    fit = fit_controller(setpoint, temperature, output, setpoint + 5.0, power)
    assert fit.proportional_band_k == pytest.approx(1.0, rel=0.02)
    assert fit.cooling_offset_k == pytest.approx(5.0)
    assert fit.full_output_kw is not None
    assert 12.0 < fit.full_output_kw < 13.0  # the low end of 12–15 kW at full output
    # without the BMS points: nothing claimed, and said why
    bare = fit_controller(None, temperature, None, None, power)
    assert (bare.proportional_band_k, bare.cooling_offset_k, bare.full_output_kw) == (
        None,
        None,
        None,
    )
    assert bare.notes


def test_a_cooling_setpoint_inside_the_band_is_no_cooling_offset() -> None:
    setpoint = np.array([21.0, 21.0, np.nan, 16.0])
    assert cooling_offset(setpoint, setpoint + 5.0, 0.5) == 5.0
    assert cooling_offset(setpoint, setpoint + 0.4, 0.5) is None  # overlaps heating
    assert cooling_offset(setpoint, np.full(4, np.nan), 0.5) is None  # never read


def _tank(days: int, draw_kw: np.ndarray, loss_w_per_k: float, heater_kw: float):  # type: ignore[no-untyped-def]
    """A one-node tank on a 52–60 °C thermostat, one-minute steps, as 15-minute means."""
    volume, cold = 300.0, 14.0
    per_step = volume * WATER_KWH_PER_L_K  # kWh per K
    temps, powers = [], []
    t, on = 58.0, False
    for minute in range(days * 1440):
        hour = (minute // 60) % 24
        weekday = (minute // 1440) % 7 < 5
        if t < 55.0:
            on = True
        elif t >= 60.0:
            on = False
        q = heater_kw if on else 0.0
        out = (draw_kw[hour] if weekday else 0.0) + loss_w_per_k * (t - 20.0) / 1000.0
        temps.append(t)
        powers.append(q)
        t += (q - out) / 60.0 / per_step
    temp = np.asarray(temps).reshape(-1, 15)[:, 0]  # sampled at each step's start
    power = np.asarray(powers).reshape(-1, 15).mean(axis=1)
    return temp, power, volume, cold


def test_the_tank_profile_is_what_left_it_hour_by_hour() -> None:
    draw = np.zeros(24)
    draw[8:16] = 1.2  # kW drawn while the building is open
    temp, power, volume, cold = _tank(21, draw, 2.0, 3.0)
    hours = np.tile(np.repeat(np.arange(24.0), 4), 21)
    weekday = np.repeat([1.0 if d % 7 < 5 else 0.0 for d in range(21)], PER_DAY)
    out = outflow_kw(temp, power, STEP_H, volume, cold)
    model = fit_tank(out, hours, weekday, STEP_H, holdout_days=3)
    assert model.accepted, model.reasons
    # the standing loss at the tank's mean temperature, about 2 W/K · 36 K
    assert model.loss_kw == pytest.approx(0.072, abs=0.02)
    learned = np.asarray(model.daily_draw_kwh)
    assert learned[8:16].sum() == pytest.approx(draw.sum(), rel=0.05)
    assert learned[:7].sum() + learned[17:].sum() < 0.1
    assert model.holdout_days == 1  # the Friday of the last three days (then a weekend)
    assert model.cv is not None
    assert model.cv < 0.1


def test_a_tank_with_too_little_history_is_rejected() -> None:
    temp, power, volume, cold = _tank(7, np.full(24, 0.3), 2.0, 3.0)
    hours = np.tile(np.repeat(np.arange(24.0), 4), 7)
    weekday = np.repeat([1.0 if d % 7 < 5 else 0.0 for d in range(7)], PER_DAY)
    model = fit_tank(
        outflow_kw(temp, power, STEP_H, volume, cold), hours, weekday, STEP_H, holdout_days=3
    )
    assert not model.accepted
    assert model.reasons[0] == "4 complete training weekdays < 5"


def test_base_load_is_the_main_meter_less_the_planned_loads() -> None:
    rng = np.random.default_rng(4)
    n = 14 * PER_DAY
    lighting = 8.0 + 4.0 * rng.random(n)
    heat_pump = 20.0 * rng.random(n)
    pv = np.clip(30.0 * np.sin(np.linspace(0, 14 * 2 * np.pi, n)), 0.0, None)
    main = lighting + heat_pump - pv
    counter = 1000.0 + np.concatenate([[0.0], np.cumsum(main * STEP_H)[:-1]])
    # the meter read now and then, the controller's points at every step
    counter[rng.random(n) < 0.7] = np.nan
    weekday = np.repeat([1.0 if d % 7 < 5 else 0.0 for d in range(14)], PER_DAY)
    result = base_load(counter, [heat_pump], [pv], weekday, STEP_H)
    assert result.kw == pytest.approx(float(np.mean(lighting[weekday > 0])), rel=0.02)
    assert result.days == 10
    counter[: 9 * PER_DAY] = np.nan  # three weekdays left
    short = base_load(counter, [heat_pump], [pv], weekday, STEP_H)
    assert short.kw is None
    assert short.reason == "3 weekdays with every power read < 5"

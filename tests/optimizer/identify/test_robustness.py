"""Measured data as it arrives from a building: gaps, a stuck sensor, a meter reset or
replacement, a zone held at one setpoint all month, too little history, points without a
reading, a temperature in °F. Each gives a correct fit or a clear rejection naming its
cause, never a crash or a parameter outside its bounds.

The month is the simulator's own physics (every zone of the default municipality, 30 days
from Monday 6 January 2025); the truth is read only to judge the result."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from optimizer.identify.simulated import SimulatedZone, sensor, zone_histories
from polis.optimizer.identify import (
    Identification,
    ZoneModel,
    ZoneModel2,
    ZoneSeries,
    identify_zone,
    power_from_counter,
)
from polis.optimizer.identify.rc import LOWER, UPPER, vector_of
from polis.optimizer.identify.rc2 import LOWER2, UPPER2
from polis.optimizer.identify.zone import C_RANGE_KWH_PER_K, MAX_TAU_RELATIVE_ERROR

pytestmark = [pytest.mark.unit, pytest.mark.slow]  # 1R1C and 2R2C fits of every zone

DAYS = 30
HOLDOUT = 3
PER_DAY = 96
TAU_TOLERANCE = 0.25  # the acceptance for R·C
ZONES = {z.zone: z for z in zone_histories(DAYS)}
CONSTANT = {z.zone: z for z in zone_histories(DAYS, constant_setpoint_c=21.0)}
OFFICES = ZONES["offices"]
ALL_SERIES = (
    "temperature_c",
    "outdoor_c",
    "power_kw",
    "irradiance_w_m2",
    "occupancy",
    "cooling_power_kw",
)


def _identify(zone: SimulatedZone, series: ZoneSeries) -> Identification:
    result = identify_zone(series, holdout_days=HOLDOUT, cop_prior=zone.datasheet_cop)
    if result.accepted:
        _assert_physical(result)
    return result


def _assert_physical(result: Identification) -> None:
    model = result.model
    if isinstance(model, ZoneModel):
        x = vector_of(model)
        assert np.all(np.isfinite(x))
        assert np.all(x >= LOWER)
        assert np.all(x <= UPPER)
        assert C_RANGE_KWH_PER_K[0] <= model.c_kwh_per_k <= C_RANGE_KWH_PER_K[1]
    else:
        assert isinstance(model, ZoneModel2)
        x = model.vector()
        assert np.all(x >= LOWER2)
        assert np.all(x <= UPPER2)


def _assert_correct(zone: SimulatedZone, result: Identification, rel: float = 0.1) -> None:
    assert result.accepted, result.reasons
    assert result.model is not None
    assert result.model.tau_h == pytest.approx(zone.tau_h, rel=rel)


def _lose(series: ZoneSeries, lost: np.ndarray, names: tuple[str, ...] = ALL_SERIES) -> ZoneSeries:
    """``series`` with the steps in ``lost`` missing from the named series."""
    changes = {}
    for name in names:
        values = getattr(series, name).copy()
        values[lost] = np.nan
        changes[name] = values
    return replace(series, **changes)


@pytest.mark.parametrize("share", [0.1, 0.3])
def test_readings_lost_at_random(share: float) -> None:
    """The adapter missed a poll: every point of the zone misses the same steps."""
    lost = np.random.default_rng(1).random(OFFICES.series.steps) < share
    _assert_correct(OFFICES, _identify(OFFICES, _lose(OFFICES.series, lost)))


def test_a_temperature_sensor_losing_readings_at_random() -> None:
    """The model runs through missing temperatures: it needs its inputs, not its output."""
    lost = np.random.default_rng(2).random(OFFICES.series.steps) < 0.3
    result = _identify(OFFICES, _lose(OFFICES.series, lost, ("temperature_c",)))
    _assert_correct(OFFICES, result)


def test_every_point_losing_a_tenth_of_its_readings_on_its_own() -> None:
    rng = np.random.default_rng(3)
    series = OFFICES.series
    for name in ALL_SERIES:
        series = _lose(series, rng.random(series.steps) < 0.1, (name,))
    result = _identify(OFFICES, series)
    _assert_correct(OFFICES, result)
    assert any("interpolated" in note for note in result.notes)  # short outdoor gaps bridged


def test_every_point_losing_a_third_on_its_own_is_rejected() -> None:
    """Too few stretches where every input is measured: rejected, naming the worst points."""
    rng = np.random.default_rng(4)
    series = OFFICES.series
    for name in ALL_SERIES:
        series = _lose(series, rng.random(series.steps) < 0.3, (name,))
    result = _identify(OFFICES, series)
    assert result.model is None
    (reason,) = result.reasons
    assert "days of usable training data < 7 days (gaps: " in reason
    assert "power_kw 3" in reason


def test_a_three_day_outage() -> None:
    lost = np.zeros(OFFICES.series.steps, dtype=bool)
    lost[10 * PER_DAY + 37 : 13 * PER_DAY + 37] = True  # from a Thursday morning
    _assert_correct(OFFICES, _identify(OFFICES, _lose(OFFICES.series, lost)))


def test_an_outage_over_the_held_out_days_is_rejected() -> None:
    lost = np.zeros(OFFICES.series.steps, dtype=bool)
    lost[(DAYS - HOLDOUT) * PER_DAY :] = True
    result = _identify(OFFICES, _lose(OFFICES.series, lost))
    assert not result.accepted
    assert result.reasons == ("no held-out day with measured data",)


@pytest.mark.parametrize("resolution_k", [0.0, 0.1])
def test_a_sensor_stuck_for_two_days(resolution_k: float) -> None:
    temps = sensor(OFFICES.series.temperature_c, resolution_k, 0.0, 0)
    temps[12 * PER_DAY + 40 : 14 * PER_DAY + 40] = temps[12 * PER_DAY + 40]
    result = _identify(OFFICES, replace(OFFICES.series, temperature_c=temps))
    _assert_correct(OFFICES, result)
    (note,) = [n for n in result.notes if "stuck sensor" in n]
    hours = float(note.removeprefix("temperature_c: flat for ").split(" h")[0])
    assert 48.0 <= hours <= 50.0  # two days, and the sensor's own repeats either side


def test_a_sensor_stuck_for_good_is_rejected() -> None:
    temps = OFFICES.series.temperature_c.copy()
    temps[100:] = temps[100]
    result = _identify(OFFICES, replace(OFFICES.series, temperature_c=temps))
    assert result.model is None
    assert result.reasons == (
        "temperature_c: repeated exactly for 97% of the series (a stuck sensor)",
    )


def _counter(power_kw: np.ndarray, first_kwh: float) -> np.ndarray:
    """The meter's energy register read at each step start, and after the last step."""
    return np.concatenate([[first_kwh], first_kwh + np.cumsum(power_kw * 0.25)])


def test_a_meter_reset_mid_month() -> None:
    counter = _counter(OFFICES.series.power_kw, 1000.0)
    reset = 15 * PER_DAY + 30
    counter[reset:] -= counter[reset] - 0.4  # the register restarts near zero
    derived = power_from_counter(counter, 0.25)[:-1]
    assert np.flatnonzero(np.isnan(derived)).tolist() == [reset - 1]
    _assert_correct(OFFICES, _identify(OFFICES, replace(OFFICES.series, power_kw=derived)))


def test_a_meter_replaced_mid_month() -> None:
    """The new meter's register starts from its own reading, far above the old one's."""
    counter = _counter(OFFICES.series.power_kw, 1000.0)
    swap = 16 * PER_DAY + 50
    counter[swap:] += 52_000.0 - counter[swap]
    derived = power_from_counter(counter, 0.25)[:-1]
    assert np.flatnonzero(np.isnan(derived)).tolist() == [swap - 1]
    _assert_correct(OFFICES, _identify(OFFICES, replace(OFFICES.series, power_kw=derived)))


SENSORS = {"exact": (0.0, 0.0), "0.1 K": (0.1, 0.05), "0.5 K": (0.5, 0.1)}


@pytest.mark.parametrize("name", list(CONSTANT))
@pytest.mark.parametrize("kind", list(SENSORS))
def test_a_constant_setpoint_all_month(name: str, kind: str) -> None:
    """Held at 21 °C day and night: a correct fit where the data determine τ, a rejection
    saying the data do not excite the zone where they do not. The decision rests on τ's
    standard error, never on how far the temperature happened to move."""
    zone = CONSTANT[name]
    resolution, noise = SENSORS[kind]
    temps = sensor(zone.series.temperature_c, resolution, noise, seed=5)
    result = _identify(zone, replace(zone.series, temperature_c=temps))
    if result.accepted:
        assert result.model is not None
        assert result.model.tau_h == pytest.approx(zone.tau_h, rel=TAU_TOLERANCE)
        assert result.fit is not None
        error = result.fit.standard_errors["tau_h"]
        assert error < MAX_TAU_RELATIVE_ERROR * result.model.tau_h
    else:
        assert any("do not excite the zone" in reason for reason in result.reasons), result.reasons


def test_the_flattest_zone_with_a_coarse_sensor_is_not_excited() -> None:
    """The workshop held at 21 °C moves 0.35 K (5th to 95th percentile); a thermostat
    reading in 0.5 K steps leaves τ undetermined: rejected for it, on every sensor noise."""
    zone = CONSTANT["workshop"]
    for seed in range(3):
        temps = sensor(zone.series.temperature_c, 0.5, 0.1, seed)
        result = _identify(zone, replace(zone.series, temperature_c=temps))
        assert not result.accepted
        (reason,) = [r for r in result.reasons if r.startswith("time constant not identified")]
        assert "the data do not excite the zone enough to learn it" in reason


def test_a_zone_within_half_a_kelvin_is_learned_where_its_data_determine_tau() -> None:
    """The pool hall held at 21 °C stays within 0.26 K, yet its heat pump's swings pin τ."""
    zone = CONSTANT["pool-hall"]
    temps = zone.series.temperature_c
    assert np.percentile(temps, 95) - np.percentile(temps, 5) < 0.3
    _assert_correct(zone, _identify(zone, zone.series))


@pytest.mark.parametrize("zone", ZONES.values(), ids=lambda z: z.zone)
def test_a_quantised_sensor(zone: SimulatedZone) -> None:
    """A BACnet analog input at 0.1 K resolution."""
    temps = sensor(zone.series.temperature_c, 0.1, 0.0, 0)
    _assert_correct(zone, _identify(zone, replace(zone.series, temperature_c=temps)))


def test_too_little_history_is_rejected() -> None:
    result = _identify(OFFICES, OFFICES.series.days_slice(0, 8))
    assert result.reasons == ("5.0 days of usable training data < 7 days",)
    short = _identify(OFFICES, OFFICES.series.days_slice(0, 3))
    assert short.reasons == ("3 whole days of data: not more than the 3 held out",)
    empty = _identify(OFFICES, OFFICES.series.days_slice(0, 0))
    assert empty.model is None
    assert empty.reasons[-1] == "0 whole days of data: not more than the 3 held out"


@pytest.mark.parametrize("name", ["temperature_c", "outdoor_c", "power_kw"])
def test_a_point_without_readings_is_named(name: str) -> None:
    empty = np.full(OFFICES.series.steps, np.nan)
    result = _identify(OFFICES, replace(OFFICES.series, **{name: empty}))
    assert result.model is None
    assert result.reasons == (f"{name}: no readings",)


def test_a_cooling_point_without_readings_is_left_out() -> None:
    empty = np.full(OFFICES.series.steps, np.nan)
    result = _identify(OFFICES, replace(OFFICES.series, cooling_power_kw=empty))
    assert "cooling_power_kw: no readings, left out" in result.notes
    _assert_correct(OFFICES, result, rel=TAU_TOLERANCE)  # a few noons' cooling unexplained


@pytest.mark.parametrize(
    ("name", "named"), [("irradiance_w_m2", "irradiance"), ("occupancy", "occupancy")]
)
def test_a_gain_point_without_readings_is_left_out(name: str, named: str) -> None:
    """Without it the offices' sun or occupants go unexplained: rejected, naming it."""
    empty = np.full(OFFICES.series.steps, np.nan)
    result = _identify(OFFICES, replace(OFFICES.series, **{name: empty}))
    assert f"{name}: no readings, left out" in result.notes
    assert not result.accepted
    assert any(f"no {named} series" in r or f"lacks ({named})" in r for r in result.reasons), (
        result.reasons
    )


def test_a_zone_temperature_in_fahrenheit_is_rejected() -> None:
    fahrenheit = OFFICES.series.temperature_c * 1.8 + 32.0
    result = _identify(OFFICES, replace(OFFICES.series, temperature_c=fahrenheit))
    assert result.model is None
    assert result.reasons == (
        "temperature_c: 100% of readings outside -10…45 °C (°F or K instead of °C?)",
    )


def test_a_sensor_switched_to_fahrenheit_for_the_last_ten_days_is_rejected() -> None:
    temps = OFFICES.series.temperature_c.copy()
    temps[20 * PER_DAY :] = temps[20 * PER_DAY :] * 1.8 + 32.0
    result = _identify(OFFICES, replace(OFFICES.series, temperature_c=temps))
    assert result.model is None
    assert result.reasons == (
        "temperature_c: 33% of readings outside -10…45 °C (°F or K instead of °C?)",
    )


def test_a_few_days_in_fahrenheit_become_gaps() -> None:
    temps = OFFICES.series.temperature_c.copy()
    temps[5 * PER_DAY : 8 * PER_DAY] = temps[5 * PER_DAY : 8 * PER_DAY] * 1.8 + 32.0
    result = _identify(OFFICES, replace(OFFICES.series, temperature_c=temps))
    _assert_correct(OFFICES, result)
    assert "temperature_c: 288 readings outside -10…45 °C treated as gaps" in result.notes


def test_an_outdoor_temperature_in_fahrenheit_is_rejected() -> None:
    """5 °C reads 41 °F: plausible as a temperature, not while the heat pump heats."""
    fahrenheit = OFFICES.series.outdoor_c * 1.8 + 32.0
    result = _identify(OFFICES, replace(OFFICES.series, outdoor_c=fahrenheit))
    assert result.model is None
    (reason,) = result.reasons
    assert reason.startswith("outdoor_c: above the zone temperature by ")
    assert reason.endswith("(°F instead of °C, or not an outdoor sensor?)")


def test_occupancy_in_percent_is_rejected() -> None:
    assert OFFICES.series.occupancy is not None
    percent = OFFICES.series.occupancy * 100.0
    result = _identify(OFFICES, replace(OFFICES.series, occupancy=percent))
    assert result.model is None
    (reason,) = result.reasons
    assert reason.startswith("occupancy: ")
    assert reason.endswith("(a percentage instead of a fraction 0..1?)")


def test_power_in_watts_is_rejected() -> None:
    assert OFFICES.series.cooling_power_kw is not None
    watts = replace(
        OFFICES.series,
        power_kw=OFFICES.series.power_kw * 1000.0,
        cooling_power_kw=OFFICES.series.cooling_power_kw * 1000.0,
    )
    result = _identify(OFFICES, watts)
    assert not result.accepted
    assert any("(a power in W instead of kW?)" in reason for reason in result.reasons)


def test_nonsense_is_rejected() -> None:
    rng = np.random.default_rng(2)
    noise = 20.0 + rng.normal(0.0, 3.0, OFFICES.series.steps)
    result = _identify(OFFICES, replace(OFFICES.series, temperature_c=noise))
    assert not result.accepted
    assert any("RMSE" in reason for reason in result.reasons)


def test_a_heat_pump_that_never_ran_is_rejected() -> None:
    series = replace(OFFICES.series, power_kw=np.zeros(OFFICES.series.steps))
    result = _identify(OFFICES, series)
    assert result.reasons == ("the heat pump never ran in the training data",)

"""Measured data as it arrives from a building: gaps, a stuck sensor, a counter reset, a
quantised sensor, a zone held at one setpoint, nonsense. Each gives a correct fit or a clear
rejection, never a crash or a parameter outside its bounds."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from optimizer.identify.simulated import SimulatedZone, zone_histories
from polis.optimizer.identify import (
    Identification,
    ZoneModel,
    ZoneSeries,
    identify_zone,
    power_from_counter,
)
from polis.optimizer.identify.rc import LOWER, UPPER, vector_of

pytestmark = [pytest.mark.unit, pytest.mark.slow]  # 1R1C and 2R2C fits of every zone

DAYS = 24
HOLDOUT = 3
ZONES = {z.zone: z for z in zone_histories(DAYS)}
OFFICES = ZONES["offices"]


def _identify(zone: SimulatedZone, series: ZoneSeries) -> Identification:
    result = identify_zone(series, holdout_days=HOLDOUT, cop_prior=zone.datasheet_cop)
    if isinstance(result.model, ZoneModel):
        x = vector_of(result.model)
        assert np.all(x >= LOWER - 1e-9)
        assert np.all(x <= UPPER + 1e-9)
    return result


def _assert_correct(zone: SimulatedZone, result: Identification) -> None:
    assert result.accepted, result.reasons
    assert result.model is not None
    assert result.model.tau_h == pytest.approx(zone.tau_h, rel=0.1)


def test_gaps_are_skipped() -> None:
    rng = np.random.default_rng(1)
    temps = OFFICES.series.temperature_c.copy()
    temps[rng.random(len(temps)) < 0.1] = np.nan  # one reading in ten lost
    temps[500:700] = np.nan  # and two days of outage
    outdoor = OFFICES.series.outdoor_c.copy()
    outdoor[1000:1010] = np.nan
    _assert_correct(
        OFFICES, _identify(OFFICES, replace(OFFICES.series, temperature_c=temps, outdoor_c=outdoor))
    )


def test_a_stuck_sensor_becomes_a_gap() -> None:
    temps = OFFICES.series.temperature_c.copy()
    temps[800:1000] = temps[800]  # 50 h flat
    result = _identify(OFFICES, replace(OFFICES.series, temperature_c=temps))
    _assert_correct(OFFICES, result)
    assert any("stuck sensor" in note for note in result.notes)


def test_a_sensor_stuck_for_good_is_rejected() -> None:
    temps = OFFICES.series.temperature_c.copy()
    temps[100:] = temps[100]
    result = _identify(OFFICES, replace(OFFICES.series, temperature_c=temps))
    assert not result.accepted
    assert result.model is None
    assert any("stuck for 96%" in reason for reason in result.reasons)


def test_an_energy_counter_reset_is_one_gap() -> None:
    power = OFFICES.series.power_kw
    counter = np.concatenate([[1000.0], 1000.0 + np.cumsum(power * 0.25)])
    counter[1200:] -= counter[1200] - 3.0  # the meter restarts near zero
    derived = power_from_counter(counter, 0.25)[:-1]
    assert int(np.isnan(derived).sum()) == 1
    assert np.isnan(derived[1199])
    _assert_correct(OFFICES, _identify(OFFICES, replace(OFFICES.series, power_kw=derived)))


@pytest.mark.parametrize("zone", ZONES.values(), ids=lambda z: z.zone)
def test_a_quantised_sensor(zone: SimulatedZone) -> None:
    """A BACnet analog input at 0.1 K resolution."""
    temps = np.round(zone.series.temperature_c * 10.0) / 10.0
    _assert_correct(zone, _identify(zone, replace(zone.series, temperature_c=temps)))


CONSTANT = {z.zone: z for z in zone_histories(DAYS, constant_setpoint_c=21.0)}


@pytest.mark.parametrize("name", ["pool-hall", "workshop"])
def test_no_excitation_is_rejected(name: str) -> None:
    """Held at 21 °C day and night, these zones stay within 0.5 K: nothing to learn from."""
    result = _identify(CONSTANT[name], CONSTANT[name].series)
    assert result.model is None
    assert any("no excitation" in reason for reason in result.reasons)


@pytest.mark.parametrize("name", ["offices", "classrooms", "office"])
def test_a_constant_setpoint_with_enough_swing_still_fits(name: str) -> None:
    """Solar gains and the controller's band move these zones by more than 0.5 K."""
    _assert_correct(CONSTANT[name], _identify(CONSTANT[name], CONSTANT[name].series))


def test_nonsense_is_rejected_with_bounded_parameters() -> None:
    rng = np.random.default_rng(2)
    noise = 20.0 + rng.normal(0.0, 3.0, OFFICES.series.steps)
    result = _identify(OFFICES, replace(OFFICES.series, temperature_c=noise))
    assert not result.accepted
    assert any("RMSE" in reason for reason in result.reasons)


def test_a_heat_pump_that_never_ran_is_rejected() -> None:
    series = replace(OFFICES.series, power_kw=np.zeros(OFFICES.series.steps))
    result = _identify(OFFICES, series)
    assert result.reasons == ("the heat pump never ran in the training data",)


def test_too_little_data_is_rejected() -> None:
    result = _identify(OFFICES, OFFICES.series.days_slice(0, 8))
    assert result.reasons == ("5.0 days of valid training data < 7 days",)
    short = _identify(OFFICES, OFFICES.series.days_slice(0, 2))
    assert short.reasons == ("series shorter than the held-out days",)


def test_all_missing_does_not_crash() -> None:
    empty = np.full(OFFICES.series.steps, np.nan)
    result = _identify(OFFICES, replace(OFFICES.series, temperature_c=empty, power_kw=empty))
    assert not result.accepted
    assert result.model is None

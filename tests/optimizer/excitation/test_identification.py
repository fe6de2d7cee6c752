"""What excitation is for: a zone held at one setpoint cannot be identified, the same zone
after an excitation period can (docs/commissioning.md, Excitation).

The pool hall runs on the simulator's physics (``physics.py``) for four weeks from Monday
6 January 2025, at its own occupied setpoint day and night, with what a real zone adds: gains
no point measures (an AR(1) process moving its steady state by 1.5 K, standard deviation) and
a sensor read at 0.1 K. Its last two weeks run once more under the schedule
``plan_excitation`` gives from the catalogue's excitation block. Both are commissioned over
those two weeks (11 days fitted, 3 held out). The test reads the true time constant; the
product never does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from polis.optimizer.excitation.schedule import plan_excitation
from polis.optimizer.identify import Identification, ZoneModel, ZoneSeries, identify_zone

from .physics import START, TIMEZONE, SimulatedZone, catalogue_zone, constant, following
from .physics import simulate_zone as simulate

pytestmark = pytest.mark.unit

DAYS = 28
EXCITED_DAYS = 14
HOLDOUT = 3
UNMEASURED_GAINS_K = 1.5
SENSOR_RESOLUTION_K = 0.1
BUILDING, ZONE = "sports-hall", "pool-hall"


def _commissioned(zone: SimulatedZone) -> Identification:
    """Identification over the last two weeks, from the sensor's readings."""
    readings = np.round(zone.series.temperature_c / SENSOR_RESOLUTION_K) * SENSOR_RESOLUTION_K
    series: ZoneSeries = replace(zone.series, temperature_c=readings)
    window = series.days_slice(DAYS - EXCITED_DAYS, DAYS)
    return identify_zone(window, holdout_days=HOLDOUT, cop_prior=zone.datasheet_cop)


def test_a_flat_zone_is_rejected_and_accepted_after_excitation() -> None:
    zone = catalogue_zone(BUILDING, ZONE, excitation={"amplitude_k": 1.0})
    own_setpoint = zone.occupied[0].lo_c  # the building holds it day and night

    flat = simulate(
        BUILDING, ZONE, DAYS, constant(own_setpoint), unmeasured_gains_k=UNMEASURED_GAINS_K
    )
    before = _commissioned(flat)
    assert not before.accepted
    # the reason says what is missing (a reason naming the data's excitation)
    assert any("excit" in reason for reason in before.reasons), before.reasons

    begins = START + timedelta(days=DAYS - EXCITED_DAYS)
    schedule = plan_excitation(
        BUILDING, zone, "point", own_setpoint, begins, EXCITED_DAYS, TIMEZONE
    )
    excited = simulate(
        BUILDING,
        ZONE,
        DAYS,
        following(schedule, own_setpoint),
        unmeasured_gains_k=UNMEASURED_GAINS_K,
    )
    # the commands stayed within ±1 K of the setpoint and inside the comfort band
    commanded = excited.setpoints_c[(DAYS - EXCITED_DAYS) * 96 :]
    assert np.all(np.abs(commanded - own_setpoint) <= 1.0 + 1e-9)
    assert set(np.round(commanded, 2)) == {own_setpoint - 1.0, own_setpoint, own_setpoint + 1.0}

    after = _commissioned(excited)
    assert after.accepted, after.reasons
    assert isinstance(after.model, ZoneModel)
    assert after.validation is not None
    rc = after.model.r_k_per_kw * after.model.c_kwh_per_k
    print(
        f"\n{BUILDING}/{ZONE} held at {own_setpoint:g} °C: rejected ({before.reasons[-1]}); "
        f"after {EXCITED_DAYS} days of ±1 K steps R·C = {rc:.1f} h against {excited.tau_h:.1f} h "
        f"({rc / excited.tau_h - 1:+.1%}), held-out RMSE {after.validation.rmse_k:.3f} K"
    )
    assert rc == pytest.approx(excited.tau_h, rel=0.25)

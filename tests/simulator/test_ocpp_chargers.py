"""The simulated chargers' charging profiles and how the physics shares a limit (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from polis.simulator.config import MeterRole, load_config
from polis.simulator.model import ChargerReading, Simulation
from polis.simulator.ocpp_chargers import (
    MAX_PROFILE,
    TX_DEFAULT,
    Profile,
    ProfileStore,
    connector_status,
    profile_from,
)
from polis.simulator.plant import Commands, EvLimit, share

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 14, 7, 0, tzinfo=UTC)


def _profile(purpose: str, level: int, limit_w: float, minutes: float) -> Profile:
    return Profile(purpose, level, limit_w, T0, T0 + timedelta(minutes=minutes), T0, None)


def test_the_highest_stack_level_in_force_sets_each_limit() -> None:
    store = ProfileStore(
        {
            1: _profile(MAX_PROFILE, 1, 20_000, 30),
            2: _profile(MAX_PROFILE, 5, 8_000, 10),
            3: _profile(TX_DEFAULT, 1, 4_000, 60),
        }
    )
    assert store.limit_at(T0 - timedelta(seconds=1)) == EvLimit()
    assert store.limit_at(T0 + timedelta(minutes=5)) == EvLimit(8_000, 4_000)
    assert store.limit_at(T0 + timedelta(minutes=20)) == EvLimit(20_000, 4_000)
    assert store.limit_at(T0 + timedelta(minutes=30)) == EvLimit(None, 4_000)
    assert store.clear(None, TX_DEFAULT)
    assert not store.clear(3, None)
    assert store.limit_at(T0 + timedelta(minutes=40)) == EvLimit()


def test_a_profile_is_read_from_either_version_and_in_amps() -> None:
    payload = {
        "charging_profile_purpose": "ChargingStationMaxProfile",
        "stack_level": 1,
        "valid_to": "2026-01-14T07:15:00Z",
    }
    schedule = {
        "charging_rate_unit": "A",
        "start_schedule": "2026-01-14T07:00:00Z",
        "duration": 600,
        "charging_schedule_period": [{"start_period": 0, "limit": 16, "number_phases": 3}],
    }
    profile = profile_from(payload, schedule, 230.0)
    assert profile.purpose == MAX_PROFILE
    assert profile.limit_w == pytest.approx(16 * 230 * 3)
    assert profile.active(T0 + timedelta(minutes=9))
    assert not profile.active(T0 + timedelta(minutes=10))  # its duration ended first


def test_a_limit_is_shared_equally_and_what_one_cannot_take_goes_to_the_others() -> None:
    assert share([(0, 22_000), (1, 22_000)], None) == [(0, 22_000), (1, 22_000)]
    assert share([(0, 22_000), (1, 2_000), (2, 22_000)], 12_000) == [
        (1, 2_000),
        (0, 5_000),
        (2, 5_000),
    ]
    assert share([(0, 22_000)], 0.0) == [(0, 0.0)]


def test_connector_status_follows_the_car() -> None:
    assert connector_status(ChargerReading(-1, 0.0, 0.0, 5.0)) == "Available"
    assert connector_status(ChargerReading(3, 10.0, 22.0, 5.0)) == "Charging"
    assert connector_status(ChargerReading(3, 10.0, 0.0, 5.0)) == "SuspendedEVSE"
    assert connector_status(ChargerReading(3, 0.0, 0.0, 5.0)) == "SuspendedEV"


def test_the_depot_charges_within_its_charge_points_limits() -> None:
    config = load_config()
    start = datetime(2026, 1, 14, 5, 0, tzinfo=UTC)  # 07:00 in Larissa, cars arriving
    free, limited = Simulation(config, start), Simulation(config, start)
    limits = Commands(ev_limits=(EvLimit(station_w=10_000), EvLimit(connector_w=2_000)))
    free.advance_to(start + timedelta(hours=3))
    limited.advance_to(start + timedelta(hours=3), {"depot": limits})
    for sim, cap_1, cap_2 in ((limited, 10.0, 6.0), (free, 66.0, 66.0)):
        plant = sim.readings["depot"].plant
        assert plant is not None
        assert sum(c.power_kw for c in plant.chargers[:3]) <= cap_1 + 1e-9
        assert sum(c.power_kw for c in plant.chargers[3:]) <= cap_2 + 1e-9
    energy = []
    for sim in (free, limited):
        plant = sim.readings["depot"].plant
        assert plant is not None
        energy.append(sum(c.energy_kwh for c in plant.chargers))
    assert energy[1] < energy[0]
    # the EV meter counts what the chargers deliver
    meter = limited.readings["depot"].meters[MeterRole.EV]
    assert meter.import_kwh - 36_000 == pytest.approx(energy[1])

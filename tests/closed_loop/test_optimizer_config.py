"""The optimizer's view of the simulator's catalogue agrees with the simulator."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml

from polis.common.catalogue import parse_catalogue
from polis.optimizer.config import TankConfig, ZoneConfig, optimizer_view, resolve_tariff
from polis.optimizer.domain import Horizon
from polis.simulator.__main__ import main as simulator_main
from polis.simulator.catalogue import catalogue
from polis.simulator.config import Zone, load_config
from polis.simulator.drivers import heat_pump_curves
from polis.simulator.endpoints import endpoint_layout
from polis.simulator.tariff import price_at

pytestmark = pytest.mark.unit

SIM = load_config()
CATALOGUE = catalogue(
    SIM, endpoint_layout(SIM, base_port=47900), modbus_poll_s=1.0, bacnet_poll_s=1.0
)
OPT = optimizer_view(parse_catalogue(CATALOGUE, "generated", complete=True))


def _zone(building_id: str, zone_id: str) -> tuple[ZoneConfig, Zone]:
    b = next(b for b in SIM.buildings if b.id == building_id)
    z = next(z for z in b.zones if z.id == zone_id)
    load = next(x for x in OPT.building(building_id).loads if x.id == zone_id)
    assert isinstance(load, ZoneConfig)
    return load, z


def test_every_zone_tank_pump_and_charger_is_commanded_through_its_adapter_point() -> None:
    points = OPT.command_points()
    assert points["town-hall"]["offices"] == (
        "larissa/town-hall/town-hall-bms/zone-offices-heating-setpoint"
    )
    assert points["sports-hall"]["pool-pump"] == (
        "larissa/sports-hall/sports-hall-bms/pool-pump-enable"
    )
    assert points["school"]["dhw"] == "larissa/school/school-bms/dhw-heater-enable"
    assert points["depot"]["ev-depot-cp2"] == "larissa/depot/depot-cp2/charging-limit"
    zones = sum(len(b.zones) for b in SIM.buildings)
    tanks = sum(b.hot_water is not None for b in SIM.buildings)
    charge_points = sum(len(b.ev_chargers.charge_points) for b in SIM.buildings if b.ev_chargers)
    # + the pool pump
    assert sum(len(p) for p in points.values()) == zones + tanks + 1 + charge_points
    assert OPT.on_off_loads() == {"dhw"}


@pytest.mark.parametrize(("building", "zone"), [("town-hall", "offices"), ("depot", "office")])
def test_free_floating_zone_matches_the_simulator_over_a_slot(building: str, zone: str) -> None:
    load, z = _zone(building, zone)
    t0, outdoor, gains_kw = 20.0, 3.0, load.gains_occupied_kw
    # the simulator's explicit one-minute steps over 15 minutes, heat pump off
    t = t0
    for _ in range(15):
        t += (
            60.0
            / (z.thermal_mass_kwh_per_k * 3.6e6)
            * (z.ua_w_per_k * (outdoor - t) + gains_kw * 1000.0)
        )
    assert load.r_k_per_kw is not None
    assert load.c_kwh_per_k is not None
    a = math.exp(-0.25 / (load.r_k_per_kw * load.c_kwh_per_k))
    predicted = a * t0 + (1 - a) * (outdoor + load.r_k_per_kw * gains_kw)
    assert predicted == pytest.approx(t, abs=0.002)


def test_heat_pump_limits_and_cop_are_within_the_simulated_plant() -> None:
    temps = np.linspace(-5.0, 15.0, 21)
    for b in SIM.buildings:
        for z in b.zones:
            load, _ = _zone(b.id, z.id)
            curves = heat_pump_curves(z.heat_pump, temps)
            cop = load.cop_nominal + load.cop_slope_per_k * (temps - load.cop_reference_c)
            assert np.all(np.abs(cop / curves.cop - 1) < 0.12), z.id
            # the heat the optimizer plans with never exceeds what the plant delivers
            assert np.all(load.max_kw * cop <= curves.heating_capacity_w / 1000.0), z.id


def test_comfort_follows_the_building_schedule() -> None:
    load, _ = _zone("town-hall", "offices")
    wednesday = [p for p in load.occupied if p.days == ("wed",)]
    assert [(str(p.start), str(p.end), p.lo_c) for p in wednesday] == [
        ("08:00:00", "17:00:00", 21.0),
        ("17:00:00", "19:00:00", 16.0),
    ]
    assert {p.hi_c for p in wednesday} == {22.0, 17.0}  # 1 K above the building's setpoint
    pool, _ = _zone("sports-hall", "pool-hall")
    assert max(p.lo_c for p in pool.occupied) == pytest.approx(27.0)


def test_tank_energy_spans_the_thermostat_band() -> None:
    tank = next(x for x in OPT.building("sports-hall").loads if x.id == "dhw")
    assert isinstance(tank, TankConfig)
    per_k = 3000 * 4186 / 3.6e6  # kWh per kelvin of 3000 L
    assert tank.max_kwh == pytest.approx(per_k * (60 - 14), rel=1e-3)
    assert tank.min_kwh == pytest.approx(per_k * (52 - 14), rel=1e-3)
    assert tank.kwh_at(55.0) == pytest.approx(per_k * 41)


def test_tariff_resolves_to_the_prices_used_for_costing() -> None:
    horizon = Horizon(start=datetime(2026, 1, 13, 22, 0, tzinfo=UTC), slots=96)
    tz = ZoneInfo("Europe/Athens")
    resolved = resolve_tariff(OPT.tariffs[0], horizon, tz)
    for k, price in enumerate(resolved.import_eur_per_kwh):
        local = horizon.slot_start(k).astimezone(tz)
        assert price == price_at(local.hour + local.minute / 60)
    assert (price_at(3), price_at(12), price_at(18), price_at(22)) == (0.115, 0.185, 0.265, 0.185)


def test_cli_prints_yaml_the_optimizer_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    assert simulator_main(["catalogue", "--base-port", "47900"]) == 0
    printed = parse_catalogue(yaml.safe_load(capsys.readouterr().out), "stdout", complete=True)
    config = optimizer_view(printed)
    assert [b.id for b in config.buildings] == [b.id for b in SIM.buildings]
    assert config == OPT

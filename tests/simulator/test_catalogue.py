"""The catalogue the simulator emits: complete, and true to its devices, tariff and calendars."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml

from polis.common.catalogue import Catalogue, parse_catalogue
from polis.common.catalogue.devices import BacnetDeviceConfig, ModbusDeviceConfig
from polis.common.catalogue.points import PointKind
from polis.savings.catalogue_view import site_directory
from polis.simulator.__main__ import main as simulator_main
from polis.simulator.bacnet_points import controller_object_specs
from polis.simulator.catalogue import catalogue
from polis.simulator.config import MunicipalityConfig, load_config
from polis.simulator.endpoints import endpoint_layout
from polis.simulator.tariff import CO2_KG_PER_KWH, price_at

pytestmark = pytest.mark.unit

SIM = load_config()
BASE_PORT = 47900
ATHENS = ZoneInfo("Europe/Athens")


def _document(config: MunicipalityConfig = SIM, base_port: int = BASE_PORT) -> dict[str, Any]:
    layout = endpoint_layout(config, "127.0.0.1", base_port)
    return catalogue(config, layout, modbus_poll_s=1.0, bacnet_poll_s=0.5)


CAT = parse_catalogue(_document(), "simulator", complete=True)


def _bacnet(cat: Catalogue, building: str) -> BacnetDeviceConfig:
    device = cat.building(building).device(f"{building}-bms")
    assert isinstance(device, BacnetDeviceConfig)
    return device


def test_every_building_is_described_with_its_place_use_and_tariff() -> None:
    assert (CAT.municipality, CAT.timezone) == ("larissa", "Europe/Athens")
    assert [b.id for b in CAT.buildings] == [b.id for b in SIM.buildings]
    assert [n.id for n in CAT.neighbourhoods] == [n.id for n in SIM.neighbourhoods]
    for sim, ours in zip(SIM.buildings, CAT.buildings, strict=True):
        assert (ours.neighbourhood, ours.name, ours.use) == (sim.neighbourhood, sim.name, sim.kind)
        assert ours.floor_area_m2 == sim.floor_area_m2
        assert ours.tariff == "gr-tou"
        assert ours.calendar == sim.id
    assert CAT.building("depot").pv_kwp == 100.0


def test_meters_name_the_boundary_devices_where_they_exist() -> None:
    depot = CAT.building("depot").meters
    assert depot is not None
    assert (depot.main, depot.generation, depot.excluded, depot.storage) == (
        "depot-main",
        "depot-pv",
        ("depot-ev",),
        ("depot-battery",),
    )
    school = CAT.building("school").meters
    assert school is not None
    assert (school.main, school.generation, school.excluded, school.storage) == (
        "school-main",
        None,
        (),
        (),
    )


def test_modbus_meters_sit_on_the_fixed_layout_with_every_profile_register() -> None:
    endpoints: list[tuple[str, int, int]] = []
    for building in CAT.buildings:
        for device in building.devices:
            if isinstance(device, ModbusDeviceConfig):
                assert device.points is None  # every register of the profile
                assert device.poll_interval_s == 1.0
                endpoints.append((device.id, device.port, device.unit_id))
    # the town hall's three meters share its gateway port; the library's each have their own
    assert endpoints[:5] == [
        ("town-hall-main", BASE_PORT, 1),
        ("town-hall-hvac", BASE_PORT, 2),
        ("town-hall-lighting", BASE_PORT, 3),
        ("library-main", BASE_PORT + 1, 1),
        ("library-hvac", BASE_PORT + 2, 1),
    ]
    assert sorted({port for _, port, _ in endpoints}) == list(range(BASE_PORT, BASE_PORT + 11))
    controllers = [_bacnet(CAT, b.id) for b in SIM.buildings]
    assert [c.address for c in controllers] == [f"127.0.0.1:{BASE_PORT + j}" for j in range(5)]
    assert [c.device_instance for c in controllers] == [
        b.bacnet_device_instance for b in SIM.buildings
    ]


def test_controller_points_are_its_objects_and_only_commandable_ones_are_commands() -> None:
    for building in SIM.buildings:
        specs = controller_object_specs(building)
        points = _bacnet(CAT, building.id).points
        assert [(p.id, p.object) for p in points] == [(s.name, s.object_id) for s in specs]
        commands = {p.id: p for p in points if p.kind is PointKind.COMMAND}
        assert set(commands) == {s.name for s in specs if s.commandable}
        for point in commands.values():
            assert point.write is not None
            if point.object.startswith("analog-value"):
                assert (point.write.min, point.write.max) == (8.0, 30.0)
                assert point.write.max_rate_per_min == 10.0
                assert point.unit == "degC"
            else:
                assert (point.write.min, point.write.max) == (0.0, 1.0)
            assert point.write.default_duration_s == 3600
    # read-only setpoints are readings, though their names say setpoint
    hall = {p.id: p for p in _bacnet(CAT, "sports-hall").points}
    for name in ("zone-hall-cooling-setpoint", "zone-pool-hall-effective-setpoint"):
        assert (hall[name].kind, hall[name].write) == (PointKind.INSTANTANEOUS, None)
    assert hall["pool-pump-enable"].kind is PointKind.COMMAND
    assert hall["zone-hall-temperature"].unit == "degC"
    assert hall["meter-main-energy-import"].kind is PointKind.CUMULATIVE


def test_loads_name_points_of_their_own_controller() -> None:
    town_hall = CAT.building("town-hall")
    refs = {load.id: load.point_refs() for load in town_hall.loads}
    assert refs["offices"] == {
        "command_point": "town-hall-bms/zone-offices-heating-setpoint",
        "temperature_point": "town-hall-bms/zone-offices-temperature",
    }
    assert refs["dhw"] == {
        "command_point": "town-hall-bms/dhw-heater-enable",
        "temperature_point": "town-hall-bms/dhw-tank-temperature",
    }
    kinds = [load.kind for load in CAT.building("depot").loads]
    assert kinds == ["hvac", "hvac", "ev_charger", "ev_charger", "battery"]
    # the EV chargers are commanded through their OCPP charge points' charging limits
    chargers = {load.id: load.point_refs() for load in CAT.building("depot").loads}
    assert chargers["ev-depot-cp1"] == {"command_point": "depot-cp1/charging-limit"}
    assert chargers["ev-depot-cp2"] == {"command_point": "depot-cp2/charging-limit"}


def test_calendars_carry_occupied_hours_and_school_holidays() -> None:
    town_hall = CAT.calendar("town-hall")
    assert [(p.days, str(p.start), str(p.end)) for p in town_hall.occupied] == [
        (("mon", "tue", "wed", "thu", "fri"), "08:00:00", "19:00:00")
    ]
    library = CAT.calendar("library")
    assert [(p.days, str(p.start), str(p.end)) for p in library.occupied] == [
        (("mon", "tue", "wed", "thu", "fri"), "08:30:00", "20:00:00"),
        (("sat",), "09:00:00", "14:00:00"),
    ]
    school = CAT.calendar("school")
    assert [(c.start, c.end) for c in school.closures] == [
        ("12-24", "01-07"),
        ("04-14", "04-27"),
        ("06-20", "09-10"),
    ]
    assert CAT.calendar("depot").closures == ()


def test_savings_price_every_local_hour_like_the_optimizer() -> None:
    """The savings service values energy at the tariff and CO2 intensity the optimizer
    plans with, hour by hour, both taken from the catalogue."""
    sites = site_directory(CAT)
    for building in SIM.buildings:
        site = sites.site(building.id)
        assert site.tariff is not None
        assert site.emission_factor is not None
        # a winter and a summer day (both UTC offsets), every hour, every day of a week
        for day in (datetime(2026, 1, 12, tzinfo=ATHENS), datetime(2026, 7, 13, tzinfo=ATHENS)):
            hours = [day + timedelta(hours=h) for h in range(7 * 24)]
            seconds = np.array([int(h.timestamp()) for h in hours], dtype=np.int64)
            prices = site.tariff.at(seconds, "Europe/Athens")
            co2 = site.emission_factor.at(seconds, "Europe/Athens")
            assert prices.tolist() == [price_at(h.hour) for h in hours]
            assert co2.tolist() == [CO2_KG_PER_KWH[h.hour] for h in hours]
    assert sites.site("school").calendar.closures[0].start == "12-24"


def test_copies_are_complete_catalogues_too() -> None:
    config = SIM.with_copies(3)
    cat = parse_catalogue(_document(config, 40000), "copies", complete=True)
    assert len(cat.buildings) == 15
    assert _bacnet(cat, "depot-c3").address == "127.0.0.1:40014"


def test_layout_without_ports_or_beyond_the_last_port_is_refused() -> None:
    free = endpoint_layout(SIM)
    assert not free.resolved
    with pytest.raises(ValueError, match="ports are not known"):
        catalogue(SIM, free, modbus_poll_s=1.0, bacnet_poll_s=1.0)
    with pytest.raises(ValueError, match=r"within 1\.\.65535"):
        endpoint_layout(SIM, "127.0.0.1", 65530)


def test_cli_prints_the_fixed_layout(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["catalogue", "--base-port", str(BASE_PORT), "--host", "10.0.0.5"]
    assert simulator_main([*args, "--modbus-poll-s", "5", "--bacnet-poll-s", "10"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    cat = parse_catalogue(printed, "stdout", complete=True)
    bms = _bacnet(cat, "library")
    assert (bms.address, bms.poll_interval_s) == (f"10.0.0.5:{BASE_PORT + 1}", 10.0)
    main_meter = cat.building("library").device("library-main")
    assert isinstance(main_meter, ModbusDeviceConfig)
    assert (main_meter.host, main_meter.poll_interval_s) == ("10.0.0.5", 5.0)


def test_cli_needs_a_base_port(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLIS_SIMULATOR_BASE_PORT", raising=False)
    assert simulator_main(["catalogue"]) == 2
    assert "--base-port or POLIS_SIMULATOR_BASE_PORT" in capsys.readouterr().err
    monkeypatch.setenv("POLIS_SIMULATOR_BASE_PORT", "41000")
    assert simulator_main(["catalogue"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["buildings"][0]["devices"][0]["port"] == 41000

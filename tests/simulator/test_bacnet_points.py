"""The monitoring objects of the building controllers: layout, values, and over the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from bacpypes3.app import Application
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from polis.simulator.bacnet_points import (
    controller_object_specs,
    controller_outputs,
    core_object_specs,
    object_specs,
    object_values,
    saturation_vapour_pa,
)
from polis.simulator.config import MeterRole, MunicipalityConfig
from polis.simulator.model import Simulation
from polis.simulator.site import free_udp_port

from .helpers import WINTER_MORNING, running_site

LEGACY = {  # instances the adapter configuration and tests rely on
    ("analog-input", 1),
    ("analog-input", 2),
    ("analog-input", 3),
    ("analog-input", 10),
    ("analog-input", 11),
    ("analog-value", 10),
    ("analog-value", 11),
}


@pytest.mark.unit
def test_each_controller_exposes_40_to_80_objects_with_unique_ids(
    municipality: MunicipalityConfig,
) -> None:
    for building in municipality.buildings:
        specs = object_specs(building)
        ids = [(s.type, s.instance) for s in specs]
        names = [s.name for s in specs]
        assert len(set(ids)) == len(ids)
        assert len(set(names)) == len(names)
        assert not LEGACY & set(ids)
        # plus the legacy objects: 2-3 inputs, 2 per zone, 1-4 enables
        assert 35 <= len(specs) <= 75, (building.id, len(specs))
        assert all(
            s.units != "noUnits"
            or "cop" in s.name
            or s.type == "binary-input"
            or s.name.endswith(("count", "connected"))
            for s in specs
        )


@pytest.mark.unit
def test_core_objects_keep_their_instances_and_only_they_are_commandable(
    municipality: MunicipalityConfig,
) -> None:
    for building in municipality.buildings:
        specs = controller_object_specs(building)
        ids = [(s.type, s.instance) for s in specs]
        assert len(set(ids)) == len(ids)
        assert len({s.name for s in specs}) == len(specs)
        core = core_object_specs(building)
        assert specs[: len(core)] == core
        assert {("analog-input", 1), ("analog-input", 2), ("binary-value", 1)} <= set(ids)
        commandable = {s.name for s in specs if s.commandable}
        enables = {"hvac-enable"} | {
            name
            for name, present in (
                ("dhw-heater-enable", building.hot_water),
                ("pool-pump-enable", building.pool),
                ("ev-charging-enable", building.ev_chargers),
            )
            if present
        }
        setpoints = {f"zone-{z.id}-heating-setpoint" for z in building.zones}
        assert commandable == enables | setpoints
    town_hall = next(b for b in municipality.buildings if b.id == "town-hall")
    assert {(s.type, s.instance) for s in core_object_specs(town_hall)} >= LEGACY


@pytest.fixture(scope="module")
def morning(municipality: MunicipalityConfig) -> Simulation:
    simulation = Simulation(municipality, WINTER_MORNING)
    simulation.advance_to(WINTER_MORNING.replace(hour=9), {})
    return simulation


@pytest.mark.unit
def test_values_follow_the_model(municipality: MunicipalityConfig, morning: Simulation) -> None:
    town_hall = next(b for b in municipality.buildings if b.id == "town-hall")
    reading = morning.readings["town-hall"]
    values = object_values(town_hall, reading, hvac_enabled=True)
    assert set(values) == {s.name for s in object_specs(town_hall)}
    main = reading.meters[MeterRole.MAIN]
    assert values["meter-main-power"] == pytest.approx(main.power_w / 1000)
    assert values["meter-main-energy-import"] == pytest.approx(main.import_kwh)
    assert values["grid-power"] == pytest.approx(main.power_w / 1000)
    # no PV or battery at the town hall: demand is what the main meter sees
    assert values["building-electric-demand"] == pytest.approx(main.power_w / 1000)
    plant = reading.plant
    assert plant is not None
    assert 0.5 < plant.occupancy <= 1.0  # a Wednesday at 11:00 local
    assert values["zone-offices-co2"] == pytest.approx(420 + 650 * plant.occupancy)
    assert values["building-occupied"] is True
    temperature = reading.zone_temperatures_c["offices"]
    setpoint = reading.zone_setpoints_c["offices"]
    heat = min(max((setpoint + 0.25 - temperature) / 0.5, 0.0), 1.0)  # band 0.5 K
    assert values["zone-offices-heating-output"] == pytest.approx(100 * heat)
    capacity = plant.zones["offices"].heating_capacity_kw
    assert values["zone-offices-heat-pump-thermal-power"] == pytest.approx(heat * capacity)
    assert values["zone-offices-cooling-setpoint"] == pytest.approx(setpoint + 5.0)
    assert 15.0 < values["zone-offices-relative-humidity"] < 80.0
    assert values["outdoor-dew-point"] < reading.outdoor_c


@pytest.mark.unit
def test_disabled_hvac_outputs_nothing() -> None:
    assert controller_outputs(15.0, 21.0, 0.5, 5.0, enabled=False) == (0.0, 0.0)
    assert controller_outputs(15.0, 21.0, 0.5, 5.0, enabled=True) == (1.0, 0.0)
    assert controller_outputs(26.0, 21.0, 0.5, 5.0, enabled=True) == (0.0, 0.5)
    # Magnus: 611.2 Pa at 0 °C, about 2.34 kPa at 20 °C
    assert saturation_vapour_pa(0.0) == pytest.approx(611.2)
    assert saturation_vapour_pa(20.0) == pytest.approx(2339, rel=0.01)


@pytest.mark.unit
def test_depot_battery_closes_the_power_balance(
    municipality: MunicipalityConfig, morning: Simulation
) -> None:
    depot = next(b for b in municipality.buildings if b.id == "depot")
    reading = morning.readings["depot"]
    v = object_values(depot, reading, hvac_enabled=True)
    grid = reading.meters[MeterRole.MAIN].power_w / 1000
    assert v["building-electric-demand"] + v["battery-power"] - v["pv-power"] == pytest.approx(grid)
    assert 0.0 <= v["battery-state-of-charge"] <= 100.0


@pytest.fixture
async def client() -> AsyncIterator[Application]:
    port = free_udp_port("127.0.0.1")
    app = Application.from_object_list(
        [
            DeviceObject(
                objectIdentifier=("device", 3_999_002), objectName="t", vendorIdentifier=999
            ),
            NetworkPortObject(
                f"127.0.0.1:{port}", objectIdentifier=("network-port", 1), objectName="port"
            ),
        ]
    )
    yield app
    app.close()


@pytest.mark.integration
async def test_one_read_property_multiple_returns_every_object(
    municipality: MunicipalityConfig, client: Application
) -> None:
    async with running_site(municipality) as site:
        site.step(30)
        controller = site.controllers["sports-hall"]
        address = Address(controller.address)
        objects = await client.read_property(
            address, ObjectIdentifier(f"device,{controller.instance}"), "objectList"
        )
        polled = [o for o in objects if o[0].__str__() not in ("device", "network-port")]
        assert len(polled) == controller.point_count
        served = [(str(o[0]), int(o[1])) for o in polled]
        assert served == [
            (s.type, s.instance) for s in controller_object_specs(controller.building)
        ]
        request: list[Any] = []
        for oid in polled:
            request += [oid, ["presentValue"]]
        rows = await client.read_property_multiple(address, request)
        assert len(rows) == len(polled)
        by_id = {(str(r[0][0]), int(r[0][1])): r[3] for r in rows}
        expected = object_values(
            next(b for b in municipality.buildings if b.id == "sports-hall"),
            site.simulation.readings["sports-hall"],
            hvac_enabled=True,
        )
        specs = {s.name: (s.type, s.instance) for s in object_specs(controller.building)}
        water = by_id[specs["pool-water-temperature"]]
        assert water == pytest.approx(expected["pool-water-temperature"], abs=0.01)
        hall = by_id[specs["meter-hvac-power"]]
        assert hall == pytest.approx(expected["meter-hvac-power"], abs=0.01)

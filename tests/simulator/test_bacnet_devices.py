"""Building controllers read and commanded with a separate bacpypes3 client on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from bacpypes3.app import Application
from bacpypes3.basetypes import EngineeringUnits
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import Null, ObjectIdentifier

from polis.simulator.config import MunicipalityConfig
from polis.simulator.site import Site, free_udp_port

from .helpers import running_site

pytestmark = pytest.mark.integration


@pytest.fixture
async def client() -> AsyncIterator[Application]:
    port = free_udp_port("127.0.0.1")
    app = Application.from_object_list(
        [
            DeviceObject(
                objectIdentifier=("device", 3_999_001),
                objectName="test-client",
                vendorIdentifier=999,
            ),
            NetworkPortObject(
                f"127.0.0.1:{port}", objectIdentifier=("network-port", 1), objectName="port"
            ),
        ]
    )
    yield app
    app.close()


def _bacnet(site: Site, building: str) -> tuple[Address, int]:
    entry = next(b for b in site.manifest()["buildings"] if b["id"] == building)["bacnet"][0]
    return Address(entry["address"]), int(entry["device_instance"])


def _active_priorities(array: Any) -> dict[int, float]:
    return {i + 1: getattr(v, v._choice) for i, v in enumerate(array) if v.null is None}


async def test_object_list_names_and_units(
    municipality: MunicipalityConfig, client: Application
) -> None:
    async with running_site(municipality) as site:
        address, instance = _bacnet(site, "sports-hall")
        objects = await client.read_property(
            address, ObjectIdentifier(f"device,{instance}"), "objectList"
        )
        names = {}
        for oid in objects:
            names[str(await client.read_property(address, oid, "objectName"))] = oid
        assert {
            "outdoor-air-temperature",
            "hvac-electric-power",
            "zone-hall-temperature",
            "zone-pool-hall-heating-setpoint",
            "hvac-enable",
            "pool-pump-enable",
            "dhw-heater-enable",
        } <= set(names)
        units = await client.read_property(address, names["zone-hall-temperature"], "units")
        assert units == EngineeringUnits.degreesCelsius
        power_units = await client.read_property(address, names["hvac-electric-power"], "units")
        assert power_units == EngineeringUnits.kilowatts
        # ReadPropertyMultiple answers with the model's values
        reading = site.simulation.readings["sports-hall"]
        result = await client.read_property_multiple(
            address, [names["outdoor-air-temperature"], ["presentValue", "units"]]
        )
        values = {str(prop): value for _, prop, _, value in result}
        assert values["present-value"] == pytest.approx(reading.outdoor_c, abs=0.01)


async def test_priority_array_operator_outranks_automation_and_relinquish_restores_schedule(
    municipality: MunicipalityConfig, client: Application
) -> None:
    async with running_site(municipality) as site:
        address, _ = _bacnet(site, "library")
        setpoint = ObjectIdentifier("analog-value,10")
        schedule = await client.read_property(address, setpoint, "relinquishDefault")
        assert schedule == pytest.approx(20.5)  # the library's Wednesday-morning schedule
        assert await client.read_property(address, setpoint, "presentValue") == schedule

        await client.write_property(address, setpoint, "presentValue", 18.0, priority=13)
        await client.write_property(address, setpoint, "presentValue", 22.0, priority=8)
        assert await client.read_property(address, setpoint, "presentValue") == 22.0
        array = await client.read_property(address, setpoint, "priorityArray")
        assert _active_priorities(array) == {8: 22.0, 13: 18.0}

        await client.write_property(address, setpoint, "presentValue", Null(()), priority=8)
        assert await client.read_property(address, setpoint, "presentValue") == 18.0
        await client.write_property(address, setpoint, "presentValue", Null(()), priority=13)
        assert await client.read_property(address, setpoint, "presentValue") == schedule
        array = await client.read_property(address, setpoint, "priorityArray")
        assert _active_priorities(array) == {}


async def test_writes_change_the_physics_from_the_next_step(
    municipality: MunicipalityConfig, client: Application
) -> None:
    async with running_site(municipality) as site:
        address, _ = _bacnet(site, "library")
        setpoint = ObjectIdentifier("analog-value,10")
        await client.write_property(address, setpoint, "presentValue", 24.0, priority=13)
        site.step(30)
        reading = site.simulation.readings["library"]
        assert reading.zone_setpoints_c["reading-room"] == 24.0
        boosted_kw = reading.hvac_power_kw
        assert boosted_kw > 1.0

        await client.write_property(
            address, ObjectIdentifier("binary-value,1"), "presentValue", "inactive", priority=13
        )
        site.step(1)
        assert site.simulation.readings["library"].hvac_power_kw == 0.0
        power = await client.read_property(
            address, ObjectIdentifier("analog-input,2"), "presentValue"
        )
        assert power == 0.0

        for oid in ("analog-value,10", "binary-value,1"):
            await client.write_property(
                address, ObjectIdentifier(oid), "presentValue", Null(()), priority=13
            )
        site.step(1)
        reading = site.simulation.readings["library"]
        assert reading.zone_setpoints_c["reading-room"] == pytest.approx(20.5)
        assert reading.hvac_power_kw > 0.0

"""Faults that live in the field devices, seen by real clients on loopback: a dead meter over
Modbus TCP, a forgotten override, refused writes, a stuck and a broken sensor over BACnet/IP, and
faults switched while the simulator runs by editing its faults file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bacpypes3.apdu import ErrorRejectAbortNack
from bacpypes3.app import Application
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import Null, ObjectIdentifier
from pymodbus.client import AsyncModbusTcpClient

from polis.common.clock import Clock
from polis.simulator.config import MunicipalityConfig
from polis.simulator.faults import parse_faults
from polis.simulator.site import Site, free_udp_port

from .helpers import WINTER_MORNING, running_site

pytestmark = pytest.mark.integration

FROM = WINTER_MORNING + timedelta(minutes=30)
UNTIL = WINTER_MORNING + timedelta(minutes=90)
# library: reading-room setpoint analog-value,10, its manual-override binary-input,104
SETPOINT = ObjectIdentifier("analog-value,10")
MANUAL = ObjectIdentifier("binary-input,104")
OFFICES_TEMPERATURE = ObjectIdentifier("analog-input,10")  # town hall
ADMIN_CO2 = ObjectIdentifier("analog-input,202")  # school, zone 1 (admin): CO2


def _window(kind: str, building: str, target: str, **kw: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "building": building,
        "target": target,
        "from": FROM.isoformat(),
        "until": UNTIL.isoformat(),
        **kw,
    }


@pytest.fixture
def faulty(municipality: MunicipalityConfig) -> MunicipalityConfig:
    faults = parse_faults(
        [
            _window("dead_meter", "library", "main"),  # a meter on its own port
            _window("dead_meter", "town-hall", "hvac"),  # a meter behind the gateway
            _window("forgotten_override", "library", "reading-room", value=24.0),
            _window("commands_refused", "school", "admin"),
            _window("stuck_sensor", "town-hall", "offices"),
            _window("broken_sensor", "school", "zone-admin-co2", value=0.0),
        ]
    )
    return municipality.model_copy(update={"faults": faults})


@pytest.fixture
async def client() -> AsyncIterator[Application]:
    port = free_udp_port("127.0.0.1")
    app = Application.from_object_list(
        [
            DeviceObject(
                objectIdentifier=("device", 3_999_002),
                objectName="fault-test-client",
                vendorIdentifier=999,
            ),
            NetworkPortObject(
                f"127.0.0.1:{port}", objectIdentifier=("network-port", 1), objectName="port"
            ),
        ]
    )
    yield app
    app.close()


def _modbus(site: Site, device: str) -> tuple[int, int]:
    for building in site.manifest()["buildings"]:
        for entry in building["modbus"]:
            if entry["device"] == device:
                return int(entry["port"]), int(entry["unit_id"])
    raise KeyError(device)


def _bacnet(site: Site, building: str) -> Address:
    entry = next(b for b in site.manifest()["buildings"] if b["id"] == building)["bacnet"][0]
    return Address(entry["address"])


async def _read_units(site: Site, devices: list[str]) -> dict[str, int | None]:
    """Per meter: the exception code of a read of its first registers, None if it answered."""
    out: dict[str, int | None] = {}
    for device in devices:
        port, unit = _modbus(site, device)
        modbus = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
        await modbus.connect()
        try:
            answer = await modbus.read_input_registers(0, count=2, device_id=unit)
            out[device] = answer.exception_code if answer.isError() else None
        finally:
            modbus.close()
    return out


async def test_a_dead_meter_answers_like_an_absent_unit_inside_its_window(
    faulty: MunicipalityConfig,
) -> None:
    meters = ["library-main", "town-hall-hvac", "town-hall-main"]
    async with running_site(faulty) as site:
        assert await _read_units(site, meters) == dict.fromkeys(meters)
        site.step(30)  # 08:30: the window opens
        dead = await _read_units(site, meters)
        assert dead == {"library-main": 0x0B, "town-hall-hvac": 0x0B, "town-hall-main": None}
        site.step(60)  # 09:30: it closes
        assert await _read_units(site, meters) == dict.fromkeys(meters)


async def test_a_forgotten_override_holds_the_setpoint_at_priority_8(
    faulty: MunicipalityConfig, client: Application
) -> None:
    async with running_site(faulty) as site:
        library = _bacnet(site, "library")
        schedule = await client.read_property(library, SETPOINT, "relinquishDefault")
        assert str(await client.read_property(library, MANUAL, "presentValue")) == "inactive"
        site.step(30)
        assert await client.read_property(library, SETPOINT, "presentValue") == 24.0
        array = await client.read_property(library, SETPOINT, "priorityArray")
        assert {i + 1: getattr(v, v._choice) for i, v in enumerate(array) if v.null is None} == {
            8: 24.0
        }
        assert str(await client.read_property(library, MANUAL, "presentValue")) == "active"
        # Polis' automation (priority 13) is outranked: the override wins
        await client.write_property(library, SETPOINT, "presentValue", 19.0, priority=13)
        site.step(5)
        assert site.simulation.readings["library"].zone_setpoints_c["reading-room"] == 24.0
        site.step(55)  # 09:30: the override is relinquished, automation takes over again
        assert await client.read_property(library, SETPOINT, "presentValue") == 19.0
        assert str(await client.read_property(library, MANUAL, "presentValue")) == "inactive"
        await client.write_property(library, SETPOINT, "presentValue", Null(()), priority=13)
        assert await client.read_property(library, SETPOINT, "presentValue") == schedule


async def test_refused_writes_a_stuck_and_a_broken_sensor(
    faulty: MunicipalityConfig, client: Application
) -> None:
    async with running_site(faulty) as site:
        school, town_hall = _bacnet(site, "school"), _bacnet(site, "town-hall")
        admin = ObjectIdentifier("analog-value,11")
        await client.write_property(school, admin, "presentValue", 21.0, priority=13)
        await client.write_property(school, admin, "presentValue", Null(()), priority=13)
        site.step(30)
        with pytest.raises(ErrorRejectAbortNack, match="write-access-denied"):
            await client.write_property(school, admin, "presentValue", 22.0, priority=13)
        # the classrooms' setpoint (analog-value,10) still takes writes
        classrooms = ObjectIdentifier("analog-value,10")
        await client.write_property(school, classrooms, "presentValue", 21.0, priority=13)
        await client.write_property(school, classrooms, "presentValue", Null(()), priority=13)

        assert await client.read_property(school, ADMIN_CO2, "presentValue") == 0.0
        frozen = await client.read_property(town_hall, OFFICES_TEMPERATURE, "presentValue")
        truth = site.simulation.readings["town-hall"].zone_temperatures_c["offices"]
        site.step(45)
        assert await client.read_property(town_hall, OFFICES_TEMPERATURE, "presentValue") == frozen
        moved = site.simulation.readings["town-hall"].zone_temperatures_c["offices"]
        assert abs(moved - truth) > 0.2  # the offices warm up meanwhile
        site.step(15)  # 09:30
        await client.write_property(school, admin, "presentValue", 22.0, priority=13)
        assert await client.read_property(school, admin, "presentValue") == 22.0
        await client.write_property(school, admin, "presentValue", Null(()), priority=13)
        co2 = await client.read_property(school, ADMIN_CO2, "presentValue")
        assert co2 > 420.0  # outdoor air and the occupants again
        sensed = await client.read_property(town_hall, OFFICES_TEMPERATURE, "presentValue")
        now = site.simulation.readings["town-hall"].zone_temperatures_c["offices"]
        assert sensed == pytest.approx(now, abs=0.006)


async def test_faults_switched_by_editing_the_faults_file(
    municipality: MunicipalityConfig, tmp_path: Path
) -> None:
    faults_file = tmp_path / "faults.yaml"
    clock = Clock(origin=datetime.now(UTC), start=WINTER_MORNING, speed=1e-6)
    site = Site(municipality, clock, faults_file=faults_file)
    await site.start()
    try:
        meters = ["library-main"]
        assert await _read_units(site, meters) == {"library-main": None}
        faults_file.write_text(
            "- {kind: dead_meter, building: library, target: main}\n", encoding="utf-8"
        )
        site.tick()
        assert await _read_units(site, meters) == {"library-main": 0x0B}
        # a file that does not parse leaves the faults in force as they were
        await asyncio.sleep(0.01)  # a new modification time
        faults_file.write_text("- {kind: dead_meter, building: library, target: pv}\n", "utf-8")
        site.tick()
        assert [f.describe() for f in site.simulation.faults] == ["dead_meter library/main"]
        faults_file.unlink()
        site.tick()
        assert site.simulation.faults == []
        assert await _read_units(site, meters) == {"library-main": None}
    finally:
        site.stop()
        await site.close()

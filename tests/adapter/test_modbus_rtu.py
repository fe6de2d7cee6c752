"""Modbus RTU against the simulator on loopback: serial RTU on a real serial line (a joined
pair of pseudo-terminals), RTU frames over TCP, and a unit a gateway cannot reach."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from structlog.testing import capture_logs

from adapter.simulator_fixture import RecordingWriter, running_simulator
from polis.adapter.config import ClockConfig, parse_config
from polis.adapter.modbus.client import EndpointPool
from polis.adapter.modbus.driver import ModbusDriver
from polis.adapter.model import Quality, Reading
from polis.adapter.service import Adapter
from polis.adapter.settings import AdapterSettings
from polis.common.catalogue import parse_catalogue
from polis.common.catalogue.devices import ModbusDeviceConfig, profile_point_id
from polis.common.catalogue.modbus_profiles import load_profile
from polis.common.clock import Clock
from polis.simulator.catalogue import modbus_device
from polis.simulator.config import load_config
from polis.simulator.registers import decode, register_map
from polis.simulator.site import Site

pytestmark = pytest.mark.integration

WINTER_MORNING = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)


@asynccontextmanager
async def serving(transport: str) -> AsyncIterator[Site]:
    """The simulated municipality with its gateways' meters on ``transport``; its clock
    practically stands still, so the registers keep their values through a test."""
    clock = Clock(origin=datetime.now(UTC), start=WINTER_MORNING, speed=1e-6)
    site = Site(load_config(), clock, gateway_transport=transport)  # type: ignore[arg-type]
    await site.start()
    try:
        yield site
    finally:
        site.stop()
        await site.close()


def gateway_entries(site: Site, **fields: Any) -> list[dict[str, Any]]:
    """Catalogue entries of the meters that share a bus, as the simulator writes them."""
    return [
        {**modbus_device(meter, endpoint, 0.2), **fields}
        for endpoint in site.served().modbus
        if len(endpoint.meters) > 1
        for meter in endpoint.meters
    ]


def catalogue_of(devices: list[dict[str, Any]]) -> dict[str, Any]:
    building = {"id": "town-hall", "neighbourhood": "kentro", "devices": devices}
    return {"municipality": "larissa", "buildings": [building]}


def served_values(site: Site, device: ModbusDeviceConfig) -> dict[str, float]:
    """What the simulator serves for ``device``, decoded by the simulator itself, keyed by
    the adapter's point ids (the two name a few registers differently: matched by address)."""
    spec, image = site.meters[device.id]
    regmap = register_map(spec.profile)
    by_address = {r.address: r for r in regmap.registers}
    out = {}
    for register in load_profile(device.profile).registers:
        if register.writable:
            continue  # not polled
        served = by_address[register.address]
        words = image.words[served.address : served.address + served.words]
        out[profile_point_id(register.name)] = decode(regmap, words, served)
    return out


@pytest.mark.parametrize("transport", ["rtu", "rtu_over_tcp"])
async def test_every_unit_on_a_bus_reads_what_the_simulator_serves(transport: str) -> None:
    async with serving(transport) as site:
        document = catalogue_of(gateway_entries(site, timeout_s=2.0))
        cat = parse_catalogue(document, "rtu.yaml")
        devices = [d for d in cat.buildings[0].devices if isinstance(d, ModbusDeviceConfig)]
        units_per_bus: dict[str, list[int]] = {}
        for d in devices:
            assert d.transport == transport
            units_per_bus.setdefault(d.bus(), []).append(d.unit_id)
        assert sorted(map(len, units_per_bus.values())) == [3, 4]
        if transport == "rtu":
            assert all(bus.startswith("/dev/pts/") for bus in units_per_bus)
        pool = EndpointPool()
        drivers = [ModbusDriver(d, pool.for_device(d)) for d in devices]
        assert len({id(pool.for_device(d)) for d in devices}) == len(units_per_bus)
        try:
            for _ in range(2):  # every unit at once, twice: the owner takes them in turn
                rounds = await asyncio.gather(*(dr.scrape(dr.groups()[0]) for dr in drivers))
        finally:
            pool.close()
    for device, values in zip(devices, rounds, strict=True):
        served = served_values(site, device)
        assert len(values) >= 30
        assert values.keys() == served.keys()
        for key, value in values.items():
            assert value == pytest.approx(served[key], rel=1e-9, abs=1e-9), (device.id, key)
        assert (values["import-energy"] or 0.0) > 0  # a real reading, not an empty image


async def test_the_adapter_polls_a_serial_bus_of_the_simulator_process(tmp_path: Path) -> None:
    catalogue_path = tmp_path / "catalogue.yaml"
    with running_simulator(
        tmp_path, "--gateway-transport", "rtu", "--catalogue", str(catalogue_path)
    ) as manifest:
        document = yaml.safe_load(catalogue_path.read_text())
        serial = [
            {**d, "poll_interval_s": 0.2}
            for b in document["buildings"]
            for d in b["devices"]
            if d.get("transport") == "rtu"
        ]
        assert len(serial) == 7
        settings = AdapterSettings(state_dir=tmp_path / "state", flush_interval_s=0.2)
        site = parse_config(catalogue_of(serial), "rtu.yaml", settings)
        clock = ClockConfig.model_validate(manifest["clock"]).build()
        adapter = Adapter(site=site, writer=RecordingWriter(), clock=clock)
        good: dict[str, int] = {}

        def count(readings: Any) -> None:
            for r in readings:
                if r.quality is Quality.GOOD:
                    good[r.point_id] = good.get(r.point_id, 0) + 1

        adapter.on_readings = count
        await adapter.start(serve=False)
        try:
            for _ in range(150):
                if len(good) == len(adapter.points) and min(good.values()) >= 3:
                    break
                await asyncio.sleep(0.1)
        finally:
            await adapter.stop()
    assert len(adapter.points) > 200
    assert set(good) == {ref.point_id for ref in adapter.points}
    assert min(good.values()) >= 3
    for d in serial:
        assert adapter.metrics.device_up.labels(d["id"])._value.get() == 1


@pytest.mark.parametrize(
    ("transport", "reason"), [("tcp", "gateway"), ("rtu_over_tcp", "gateway"), ("rtu", "timeout")]
)
async def test_a_dead_unit_is_flagged_while_the_others_keep_being_polled(
    transport: str, reason: str, tmp_path: Path
) -> None:
    async with serving(transport) as site:
        entries = gateway_entries(site, timeout_s=0.3, retries=0)
        town_hall = [e for e in entries if e["id"].startswith("town-hall-")]
        dead = {**town_hall[0], "id": "dead-meter", "unit_id": 9}  # nobody answers unit 9
        settings = AdapterSettings(state_dir=tmp_path / "state", flush_interval_s=0.2)
        config = parse_config(catalogue_of([*town_hall, dead]), "rtu.yaml", settings)
        now = datetime.now(UTC)
        adapter = Adapter(site=config, writer=RecordingWriter(), clock=Clock(now, now))
        readings: list[Reading] = []
        adapter.on_readings = readings.extend
        with capture_logs() as logs:
            await adapter.start(serve=False)
            try:
                await asyncio.sleep(3.0)
            finally:
                await adapter.stop()

    def rounds(device: str) -> int:
        power = f"larissa/town-hall/{device}/total-power"
        return sum(1 for r in readings if r.point_id == power)

    dead_readings = [r for r in readings if "/dead-meter/" in r.point_id]
    assert dead_readings
    assert {r.quality for r in dead_readings} == {Quality.MISSING}
    metrics = adapter.metrics
    assert metrics.device_errors.labels("dead-meter", reason)._value.get() >= 1
    assert metrics.device_up.labels("dead-meter")._value.get() == 0
    warnings = [e for e in logs if e["event"] == "poll incomplete"]
    assert warnings
    assert {e["device"] for e in warnings} == {"dead-meter"}
    if reason == "gateway":
        assert all("0x0B" in e["error"] for e in warnings)
    for entry in town_hall:
        live = [r for r in readings if f"/{entry['id']}/" in r.point_id]
        assert {r.quality for r in live} == {Quality.GOOD}, entry["id"]
        assert metrics.device_up.labels(entry["id"])._value.get() == 1
        # polled every 0.2 s for 3 s; the dead unit backs off on its own
        assert rounds(entry["id"]) >= 8
        assert rounds("dead-meter") <= rounds(entry["id"]) // 2

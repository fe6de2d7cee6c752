"""The adapter against the real simulator (subprocess, loopback)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient

from adapter.fake_bacnet import free_udp_port
from adapter.simulator_fixture import RecordingWriter, parse_line, running_simulator
from polis.adapter.bacnet.client import BacnetClient
from polis.adapter.bacnet.discovery import discover_device
from polis.adapter.config import ClockConfig, SiteConfig, iter_points, parse_config
from polis.adapter.control import WriteRejected, WriteRequest
from polis.adapter.manifest import config_from_manifest
from polis.adapter.model import Quality
from polis.adapter.service import Adapter
from polis.adapter.settings import AdapterSettings
from polis.common.lineprotocol import to_ns

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_simulator(tmp_path_factory.mktemp("sim")) as manifest:
        yield manifest


async def site_from(manifest: dict[str, Any], state_dir: Path) -> SiteConfig:
    client = BacnetClient(f"127.0.0.1:{free_udp_port()}")
    client.start()
    try:
        data = await config_from_manifest(manifest, lambda a, i: discover_device(client, a, i))
    finally:
        client.close()
    settings = AdapterSettings(
        state_dir=state_dir, bacnet_address=f"127.0.0.1:{free_udp_port()}", flush_interval_s=0.2
    )
    for building in data["buildings"]:
        for device in building["devices"]:
            device["poll_interval_s"] = 1.0
    clock = ClockConfig.model_validate(manifest["clock"])  # the simulator's virtual clock
    return parse_config(data, "generated.yaml", settings, clock)


@dataclass
class Running:
    adapter: Adapter
    writer: RecordingWriter
    manifest: dict[str, Any]


@pytest.fixture
async def running(simulator: dict[str, Any], tmp_path: Path) -> AsyncIterator[Running]:
    site = await site_from(simulator, tmp_path / "state")
    writer = RecordingWriter()
    adapter = Adapter(site=site, writer=writer, clock=site.clock.build() if site.clock else None)  # type: ignore[arg-type]
    await adapter.start(serve=False)
    yield Running(adapter, writer, simulator)
    await adapter.stop()


async def wait_for(predicate: Any, timeout_s: float = 30.0) -> None:
    for _ in range(int(timeout_s / 0.1)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached")


async def test_every_point_arrives_with_unit_quality_and_time(running: Running) -> None:
    adapter, writer = running.adapter, running.writer
    expected = {(r.building, r.device, r.point_id): r for r in iter_points(adapter.site)}
    start_ns = to_ns(adapter.clock.now())

    def seen() -> set[tuple[str, str, str]]:
        return {
            (t["building"], t["device"], t["point"]) for t, _, _ in map(parse_line, writer.lines)
        }

    await wait_for(lambda: set(expected) <= seen())
    now_ns = to_ns(adapter.clock.now())
    for line in writer.lines:
        tags, _value, time_ns = parse_line(line)
        ref = expected[(tags["building"], tags["device"], tags["point"])]
        assert tags["unit"] == adapter.units[ref.point_id]
        assert tags["quantity"] == ref.point.quantity.value
        assert tags["quality"] in {q.value for q in Quality}
        assert start_ns - 5_000_000_000 <= time_ns <= now_ns
    good = sum(1 for line in writer.lines if ",quality=good," in line)
    assert good / len(writer.lines) > 0.95


async def test_modbus_energy_matches_an_independent_read(running: Running) -> None:
    adapter = running.adapter
    meter = running.manifest["buildings"][0]["modbus"][0]
    assert meter["profile"] == "eastron_sdm630"
    building = running.manifest["buildings"][0]["id"]
    pid = f"{adapter.site.municipality}/{building}/{meter['device']}/import-energy"
    await wait_for(lambda: adapter.latest.get(pid) is not None)
    ours = adapter.latest.get(pid)
    assert ours is not None
    client = AsyncModbusTcpClient(meter["host"], port=meter["port"])
    await client.connect()
    reply = await client.read_input_registers(0x48, count=2, device_id=meter["unit_id"])
    client.close()
    theirs = struct.unpack(">f", struct.pack(">2H", *reply.registers))[0]
    # a counter read later is never smaller, and a few seconds add little energy
    assert ours.unit == "kWh"
    assert ours.value <= theirs + 1e-3
    assert theirs - ours.value < max(1.0, 0.01 * theirs)


def setpoint(adapter: Adapter) -> str:
    return next(
        ref.point_id
        for ref in iter_points(adapter.site)
        if ref.point.write is not None and ref.point.unit == "degC"
    )


async def test_setpoint_write_expiry_and_shutdown(
    simulator: dict[str, Any], tmp_path: Path
) -> None:
    site = await site_from(simulator, tmp_path / "state")
    adapter = Adapter(site=site, writer=RecordingWriter(), clock=site.clock.build())  # type: ignore[union-attr]
    await adapter.start(serve=False)
    pid = setpoint(adapter)
    target = adapter.commands._targets[pid]
    before = (await target.driver.read_command(target.key)).present_value
    wanted = 17.0 if before > 21.0 else 25.0
    wanted = before + max(-1.0, min(1.0, wanted - before))  # within the 1/min draft rate
    try:
        outcome = await adapter.commands.write(WriteRequest(pid, wanted, duration_s=1.0))
        assert outcome.status.value in {"applied", "overridden"}
        # an independent client sees the value in the device's priority array
        reader = BacnetClient(f"127.0.0.1:{free_udp_port()}")
        reader.start()
        cfg = target.driver.config  # type: ignore[attr-defined]
        obj = next(p.object for p in cfg.points if p.id == target.key)
        array = await reader.read(cfg.address, obj, "priority-array", 2.0)
        assert array[12].dict_contents() == {"real": wanted}
        await wait_for(lambda: not adapter.commands.active(), 10.0)  # expiry relinquishes
        array = await reader.read(cfg.address, obj, "priority-array", 2.0)
        assert "null" in array[12].dict_contents()
        with pytest.raises(WriteRejected, match="above the configured max 26"):
            await adapter.commands.write(WriteRequest(pid, 30.0))
        await adapter.commands.write(WriteRequest(pid, wanted, duration_s=3600))
    finally:
        await adapter.stop()  # shutdown relinquishes
    array = await reader.read(cfg.address, obj, "priority-array", 2.0)
    reader.close()
    assert "null" in array[12].dict_contents()

"""BACnet across subnets on loopback: the adapter as a foreign device of a BBMD, and as a BBMD.

The other subnet is ``bacnet_site.py`` in a process of its own: a bacpypes3 BBMD, two devices
beside it on one UDP port standing for their subnet (with a real broadcast domain at
127.255.255.255), and a bacpypes3 router from that subnet (network 1) to network 2, a
virtual LAN in the same process where two devices have one-byte MACs as on an MS/TP trunk.
The adapter's client is at another port, another subnet: without the BBMD, its broadcasts
reach none of them. Routed devices (DNET/DADR) are feasible with bacpypes3 and are covered:
discovered through the router, polled and written as ``network:mac`` with the router's address
from the catalogue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapter.bacnet_site import temperature
from adapter.fake_bacnet import free_udp_port
from adapter.simulator_fixture import RecordingWriter, parse_line
from polis.adapter.bacnet.client import BacnetClient, BacnetError, ForeignDevice
from polis.adapter.bacnet.discovery import discover_network
from polis.adapter.bacnet.driver import BacnetDriver
from polis.adapter.bacnet.registration import RegistrationOutcome
from polis.adapter.config import parse_config
from polis.adapter.metrics import AdapterMetrics
from polis.adapter.service import Adapter, bacnet_client
from polis.adapter.settings import AdapterSettings
from polis.common.catalogue.devices import BacnetDeviceConfig
from polis.common.clock import Clock

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SITE = Path(__file__).with_name("bacnet_site.py")


@dataclass
class Site:
    port: int
    info: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def bbmd(self) -> str:
        return str(self.info["bbmd"])

    def registrations(self, address: str) -> list[dict[str, Any]]:
        return [e for kind, e in self.events if kind == "register" and e["address"] == address]


@contextlib.asynccontextmanager
async def running_site(port: int, *extra: str) -> AsyncIterator[Site]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SITE),
        "--port",
        str(port),
        *extra,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    reader = None
    try:
        kind, _, rest = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().partition(" ")
        if kind != "ready":
            raise RuntimeError(f"BACnet site did not start (exit {proc.returncode})")
        site = Site(port, json.loads(rest))

        async def read_events() -> None:
            assert proc.stdout is not None
            while line := await proc.stdout.readline():
                name, _, body = line.decode().partition(" ")
                site.events.append((name, {**json.loads(body), "at": loop.time()}))

        loop = asyncio.get_running_loop()

        reader = asyncio.create_task(read_events())
        yield site
    finally:
        proc.stdin.close()  # the site stops when its stdin closes
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with running_site(free_udp_port()) as running:
        yield running


async def eventually(check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def started(client: BacnetClient) -> AsyncIterator[BacnetClient]:
    client.start()
    try:
        yield client
    finally:
        await client.aclose()


def by_instance(drafts: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {d["device_instance"]: d for d in drafts}


async def test_without_a_bbmd_the_other_subnet_stays_silent(site: Site) -> None:
    # a broadcast domain of its own (127.255.255.255 on its port), like any other subnet
    async with started(BacnetClient(f"127.0.0.1/8:{free_udp_port()}")) as client:
        found = await client.who_is(None, None, None, 1.0)
    assert not {d.instance for d in found} & {3001, 3002, 4005, 4006}


async def test_a_foreign_device_discovers_both_subnets_through_the_bbmd(site: Site) -> None:
    local = f"127.0.0.1:{free_udp_port()}"
    async with started(BacnetClient(local, foreign=ForeignDevice(site.bbmd, 60))) as client:
        drafts = by_instance(await discover_network(client, timeout_s=2.0))
    assert {3001, 3002, 4005, 4006} <= set(drafts)
    assert drafts[3001]["address"] == site.info["devices"]["3001"]
    assert "network" not in drafts[3001]
    # behind the router: its address, and the station's network and MAC
    assert drafts[4005] | {"points": []} == {
        "protocol": "bacnet",
        "device_instance": 4005,
        "address": site.info["router"],
        "network": 2,
        "mac": "5",
        "points": [],
    }
    assert {p["object"] for p in drafts[4006]["points"]} == {"analog-input,1", "analog-value,1"}
    for instance in (3001, 4005):  # the drafts are catalogue entries once named
        BacnetDeviceConfig.model_validate({**drafts[instance], "id": f"d{instance}"})
    assert site.registrations(local)[0]["ttl"] == 60
    # on close the adapter asks the BBMD to drop its entry
    await eventually(lambda: any(k == "delete" and e["address"] == local for k, e in site.events))


async def test_a_narrow_who_is_finds_one_routed_device(site: Site) -> None:
    foreign = ForeignDevice(site.bbmd, 60)
    async with started(BacnetClient(f"127.0.0.1:{free_udp_port()}", foreign=foreign)) as client:
        drafts = await discover_network(client, 4006, 4006, timeout_s=1.5)
    assert [(d["device_instance"], d["mac"]) for d in drafts] == [(4006, "6")]


def catalogue(site: Site, poll_interval_s: float = 0.5) -> dict[str, Any]:
    def device(instance: int, **where: Any) -> dict[str, Any]:
        return {
            "protocol": "bacnet",
            "id": f"ahu-{instance}",
            "device_instance": instance,
            "poll_interval_s": poll_interval_s,
            "timeout_s": 2.0,
            **where,
            "points": [
                {"id": "zone-temp", "object": "analog-input,1", "quantity": "temperature",
                 "unit": "degC"},
                {"id": "zone-setpoint", "object": "analog-value,1", "quantity": "setpoint",
                 "unit": "degC", "kind": "command", "write": {"min": 16, "max": 26}},
            ],
        }  # fmt: skip

    devices = [
        device(3001, address=site.info["devices"]["3001"]),
        device(4005, address=site.info["router"], network=2, mac=5),
        device(4006, address=site.info["router"], network=2, mac="0x06"),
    ]
    building = {"id": "school", "neighbourhood": "kentro", "devices": devices}
    return {"municipality": "larissa", "buildings": [building]}


def latest_values(writer: RecordingWriter) -> dict[str, tuple[float, str]]:
    out = {}
    for line in writer.lines:
        tags, value, _ = parse_line(line)
        out[tags["point"].removeprefix("larissa/school/")] = (value, tags["quality"])
    return out


async def test_the_adapter_polls_and_writes_across_the_bbmd_and_the_router(
    site: Site, tmp_path: Path
) -> None:
    settings = AdapterSettings(
        state_dir=tmp_path,
        bacnet_address=f"127.0.0.1:{free_udp_port()}",
        bacnet_bbmd_address=site.bbmd,
        bacnet_bbmd_ttl_s=60,
        flush_interval_s=0.2,
    )
    site_config = parse_config(catalogue(site), "catalogue.yaml", settings)
    writer = RecordingWriter()
    adapter = Adapter(site=site_config, writer=writer, clock=Clock.realtime())
    await adapter.start(serve=False)
    try:
        expected = {
            f"ahu-{i}/zone-temp": (temperature(i), "good") for i in (3001, 4005, 4006)
        }  # routed ones without any discovery: the route comes from the catalogue
        await eventually(lambda: expected.items() <= latest_values(writer).items())
        registered = adapter.metrics.registry.get_sample_value(
            "polis_adapter_bacnet_foreign_registered", {"bbmd": site.bbmd}
        )
        assert registered == 1.0
        driver = next(d for d in adapter.drivers if d.device_id == "ahu-4005")
        assert isinstance(driver, BacnetDriver)
        await driver.write("zone-setpoint", 22.5, 13)
        state = await driver.read_command("zone-setpoint")
        assert (state.present_value, state.active_priority) == (22.5, 13)
        await driver.relinquish("zone-setpoint", 13)
    finally:
        await adapter.stop()


async def test_registration_is_renewed_before_its_ttl_runs_out(site: Site) -> None:
    local = f"127.0.0.1:{free_udp_port()}"
    async with started(BacnetClient(local, foreign=ForeignDevice(site.bbmd, 4))):
        await eventually(lambda: len(site.registrations(local)) >= 2, 10.0)
    first, second = site.registrations(local)[:2]
    assert (first["ttl"], second["ttl"]) == (4, 4)
    assert 1.5 < second["at"] - first["at"] < 3.0  # at half the TTL, well before it lapses


async def test_a_bbmd_that_does_not_answer_is_logged_counted_retried_and_joined_later(
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = free_udp_port()
    bbmd = f"127.0.0.2:{port}"
    settings = AdapterSettings(
        bacnet_address=f"127.0.0.1:{free_udp_port()}", bacnet_bbmd_address=bbmd
    )
    metrics = AdapterMetrics()

    def sample(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"bbmd": bbmd, **labels})

    async with started(bacnet_client(settings, metrics)) as client:
        failures = "polis_adapter_bacnet_foreign_registration_failures_total"
        await eventually(lambda: (sample(failures, reason="timeout") or 0) >= 2, 10.0)
        assert sample("polis_adapter_bacnet_foreign_registered") == 0.0
        with pytest.raises(BacnetError, match="not registered as a foreign device"):
            await client.who_is(None, None, None, 0.5)
        logged = capsys.readouterr().out
        assert "foreign device registration failed" in logged
        assert "reason=timeout" in logged
        async with running_site(port):  # the BBMD comes up: the next retry joins it
            await eventually(lambda: sample("polis_adapter_bacnet_foreign_registered") == 1.0)
            found = await client.who_is(None, 3001, 3001, 1.0)
    assert [d.instance for d in found] == [3001]


async def test_a_refused_registration_is_reported_and_retried() -> None:
    outcomes: list[RegistrationOutcome] = []
    async with running_site(free_udp_port(), "--refuse-foreign") as refusing:
        foreign = ForeignDevice(refusing.bbmd, 60, outcomes.append)
        async with started(BacnetClient(f"127.0.0.1:{free_udp_port()}", foreign=foreign)):
            await eventually(lambda: len(outcomes) >= 2)
    assert outcomes[:2] == [RegistrationOutcome(ok=False, registered=False, reason="nak")] * 2


async def test_the_adapter_as_a_bbmd_reaches_the_other_subnet_through_its_peer() -> None:
    local_port = free_udp_port()
    local = f"127.0.0.1/8:{local_port}"
    peer_port = free_udp_port()
    async with (
        running_site(peer_port, "--peer", f"127.0.0.1:{local_port}") as peer,
        started(BacnetClient(local, bdt=[f"127.0.0.2:{peer_port}"])) as client,
    ):
        drafts = by_instance(await discover_network(client, timeout_s=2.0))
        value = await client.read("2:6", "analog-input,1", "present-value", 2.0)
    assert {3001, 3002, 4005, 4006} <= set(drafts)
    assert value == temperature(4006)
    assert drafts[4006]["address"] == peer.info["router"]

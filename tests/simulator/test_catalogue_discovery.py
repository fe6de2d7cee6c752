"""The catalogue of a serving simulator agrees with what BACnet discovery finds on it.

The simulator runs as a process (``python -m polis.simulator --manifest --catalogue
--base-port``) and the adapter drafts its devices from the manifest by discovery
(``python -m polis.adapter config-from-manifest``): every BACnet point of the catalogue has
the id, object, quantity, unit and kind discovery drafts, except where the catalogue decided
what Polis may write.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from polis.common.catalogue import parse_catalogue
from polis.common.clock import Clock
from polis.simulator.__main__ import main as simulator_main
from polis.simulator.catalogue import catalogue
from polis.simulator.config import MunicipalityConfig, load_config
from polis.simulator.endpoints import endpoint_layout
from polis.simulator.site import Site

from .helpers import WINTER_MORNING, running_site

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # ~10 s: two processes, discovery

SIM = load_config()
LAYOUT_PORTS = max(len(endpoint_layout(SIM).modbus), len(SIM.buildings))


def _bindable(kind: int, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port(count: int) -> int:
    """A base port whose next ``count`` TCP and UDP ports are all free."""
    for _ in range(200):
        base = random.randint(20_000, 60_000)
        ports = range(base, base + count)
        if all(_bindable(socket.SOCK_STREAM, p) and _bindable(socket.SOCK_DGRAM, p) for p in ports):
            return base
    raise RuntimeError("no free port range")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    base_port: int
    manifest: Path
    catalogue: dict[str, Any]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("sim")
    manifest, written = workdir / "manifest.yaml", workdir / "catalogue.yaml"
    base = free_base_port(LAYOUT_PORTS)
    args = ["--manifest", str(manifest), "--catalogue", str(written), "--base-port", str(base)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "polis.simulator", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "POLIS_LOG_LEVEL": "WARNING"},
    )
    try:
        deadline = time.monotonic() + 60
        while not manifest.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"simulator did not start (exit {proc.returncode})")
            time.sleep(0.1)
        yield Served(base, manifest, yaml.safe_load(written.read_text()))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _discovered(manifest: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "polis.adapter",
            "config-from-manifest",
            str(manifest),
            "--local",
            f"127.0.0.1:{free_udp_port()}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "POLIS_LOG_LEVEL": "WARNING"},
    )
    return yaml.safe_load(result.stdout)  # type: ignore[no-any-return]


def _devices(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The BACnet and Modbus devices (OCPP chargers connect by themselves: nothing to
    discover)."""
    return {
        d["id"]: d for b in document["buildings"] for d in b["devices"] if d["protocol"] != "ocpp"
    }


def _drafted(point: dict[str, Any]) -> tuple[str, ...]:
    return (point["id"], point["object"], point["quantity"], point["unit"], point["description"])


def test_points_are_what_discovery_drafts_except_the_write_decisions(served: Served) -> None:
    ours, found = _devices(served.catalogue), _devices(_discovered(served.manifest))
    assert set(ours) == set(found)
    decided: dict[tuple[str, str], int] = {}
    for device_id, device in ours.items():
        other = found[device_id]
        if device["protocol"] == "modbus":
            fields = ("host", "port", "unit_id", "profile")
            assert [device[f] for f in fields] == [other[f] for f in fields]
            continue
        assert (device["device_instance"], device["address"]) == (
            other["device_instance"],
            other["address"],
        )
        # in the order of the object list too, so the adapter polls the same groups
        assert list(map(_drafted, device["points"])) == list(map(_drafted, other["points"]))
        kinds = {p["id"]: p["kind"] for p in other["points"]}
        for point in device["points"]:
            if point["kind"] == kinds[point["id"]]:
                continue
            change = (kinds[point["id"]], point["kind"])
            decided[change] = decided.get(change, 0) + 1
            # an enable becomes a command; a read-only "setpoint" stays a reading
            if change == ("state", "command"):
                assert point["object"].startswith("binary-value"), point["id"]
            else:
                assert change == ("command", "instantaneous"), point["id"]
                assert point["id"].endswith(("-cooling-setpoint", "-effective-setpoint"))
    zones = sum(len(b.zones) for b in SIM.buildings)
    enables = len(SIM.buildings) + sum(
        (b.hot_water is not None) + (b.pool is not None) + (b.ev_chargers is not None)
        for b in SIM.buildings
    )
    assert decided == {("state", "command"): enables, ("command", "instantaneous"): 2 * zones}


def test_served_catalogue_is_the_fixed_layouts(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    parse_catalogue(served.catalogue, "served", complete=True)
    assert simulator_main(["catalogue", "--base-port", str(served.base_port)]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == served.catalogue


async def test_a_site_on_free_ports_describes_where_it_listens(
    municipality: MunicipalityConfig,
) -> None:
    async with running_site(municipality) as site:
        served = site.served()
        assert served.resolved
        document = catalogue(municipality, served, modbus_poll_s=1.0, bacnet_poll_s=1.0)
        cat = parse_catalogue(document, "free ports", complete=True)
        manifest = site.manifest()
        for building in manifest["buildings"]:
            ours = cat.building(building["id"])
            for meter in building["modbus"]:
                device = ours.device(meter["device"])
                assert (device.port, device.unit_id) == (meter["port"], meter["unit_id"])  # type: ignore[union-attr]
            bms = ours.device(building["bacnet"][0]["device"])
            assert bms.address == building["bacnet"][0]["address"]  # type: ignore[union-attr]


async def test_a_taken_port_of_the_fixed_layout_stops_the_site(
    municipality: MunicipalityConfig,
) -> None:
    base = free_base_port(LAYOUT_PORTS)
    clock = Clock(origin=datetime.now(UTC), start=WINTER_MORNING, speed=1e-6)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", base + 2))
        site = Site(municipality, clock, base_port=base)
        try:
            with pytest.raises(OSError, match=f"BACnet/IP 127.0.0.1:{base + 2}"):
                await site.start()
        finally:
            await site.close()
    assert site.controllers == {}

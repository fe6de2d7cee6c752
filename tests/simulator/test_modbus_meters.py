"""Simulated meters read with Debian's mbpoll, a Modbus client that is not Polis code."""

from __future__ import annotations

import asyncio
import re
import shutil

import pytest

from polis.simulator.config import MeterRole, MunicipalityConfig
from polis.simulator.registers import register_map, resolution
from polis.simulator.site import Site

from .helpers import running_site

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll is not installed"),
]


async def mbpoll(port: int, unit: int, reference: int, kind: str, *extra: str) -> float:
    """One read of one value; ``reference`` is mbpoll's 1-based register number."""
    process = await asyncio.create_subprocess_exec(
        "mbpoll",
        "-m",
        "tcp",
        "-p",
        str(port),
        "-a",
        str(unit),
        "-r",
        str(reference),
        "-t",
        kind,
        "-c",
        "1",
        "-1",
        "-o",
        "2",
        *extra,
        "127.0.0.1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    text = out.decode()
    match = re.search(rf"^\[{reference}\]:\s+(-?[\d.eE+-]+)", text, re.MULTILINE)
    assert match, text
    return float(match.group(1))


def _endpoint(site: Site, device: str) -> tuple[int, int]:
    for building in site.manifest()["buildings"]:
        for entry in building["modbus"]:
            if entry["device"] == device:
                return int(entry["port"]), int(entry["unit_id"])
    raise KeyError(device)


async def test_sdm630_and_em24_registers_equal_the_model(municipality: MunicipalityConfig) -> None:
    async with running_site(municipality) as site:
        site.step(30)  # a working-day morning with the heat pumps running
        town_hall = site.simulation.readings["town-hall"]
        main = town_hall.meters[MeterRole.MAIN]
        hvac = town_hall.meters[MeterRole.HVAC]
        assert main.power_w > 1000
        assert hvac.power_w > 1000

        # Eastron SDM630 behind the town-hall gateway: float32, high word first.
        port, unit = _endpoint(site, "town-hall-main")
        sdm = register_map(main_profile := site.meters["town-hall-main"][0].profile)
        assert main_profile.value == "eastron_sdm630"
        power = await mbpoll(port, unit, 53, "3:float", "-B")
        energy = await mbpoll(port, unit, 73, "3:float", "-B")
        total = await mbpoll(port, unit, 343, "3:float", "-B")
        # mbpoll prints six significant digits, coarser than float32 itself
        assert power == pytest.approx(main.power_w, rel=1e-5)
        assert energy == pytest.approx(main.import_kwh, rel=1e-5)
        assert total == pytest.approx(main.import_kwh + main.export_kwh, rel=1e-5)
        assert resolution(sdm.register("power_total"), power) < 0.01

        # Carlo Gavazzi EM24 on the same gateway, another unit id: INT32, low word first.
        port2, unit2 = _endpoint(site, "town-hall-hvac")
        assert (port2, unit2) == (port, 2)
        watts_x10 = await mbpoll(port, 2, 41, "3:int")  # 0x0028 W sys, W x 10
        kwh_x10 = await mbpoll(port, 2, 53, "3:int")  # 0x0034 kWh(+) TOT, kWh x 10
        assert watts_x10 / 10 == pytest.approx(hvac.power_w, abs=0.05 + 1e-9)
        assert kwh_x10 / 10 == pytest.approx(hvac.import_kwh, abs=0.05 + 1e-9)

        # The values move with the physics: step on and the counter has advanced by P x dt.
        site.step(10)
        later = site.simulation.readings["town-hall"].meters[MeterRole.MAIN]
        energy_later = await mbpoll(port, unit, 73, "3:float", "-B")
        assert energy_later == pytest.approx(later.import_kwh, rel=1e-5)
        assert later.import_kwh > main.import_kwh


async def test_meter_on_its_own_port_answers_as_unit_one(municipality: MunicipalityConfig) -> None:
    async with running_site(municipality) as site:
        library = site.simulation.readings["library"].meters[MeterRole.MAIN]
        port, unit = _endpoint(site, "library-main")
        assert unit == 1
        kwh_x10 = await mbpoll(port, 1, 53, "3:int")
        assert kwh_x10 / 10 == pytest.approx(library.import_kwh, abs=0.05 + 1e-9)
        ports = {_endpoint(site, d)[0] for d in ("library-main", "library-hvac")}
        assert len(ports) == 2

"""OCPP security profile 2: basic auth on the WebSocket upgrade, over TLS (wss).

A self-signed certificate is made for the test with the ``openssl`` command. A charger with
the wrong password is refused before the upgrade (401) and never boots; with its password it
connects over wss and boots; plain ws to the TLS port gets nowhere; and the adapter does not
start a central system whose security profile lacks what it needs.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import require

from adapter.ocpp_fixture import depot_only, running_depot, wait_for
from adapter.simulator_fixture import RecordingWriter
from polis.adapter.ocpp.central import CentralSystem, OcppSetupError
from polis.adapter.settings import AdapterSettings
from polis.common.catalogue.devices import OcppDeviceConfig
from polis.common.clock import Clock
from polis.simulator.ocpp_chargers import OcppLink, charge_points

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 14, 7, 0, tzinfo=UTC)
PASSWORDS = {"depot-cp1": "cp1-right-horse-battery", "depot-cp2": "cp2-staple-correct"}


def self_signed(directory: Path) -> tuple[Path, Path]:
    require(shutil.which("openssl") is not None, "the openssl command is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=edge-box",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def secrets(tmp_path: Path) -> dict[str, Path]:
    cert, key = self_signed(tmp_path)
    passwords = tmp_path / "ocpp-passwords"
    passwords.write_text(
        "# identity:password\n" + "".join(f"{i}:{p}\n" for i, p in PASSWORDS.items())
    )
    return {"cert": cert, "key": key, "passwords": passwords}


async def test_wrong_password_is_refused_and_the_right_one_connects_over_wss(
    secrets: dict[str, Path], tmp_path: Path
) -> None:
    trust = ssl.create_default_context(cafile=str(secrets["cert"]))
    wrong = {"depot-cp1": "guessed", "depot-cp2": PASSWORDS["depot-cp2"]}

    def link(port: int) -> OcppLink:  # the simulator's own chargers: cp1 has it wrong
        return OcppLink(f"wss://127.0.0.1:{port}", wrong, trust, meter_interval_s=0.2)

    async with running_depot(
        START,
        60.0,
        RecordingWriter(),
        tmp_path / "adapter",
        link,
        ocpp_security_profile=2,
        ocpp_tls_cert=secrets["cert"],
        ocpp_tls_key=secrets["key"],
        ocpp_passwords_file=secrets["passwords"],
    ) as depot:
        central = depot.adapter.ocpp
        assert central is not None
        points = {p.identity: p for p in depot.site.charge_points["depot"]}
        await wait_for(lambda: central.state("depot-cp2").booted, 20, "cp2 booted over wss")
        await wait_for(lambda: points["depot-cp1"].last_error is not None, 10, "cp1 refused")
        await asyncio.sleep(1.0)  # it keeps trying, and keeps being refused
        assert "401" in str(points["depot-cp1"].last_error)
        assert not central.state("depot-cp1").connected
        assert not points["depot-cp1"].booted.is_set()

        port = central.port
        assert port is not None
        clock = Clock(origin=datetime.now(UTC), start=START, speed=60.0)
        depot_building = depot_only().buildings[0]
        # with its password cp1 gets in; over plain ws, or trusting nothing, it does not
        links = {
            "right": OcppLink(f"wss://127.0.0.1:{port}", PASSWORDS, trust),
            "plain": OcppLink(f"ws://127.0.0.1:{port}", PASSWORDS),
            "untrusted": OcppLink(
                f"wss://127.0.0.1:{port}", PASSWORDS, ssl.create_default_context()
            ),
        }
        for name in ("plain", "untrusted"):
            cp1 = charge_points(depot_building, links[name], clock)[0]
            task = asyncio.create_task(cp1.run())
            await wait_for(lambda cp=cp1: cp.last_error is not None, 10, f"{name} refused")
            await cp1.stop()
            await task
            assert not central.state("depot-cp1").connected, name
        assert "SSL" in str(cp1.last_error) or "certificate" in str(cp1.last_error)
        await points["depot-cp1"].stop()  # the one with the wrong password
        cp1 = charge_points(depot_building, links["right"], clock)[0]
        task = asyncio.create_task(cp1.run())
        try:
            await wait_for(lambda: central.state("depot-cp1").booted, 20, "cp1 booted over wss")
            assert cp1.booted.is_set()
        finally:
            await cp1.stop()
            await task
    passwords = secrets["passwords"].read_text()
    logged = (tmp_path / "adapter" / "ocpp-sessions.jsonl").read_text()
    assert all(p not in logged for p in PASSWORDS.values())
    assert "guessed" not in logged
    assert passwords  # the secret file stays where it is, untouched


async def test_a_central_system_without_what_its_profile_needs_does_not_start(
    tmp_path: Path, secrets: dict[str, Path]
) -> None:
    charger = OcppDeviceConfig.model_validate(
        {"protocol": "ocpp", "id": "depot-cp1", "version": "1.6"}
    )
    clock = Clock(origin=datetime.now(UTC), start=START, speed=1.0)

    async def start(**settings: Any) -> str:
        central = CentralSystem(
            [charger], AdapterSettings(state_dir=tmp_path, ocpp_port=0, **settings), clock
        )
        with pytest.raises(OcppSetupError) as refused:
            await central.start()
        return str(refused.value)

    assert (await start()).splitlines() == [
        "POLIS_ADAPTER_OCPP_PASSWORDS_FILE: security profile 2 needs the chargers' "
        "basic-auth passwords",
        "POLIS_ADAPTER_OCPP_TLS_CERT: security profile 2 (TLS) needs it; "
        "POLIS_ADAPTER_OCPP_SECURITY_PROFILE=0 serves plain ws for loopback tests",
        "POLIS_ADAPTER_OCPP_TLS_KEY: security profile 2 (TLS) needs it; "
        "POLIS_ADAPTER_OCPP_SECURITY_PROFILE=0 serves plain ws for loopback tests",
    ]
    other = tmp_path / "other-passwords"
    other.write_text("depot-cp9:something\n")
    assert await start(ocpp_security_profile=1, ocpp_passwords_file=other) == (
        "POLIS_ADAPTER_OCPP_PASSWORDS_FILE: no password for depot-cp1"
    )
    assert "cannot load the TLS certificate" in await start(
        ocpp_tls_cert=secrets["passwords"],
        ocpp_tls_key=secrets["key"],
        ocpp_passwords_file=secrets["passwords"],
    )

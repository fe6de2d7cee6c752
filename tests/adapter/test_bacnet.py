from __future__ import annotations

import asyncio

import pytest

from adapter.fake_bacnet import FakeBacnetDevice
from polis.adapter.bacnet.client import BacnetClient
from polis.adapter.bacnet.discovery import discover_device
from polis.adapter.bacnet.driver import BacnetDriver
from polis.adapter.config import parse_config
from polis.common.catalogue.devices import BacnetDeviceConfig
from polis.common.catalogue.units import Quantity, to_canonical

pytestmark = pytest.mark.integration


def config(device: FakeBacnetDevice) -> BacnetDeviceConfig:
    return BacnetDeviceConfig.model_validate(
        {
            "protocol": "bacnet",
            "id": "bms",
            "device_instance": device.instance,
            "address": device.address,
            "timeout_s": 2.0,
            "points": [
                {
                    "id": "zone-temp",
                    "object": "analog-input,1",
                    "quantity": "temperature",
                    "unit": "degF",
                },
                {
                    "id": "zone-setpoint",
                    "object": "analog-value,1",
                    "quantity": "setpoint",
                    "unit": "degC",
                    "kind": "command",
                    "write": {"min": 16, "max": 26},
                },
            ],
        }
    )


async def test_poll_with_read_property_multiple(
    bacnet_device: FakeBacnetDevice, bacnet_client: BacnetClient
) -> None:
    driver = BacnetDriver(config(bacnet_device), bacnet_client)
    values = await driver.scrape(driver.groups()[0])
    assert values == {"zone-temp": 21.5, "zone-setpoint": 20.0}
    assert driver.use_rpm


async def test_falls_back_to_read_property_when_rpm_is_refused(
    bacnet_device: FakeBacnetDevice, bacnet_client: BacnetClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from polis.adapter.bacnet import client as client_module

    async def refuse(*_args: object, **_kw: object) -> object:
        raise client_module.BacnetError("reject: unrecognized-service", "reject")

    monkeypatch.setattr(bacnet_client, "read_multiple", refuse)
    driver = BacnetDriver(config(bacnet_device), bacnet_client)
    values = await driver.scrape(driver.groups()[0])
    assert values == {"zone-temp": 21.5, "zone-setpoint": 20.0}
    assert not driver.use_rpm


async def test_segmentation_error_shrinks_requests(
    bacnet_device: FakeBacnetDevice, bacnet_client: BacnetClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from polis.adapter.bacnet import client as client_module

    real = bacnet_client.read_multiple
    sizes: list[int] = []

    async def limited(
        address: str, requests: list[tuple[str, list[str]]], timeout_s: float
    ) -> object:
        count = sum(len(props) for _, props in requests)
        sizes.append(count)
        if count > 1:
            raise client_module.BacnetError("abort: segmentation-not-supported", "segmentation")
        return await real(address, requests, timeout_s)

    monkeypatch.setattr(bacnet_client, "read_multiple", limited)
    driver = BacnetDriver(config(bacnet_device), bacnet_client)
    values = await driver.scrape(driver.groups()[0])
    assert values == {"zone-temp": 21.5, "zone-setpoint": 20.0}
    assert driver.chunk == 1
    assert sizes[0] == 2


async def test_write_read_back_override_and_relinquish(
    bacnet_device: FakeBacnetDevice, bacnet_client: BacnetClient
) -> None:
    driver = BacnetDriver(config(bacnet_device), bacnet_client)
    await driver.write("zone-setpoint", 22.0, 13)
    state = await driver.read_command("zone-setpoint")
    assert (state.present_value, state.active_priority) == (22.0, 13)
    # an operator overrides at priority 8 on the device itself
    await bacnet_client.write(bacnet_device.address, "analog-value,1", 18.0, 8, 2.0)
    state = await driver.read_command("zone-setpoint")
    assert (state.present_value, state.active_priority) == (18.0, 8)
    await bacnet_client.write(bacnet_device.address, "analog-value,1", None, 8, 2.0)
    await driver.relinquish("zone-setpoint", 13)
    state = await driver.read_command("zone-setpoint")
    assert (state.present_value, state.active_priority) == (20.0, 0)


async def test_discovery_drafts_a_valid_point_list(
    bacnet_device: FakeBacnetDevice, bacnet_client: BacnetClient
) -> None:
    draft = await discover_device(bacnet_client, bacnet_device.address, bacnet_device.instance, 2.0)
    assert draft["device_instance"] == bacnet_device.instance
    by_id = {p["id"]: p for p in draft["points"]}
    assert by_id["zone-temp"]["unit"] == "degF"
    assert by_id["zone-temp"]["description"] == "Zone air temperature"
    assert by_id["zone-setpoint"]["kind"] == "command"
    # once the facility manager fills in the write limits, the draft is valid configuration
    by_id["zone-setpoint"]["write"] = {"min": 16, "max": 26}
    site = parse_config(
        {
            "municipality": "larissa",
            "buildings": [
                {"id": "school", "neighbourhood": "kentro", "devices": [{**draft, "id": "bms"}]}
            ],
        }
    )
    assert len(site.buildings[0].devices[0].all_points()) == 2
    assert to_canonical(21.5, "degF", Quantity.TEMPERATURE)[0] == pytest.approx(-5.8333, abs=1e-3)


async def test_cov_subscription_delivers_changes(
    bacnet_device: FakeBacnetDevice, bacnet_client: BacnetClient
) -> None:
    cfg = config(bacnet_device).model_copy(
        update={"points": (config(bacnet_device).points[0].model_copy(update={"cov": True}),)}
    )
    driver = BacnetDriver(cfg, bacnet_client)
    changes: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
    watcher = asyncio.create_task(driver.watch(lambda k, v: changes.put_nowait((k, v))))
    try:
        first = await asyncio.wait_for(changes.get(), 10)  # initial notification
        assert first == ("zone-temp", 21.5)
        bacnet_device.temperature.presentValue = 25.0
        while (change := await asyncio.wait_for(changes.get(), 10)) != ("zone-temp", 25.0):
            assert change[0] == "zone-temp"
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapter.fake_bacnet import FakeBacnetDevice, free_udp_port
from adapter.fake_modbus import FakeModbusServer
from polis.adapter.bacnet.client import BacnetClient


@pytest.fixture
async def modbus_server() -> AsyncIterator[FakeModbusServer]:
    server = FakeModbusServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bacnet_device() -> AsyncIterator[FakeBacnetDevice]:
    device = FakeBacnetDevice()
    yield device
    device.close()


@pytest.fixture
async def bacnet_client() -> AsyncIterator[BacnetClient]:
    client = BacnetClient(f"127.0.0.1:{free_udp_port()}")
    client.start()
    yield client
    client.close()

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapter.fake_modbus import FakeModbusServer


@pytest.fixture
async def modbus_server() -> AsyncIterator[FakeModbusServer]:
    server = FakeModbusServer()
    await server.start()
    yield server
    await server.stop()

"""The owner of a Modbus bus, against a fake transport: one request at a time, in order,
with the line's silent interval, each unit's own timeout, and a dead unit told apart."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.pdu import ExceptionResponse

from polis.adapter.driver import PartialScrape
from polis.adapter.modbus.client import ModbusBus, ModbusError, ModbusExceptionReply
from polis.adapter.modbus.driver import ModbusDriver
from polis.common.catalogue.devices import ModbusDeviceConfig
from polis.common.catalogue.modbus_profiles import RegisterType

pytestmark = pytest.mark.unit


class FakeLine:
    """Stands in for a pymodbus client: answers each unit with its own id after a few turns
    of the event loop, and records every request and how many were on the line at once."""

    def __init__(self, *, silent: frozenset[int] = frozenset(), refusing: int | None = None):
        self.connected = True
        self.ctx = SimpleNamespace(comm_params=SimpleNamespace(timeout_connect=1.0))
        self.silent = silent
        self.refusing = refusing  # exception code every unit answers with
        self.in_flight = 0
        self.most_in_flight = 0
        self.started: list[tuple[int, float]] = []  # (unit, loop time)
        self.ended: list[float] = []
        self.timeouts: list[float] = []
        self.closed = 0

    async def connect(self) -> bool:
        self.connected = True
        return True

    def close(self) -> None:
        self.closed += 1
        self.connected = False

    async def _answer(self, function_code: int, count: int, device_id: int) -> Any:
        loop = asyncio.get_running_loop()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.started.append((device_id, loop.time()))
        self.timeouts.append(self.ctx.comm_params.timeout_connect)
        try:
            for _ in range(3):
                await asyncio.sleep(0)  # give every other caller the chance to cut in
            if device_id in self.silent:
                raise ModbusIOException("No response received after 0 retries")
            if self.refusing is not None:
                return ExceptionResponse(function_code, self.refusing, device_id=device_id)
            return SimpleNamespace(registers=[device_id] * count, isError=lambda: False)
        finally:
            self.in_flight -= 1
            self.ended.append(loop.time())

    async def read_holding_registers(self, address: int, *, count: int, device_id: int) -> Any:
        return await self._answer(3, count, device_id)

    async def read_input_registers(self, address: int, *, count: int, device_id: int) -> Any:
        return await self._answer(4, count, device_id)

    async def write_registers(self, address: int, values: list[int], *, device_id: int) -> Any:
        return await self._answer(16, len(values), device_id)


def bus_on(line: FakeLine, **kw: Any) -> ModbusBus:
    return ModbusBus("/dev/ttyUSB0", cast(Any, line), **kw)


async def test_requests_of_many_units_never_overlap_and_keep_their_order() -> None:
    line = FakeLine()
    bus = bus_on(line)
    asked = [unit for _ in range(6) for unit in (1, 2, 3, 4, 5)]
    replies = await asyncio.gather(
        *(
            bus.read(RegisterType.INPUT, 0, 2, unit) if i % 2 else bus.write(0, [1, 2], unit)
            for i, unit in enumerate(asked)
        )
    )
    assert line.most_in_flight == 1
    assert [unit for unit, _ in line.started] == asked  # first asked, first on the line
    for i, unit in enumerate(asked):
        if i % 2:
            assert replies[i] == [unit, unit]  # every answer reached the unit's own caller


async def test_the_line_is_silent_between_frames() -> None:
    line = FakeLine()
    bus = bus_on(line, inter_frame_s=0.01)
    await asyncio.gather(*(bus.read(RegisterType.HOLDING, 0, 1, unit) for unit in (1, 2, 3, 1)))
    starts = [t for _, t in line.started]
    gaps = [start - end for end, start in zip(line.ended, starts[1:], strict=False)]
    assert len(gaps) == 3
    assert min(gaps) >= 0.01 - 0.001


async def test_each_unit_waits_its_own_timeout() -> None:
    line = FakeLine()
    bus = bus_on(line)
    await bus.read(RegisterType.HOLDING, 0, 1, 1, timeout_s=0.3)
    await bus.read(RegisterType.HOLDING, 0, 1, 2, timeout_s=1.5)
    await bus.read(RegisterType.HOLDING, 0, 1, 1, timeout_s=0.3)
    assert line.timeouts == [0.3, 1.5, 0.3]


async def test_a_silent_unit_leaves_a_serial_line_open_and_the_others_answering() -> None:
    line = FakeLine(silent=frozenset({9}))
    bus = bus_on(line, keep_open=True)
    with pytest.raises(ModbusError) as caught:
        await bus.read(RegisterType.HOLDING, 0, 1, 9)
    assert not isinstance(caught.value, ModbusExceptionReply)
    assert "unit 9" in str(caught.value)
    assert line.closed == 0
    assert await bus.read(RegisterType.HOLDING, 0, 1, 2) == [2]


async def test_a_tcp_connection_is_closed_after_a_failure() -> None:
    line = FakeLine(silent=frozenset({9}))
    bus = bus_on(line)
    with pytest.raises(ModbusError):
        await bus.read(RegisterType.HOLDING, 0, 1, 9)
    assert line.closed == 1
    assert await bus.read(RegisterType.HOLDING, 0, 1, 2) == [2]  # reconnects on demand


async def test_a_lost_line_is_closed_even_when_kept_open_through_silence() -> None:
    line = FakeLine()
    bus = bus_on(line, keep_open=True)

    async def unplugged(address: int, *, count: int, device_id: int) -> Any:
        raise ConnectionException("/dev/ttyUSB0 went away")

    line.read_holding_registers = unplugged  # type: ignore[method-assign]
    with pytest.raises(ModbusError):
        await bus.read(RegisterType.HOLDING, 0, 1, 1)
    assert line.closed == 1


async def test_a_gateway_that_cannot_reach_the_unit_is_told_apart() -> None:
    bus = bus_on(FakeLine(refusing=0x0B))
    with pytest.raises(ModbusExceptionReply) as caught:
        await bus.read(RegisterType.HOLDING, 0, 1, 9)
    assert caught.value.unreachable
    assert "0x0B" in str(caught.value)
    refused = bus_on(FakeLine(refusing=0x02))
    with pytest.raises(ModbusExceptionReply) as other:
        await refused.read(RegisterType.HOLDING, 0, 1, 1)
    assert not other.value.unreachable
    assert str(other.value) == "exception 0x02 (illegal data address)"


async def test_an_unreachable_unit_spoils_the_rest_of_its_round_at_once() -> None:
    line = FakeLine(refusing=0x0B)
    device = ModbusDeviceConfig.model_validate(
        {
            "protocol": "modbus",
            "id": "dead-meter",
            "transport": "rtu_over_tcp",
            "host": "192.0.2.7",
            "unit_id": 9,
            "profile": "eastron_sdm630",  # three blocks
            "retries": 2,
        }
    )
    driver = ModbusDriver(device, bus_on(line), backoff_base_s=0.0)
    with pytest.raises(PartialScrape) as caught:
        await driver.scrape(driver.groups()[0])
    assert (caught.value.timeout, caught.value.reason) == (True, "gateway")
    assert set(caught.value.values.values()) == {None}
    assert len(line.started) == 1  # no retry, no further block: the gateway already waited

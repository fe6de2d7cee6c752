"""The only module that imports pymodbus: one owner per Modbus bus.

A bus is a Modbus TCP endpoint (a meter, or a gateway with unit ids behind it), an
RTU-over-TCP gateway (RTU frames, CRC included, inside a TCP stream), or a serial port with
an RTU line. Every unit on a bus shares its one connection, and the owner sends one request
at a time, in order of arrival: a gateway in front of RS-485 answers one request at a time
anyway, and on a serial line a second request before the answer would collide on the wire.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType
from pymodbus.pdu import ExceptionResponse, ModbusPDU

from polis.common.catalogue.devices import ModbusDeviceConfig
from polis.common.catalogue.modbus_profiles import RegisterType

# a gateway's own verdict that the unit behind it cannot be reached: 0x0A no path to the
# target, 0x0B the target did not respond; as good as a unit that does not answer
GATEWAY_EXCEPTIONS = {0x0A: "gateway path unavailable", 0x0B: "gateway target failed to respond"}
_EXCEPTION_NAMES = {
    0x01: "illegal function",
    0x02: "illegal data address",
    0x03: "illegal data value",
    0x04: "server device failure",
    0x05: "acknowledge",
    0x06: "server device busy",
    **GATEWAY_EXCEPTIONS,
}


class ModbusError(Exception):
    """A request failed: no connection, timeout, or an exception reply."""


@dataclass(frozen=True)
class ModbusExceptionReply(ModbusError):
    """The device answered with a Modbus exception code (e.g. 2 illegal data address)."""

    code: int

    @property
    def unreachable(self) -> bool:
        """A gateway answered for a unit it could not reach (0x0A, 0x0B)."""
        return self.code in GATEWAY_EXCEPTIONS

    def __str__(self) -> str:
        name = _EXCEPTION_NAMES.get(self.code)
        return f"exception 0x{self.code:02X}" + (f" ({name})" if name else "")


def _reraise_cancellation() -> None:
    """pymodbus turns a cancelled request into a connection error; keep it a cancellation."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


_FAILURES = (TimeoutError, ConnectionException, ModbusException, OSError)


class ModbusBus:
    """One bus and its single owner: requests of every unit id go one at a time.

    ``inter_frame_s`` is the silence kept on the line before each request (RTU's t3.5, or
    longer for slow devices). ``keep_open`` keeps the connection through a unit's silence,
    as on a serial port, where a dead unit says nothing about the line; a TCP connection is
    closed after any failure and opened again by the next request, which also drops a late
    answer still on its way.
    """

    def __init__(
        self,
        name: str,
        client: ModbusBaseClient,
        *,
        inter_frame_s: float = 0.0,
        keep_open: bool = False,
    ) -> None:
        self.name = name
        self._client = client
        self._lock = asyncio.Lock()  # FIFO: units take turns in the order they asked
        self._inter_frame_s = inter_frame_s
        self._keep_open = keep_open
        self._quiet_at = 0.0  # loop time from which the line has been silent long enough

    async def _ensure_connected(self) -> None:
        if not self._client.connected and not await self._client.connect():
            raise ModbusError(f"cannot connect to {self.name}")

    def _use_timeout(self, timeout_s: float | None) -> None:
        # units on one bus may wait differently long; pymodbus reads it per request
        params = self._client.ctx.comm_params
        if timeout_s is not None and params.timeout_connect != timeout_s:
            params.timeout_connect = timeout_s

    async def _request(
        self,
        unit_id: int,
        timeout_s: float | None,
        send: Callable[[], Awaitable[ModbusPDU]],
    ) -> ModbusPDU:
        async with self._lock:
            await self._ensure_connected()
            if self._inter_frame_s:
                loop = asyncio.get_running_loop()
                wait = self._quiet_at - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            self._use_timeout(timeout_s)
            try:
                reply = await send()
            except _FAILURES as err:
                # pymodbus reports a unit's silence as an I/O error with the line still good
                if not (self._keep_open and isinstance(err, ModbusIOException)):
                    self._client.close()
                _reraise_cancellation()
                raise ModbusError(f"{self.name} unit {unit_id}: {err}") from err
            finally:
                if self._inter_frame_s:
                    self._quiet_at = asyncio.get_running_loop().time() + self._inter_frame_s
        if isinstance(reply, ExceptionResponse) or reply.isError():
            raise ModbusExceptionReply(int(getattr(reply, "exception_code", 0)))
        return reply

    async def read(
        self,
        register_type: RegisterType,
        address: int,
        count: int,
        unit_id: int,
        timeout_s: float | None = None,
    ) -> Sequence[int]:
        client = self._client
        read = (
            client.read_input_registers
            if register_type is RegisterType.INPUT
            else client.read_holding_registers
        )
        reply = await self._request(
            unit_id, timeout_s, lambda: read(address, count=count, device_id=unit_id)
        )
        registers = reply.registers
        if len(registers) != count:
            # a late answer to an earlier request (RTU frames carry no transaction id)
            raise ModbusError(
                f"{self.name} unit {unit_id}: {len(registers)} registers for {count} asked"
            )
        return registers

    async def write(
        self, address: int, values: Sequence[int], unit_id: int, timeout_s: float | None = None
    ) -> None:
        words = list(values)
        await self._request(
            unit_id,
            timeout_s,
            lambda: self._client.write_registers(address, words, device_id=unit_id),
        )

    def close(self) -> None:
        self._client.close()


def tcp_bus(host: str, port: int, timeout_s: float, *, rtu_framing: bool = False) -> ModbusBus:
    client = AsyncModbusTcpClient(
        host,
        port=port,
        framer=FramerType.RTU if rtu_framing else FramerType.SOCKET,
        timeout=timeout_s,
        retries=0,
        reconnect_delay=0,
    )
    return ModbusBus(f"{host}:{port}", client)


def serial_bus(device: ModbusDeviceConfig) -> ModbusBus:
    line = device.serial
    if line is None:
        raise ValueError(f"{device.id}: transport rtu without a serial line")
    client = AsyncModbusSerialClient(
        line.port,
        framer=FramerType.RTU,
        baudrate=line.baudrate,
        bytesize=line.bytesize,
        parity=line.parity,
        stopbits=line.stopbits,
        timeout=device.timeout_s,
        retries=0,
        reconnect_delay=0,
    )
    return ModbusBus(line.port, client, inter_frame_s=line.inter_frame_s, keep_open=True)


class EndpointPool:
    """One :class:`ModbusBus` per bus, shared by the unit ids on it."""

    def __init__(self) -> None:
        self._buses: dict[str, ModbusBus] = {}

    def get(self, host: str, port: int, timeout_s: float) -> ModbusBus:
        """The Modbus TCP endpoint at ``host:port``."""
        key = f"{host}:{port}"
        if key not in self._buses:
            self._buses[key] = tcp_bus(host, port, timeout_s)
        return self._buses[key]

    def for_device(self, device: ModbusDeviceConfig) -> ModbusBus:
        """The bus ``device`` is on, by its transport (the catalogue keeps one per bus)."""
        key = device.bus()
        if key not in self._buses:
            if device.transport == "rtu":
                self._buses[key] = serial_bus(device)
            else:
                assert device.host is not None  # the catalogue asks TCP transports for one
                self._buses[key] = tcp_bus(
                    device.host,
                    device.port,
                    device.timeout_s,
                    rtu_framing=device.transport == "rtu_over_tcp",
                )
        return self._buses[key]

    def close(self) -> None:
        for bus in self._buses.values():
            bus.close()
        self._buses.clear()

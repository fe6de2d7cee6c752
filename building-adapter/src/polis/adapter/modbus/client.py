"""The only module that imports pymodbus: one owner per Modbus bus.

A bus is a Modbus TCP endpoint (a meter, or a gateway with unit ids behind it), an
RTU-over-TCP gateway (RTU frames, CRC included, inside a TCP stream), or a serial port with
an RTU line. Every unit on a bus shares its one connection, and the owner sends one request
at a time, in order of arrival: a gateway in front of RS-485 answers one request at a time
anyway, and on a serial line a second request before the answer would collide on the wire.

Plain Modbus TCP goes through the adapter's own :class:`TcpClient`, which only frames
requests and matches replies: a poll's requests cost a fraction of the CPU they cost through
pymodbus' client. RTU frames, inside TCP or on a serial line, go through pymodbus.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import ReadHoldingRegistersResponse, ReadInputRegistersResponse

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
        client: ModbusBaseClient | TcpClient,
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

    async def _wait_for_turn(self) -> None:
        """Connect if need be, and keep the line's silent interval (holding the lock)."""
        await self._ensure_connected()
        if self._inter_frame_s:
            wait = self._quiet_at - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)

    def _failed(self, unit_id: int, err: BaseException) -> ModbusError:
        # pymodbus reports a unit's silence as an I/O error with the line still good
        if not (self._keep_open and isinstance(err, ModbusIOException)):
            self._client.close()
        _reraise_cancellation()
        return ModbusError(f"{self.name} unit {unit_id}: {err}")

    async def _request(
        self,
        unit_id: int,
        timeout_s: float | None,
        send: Callable[..., Awaitable[ModbusPDU | TcpReply]],
        *args: Any,
        **kwargs: Any,
    ) -> ModbusPDU | TcpReply:
        """``send(*args, device_id=unit_id, **kwargs)`` in the bus's turn; the arguments are
        passed on, not closed over: a request per point block is the adapter's hot path."""
        async with self._lock:
            if self._inter_frame_s or not self._client.connected:
                await self._wait_for_turn()
            self._use_timeout(timeout_s)
            try:
                reply = await send(*args, device_id=unit_id, **kwargs)
            except _FAILURES as err:
                raise self._failed(unit_id, err) from err
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
        payload = await self.read_bytes(register_type, address, count, unit_id, timeout_s)
        return list(struct.unpack(f">{count}H", payload))

    async def read_bytes(
        self,
        register_type: RegisterType,
        address: int,
        count: int,
        unit_id: int,
        timeout_s: float | None = None,
    ) -> bytes:
        """The ``count`` registers from ``address`` as they came: big-endian words."""
        client = self._client
        read = (
            client.read_input_registers
            if register_type is RegisterType.INPUT
            else client.read_holding_registers
        )
        reply = await self._request(unit_id, timeout_s, read, address, count=count)
        payload = getattr(reply, "payload", None)
        if payload is None:  # a client without the lean responses
            payload = struct.pack(f">{len(reply.registers)}H", *reply.registers)
        if len(payload) != 2 * count:
            # a late answer to an earlier request (RTU frames carry no transaction id)
            raise ModbusError(
                f"{self.name} unit {unit_id}: {len(payload) // 2} registers for {count} asked"
            )
        return payload

    async def write(
        self, address: int, values: Sequence[int], unit_id: int, timeout_s: float | None = None
    ) -> None:
        await self._request(unit_id, timeout_s, self._client.write_registers, address, list(values))

    def close(self) -> None:
        self._client.close()


# pymodbus' own logger; its debug lines are the only use of a response's text
_PYMODBUS_LOG = logging.getLogger("pymodbus.logging")


class _RegistersResponse(ModbusPDU):
    """A read-registers response that keeps its registers as the bytes they came in:
    pymodbus unpacks register by register, where the adapter decodes a whole block with
    one ``struct`` call. ``registers`` is unpacked only when asked for."""

    payload: bytes = b""
    _words: Sequence[int] | None = None

    @property
    def registers(self) -> Sequence[int]:
        if self._words is None:
            self._words = list(struct.unpack(f">{len(self.payload) // 2}H", self.payload))
        return self._words

    @registers.setter
    def registers(self, words: Sequence[int]) -> None:
        self._words = words

    def decode(self, data: bytes) -> None:
        byte_count = data[0]
        if byte_count >= len(data):
            raise ModbusIOException(
                f"byte_count {byte_count} > length of packet {len(data)}",
                function_code=self.function_code,
            )
        # whole registers only, as pymodbus reads them
        self.payload = data[1 : 1 + byte_count // 2 * 2]
        self._words = None

    def __str__(self) -> str:
        # pymodbus formats every response it decodes for a debug line, whether its debug
        # log is on or not; the full text (every register) only when it is
        if _PYMODBUS_LOG.isEnabledFor(logging.DEBUG):
            return super().__str__()
        return f"{type(self).__name__}(dev_id={self.dev_id}, bytes={len(self.payload)})"


class _HoldingRegisters(_RegistersResponse, ReadHoldingRegistersResponse):
    pass


class _InputRegisters(_RegistersResponse, ReadInputRegistersResponse):
    pass


def _lean_responses(client: ModbusBaseClient) -> ModbusBaseClient:
    for response in (_HoldingRegisters, _InputRegisters):
        client.register(response)
    return client


# Modbus TCP frames: the MBAP header (transaction id, protocol 0, length of what follows,
# unit id), then the PDU
_MBAP = struct.Struct(">HHHB")
_READ_REQUEST = struct.Struct(">HHHBBHH")  # MBAP, function 3 or 4, address, count
_WRITE_REQUEST = struct.Struct(">HHHBBHHB")  # MBAP, function 16, address, count, byte count


class TcpReply:
    """A Modbus TCP reply as the bus reads it: the registers as the bytes they came in,
    or the exception code of an exception reply."""

    __slots__ = ("exception_code", "function_code", "payload")

    def __init__(self, function_code: int, payload: bytes = b"", exception_code: int = 0):
        self.function_code = function_code
        self.payload = payload
        self.exception_code = exception_code

    def isError(self) -> bool:  # pymodbus' name: the bus reads both kinds of reply
        return bool(self.function_code & 0x80)

    @property
    def registers(self) -> list[int]:
        return list(struct.unpack(f">{len(self.payload) // 2}H", self.payload))


def _parse_reply(function_code: int, pdu: bytes) -> TcpReply:
    """The reply to a request of ``function_code``; ModbusIOException if it is not one."""
    code = pdu[0]
    if code & 0x80:
        return TcpReply(code, exception_code=pdu[1] if len(pdu) > 1 else 0)
    if code != function_code:
        raise ModbusIOException(f"function {code} in the reply to function {function_code}")
    if code == 16:
        return TcpReply(code)
    byte_count = pdu[1] if len(pdu) > 1 else 0
    if len(pdu) < 2 + byte_count:
        raise ModbusIOException(f"byte_count {byte_count} > length of packet {len(pdu) - 1}")
    return TcpReply(code, pdu[2 : 2 + byte_count // 2 * 2])  # whole registers only


class _TcpLink(asyncio.Protocol):
    """One TCP connection: requests written, replies matched to them by transaction id."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._pending: dict[int, tuple[asyncio.Future[TcpReply], int, int]] = {}
        self._buffer = b""

    @property
    def open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(ConnectionException(f"connection lost: {exc or 'closed'}"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self._fail(ConnectionException("connection closed"))

    def _fail(self, error: Exception) -> None:
        pending, self._pending = self._pending, {}
        for future, _unit, _function in pending.values():
            if not future.done():
                future.set_exception(error)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        start, size = 0, len(buffer)
        while size - start >= 7:
            tid, protocol, length, unit = _MBAP.unpack_from(buffer, start)
            if protocol != 0 or length < 2:
                # not Modbus TCP: nothing after it can be trusted to be framed right
                self._buffer = b""
                self._fail(ModbusIOException(f"bad MBAP header {buffer[start : start + 7]!r}"))
                if self.transport is not None:
                    self.transport.close()
                return
            end = start + 6 + length
            if length == 2 and size - start == 9:
                end += 1  # an exception reply whose length leaves out its code (as pymodbus)
            if end > size:
                break
            self._answer(tid, unit, buffer[start + 7 : end])
            start = end
        self._buffer = buffer[start:]

    def _answer(self, tid: int, unit: int, pdu: bytes) -> None:
        waiting = self._pending.pop(tid, None)
        if waiting is None and tid == 0 and len(self._pending) == 1:
            # a device that answers with transaction id 0: the one request waiting, as
            # pymodbus takes it
            _, waiting = self._pending.popitem()
        if waiting is None:
            return  # a late answer to a request given up on
        future, asked, function_code = waiting
        if future.done():
            return
        if asked and unit != asked:
            future.set_exception(
                ModbusIOException(f"request uses device id={asked} but received {unit}")
            )
            return
        try:
            future.set_result(_parse_reply(function_code, pdu))
        except ModbusIOException as error:
            future.set_exception(error)

    async def request(
        self, frame: bytes, tid: int, unit: int, function_code: int, timeout_s: float
    ) -> TcpReply:
        if self.transport is None:
            raise ConnectionException("not connected")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[TcpReply] = loop.create_future()
        self._pending[tid] = (future, unit, function_code)
        self.transport.write(frame)
        timer = loop.call_later(timeout_s, self._expire, tid, timeout_s)
        try:
            return await future
        finally:
            timer.cancel()
            self._pending.pop(tid, None)

    def _expire(self, tid: int, timeout_s: float) -> None:
        waiting = self._pending.pop(tid, None)
        if waiting is not None and not waiting[0].done():
            waiting[0].set_exception(ModbusIOException(f"no response within {timeout_s} s"))


@dataclass
class _CommParams:
    timeout_connect: float


@dataclass
class _Context:
    comm_params: _CommParams


class TcpClient:
    """A Modbus TCP client for the polling path, with the parts of pymodbus' client the bus
    uses (``connect``, ``connected``, ``close``, the three requests, ``ctx.comm_params``).

    pymodbus builds a PDU object per request and per reply, waits through
    ``asyncio.wait_for`` and decodes through its framer: several times the CPU of framing
    the request and matching its reply, which is all this client does. The bus sends one
    request at a time, closes the connection after a failure and connects again on demand.
    """

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host = host
        self.port = port
        self.ctx = _Context(_CommParams(timeout_s))
        self._link: _TcpLink | None = None
        self._tid = 0

    @property
    def connected(self) -> bool:
        return self._link is not None and self._link.open

    async def connect(self) -> bool:
        """Open a new connection (closing any other); False when it cannot be opened."""
        self.close()
        loop = asyncio.get_running_loop()
        try:
            _transport, link = await asyncio.wait_for(
                loop.create_connection(_TcpLink, self.host, self.port),
                self.ctx.comm_params.timeout_connect,
            )
        except (OSError, TimeoutError):
            return False
        self._link = link
        return True

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def _next_tid(self) -> int:
        self._tid = self._tid % 0xFFFF + 1
        return self._tid

    def _send(self, frame: bytes, tid: int, unit: int, function_code: int) -> Awaitable[TcpReply]:
        link = self._link
        if link is None or not link.open:
            raise ConnectionException(f"not connected to {self.host}:{self.port}")
        return link.request(frame, tid, unit, function_code, self.ctx.comm_params.timeout_connect)

    def _read(self, function_code: int, address: int, count: int, unit: int) -> Awaitable[TcpReply]:
        tid = self._next_tid()
        frame = _READ_REQUEST.pack(tid, 0, 6, unit, function_code, address, count)
        return self._send(frame, tid, unit, function_code)

    def read_input_registers(
        self, address: int, *, count: int = 1, device_id: int = 1
    ) -> Awaitable[TcpReply]:
        return self._read(4, address, count, device_id)

    def read_holding_registers(
        self, address: int, *, count: int = 1, device_id: int = 1
    ) -> Awaitable[TcpReply]:
        return self._read(3, address, count, device_id)

    def write_registers(
        self, address: int, values: Sequence[int], *, device_id: int = 1
    ) -> Awaitable[TcpReply]:
        tid = self._next_tid()
        count = len(values)
        head = _WRITE_REQUEST.pack(tid, 0, 7 + 2 * count, device_id, 16, address, count, 2 * count)
        return self._send(head + struct.pack(f">{count}H", *values), tid, device_id, 16)


def tcp_bus(host: str, port: int, timeout_s: float, *, rtu_framing: bool = False) -> ModbusBus:
    if not rtu_framing:
        return ModbusBus(f"{host}:{port}", TcpClient(host, port, timeout_s))
    client = AsyncModbusTcpClient(
        host,
        port=port,
        framer=FramerType.RTU,
        timeout=timeout_s,
        retries=0,
        reconnect_delay=0,
    )
    return ModbusBus(f"{host}:{port}", _lean_responses(client))


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
    return ModbusBus(
        line.port, _lean_responses(client), inter_frame_s=line.inter_frame_s, keep_open=True
    )


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

"""The only module that imports pymodbus: one TCP connection per endpoint (host, port).

Several unit ids behind one gateway share the connection; requests on it are serialised by a
lock, as a Modbus TCP gateway in front of RS-485 answers one request at a time anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.pdu import ExceptionResponse

from polis.common.catalogue.modbus_profiles import RegisterType


class ModbusError(Exception):
    """A request failed: no connection, timeout, or an exception reply."""


@dataclass(frozen=True)
class ModbusExceptionReply(ModbusError):
    """The device answered with a Modbus exception code (e.g. 2 illegal data address)."""

    code: int

    def __str__(self) -> str:
        return f"exception code {self.code}"


def _reraise_cancellation() -> None:
    """pymodbus turns a cancelled request into a connection error; keep it a cancellation."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class ModbusEndpoint:
    """A TCP endpoint (a meter or a gateway) with its single connection."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host = host
        self.port = port
        self._client = AsyncModbusTcpClient(
            host, port=port, timeout=timeout_s, retries=0, reconnect_delay=0
        )
        self._lock = asyncio.Lock()

    async def _ensure_connected(self) -> None:
        if not self._client.connected and not await self._client.connect():
            raise ModbusError(f"cannot connect to {self.host}:{self.port}")

    async def read(
        self, register_type: RegisterType, address: int, count: int, unit_id: int
    ) -> Sequence[int]:
        async with self._lock:
            await self._ensure_connected()
            try:
                if register_type is RegisterType.INPUT:
                    reply = await self._client.read_input_registers(
                        address, count=count, device_id=unit_id
                    )
                else:
                    reply = await self._client.read_holding_registers(
                        address, count=count, device_id=unit_id
                    )
            except (TimeoutError, ConnectionException, ModbusException, OSError) as err:
                self._client.close()
                raise ModbusError(f"{self.host}:{self.port} unit {unit_id}: {err}") from err
        if isinstance(reply, ExceptionResponse) or reply.isError():
            raise ModbusExceptionReply(int(getattr(reply, "exception_code", 0)))
        return reply.registers

    async def write(self, address: int, values: Sequence[int], unit_id: int) -> None:
        async with self._lock:
            await self._ensure_connected()
            try:
                reply = await self._client.write_registers(address, list(values), device_id=unit_id)
            except (TimeoutError, ConnectionException, ModbusException, OSError) as err:
                self._client.close()
                raise ModbusError(f"{self.host}:{self.port} unit {unit_id}: {err}") from err
        if isinstance(reply, ExceptionResponse) or reply.isError():
            raise ModbusExceptionReply(int(getattr(reply, "exception_code", 0)))

    def close(self) -> None:
        self._client.close()


class EndpointPool:
    """One :class:`ModbusEndpoint` per (host, port), shared by the unit ids behind it."""

    def __init__(self) -> None:
        self._endpoints: dict[tuple[str, int], ModbusEndpoint] = {}

    def get(self, host: str, port: int, timeout_s: float) -> ModbusEndpoint:
        key = (host, port)
        if key not in self._endpoints:
            self._endpoints[key] = ModbusEndpoint(host, port, timeout_s)
        return self._endpoints[key]

    def close(self) -> None:
        for endpoint in self._endpoints.values():
            endpoint.close()
        self._endpoints.clear()

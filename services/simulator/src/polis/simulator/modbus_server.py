"""Modbus transport: serves meter register images with pymodbus (the only module that
imports pymodbus).

Each TCP endpoint (a port on 127.0.0.1) serves one or more unit ids — one for a meter with its
own Ethernet interface, several for a meter gateway — in Modbus TCP frames or, like a
transparent RTU-over-TCP gateway, in RTU frames. A serial endpoint serves its unit ids as
Modbus RTU on a serial line. Reads copy the meter's current register image into the server's
store, so a reply always reflects the latest simulated step.

A unit id nobody serves, or a meter that went dead (an injected fault), gets what it would
get in a building: a TCP endpoint answers exception 0x0B (gateway target device failed to
respond), a serial line stays silent.
"""

from __future__ import annotations

import logging
import termios
from dataclasses import dataclass, field
from typing import Literal

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simcore import SimCore

from polis.simulator.registers import RegisterMap

ABSENT_UNIT = "requested device id does not exist"


class _AbsentUnits(logging.Filter):
    """pymodbus logs an error, with a dump of the last frames, for every request to a unit it
    does not serve; here that is the answer by design (an absent or dead meter), not an
    error of the simulator."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(ABSENT_UNIT)


logging.getLogger("pymodbus.logging").addFilter(_AbsentUnits())


@dataclass
class MeterImage:
    """The register image of one meter, replaced after every simulated step."""

    regmap: RegisterMap
    words: list[int] = field(default_factory=list)
    answering: bool = True  # False: a dead meter (an injected fault), answered like an absent one

    def __post_init__(self) -> None:
        if not self.words:
            self.words = [0] * self.regmap.size

    async def on_access(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if values is not None:
            return ExcCodes.ILLEGAL_FUNCTION  # metering registers are read-only
        if function_code not in (3, 4):
            return ExcCodes.ILLEGAL_FUNCTION
        # the store starts at address 0 (``start_address``), like the image
        registers[start_address : start_address + len(self.words)] = self.words
        return None


class _Units(SimCore):
    """pymodbus' table of simulated units, refusing an id it does not hold the way pymodbus'
    request handler expects (``NoSuchIdException``): answered with 0x0B, or not at all with
    ``ignore_missing_devices``. Its own table falls back to unit 0, which Polis never serves,
    and answers 0x04 (device failure) with a traceback."""

    def __init__(self, devices: list[SimDevice], units: dict[int, MeterImage]) -> None:
        super().__init__(devices)
        self.units = units

    def _check(self, device_id: int) -> None:
        image = self.units.get(device_id)
        if device_id not in self.devices or image is None or not image.answering:
            raise NoSuchIdException(f"no unit {device_id} here")

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        self._check(device_id)
        return await super().async_getValues(device_id, func_code, address, count)

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: list[int] | list[bool]
    ) -> ExcCodes | None:
        self._check(device_id)
        return await super().async_setValues(device_id, func_code, address, values)


def _devices(units: dict[int, MeterImage]) -> list[SimDevice]:
    return [
        SimDevice(
            id=unit_id,
            simdata=[
                SimData(
                    address=0,
                    count=image.regmap.size,
                    values=0,
                    datatype=DataType.REGISTERS,
                    readonly=True,
                )
            ],
            action=image.on_access,
        )
        for unit_id, image in units.items()
    ]


class ModbusEndpoint:
    """One listening TCP port with its unit ids, in Modbus TCP (``socket``) or RTU frames."""

    def __init__(
        self,
        host: str,
        port: int,
        units: dict[int, MeterImage],
        framing: Literal["socket", "rtu"] = "socket",
    ) -> None:
        self.host = host
        self.requested_port = port
        self.units = units
        devices = _devices(units)
        self._server = ModbusTcpServer(
            devices,
            address=(host, port),
            framer=FramerType.RTU if framing == "rtu" else FramerType.SOCKET,
        )
        self._server.context = _Units(devices, units)

    @property
    def port(self) -> int:
        transport = self._server.transport
        sockets = getattr(transport, "sockets", None)
        if not sockets:
            raise RuntimeError("the Modbus endpoint is not listening")
        return int(sockets[0].getsockname()[1])

    async def start(self) -> None:
        try:
            await self._server.serve_forever(background=True)
        except RuntimeError as error:  # pymodbus's way of saying the bind failed
            raise OSError(f"Modbus TCP {self.host}:{self.requested_port}: {error}") from error

    async def stop(self) -> None:
        await self._server.shutdown()  # type: ignore[no-untyped-call]


class ModbusSerialEndpoint:
    """Unit ids on a serial line, served as Modbus RTU on the terminal device at ``path``."""

    def __init__(
        self,
        path: str,
        units: dict[int, MeterImage],
        *,
        baudrate: int,
        parity: str,
        stopbits: int,
    ) -> None:
        self.path = path
        self.units = units
        devices = _devices(units)
        self._server = ModbusSerialServer(
            devices,
            port=path,
            baudrate=baudrate,
            parity=parity,
            stopbits=stopbits,
            ignore_missing_devices=True,  # on RS-485 a unit that is not there says nothing
        )
        self._server.context = _Units(devices, units)

    async def start(self) -> None:
        try:
            await self._server.serve_forever(background=True)
        except (OSError, RuntimeError, termios.error) as error:  # pyserial, pymodbus, termios
            raise OSError(f"Modbus RTU {self.path}: {error}") from error

    async def stop(self) -> None:
        await self._server.shutdown()  # type: ignore[no-untyped-call]

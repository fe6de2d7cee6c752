"""Modbus TCP transport: serves meter register images with pymodbus (the only module that
imports pymodbus).

Each TCP endpoint (a port on 127.0.0.1) serves one or more unit ids — one for a meter with its
own Ethernet interface, several for a meter gateway. Reads copy the meter's current register
image into the server's store, so a reply always reflects the latest simulated step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from polis.simulator.registers import RegisterMap


@dataclass
class MeterImage:
    """The register image of one meter, replaced after every simulated step."""

    regmap: RegisterMap
    words: list[int] = field(default_factory=list)

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


class ModbusEndpoint:
    """One listening TCP port with its unit ids."""

    def __init__(self, host: str, port: int, units: dict[int, MeterImage]) -> None:
        self.host = host
        self.requested_port = port
        self.units = units
        devices = [
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
        self._server = ModbusTcpServer(devices, address=(host, port))

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

"""Where the simulated devices listen (pure, no I/O).

:func:`endpoint_layout` decides, for a municipality, which Modbus TCP endpoints exist (one
port per meter, or one port with unit ids 1..n behind a building's meter gateway) and which
BACnet/IP controller each building has. With a ``base_port`` the layout is fixed — Modbus
endpoint *k* on TCP ``base_port + k``, BACnet controller *j* on UDP ``base_port + j`` — so a
catalogue of the endpoints can be written before (or without) serving them. Without one,
every port is 0 and :class:`~polis.simulator.site.Site` picks free ports when it starts.

A gateway's meters may instead be served in RTU frames over TCP, or as Modbus RTU on a serial
line: a pseudo-terminal pair per bus, whose path is known once the site serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from polis.simulator.config import Building, MeterRole, ModbusProfile, MunicipalityConfig

MAX_PORT = 65535

ModbusTransport = Literal["tcp", "rtu_over_tcp", "rtu"]


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """How the simulator's serial lines run: 19200 baud, 8 data bits, no parity, 2 stop bits
    (8N2, the Modbus serial line's alternative to even parity, which pseudo-terminals refuse)."""

    baudrate: int = 19200
    parity: str = "N"
    stopbits: int = 2


SERIAL_LINE = SerialSettings()


def device_id(building: Building, role: MeterRole) -> str:
    """The Modbus meter's device id: ``<building>-<role>``."""
    return f"{building.id}-{role.value}"


def bacnet_device_name(building: Building) -> str:
    """The building controller's device id and BACnet object name: ``<building>-bms``."""
    return f"{building.id}-bms"


@dataclass(frozen=True, slots=True)
class MeterSpec:
    device: str
    building: str
    role: MeterRole
    profile: ModbusProfile
    unit_id: int


@dataclass(frozen=True, slots=True)
class ModbusEndpointSpec:
    """One bus serving one or more meters by unit id: a TCP port (Modbus TCP, or RTU frames
    over TCP), or a serial line (``rtu``)."""

    host: str
    port: int  # 0: a free port, chosen when the endpoint starts listening
    meters: tuple[MeterSpec, ...]
    transport: ModbusTransport = "tcp"
    serial_port: str | None = None  # rtu: the line's end a client opens, once serving

    @property
    def resolved(self) -> bool:
        return bool(self.serial_port) if self.transport == "rtu" else bool(self.port)


@dataclass(frozen=True, slots=True)
class ControllerSpec:
    """A building's BACnet/IP controller on its own UDP port."""

    building: str
    device: str
    instance: int
    host: str
    port: int  # 0: a free port, chosen when the controller starts

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Endpoints:
    modbus: tuple[ModbusEndpointSpec, ...]
    bacnet: tuple[ControllerSpec, ...]

    @property
    def resolved(self) -> bool:
        """Every port is known (a fixed layout, or endpoints already listening)."""
        return all(e.resolved for e in self.modbus) and all(c.port for c in self.bacnet)

    def meters_of(self, building: str) -> list[tuple[MeterSpec, ModbusEndpointSpec]]:
        return [(m, e) for e in self.modbus for m in e.meters if m.building == building]

    def controller_of(self, building: str) -> ControllerSpec:
        for controller in self.bacnet:
            if controller.building == building:
                return controller
        raise KeyError(building)


def _meter_groups(building: Building) -> list[tuple[MeterSpec, ...]]:
    if building.modbus_gateway:
        return [
            tuple(
                MeterSpec(device_id(building, m.role), building.id, m.role, m.profile, unit)
                for unit, m in enumerate(building.meters, start=1)
            )
        ]
    return [
        (MeterSpec(device_id(building, m.role), building.id, m.role, m.profile, 1),)
        for m in building.meters
    ]


def endpoint_layout(
    config: MunicipalityConfig,
    host: str = "127.0.0.1",
    base_port: int | None = None,
    gateway_transport: ModbusTransport = "tcp",
) -> Endpoints:
    """The endpoints of ``config`` on ``host``: fixed from ``base_port``, else free (0). The
    meters behind a building's gateway are served by ``gateway_transport``."""
    groups = [g for b in config.buildings for g in _meter_groups(b)]
    gateways = {b.id for b in config.buildings if b.modbus_gateway}
    if base_port is not None:
        last = base_port + max(len(groups), len(config.buildings)) - 1
        if base_port < 1 or last > MAX_PORT:
            raise ValueError(
                f"base port {base_port}: the layout needs ports {base_port}..{last}, "
                f"within 1..{MAX_PORT}"
            )

    def port(index: int) -> int:
        return 0 if base_port is None else base_port + index

    return Endpoints(
        modbus=tuple(
            ModbusEndpointSpec(
                host,
                port(k),
                g,
                gateway_transport if g[0].building in gateways else "tcp",
            )
            for k, g in enumerate(groups)
        ),
        bacnet=tuple(
            ControllerSpec(b.id, bacnet_device_name(b), b.bacnet_device_instance, host, port(j))
            for j, b in enumerate(config.buildings)
        ),
    )

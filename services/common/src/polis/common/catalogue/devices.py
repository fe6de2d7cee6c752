"""Devices and their points: what the building adapter reads and may write."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from polis.common.catalogue.bacnet_address import (
    IP_PORT_PATTERN,
    check_ip_address,
    normalise_mac,
    station,
)
from polis.common.catalogue.ids import ID_PATTERN
from polis.common.catalogue.modbus_profiles import ProfileError, RegisterSpec, load_profile
from polis.common.catalogue.points import PointKind
from polis.common.catalogue.units import Quantity, require_unit_of


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Model):
    """Plausible range in the point's canonical unit; values outside are flagged, not dropped."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class WriteLimits(_Model):
    """Bounds of a command point, in its canonical unit."""

    min: float
    max: float
    max_rate_per_min: float | None = Field(default=None, gt=0)
    default_duration_s: float = Field(default=3600.0, gt=0)
    restore_value: float | None = None  # Modbus: value written back on relinquish

    @model_validator(mode="after")
    def _ordered(self) -> WriteLimits:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class PointConfig(_Model):
    id: str = Field(pattern=ID_PATTERN)
    quantity: Quantity
    unit: str
    kind: PointKind = PointKind.INSTANTANEOUS
    poll_interval_s: float | None = Field(default=None, gt=0)
    brick_class: str | None = None
    description: str = ""
    range: Range | None = None
    stale_after_s: float | None = Field(default=None, gt=0)
    write: WriteLimits | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PointConfig:
        require_unit_of(self.unit, self.quantity)
        if self.kind is PointKind.COMMAND and self.write is None:
            raise ValueError("command points need write limits (write: {min, max})")
        if self.write is not None and self.kind is not PointKind.COMMAND:
            raise ValueError("write limits are only allowed on command points")
        return self


class ModbusPointConfig(PointConfig):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    register_name: str = Field(alias="register", pattern=r"^[a-z0-9_]+$")


class BacnetPointConfig(PointConfig):
    object: str = Field(pattern=r"^[a-z-]+,\d+$", description="e.g. analog-input,1")
    property: str = "present-value"
    cov: bool = False


ModbusTransport = Literal["tcp", "rtu_over_tcp", "rtu"]
TCP_TRANSPORTS: tuple[ModbusTransport, ...] = ("tcp", "rtu_over_tcp")
# the rates serial Modbus devices offer; anything else is almost surely a typing slip
Baudrate = Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]


class SerialLine(_Model):
    """The serial port of a Modbus RTU bus (RS-485, or RS-232 to a single device) and the line
    settings every device on it is configured with. Defaults: the Modbus serial line
    specification's 19200 baud, even parity, one stop bit."""

    port: str = Field(min_length=1, description="e.g. /dev/ttyUSB0, /dev/serial/by-id/...")
    baudrate: Baudrate = 19200
    parity: Literal["N", "E", "O"] = "E"
    stopbits: Literal[1, 2] = 1
    bytesize: int = 8
    # silence kept on the bus before each request; None: 3.5 character times (t3.5)
    inter_frame_ms: float | None = Field(default=None, ge=0, le=1000)

    @field_validator("bytesize")
    @classmethod
    def _eight_bits(cls, bytesize: int) -> int:
        if bytesize != 8:
            raise ValueError("Modbus RTU frames carry 8 data bits (7 is Modbus ASCII)")
        return bytesize

    @property
    def inter_frame_s(self) -> float:
        """The silent interval before a request: as configured, else 3.5 character times,
        and the specification's fixed 1.75 ms above 19200 baud."""
        if self.inter_frame_ms is not None:
            return self.inter_frame_ms / 1000
        if self.baudrate > 19200:
            return 0.00175
        bits = 1 + self.bytesize + (self.parity != "N") + self.stopbits  # start, data, parity, stop
        return 3.5 * bits / self.baudrate


def profile_point_id(register: str) -> str:
    """The id a profile register gets when a device lists no points of its own."""
    return register.replace("_", "-")


class ModbusDeviceConfig(_Model):
    """A Modbus unit: a meter on Modbus TCP, behind a gateway (``unit_id``), or on a serial
    RTU bus. Devices with the same serial port, or the same host and port, share one bus."""

    protocol: Literal["modbus"]
    id: str = Field(pattern=ID_PATTERN)
    # the fields after transport are checked against it (validators see earlier fields only)
    transport: ModbusTransport = "tcp"
    host: str | None = Field(default=None, validate_default=True)
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    serial: SerialLine | None = Field(default=None, validate_default=True)
    profile: str
    poll_interval_s: float = Field(default=10.0, gt=0)
    timeout_s: float = Field(default=2.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    max_gap: int = Field(default=16, ge=0, le=124)
    points: tuple[ModbusPointConfig, ...] | None = None  # None: every register of the profile

    @field_validator("host")
    @classmethod
    def _host_for_tcp(cls, host: str | None, info: ValidationInfo) -> str | None:
        transport = info.data.get("transport")
        if transport == "rtu" and host is not None:
            raise ValueError("not used by transport rtu: its bus is serial.port")
        if transport in TCP_TRANSPORTS and not host:
            raise ValueError(f"transport {transport} needs the host of the meter or gateway")
        return host

    @field_validator("port")
    @classmethod
    def _port_for_tcp(cls, port: int, info: ValidationInfo) -> int:
        # runs only when a port is written: the default 502 is harmless on a serial bus
        if info.data.get("transport") == "rtu":
            raise ValueError("not used by transport rtu: its bus is serial.port")
        return port

    @field_validator("unit_id")
    @classmethod
    def _unit_on_a_serial_bus(cls, unit_id: int, info: ValidationInfo) -> int:
        # on a serial line 0 is broadcast (nobody answers) and 248..255 are reserved
        if info.data.get("transport") in ("rtu", "rtu_over_tcp") and not 1 <= unit_id <= 247:
            raise ValueError("a unit on a serial bus has an address in 1..247; 0 is broadcast")
        return unit_id

    @field_validator("serial")
    @classmethod
    def _serial_for_rtu(cls, serial: SerialLine | None, info: ValidationInfo) -> SerialLine | None:
        transport = info.data.get("transport")
        if transport == "rtu" and serial is None:
            raise ValueError("transport rtu needs serial: {port, baudrate, parity, stopbits}")
        if transport in TCP_TRANSPORTS and serial is not None:
            raise ValueError(f"only for transport rtu; transport {transport} uses host and port")
        return serial

    def bus(self) -> str:
        """Where the unit is reached; units with the same bus share one line (and one owner)."""
        if self.serial is not None:
            return self.serial.port
        return f"{self.host}:{self.port}"

    @model_validator(mode="after")
    def _known_profile_and_registers(self) -> ModbusDeviceConfig:
        try:
            profile = load_profile(self.profile)
        except ProfileError as error:
            raise ValueError(str(error)) from None
        for point in self.points or ():
            try:
                profile.register(point.register_name)
            except KeyError:
                names = [r.name for r in profile.registers]
                raise ValueError(
                    f"point {point.id!r}: register {point.register_name!r} is not in profile "
                    f"{self.profile} (has {names})"
                ) from None
        return self

    def resolved_points(self) -> list[tuple[ModbusPointConfig, RegisterSpec]]:
        profile = load_profile(self.profile)
        if self.points is None:
            return [
                (
                    ModbusPointConfig.model_validate(
                        {
                            "id": profile_point_id(spec.name),
                            "register": spec.name,
                            "quantity": spec.quantity,
                            "unit": spec.unit,
                            "kind": spec.kind,
                        }
                    ),
                    spec,
                )
                for spec in profile.registers
                if not spec.writable
            ]
        return [(point, profile.register(point.register_name)) for point in self.points]

    def all_points(self) -> list[PointConfig]:
        return [point for point, _ in self.resolved_points()]


class BacnetDeviceConfig(_Model):
    """A BACnet device: at ``address`` on a BACnet/IP network, or behind the BACnet router at
    ``address`` as station ``mac`` of network ``network`` (see :mod:`.bacnet_address`)."""

    protocol: Literal["bacnet"]
    id: str = Field(pattern=ID_PATTERN)
    device_instance: int = Field(ge=0, le=4194302)
    address: str = Field(pattern=IP_PORT_PATTERN)
    # 0 means "the local network" and 65535 "every network": neither names a remote one
    network: int | None = Field(default=None, ge=1, le=65534)
    mac: str | None = None  # written as a number (MS/TP) or a string
    poll_interval_s: float = Field(default=30.0, gt=0)
    timeout_s: float = Field(default=3.0, gt=0)
    # 80 present values fit one unsegmented BACnet/IP APDU (1476 bytes); a device that
    # cannot answer that much aborts and the driver halves the request until it can
    max_properties_per_request: int = Field(default=80, ge=1, le=500)
    cov_lifetime_s: int = Field(default=300, ge=10)
    points: tuple[BacnetPointConfig, ...] = ()

    @field_validator("address", mode="before")
    @classmethod
    def _address_mistakes(cls, value: object) -> object:
        return check_ip_address(value)

    @field_validator("mac", mode="before")
    @classmethod
    def _mac_notation(cls, value: object) -> str | None:
        return None if value is None else normalise_mac(value)

    @model_validator(mode="after")
    def _routed_pair(self) -> BacnetDeviceConfig:
        if self.network is not None and self.mac is None:
            raise ValueError(f"network {self.network}: a routed device needs its mac too")
        if self.mac is not None and self.network is None:
            raise ValueError(
                f"mac {self.mac!r}: a mac is the address behind a BACnet router and needs "
                "the network number too"
            )
        return self

    @property
    def station(self) -> str:
        """Where requests go: ``ip:port``, or ``network:mac`` through the router at address."""
        return station(self.address, self.network, self.mac)

    def all_points(self) -> list[PointConfig]:
        return list(self.points)


class OcppVersion(StrEnum):
    V16 = "1.6"  # OCPP 1.6J
    V201 = "2.0.1"


class OcppLimitProfile(StrEnum):
    """Which charging profile carries the charging limit."""

    # ChargePointMaxProfile (1.6) / ChargingStationMaxProfile (2.0.1): the charger's total
    CHARGER_MAX = "charger_max"
    # TxDefaultProfile on every connector, the limit shared evenly: for chargers that do not
    # take a maximum profile from a central system
    TX_DEFAULT = "tx_default"


CHARGING_LIMIT_POINT = "charging-limit"
# OCPP charge point identities travel in the WebSocket URL (OCPP 2.0.1 part 4, identifierString)
OCPP_IDENTITY_PATTERN = r"^[A-Za-z0-9*_=:+|@.-]{1,48}$"


def connector_point_id(connector: int, what: str) -> str:
    """``connector-2-energy``: the id of one connector's point."""
    return f"connector-{connector}-{what}"


class OcppDeviceConfig(_Model):
    """An EV charger speaking OCPP to the adapter's central system.

    Its points follow from its connectors (:meth:`all_points`); with ``charging_limit`` it
    also has the command point ``charging-limit`` (kW, the charger's total).
    """

    protocol: Literal["ocpp"]
    id: str = Field(pattern=ID_PATTERN)
    # the identity the charger is configured with (the last part of its URL); default: id
    identity: str | None = Field(default=None, pattern=OCPP_IDENTITY_PATTERN)
    version: OcppVersion
    connectors: int = Field(default=1, ge=1, le=32)
    # how often the latest values the charger reported are stored (wall seconds)
    poll_interval_s: float = Field(default=10.0, gt=0)
    limit_profile: OcppLimitProfile = OcppLimitProfile.CHARGER_MAX
    charging_limit: WriteLimits | None = None

    @model_validator(mode="after")
    def _limits_in_kw(self) -> OcppDeviceConfig:
        limits = self.charging_limit
        if limits is not None and limits.min < 0:
            raise ValueError(f"charging_limit.min must not be negative (got {limits.min})")
        if limits is not None and limits.restore_value is not None:
            raise ValueError("charging_limit takes no restore_value: relinquish clears the profile")
        return self

    @property
    def charge_point_identity(self) -> str:
        return self.identity or self.id

    def all_points(self) -> list[PointConfig]:
        points = []
        for n in range(1, self.connectors + 1):
            points += [
                PointConfig(
                    id=connector_point_id(n, "energy"),
                    quantity=Quantity.ACTIVE_ENERGY,
                    unit="kWh",
                    kind=PointKind.CUMULATIVE,
                    description=f"connector {n}: energy delivered (meter register)",
                ),
                PointConfig(
                    id=connector_point_id(n, "power"),
                    quantity=Quantity.ACTIVE_POWER,
                    unit="kW",
                    description=f"connector {n}: charging power",
                ),
                PointConfig(
                    id=connector_point_id(n, "session-energy"),
                    quantity=Quantity.ACTIVE_ENERGY,
                    unit="kWh",
                    description=f"connector {n}: energy of the session under way (0: none)",
                ),
                PointConfig(
                    id=connector_point_id(n, "status"),
                    quantity=Quantity.STATUS,
                    unit="1",
                    kind=PointKind.STATE,
                    description=f"connector {n}: status code (docs/adapter.md, OCPP chargers)",
                ),
            ]
        if self.charging_limit is not None:
            points.append(
                PointConfig(
                    id=CHARGING_LIMIT_POINT,
                    quantity=Quantity.SETPOINT,
                    unit="kW",
                    kind=PointKind.COMMAND,
                    description="the charger's total charging power limit",
                    write=self.charging_limit,
                )
            )
        return points


DeviceConfig = Annotated[
    ModbusDeviceConfig | BacnetDeviceConfig | OcppDeviceConfig, Field(discriminator="protocol")
]

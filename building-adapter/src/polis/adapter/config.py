"""Site configuration (YAML, validated by pydantic).

Every validation error names the file, the path inside it and what was expected, e.g.
``sites.yaml: buildings[2].devices[0].port: Input should be less than or equal to 65535``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from polis.adapter.modbus.profile import ProfileError, RegisterSpec, load_profile
from polis.adapter.model import PointKind
from polis.adapter.units import Quantity, UnitError, conversion
from polis.common.clock import Clock

_ID = r"^[a-z0-9][a-z0-9_.-]*$"


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
    id: str = Field(pattern=_ID)
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
        try:
            conversion(self.unit, self.quantity)
        except UnitError as error:
            raise ValueError(str(error)) from None
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


class ModbusDeviceConfig(_Model):
    protocol: Literal["modbus"]
    id: str = Field(pattern=_ID)
    host: str
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    profile: str
    poll_interval_s: float = Field(default=10.0, gt=0)
    timeout_s: float = Field(default=2.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    max_gap: int = Field(default=16, ge=0, le=124)
    points: tuple[ModbusPointConfig, ...] | None = None  # None: every register of the profile

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
                            "id": spec.name.replace("_", "-"),
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


class BacnetDeviceConfig(_Model):
    protocol: Literal["bacnet"]
    id: str = Field(pattern=_ID)
    device_instance: int = Field(ge=0, le=4194302)
    address: str = Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?$")
    poll_interval_s: float = Field(default=30.0, gt=0)
    timeout_s: float = Field(default=3.0, gt=0)
    # 80 present values fit one unsegmented BACnet/IP APDU (1476 bytes); a device that
    # cannot answer that much aborts and the driver halves the request until it can
    max_properties_per_request: int = Field(default=80, ge=1, le=500)
    cov_lifetime_s: int = Field(default=300, ge=10)
    points: tuple[BacnetPointConfig, ...] = ()


DeviceConfig = Annotated[ModbusDeviceConfig | BacnetDeviceConfig, Field(discriminator="protocol")]


class BuildingConfig(_Model):
    id: str = Field(pattern=_ID)
    neighbourhood: str = Field(pattern=_ID)
    name: str = ""
    devices: tuple[DeviceConfig, ...] = ()


class AdapterSettings(_Model):
    """Runtime settings of the adapter process; every field has a safe default."""

    automation_priority: int = Field(default=13, ge=8, le=16)
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    metrics_port: int = Field(default=9161, ge=0, le=65535)
    bacnet_address: str = "127.0.0.1:47990"
    state_dir: Path = Path("var/adapter")
    batch_size: int = Field(default=5000, ge=1)
    flush_interval_s: float = Field(default=1.0, gt=0)
    buffer_max_readings: int = Field(default=5_000_000, ge=1000)
    buffer_warn_fraction: float = Field(default=0.8, gt=0, lt=1)


class ClockConfig(_Model):
    """The shared virtual clock (same fields as the simulator manifest's ``clock``)."""

    origin: datetime
    start: datetime
    speed: float = Field(default=1.0, gt=0)

    def build(self) -> Clock:
        return Clock(origin=self.origin, start=self.start, speed=self.speed)


class SiteConfig(_Model):
    municipality: str = Field(pattern=_ID)
    adapter: AdapterSettings = AdapterSettings()
    clock: ClockConfig | None = None
    buildings: tuple[BuildingConfig, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> SiteConfig:
        seen: set[str] = set()
        for ref in iter_points(self):
            if ref.point_id in seen:
                raise ValueError(f"duplicate point id {ref.point_id}")
            seen.add(ref.point_id)
        devices = [d.id for b in self.buildings for d in b.devices]
        dup = sorted({d for d in devices if devices.count(d) > 1})
        if dup:
            raise ValueError(f"duplicate device ids {dup}")
        return self


@dataclass(frozen=True, slots=True)
class PointRef:
    """A configured point with its place in the hierarchy."""

    point_id: str
    municipality: str
    neighbourhood: str
    building: str
    device: str
    point: PointConfig


def point_id(municipality: str, building: str, device: str, point: str) -> str:
    return f"{municipality}/{building}/{device}/{point}"


def iter_points(site: SiteConfig) -> Iterator[PointRef]:
    for building in site.buildings:
        for device in building.devices:
            points: list[PointConfig]
            if isinstance(device, ModbusDeviceConfig):
                points = [p for p, _ in device.resolved_points()]
            else:
                points = list(device.points)
            for p in points:
                yield PointRef(
                    point_id(site.municipality, building.id, device.id, p.id),
                    site.municipality,
                    building.neighbourhood,
                    building.id,
                    device.id,
                    p,
                )


class ConfigError(ValueError):
    """Invalid configuration; the message lists every problem as ``file: path: what``."""


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("modbus", "bacnet", "function-after") or part.startswith("function-"):
            continue  # discriminator tags and validator wrappers are not part of the YAML path
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def describe_errors(source: str, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        given = item.get("input")
        shown = (
            "" if isinstance(given, dict | list | tuple) or given is None else f" (got {given!r})"
        )
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{source}: {_path(tuple(item['loc']))}: {message}{shown}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "<config>") -> SiteConfig:
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(describe_errors(source, error)) from None


def load_config(path: Path | str) -> SiteConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    return parse_config(data, path.name)

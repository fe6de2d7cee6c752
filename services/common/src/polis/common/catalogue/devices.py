"""Devices and their points: what the building adapter reads and may write."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from polis.common.catalogue.ids import ID_PATTERN
from polis.common.catalogue.modbus_profiles import ProfileError, RegisterSpec, load_profile
from polis.common.catalogue.points import PointKind
from polis.common.catalogue.units import Quantity, UnitError, conversion


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


def profile_point_id(register: str) -> str:
    """The id a profile register gets when a device lists no points of its own."""
    return register.replace("_", "-")


class ModbusDeviceConfig(_Model):
    protocol: Literal["modbus"]
    id: str = Field(pattern=ID_PATTERN)
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
    protocol: Literal["bacnet"]
    id: str = Field(pattern=ID_PATTERN)
    device_instance: int = Field(ge=0, le=4194302)
    address: str = Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?$")
    poll_interval_s: float = Field(default=30.0, gt=0)
    timeout_s: float = Field(default=3.0, gt=0)
    # 80 present values fit one unsegmented BACnet/IP APDU (1476 bytes); a device that
    # cannot answer that much aborts and the driver halves the request until it can
    max_properties_per_request: int = Field(default=80, ge=1, le=500)
    cov_lifetime_s: int = Field(default=300, ge=10)
    points: tuple[BacnetPointConfig, ...] = ()

    def all_points(self) -> list[PointConfig]:
        return list(self.points)


DeviceConfig = Annotated[ModbusDeviceConfig | BacnetDeviceConfig, Field(discriminator="protocol")]

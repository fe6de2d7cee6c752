"""Device profiles: register maps of common meters, kept as YAML data files."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from polis.common.catalogue.points import PointKind
from polis.common.catalogue.units import Quantity, require_unit_of


class RegisterType(StrEnum):
    INPUT = "input"
    HOLDING = "holding"


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"


# struct format character and width in registers
DATA_TYPES: dict[DataType, tuple[str, int]] = {
    DataType.INT16: ("h", 1),
    DataType.UINT16: ("H", 1),
    DataType.INT32: ("i", 2),
    DataType.UINT32: ("I", 2),
    DataType.INT64: ("q", 4),
    DataType.UINT64: ("Q", 4),
    DataType.FLOAT32: ("f", 2),
    DataType.FLOAT64: ("d", 4),
}


class RegisterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    address: int = Field(ge=0, le=0xFFFF)
    register_type: RegisterType = RegisterType.HOLDING
    data_type: DataType = DataType.UINT16
    word_order: Literal["big", "little"] = "big"
    scale: float = 1.0
    unit: str
    quantity: Quantity
    kind: PointKind = PointKind.INSTANTANEOUS
    writable: bool = False

    @property
    def width(self) -> int:
        return DATA_TYPES[self.data_type][1]

    @model_validator(mode="after")
    def _unit_matches_quantity(self) -> RegisterSpec:
        require_unit_of(self.unit, self.quantity)
        if self.writable and self.register_type is not RegisterType.HOLDING:
            raise ValueError("only holding registers can be writable")
        return self


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str
    manufacturer: str
    model: str
    source: str
    registers: tuple[RegisterSpec, ...]

    def register(self, name: str) -> RegisterSpec:
        for spec in self.registers:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: object) -> object:
        if isinstance(data, dict) and "defaults" in data:
            defaults = data.pop("defaults") or {}
            data["registers"] = [{**defaults, **reg} for reg in data.get("registers", [])]
        return data

    @model_validator(mode="after")
    def _unique_names(self) -> Profile:
        names = [r.name for r in self.registers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate register names {duplicates}")
        return self


class ProfileError(ValueError):
    pass


def _profile_dir() -> resources.abc.Traversable:
    return resources.files("polis.common.catalogue").joinpath("modbus_profiles_data")


def available_profiles() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml") for p in _profile_dir().iterdir() if p.name.endswith(".yaml")
    )


@cache
def load_profile(name: str) -> Profile:
    """Load a bundled profile by name, e.g. ``eastron_sdm630``."""
    path = _profile_dir().joinpath(f"{name}.yaml")
    if not path.is_file():
        raise ProfileError(f"unknown Modbus profile {name!r}; available: {available_profiles()}")
    try:
        return Profile.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as error:
        raise ProfileError(f"profile {name}.yaml is invalid: {error}") from None

"""Meter register maps (YAML data in ``data/registers``) and their encoding (pure).

A map lists, per quantity, the 0-based register address, the data type, the scale (value =
raw × scale) and the unit; the map's ``word_order`` says whether the high word comes first
(``big``, Eastron) or the low word (``little``, Carlo Gavazzi).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from polis.simulator.config import ModbusProfile

RegisterType = Literal["float32", "int32", "uint32", "int16", "uint16"]
_WORDS = {"float32": 2, "int32": 2, "uint32": 2, "int16": 1, "uint16": 1}


class Register(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    address: int = Field(ge=0, le=0xFFFF)
    type: RegisterType
    scale: float = 1.0
    unit: str
    manual: int = Field(description="the register number printed in the manual")
    description: str

    @property
    def words(self) -> int:
        return _WORDS[self.type]


class RegisterMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: ModbusProfile
    manufacturer: str
    model: str
    document: str
    function_code: int = Field(ge=3, le=4)
    word_order: Literal["big", "little"]
    registers: list[Register] = Field(min_length=1)

    @property
    def size(self) -> int:
        """Registers needed to hold the map from address 0."""
        return max(r.address + r.words for r in self.registers)

    def register(self, name: str) -> Register:
        for register in self.registers:
            if register.name == name:
                return register
        raise KeyError(f"{self.profile} has no register {name!r}")


@cache
def register_map(profile: ModbusProfile) -> RegisterMap:
    text = (
        resources.files("polis.simulator")
        .joinpath(f"data/registers/{profile.value}.yaml")
        .read_text("utf-8")
    )
    return RegisterMap.model_validate(yaml.safe_load(text))


def _words(register: Register, value: float, word_order: str) -> list[int]:
    if register.type == "float32":
        raw = struct.pack(">f", value)
    else:
        count = round(value / register.scale)
        fmt = {"int32": ">i", "uint32": ">I", "int16": ">h", "uint16": ">H"}[register.type]
        bits = 32 if register.words == 2 else 16
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if fmt[-1].isupper():
            low, high = 0, 2**bits - 1
        raw = struct.pack(fmt, min(max(count, low), high))
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return words[::-1] if word_order == "little" else words


def encode(regmap: RegisterMap, values: Mapping[str, float]) -> list[int]:
    """A register image (addresses 0..size-1); quantities not given read as zero."""
    image = [0] * regmap.size
    for register in regmap.registers:
        value = values.get(register.name)
        if value is None:
            continue
        image[register.address : register.address + register.words] = _words(
            register, value, regmap.word_order
        )
    return image


def decode(regmap: RegisterMap, words: list[int], register: Register) -> float:
    """The engineering value of ``register`` from its words as read off the wire."""
    ordered = words[::-1] if regmap.word_order == "little" else words
    raw = b"".join(w.to_bytes(2, "big") for w in ordered)
    if register.type == "float32":
        return float(struct.unpack(">f", raw)[0])
    fmt = {"int32": ">i", "uint32": ">I", "int16": ">h", "uint16": ">H"}[register.type]
    return float(struct.unpack(fmt, raw)[0]) * register.scale


def resolution(register: Register, value: float) -> float:
    """The smallest change the register can show near ``value``."""
    if register.type == "float32":
        return max(abs(value) * 2.0**-23, 1e-7)
    return register.scale

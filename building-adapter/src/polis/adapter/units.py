"""Canonical units per quantity and the linear conversions into them (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Quantity(StrEnum):
    """Mirrors ``polis.points.v1.Quantity`` (lower-case names)."""

    ACTIVE_ENERGY = "active_energy"
    ACTIVE_POWER = "active_power"
    TEMPERATURE = "temperature"
    SETPOINT = "setpoint"
    STATUS = "status"
    VOLTAGE = "voltage"
    CURRENT = "current"
    REACTIVE_POWER = "reactive_power"
    POWER_FACTOR = "power_factor"
    FREQUENCY = "frequency"
    STATE_OF_CHARGE = "state_of_charge"


@dataclass(frozen=True, slots=True)
class Conversion:
    """``canonical = value * scale + offset``."""

    unit: str
    scale: float = 1.0
    offset: float = 0.0

    def apply(self, value: float) -> float:
        return value * self.scale + self.offset


class UnitError(ValueError):
    """The unit is unknown or does not belong to the point's quantity."""


# unit as configured -> (canonical unit, scale, offset)
_UNITS: dict[str, tuple[str, float, float]] = {
    "kWh": ("kWh", 1.0, 0.0),
    "Wh": ("kWh", 1e-3, 0.0),
    "MWh": ("kWh", 1e3, 0.0),
    "kW": ("kW", 1.0, 0.0),
    "W": ("kW", 1e-3, 0.0),
    "MW": ("kW", 1e3, 0.0),
    "kvar": ("kvar", 1.0, 0.0),
    "var": ("kvar", 1e-3, 0.0),
    "degC": ("degC", 1.0, 0.0),
    "°C": ("degC", 1.0, 0.0),
    "degF": ("degC", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    "°F": ("degC", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    "K": ("degC", 1.0, -273.15),
    "V": ("V", 1.0, 0.0),
    "kV": ("V", 1e3, 0.0),
    "A": ("A", 1.0, 0.0),
    "mA": ("A", 1e-3, 0.0),
    "Hz": ("Hz", 1.0, 0.0),
    "%": ("%", 1.0, 0.0),
    "1": ("1", 1.0, 0.0),
    "": ("1", 1.0, 0.0),
    "percent": ("%", 1.0, 0.0),
}

CANONICAL: dict[Quantity, frozenset[str]] = {
    Quantity.ACTIVE_ENERGY: frozenset({"kWh"}),
    Quantity.ACTIVE_POWER: frozenset({"kW"}),
    Quantity.TEMPERATURE: frozenset({"degC"}),
    Quantity.SETPOINT: frozenset({"degC", "kW", "%", "1"}),
    Quantity.STATUS: frozenset({"1"}),
    Quantity.VOLTAGE: frozenset({"V"}),
    Quantity.CURRENT: frozenset({"A"}),
    Quantity.REACTIVE_POWER: frozenset({"kvar"}),
    Quantity.POWER_FACTOR: frozenset({"1"}),
    Quantity.FREQUENCY: frozenset({"Hz"}),
    Quantity.STATE_OF_CHARGE: frozenset({"%"}),
}

KNOWN_UNITS = frozenset(_UNITS)


def conversion(unit: str, quantity: Quantity) -> Conversion:
    """The conversion from ``unit`` to the canonical unit of ``quantity``."""
    if unit not in _UNITS:
        raise UnitError(f"unknown unit {unit!r}; expected one of {sorted(k for k in _UNITS if k)}")
    canonical, scale, offset = _UNITS[unit]
    if canonical not in CANONICAL[quantity]:
        allowed = sorted(CANONICAL[quantity])
        raise UnitError(f"unit {unit!r} does not measure {quantity.value} (canonical {allowed})")
    return Conversion(canonical, scale, offset)


def to_canonical(value: float, unit: str, quantity: Quantity) -> tuple[float, str]:
    conv = conversion(unit, quantity)
    return conv.apply(value), conv.unit

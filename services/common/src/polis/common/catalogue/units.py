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
    APPARENT_POWER = "apparent_power"
    REACTIVE_ENERGY = "reactive_energy"
    RELATIVE_HUMIDITY = "relative_humidity"
    CO2_CONCENTRATION = "co2_concentration"
    VOLUME = "volume"
    VOLUME_FLOW = "volume_flow"
    PRESSURE = "pressure"
    POSITION = "position"
    THERMAL_ENERGY = "thermal_energy"
    THERMAL_POWER = "thermal_power"


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
    "kVA": ("kVA", 1.0, 0.0),
    "VA": ("kVA", 1e-3, 0.0),
    "MVA": ("kVA", 1e3, 0.0),
    "kvarh": ("kvarh", 1.0, 0.0),
    "varh": ("kvarh", 1e-3, 0.0),
    "Mvarh": ("kvarh", 1e3, 0.0),
    "ppm": ("ppm", 1.0, 0.0),
    "m3": ("m3", 1.0, 0.0),
    "m³": ("m3", 1.0, 0.0),
    "L": ("m3", 1e-3, 0.0),
    "l": ("m3", 1e-3, 0.0),
    "m3/h": ("m3/h", 1.0, 0.0),
    "m³/h": ("m3/h", 1.0, 0.0),
    "L/s": ("m3/h", 3.6, 0.0),
    "l/s": ("m3/h", 3.6, 0.0),
    "L/min": ("m3/h", 0.06, 0.0),
    "kPa": ("kPa", 1.0, 0.0),
    "Pa": ("kPa", 1e-3, 0.0),
    "bar": ("kPa", 100.0, 0.0),
    "mbar": ("kPa", 0.1, 0.0),
    "%": ("%", 1.0, 0.0),
    "%RH": ("%", 1.0, 0.0),
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
    Quantity.APPARENT_POWER: frozenset({"kVA"}),
    Quantity.REACTIVE_ENERGY: frozenset({"kvarh"}),
    Quantity.RELATIVE_HUMIDITY: frozenset({"%"}),
    Quantity.CO2_CONCENTRATION: frozenset({"ppm"}),
    Quantity.VOLUME: frozenset({"m3"}),
    Quantity.VOLUME_FLOW: frozenset({"m3/h"}),
    Quantity.PRESSURE: frozenset({"kPa"}),
    Quantity.POSITION: frozenset({"%"}),
    Quantity.THERMAL_ENERGY: frozenset({"kWh"}),
    Quantity.THERMAL_POWER: frozenset({"kW"}),
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


def require_unit_of(unit: str, quantity: Quantity) -> None:
    """For validators: a ValueError saying why ``unit`` does not measure ``quantity``."""
    try:
        conversion(unit, quantity)
    except UnitError as error:
        raise ValueError(str(error)) from None


def to_canonical(value: float, unit: str, quantity: Quantity) -> tuple[float, str]:
    conv = conversion(unit, quantity)
    return conv.apply(value), conv.unit

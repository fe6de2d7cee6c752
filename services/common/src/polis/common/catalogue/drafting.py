"""Draft catalogue points from what a BACnet object says of itself (name, type, units).

Discovery on a real network and the simulator's own catalogue both draft points here, so a
point gets the same id, quantity and unit whichever way it was found.
"""

from __future__ import annotations

import re
from typing import Any

from polis.common.catalogue.units import Quantity

# BACnet engineering units (bacpypes3 spelling) -> (Polis unit, quantity)
_UNITS: dict[str, tuple[str, Quantity]] = {
    "degrees-celsius": ("degC", Quantity.TEMPERATURE),
    "degrees-fahrenheit": ("degF", Quantity.TEMPERATURE),
    "degrees-kelvin": ("K", Quantity.TEMPERATURE),
    "kilowatts": ("kW", Quantity.ACTIVE_POWER),
    "watts": ("W", Quantity.ACTIVE_POWER),
    "megawatts": ("MW", Quantity.ACTIVE_POWER),
    "kilowatt-hours": ("kWh", Quantity.ACTIVE_ENERGY),
    "watt-hours": ("Wh", Quantity.ACTIVE_ENERGY),
    "megawatt-hours": ("MWh", Quantity.ACTIVE_ENERGY),
    # a bare percentage is most often a valve, damper or drive output
    "percent": ("%", Quantity.POSITION),
    "percent-relative-humidity": ("%RH", Quantity.RELATIVE_HUMIDITY),
    "parts-per-million": ("ppm", Quantity.CO2_CONCENTRATION),
    "kilovolt-amperes": ("kVA", Quantity.APPARENT_POWER),
    "volt-amperes": ("VA", Quantity.APPARENT_POWER),
    "kilovolt-amperes-reactive": ("kvar", Quantity.REACTIVE_POWER),
    "kilovolt-ampere-hours-reactive": ("kvarh", Quantity.REACTIVE_ENERGY),
    "cubic-meters": ("m3", Quantity.VOLUME),
    "liters": ("L", Quantity.VOLUME),
    "cubic-meters-per-hour": ("m3/h", Quantity.VOLUME_FLOW),
    "liters-per-second": ("L/s", Quantity.VOLUME_FLOW),
    "kilopascals": ("kPa", Quantity.PRESSURE),
    "pascals": ("Pa", Quantity.PRESSURE),
    "bars": ("bar", Quantity.PRESSURE),
    "volts": ("V", Quantity.VOLTAGE),
    "amperes": ("A", Quantity.CURRENT),
    "hertz": ("Hz", Quantity.FREQUENCY),
}
_COMMANDABLE = (
    "analog-output",
    "analog-value",
    "binary-output",
    "binary-value",
    "multi-state-output",
)


def slug(name: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return text or "point"


def bacnet_units(units: str) -> str:
    """bacpypes3's camel-case spelling (``degreesCelsius``) as BACnet's (``degrees-celsius``)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "-", units).lower()


def draft_point(objid: str, name: str, units: str, description: str) -> dict[str, Any]:
    """A point entry a facility manager can edit (kind and quantity guessed from type/unit)."""
    kind_of_object = objid.split(",", 1)[0]
    unit, quantity = _UNITS.get(bacnet_units(units), ("1", Quantity.STATUS))
    kind = "instantaneous"
    if quantity in (Quantity.ACTIVE_ENERGY, Quantity.REACTIVE_ENERGY, Quantity.VOLUME):
        kind = "cumulative"
    elif kind_of_object.startswith(("binary", "multi-state")):
        kind, unit, quantity = "state", "1", Quantity.STATUS
    point: dict[str, Any] = {
        "id": slug(name),
        "object": objid,
        "quantity": quantity.value,
        "unit": unit,
        "kind": kind,
        "description": description,
    }
    if kind_of_object in _COMMANDABLE and "setpoint" in name.lower() + description.lower():
        # Draft limits: a comfort band for temperature setpoints; anything else refuses every
        # write (min == max == 0) until a facility manager sets real bounds.
        limits = (
            {"min": 16.0, "max": 26.0, "max_rate_per_min": 1.0}
            if unit == "degC"
            else {"min": 0.0, "max": 0.0}
        )
        point.update(
            kind="command",
            quantity=Quantity.SETPOINT.value,
            write={**limits, "default_duration_s": 3600},
        )
    return point

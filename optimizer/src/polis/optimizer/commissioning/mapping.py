"""Which points carry each zone's data: proposed from the catalogue, overridable by a file.

A zone (an ``hvac`` load) needs its air temperature, the outdoor temperature and its heat
pump's electric power; a thermal sub-meter, occupancy, irradiance and the heat pump's cooling
output (its mode) improve the model where the building has them, and the setpoint in force,
the heating output and the cooling setpoint show its controller. The proposal reads the
catalogue's own references first (``temperature_point``), then Brick classes, then the point
names the BACnet drafting gives (``zone-<zone>-temperature``, ``outdoor-air-temperature``, …).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from polis.common.catalogue import Catalogue
from polis.common.catalogue.ids import point_id
from polis.common.catalogue.loads import ZoneConfig
from polis.common.catalogue.schema import PointRef

ROLES = (
    "temperature",
    "outdoor",
    "power",
    "thermal_power",
    "occupancy",
    "irradiance",
    "cooling_output",
    "setpoint",
    "heating_output",
    "cooling_setpoint",
)
REQUIRED = ("temperature", "outdoor", "power")


@dataclass(frozen=True)
class Rule:
    """How a role is recognised: point names inside the zone's own points, names for the
    whole building, and Brick classes."""

    zone_suffixes: tuple[str, ...] = ()
    building_names: tuple[str, ...] = ()
    brick_classes: tuple[str, ...] = ()
    building_only_for_one_zone: bool = False  # a building-wide value stands for one zone only


RULES: dict[str, Rule] = {
    "temperature": Rule(
        ("temperature", "air-temperature"),
        (),
        ("Zone_Air_Temperature_Sensor", "Air_Temperature_Sensor"),
        building_only_for_one_zone=True,
    ),
    "outdoor": Rule(
        (),
        ("outdoor-air-temperature", "outside-air-temperature"),
        ("Outside_Air_Temperature_Sensor",),
    ),
    # The building's HVAC power is every heat pump together: a zone's own only in a
    # building with one zone.
    "power": Rule(
        ("heat-pump-electric-power",),
        ("hvac-electric-power",),
        (),
        building_only_for_one_zone=True,
    ),
    "thermal_power": Rule(
        ("heat-pump-thermal-power",),
        ("hvac-thermal-power",),
        (),
        building_only_for_one_zone=True,
    ),
    # a share of full occupancy (%), not a head count
    "occupancy": Rule(("occupancy-level",), ("building-occupancy",), ()),
    "irradiance": Rule(
        (), ("global-irradiance", "global-horizontal-irradiance"), ("Solar_Radiance_Sensor",)
    ),
    "cooling_output": Rule(("cooling-output",), (), ()),
    # the controller: the heating setpoint in force (the schedule's or a command), its output
    "setpoint": Rule(("effective-setpoint",), (), ("Effective_Air_Temperature_Setpoint",)),
    "heating_output": Rule(("heating-output",), (), ()),
    "cooling_setpoint": Rule(("cooling-setpoint",), (), ("Cooling_Temperature_Setpoint",)),
}


@dataclass(frozen=True)
class ZoneMapping:
    """Full point ids per role (None where the building has no such point)."""

    building: str
    zone: str
    temperature: str | None = None
    outdoor: str | None = None
    power: str | None = None
    thermal_power: str | None = None
    occupancy: str | None = None
    irradiance: str | None = None
    cooling_output: str | None = None
    setpoint: str | None = None
    heating_output: str | None = None
    cooling_setpoint: str | None = None

    def points(self) -> dict[str, str]:
        return {role: p for role in ROLES if (p := getattr(self, role)) is not None}

    def missing(self) -> list[str]:
        return [role for role in REQUIRED if getattr(self, role) is None]


def _full(catalogue: Catalogue, building: str, reference: str) -> str:
    """``device/point`` inside the building, or an id that is already full."""
    parts = reference.split("/")
    if len(parts) == 2:
        return point_id(catalogue.municipality, building, parts[0], parts[1])
    return reference


def _zone_prefixes(zone: str) -> tuple[str, ...]:
    return (f"zone-{zone}-", f"{zone}-")


def _find(role: str, zone: str, points: list[PointRef], zones_in_building: int) -> str | None:
    rule = RULES[role]
    for ref in points:  # the zone's own point by name
        name = ref.point.id
        if any(name == p + s for p in _zone_prefixes(zone) for s in rule.zone_suffixes):
            return ref.point_id
    for ref in points:  # a zone-named point of the right Brick class
        own = any(ref.point.id.startswith(p) for p in _zone_prefixes(zone))
        if own and ref.point.brick_class in rule.brick_classes:
            return ref.point_id
    if rule.building_only_for_one_zone and zones_in_building > 1:
        return None
    for ref in points:  # a building-wide point by name or Brick class
        if ref.point.id in rule.building_names or (
            ref.point.brick_class is not None and ref.point.brick_class in rule.brick_classes
        ):
            return ref.point_id
    return None


def propose(catalogue: Catalogue, building_id: str) -> list[ZoneMapping]:
    """One mapping per ``hvac`` load of the building, from its catalogue alone."""
    building = catalogue.building(building_id)
    points = [ref for ref in catalogue.points() if ref.building == building_id]
    zones = [load for load in building.loads if isinstance(load, ZoneConfig)]
    out = []
    for zone in zones:
        found = {role: _find(role, zone.id, points, len(zones)) for role in ROLES}
        if zone.temperature_point is not None:
            found["temperature"] = _full(catalogue, building_id, zone.temperature_point)
        out.append(ZoneMapping(building_id, zone.id, **found))
    return out


class MappingError(ValueError):
    """A mapping file that names an unknown zone, role or point."""


def load_overrides(path: Path) -> dict[str, dict[str, str | None]]:
    """``zones: {<zone>: {<role>: <device/point or full id, or null>}}``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    zones = data.get("zones") if isinstance(data, dict) else None
    if not isinstance(zones, dict):
        raise MappingError(f"{path}: expected a mapping 'zones: {{<zone>: {{<role>: <point>}}}}'")
    out: dict[str, dict[str, str | None]] = {}
    for zone, roles in zones.items():
        if not isinstance(roles, dict):
            raise MappingError(f"{path}: zones.{zone}: expected role: point pairs")
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise MappingError(f"{path}: zones.{zone}: unknown role(s) {sorted(unknown)}")
        out[str(zone)] = {str(k): None if v is None else str(v) for k, v in roles.items()}
    return out


def apply_overrides(
    catalogue: Catalogue,
    mappings: list[ZoneMapping],
    overrides: Mapping[str, Mapping[str, str | None]],
) -> list[ZoneMapping]:
    """The proposal with the file's choices; every named point must exist in the catalogue."""
    known = {ref.point_id for ref in catalogue.points()}
    by_zone = {m.zone: m for m in mappings}
    unknown = set(overrides) - set(by_zone)
    if unknown:
        raise MappingError(f"mapping names unknown zone(s) {sorted(unknown)}")
    out = []
    for mapping in mappings:
        changes: dict[str, Any] = {}
        for role, reference in overrides.get(mapping.zone, {}).items():
            full = None if reference is None else _full(catalogue, mapping.building, reference)
            if full is not None and full not in known:
                raise MappingError(f"zones.{mapping.zone}.{role}: unknown point {reference!r}")
            changes[role] = full
        out.append(replace(mapping, **changes))
    return out


def describe(mapping: ZoneMapping) -> list[str]:
    """Printable lines, one per role."""
    lines = [f"zone {mapping.zone}:"]
    for f in fields(mapping):
        if f.name in ROLES:
            value = getattr(mapping, f.name)
            shown = value if value is not None else "— (none)"
            lines.append(f"  {f.name:<15} {shown}")
    return lines

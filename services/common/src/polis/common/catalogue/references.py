"""What catalogue entries say about each other, checked in one place.

:func:`reference_problems` finds references that point nowhere (every service refuses a
catalogue that has any); :func:`completeness_problems` finds what a deployable municipality
must have and a draft may still lack (a main meter per building, a tariff where loads are
planned). A load without a command point is planned but not commanded (dry run).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from polis.common.catalogue.alarms import (
    AlarmOverride,
    along,
    override_chain,
    section_params,
)
from polis.common.catalogue.devices import ModbusDeviceConfig, OcppDeviceConfig, PointConfig
from polis.common.catalogue.ids import resolve_point_ref, split_point_id
from polis.common.catalogue.loads import ZoneConfig
from polis.common.catalogue.points import PointKind
from polis.common.catalogue.schema import Building, Catalogue
from polis.common.catalogue.source import Path_
from polis.common.catalogue.units import Quantity

# what each point reference of a load must be
_REF_QUANTITIES: dict[str, frozenset[Quantity]] = {
    "temperature_point": frozenset({Quantity.TEMPERATURE}),
    "soc_point": frozenset({Quantity.STATE_OF_CHARGE, Quantity.ACTIVE_ENERGY}),
}


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path_
    message: str


def _duplicates(ids: Iterable[str]) -> list[str]:
    return sorted(i for i, n in Counter(ids).items() if n > 1)


def _unique(cat: Catalogue) -> Iterator[Problem]:
    for section, name, ids in (
        ("buildings", "building", [b.id for b in cat.buildings]),
        ("neighbourhoods", "neighbourhood", [n.id for n in cat.neighbourhoods]),
        ("tariffs", "tariff", [t.id for t in cat.tariffs]),
        ("calendars", "calendar", [c.id for c in cat.calendars]),
        # device ids are unique across the municipality: the adapter addresses them alone
        ("buildings", "device", [d.id for b in cat.buildings for d in b.devices]),
        # one central system serves every charger: an identity names one connection
        (
            "buildings",
            "OCPP charge point identity",
            [
                d.charge_point_identity
                for b in cat.buildings
                for d in b.devices
                if isinstance(d, OcppDeviceConfig)
            ],
        ),
    ):
        for dup in _duplicates(ids):
            yield Problem((section,), f"duplicate {name} id {dup!r}")
    for i, b in enumerate(cat.buildings):
        for dup in _duplicates(load.id for load in b.loads):
            yield Problem(("buildings", i, "loads"), f"duplicate load id {dup!r}")
        for j, d in enumerate(b.devices):
            for dup in _duplicates(p.id for p in d.all_points()):
                yield Problem(("buildings", i, "devices", j), f"duplicate point id {dup!r}")


def _points_of(cat: Catalogue, building: Building) -> dict[str, PointConfig]:
    return {ref.point_id: ref.point for ref in cat.points() if ref.building == building.id}


def _load_refs(cat: Catalogue, i: int, building: Building) -> Iterator[Problem]:
    points = _points_of(cat, building)
    for j, load in enumerate(building.loads):
        for field, ref in load.point_refs().items():
            path: Path_ = ("buildings", i, "loads", j, field)
            try:
                pid = resolve_point_ref(ref, cat.municipality, building.id)
                _, owner, _, _ = split_point_id(pid)
            except ValueError as error:
                yield Problem(path, str(error))
                continue
            point = points.get(pid)
            if owner != building.id or point is None:
                yield Problem(path, f"no point {ref!r} among building {building.id}'s devices")
            elif field == "command_point" and (
                point.kind is not PointKind.COMMAND or point.write is None
            ):
                yield Problem(path, f"{ref!r} is not a command point with write limits")
            elif field in _REF_QUANTITIES and point.quantity not in _REF_QUANTITIES[field]:
                expected = " or ".join(sorted(q.value for q in _REF_QUANTITIES[field]))
                yield Problem(path, f"{ref!r} measures {point.quantity.value}, not {expected}")


def _building_refs(cat: Catalogue, i: int, b: Building) -> Iterator[Problem]:
    here: Path_ = ("buildings", i)
    hoods = {n.id for n in cat.neighbourhoods}
    if hoods and b.neighbourhood not in hoods:
        yield Problem((*here, "neighbourhood"), f"unknown neighbourhood {b.neighbourhood!r}")
    if b.tariff is not None and b.tariff not in {t.id for t in cat.tariffs}:
        yield Problem((*here, "tariff"), f"unknown tariff {b.tariff!r}")
    if b.calendar is not None and b.calendar not in {c.id for c in cat.calendars}:
        yield Problem((*here, "calendar"), f"unknown calendar {b.calendar!r}")
    if b.meters is not None:
        devices = {d.id for d in b.devices}
        named = [("main", b.meters.main), ("generation", b.meters.generation)]
        named += [("excluded", d) for d in b.meters.excluded]
        named += [("storage", d) for d in b.meters.storage]
        for role, device in named:
            if device is not None and device not in devices:
                yield Problem((*here, "meters", role), f"no device {device!r} in {b.id}")
    yield from _load_refs(cat, i, b)


def _bus_mismatch(device: ModbusDeviceConfig, first: ModbusDeviceConfig) -> Problem | None:
    """What a unit says about its bus that the bus's first unit contradicts (path relative
    to the device)."""
    if device.transport != first.transport:
        return Problem(
            ("transport",),
            f"{device.bus()} is reached by transport {first.transport} "
            f"(device {first.id}), not {device.transport}",
        )
    if device.serial is not None and first.serial is not None and device.serial != first.serial:
        differ = [
            f"{name} {getattr(device.serial, name)} against {getattr(first.serial, name)}"
            for name in type(device.serial).model_fields
            if getattr(device.serial, name) != getattr(first.serial, name)
        ]
        return Problem(
            ("serial",),
            f"every unit on {device.bus()} has the line settings of device {first.id}: "
            + ", ".join(differ),
        )
    return None


def _buses(cat: Catalogue) -> Iterator[Problem]:
    """Units on one bus (a serial port, or a TCP host and port) agree on how it is reached
    and each has an address of its own: the adapter opens one line per bus."""
    firsts: dict[str, ModbusDeviceConfig] = {}
    units: dict[tuple[str, int], str] = {}
    for i, b in enumerate(cat.buildings):
        for j, d in enumerate(b.devices):
            if not isinstance(d, ModbusDeviceConfig):
                continue
            here: Path_ = ("buildings", i, "devices", j)
            mismatch = _bus_mismatch(d, firsts.setdefault(d.bus(), d))
            if mismatch is not None:
                yield Problem((*here, *mismatch.path), mismatch.message)
            owner = units.setdefault((d.bus(), d.unit_id), d.id)
            if owner != d.id:
                yield Problem(
                    (*here, "unit_id"), f"unit {d.unit_id} on {d.bus()} is already device {owner}"
                )


def _override_scope(cat: Catalogue, entry: AlarmOverride) -> tuple[str, str] | None:
    """(field, message) when an alarm override names what the building does not have."""
    building = next((b for b in cat.buildings if b.id == entry.building), None)
    if building is None:
        return "building", f"unknown building {entry.building!r}"
    zones = {load.id for load in building.loads if isinstance(load, ZoneConfig)}
    if entry.zone is not None and entry.zone not in zones:
        return "zone", f"no hvac load (zone) {entry.zone!r} in {building.id} (has {sorted(zones)})"
    devices = {d.id: d for d in building.devices}
    if entry.device is not None and entry.device not in devices:
        return "device", f"no device {entry.device!r} in {building.id}"
    if entry.point is not None:
        device, _, point = entry.point.partition("/")
        known = devices.get(device)
        if not point or "/" in point or known is None:
            return "point", f"{entry.point!r} is not device/point of a device in {building.id}"
        if point not in {p.id for p in known.all_points()}:
            return "point", f"no point {point!r} on device {device}"
    return None


def _override_subjects(b: Building) -> Iterator[tuple[str, dict[str, str | None]]]:
    """Every subject of a building an alarm override can cover, with its scope."""
    yield f"building {b.id}", {}
    for load in b.loads:
        if isinstance(load, ZoneConfig):
            yield f"zone {load.id}", {"zone": load.id}
    for d in b.devices:
        yield f"device {d.id}", {"device": d.id}
        for p in d.all_points():
            yield f"point {d.id}/{p.id}", {"device": d.id, "point": f"{d.id}/{p.id}"}


def _override_consistency(cat: Catalogue) -> Iterator[Problem]:
    """Every rule's raise and clear settings agree for every subject, once the entries that
    cover it are merged in order (a building entry with a zone entry over it, a device entry
    with a point entry). A problem is reported at the entry that applies last, naming the
    subject and the entries before it; each chain of entries is judged once."""
    judged: set[tuple[str, tuple[int, ...]]] = set()
    for b in cat.buildings:
        mine = [i for i, e in enumerate(cat.alarms.overrides) if e.building == b.id]
        if not mine:
            continue
        rules = sorted({r for i in mine for r, _ in cat.alarms.overrides[i].rules.given()})
        for label, scope in _override_subjects(b):
            for rule in rules:
                chain = tuple(override_chain(cat.alarms, rule, b.id, scope, mine))
                if not chain or (rule, chain) in judged:
                    continue
                judged.add((rule, chain))
                before = ", ".join(f"alarms.overrides[{i}]" for i in chain[:-1])
                where = f" for {label}, with {before}" if before else ""
                here: Path_ = ("alarms", "overrides", chain[-1], "rules", rule)
                for message in along(cat.alarms, rule, chain).consistency():
                    yield Problem(here, message + where)


def _alarm_refs(cat: Catalogue) -> Iterator[Problem]:
    """Alarm overrides name what exists, and every rule's raise and clear settings agree
    for the municipality and for every subject overrides cover."""
    section: Path_ = ("alarms",)
    for rule, _ in cat.alarms.rules.given():
        for message in section_params(cat.alarms, rule).consistency():
            yield Problem((*section, "rules", rule), message)
    for i, entry in enumerate(cat.alarms.overrides):
        wrong = _override_scope(cat, entry)
        if wrong is not None:
            yield Problem((*section, "overrides", i, wrong[0]), wrong[1])
    yield from _override_consistency(cat)


def reference_problems(cat: Catalogue) -> list[Problem]:
    problems = list(_unique(cat))
    problems.extend(_buses(cat))
    problems.extend(_alarm_refs(cat))
    for i, building in enumerate(cat.buildings):
        problems.extend(_building_refs(cat, i, building))
    return problems


def completeness_problems(cat: Catalogue) -> list[Problem]:
    problems = []
    for i, b in enumerate(cat.buildings):
        if b.meters is None:
            problems.append(Problem(("buildings", i), f"building {b.id} has no main meter"))
        else:
            main = next((d for d in b.devices if d.id == b.meters.main), None)
            energy = [
                p
                for p in (main.all_points() if main else [])
                if p.quantity is Quantity.ACTIVE_ENERGY and p.kind is PointKind.CUMULATIVE
            ]
            if main is not None and not energy:
                problems.append(
                    Problem(
                        ("buildings", i, "meters", "main"),
                        f"main meter {main.id} has no cumulative active energy point",
                    )
                )
        if b.loads and b.tariff is None:
            problems.append(
                Problem(("buildings", i), f"building {b.id} plans loads without a tariff")
            )
    return problems

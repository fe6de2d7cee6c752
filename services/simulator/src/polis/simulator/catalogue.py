"""The simulated municipality as a Polis catalogue (pure, no I/O).

``catalogue(config, endpoints, ...)`` is the document every service reads its view of
(:mod:`polis.common.catalogue`): the municipality, its neighbourhoods, the ``gr-tou`` tariff,
one occupancy calendar per building, and per building its meters, devices and loads.

- **Devices**: each Modbus meter at its endpoint with every register of its profile, and the
  building's BACnet controller with the points drafted from the controller's own object list
  (:func:`polis.simulator.bacnet_points.controller_object_specs`) exactly as BACnet discovery
  drafts them (:func:`polis.common.catalogue.drafting.draft_point`), so the ids, quantities
  and units are those the adapter would find on the network.
- **Write limits** are what a facility manager would allow: only commandable objects are
  command points, the zone heating setpoints within 8–30 °C (the pool hall runs at 27 °C)
  changing at most 10 K per minute, the enables of HVAC, hot water, pool pump and EV
  charging 0/1. A read-only setpoint (cooling, effective) stays a reading.
- **Meters**: main ``<building>-main``; the PV meter as generation, the EV meter excluded
  from the measurement boundary and the battery meter as storage, where the building has them.
- **Calendars**: the weekly hours the building is occupied (occupancy at least 0.2, as the
  comfort periods of its loads) and its yearly closures (school holidays).
- **Loads**: :mod:`polis.simulator.loads`.
- **Nameplate only** (:func:`nameplate_catalogue`, ``catalogue --nameplate-only``): everything
  above without the simulator's physics, what a facility manager has of a real building.
  Zones and hot-water tanks are ``model: uncommissioned``, and the base load is left to its
  default: ``python -m polis.optimizer commission`` learns them from the history the adapter
  writes (docs/commissioning.md).

Poll intervals are wall seconds, so an accelerated clock wants them short.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from polis.common.catalogue.drafting import bacnet_units, draft_point
from polis.simulator.bacnet_points import ObjectSpec, controller_object_specs
from polis.simulator.config import Building, MeterRole, MunicipalityConfig
from polis.simulator.endpoints import (
    SERIAL_LINE,
    Endpoints,
    MeterSpec,
    ModbusEndpointSpec,
    device_id,
)
from polis.simulator.loads import (
    DAY_NAMES,
    OCCUPIED_FRACTION,
    SLOT_MINUTES,
    base_load_kw,
    building_loads,
    hhmm,
    schedule_value,
)
from polis.simulator.ocpp_chargers import charge_point_id
from polis.simulator.tariff import TARIFF_ID, tariff

SETPOINT_LIMITS = {"min": 8.0, "max": 30.0, "max_rate_per_min": 10.0, "default_duration_s": 3600}
ENABLE_LIMITS = {"min": 0.0, "max": 1.0, "default_duration_s": 3600}


def controller_point(spec: ObjectSpec) -> dict[str, Any]:
    """The catalogue point of one controller object, with the write decision made."""
    point = draft_point(spec.object_id, spec.name, bacnet_units(spec.units), spec.description)
    if spec.commandable:
        limits = SETPOINT_LIMITS if spec.type == "analog-value" else ENABLE_LIMITS
        point.update(kind="command", write=dict(limits))
    elif point["kind"] == "command":
        # drafting takes any writable-looking "setpoint" for a command; this one has no
        # priority array, so Polis only reads it
        point["kind"] = "instantaneous"
        del point["write"]
    return point


def controller_points(building: Building) -> list[dict[str, Any]]:
    return [controller_point(spec) for spec in controller_object_specs(building)]


def _occupied_runs(building: Building, day: int) -> list[tuple[int, int]]:
    """(start, end) minutes of the day's occupied runs of quarter hours."""
    runs: list[tuple[int, int]] = []
    for minute in range(0, 24 * 60, SLOT_MINUTES):
        if schedule_value(building.occupancy, day, minute) < OCCUPIED_FRACTION:
            continue
        if runs and runs[-1][1] == minute:
            runs[-1] = (runs[-1][0], minute + SLOT_MINUTES)
        else:
            runs.append((minute, minute + SLOT_MINUTES))
    return runs


def occupancy_calendar(building: Building) -> dict[str, Any]:
    """The building's occupied weekly hours (weekdays with equal hours together) and
    closures."""
    days_of: dict[tuple[int, int], list[str]] = {}
    for day in range(7):
        for run in _occupied_runs(building, day):
            days_of.setdefault(run, []).append(DAY_NAMES[day])
    return {
        "id": building.id,
        "occupied": [
            {"days": days, "start": hhmm(start), "end": hhmm(end)}
            for (start, end), days in days_of.items()
        ],
        "closures": [{"start": c.start, "end": c.end} for c in building.occupancy.closures],
    }


def meters(building: Building) -> dict[str, Any]:
    roles = {m.role for m in building.meters}
    out: dict[str, Any] = {"main": device_id(building, MeterRole.MAIN)}
    if MeterRole.PV in roles:
        out["generation"] = device_id(building, MeterRole.PV)
    if MeterRole.EV in roles:
        out["excluded"] = [device_id(building, MeterRole.EV)]
    if MeterRole.BATTERY in roles:
        out["storage"] = [device_id(building, MeterRole.BATTERY)]
    return out


def modbus_device(meter: MeterSpec, endpoint: ModbusEndpointSpec, poll_s: float) -> dict[str, Any]:
    """A meter where its bus is served: a TCP endpoint, or a serial line's far end."""
    device: dict[str, Any] = {"protocol": "modbus", "id": meter.device}
    if endpoint.transport != "tcp":
        device["transport"] = endpoint.transport
    if endpoint.transport == "rtu":
        device["serial"] = {"port": endpoint.serial_port, **asdict(SERIAL_LINE)}
    else:
        device.update(host=endpoint.host, port=endpoint.port)
    device.update(unit_id=meter.unit_id, profile=meter.profile.value, poll_interval_s=poll_s)
    return device


def ocpp_devices(building: Building, poll_s: float) -> list[dict[str, Any]]:
    """The building's OCPP charge points: one connector per charger, the charging limit
    within what its chargers can draw, for one quarter hour unless a write says otherwise."""
    ev = building.ev_chargers
    if ev is None:
        return []
    return [
        {
            "protocol": "ocpp",
            "id": charge_point_id(building, k),
            "version": cp.version.value,
            "connectors": cp.connectors,
            "poll_interval_s": poll_s,
            "charging_limit": {
                "min": 0.0,
                "max": cp.connectors * ev.power_kw,
                "default_duration_s": 900,
            },
        }
        for k, cp in enumerate(ev.charge_points)
    ]


def devices(
    building: Building, endpoints: Endpoints, modbus_poll_s: float, bacnet_poll_s: float
) -> list[dict[str, Any]]:
    """The building's Modbus meters (every profile register), then its controller."""
    out: list[dict[str, Any]] = [
        modbus_device(meter, endpoint, modbus_poll_s)
        for meter, endpoint in endpoints.meters_of(building.id)
    ]
    controller = endpoints.controller_of(building.id)
    out.append(
        {
            "protocol": "bacnet",
            "id": controller.device,
            "device_instance": controller.instance,
            "address": controller.address,
            "poll_interval_s": bacnet_poll_s,
            "points": controller_points(building),
        }
    )
    # OCPP chargers are stored at the meters' interval
    return out + ocpp_devices(building, modbus_poll_s)


def building_entry(
    building: Building,
    endpoints: Endpoints,
    modbus_poll_s: float,
    bacnet_poll_s: float,
    nameplate_only: bool = False,
) -> dict[str, Any]:
    entry = {
        "id": building.id,
        "neighbourhood": building.neighbourhood,
        "name": building.name,
        "use": building.kind,
        "floor_area_m2": building.floor_area_m2,
        "tariff": TARIFF_ID,
        "calendar": building.id,
        "meters": meters(building),
        "pv_kwp": building.pv.peak_kw if building.pv else 0.0,
        "base_load_kw": base_load_kw(building),
        "devices": devices(building, endpoints, modbus_poll_s, bacnet_poll_s),
        "loads": building_loads(building, nameplate_only=nameplate_only),
    }
    if nameplate_only:
        del entry["base_load_kw"]  # the simulator's lighting and plug loads: learned instead
    return entry


def catalogue(
    config: MunicipalityConfig,
    endpoints: Endpoints,
    *,
    modbus_poll_s: float,
    bacnet_poll_s: float,
) -> dict[str, Any]:
    """The catalogue document (a dict ready for YAML) of ``config`` served at ``endpoints``."""
    return document(config, endpoints, modbus_poll_s, bacnet_poll_s, nameplate_only=False)


def nameplate_catalogue(
    config: MunicipalityConfig,
    endpoints: Endpoints,
    *,
    modbus_poll_s: float,
    bacnet_poll_s: float,
) -> dict[str, Any]:
    """The same without the simulator's physics (module docstring, *Nameplate only*)."""
    return document(config, endpoints, modbus_poll_s, bacnet_poll_s, nameplate_only=True)


def document(
    config: MunicipalityConfig,
    endpoints: Endpoints,
    modbus_poll_s: float,
    bacnet_poll_s: float,
    *,
    nameplate_only: bool,
) -> dict[str, Any]:
    if not endpoints.resolved:
        raise ValueError(
            "the endpoints' ports are not known: give a base port, or take the endpoints "
            "of a running site"
        )
    return {
        "municipality": config.municipality,
        "name": config.municipality.replace("-", " ").title(),
        "timezone": config.climate.timezone,
        "tariffs": [tariff()],
        "calendars": [occupancy_calendar(b) for b in config.buildings],
        "neighbourhoods": [{"id": n.id, "name": n.name} for n in config.neighbourhoods],
        "buildings": [
            building_entry(b, endpoints, modbus_poll_s, bacnet_poll_s, nameplate_only)
            for b in config.buildings
        ],
    }

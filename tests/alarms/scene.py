"""A small building for the rules' unit tests, and windows written by hand.

One building ``b1`` (time zone UTC) with a BACnet controller (outdoor and zone ``z1`` points:
temperature, heating and cooling outputs, heat-pump status, manual-override status, a command
setpoint), a Modbus
main meter (every SDM630 register) and an OCPP charger with one connector; zone ``z1`` is
occupied 06:00-22:00 every day with the band 20-22 °C and cools 5 K above its setpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from polis.alarms.engine import AlarmEngine
from polis.alarms.facts import BaselineExpectation, ControlFacts
from polis.alarms.model import Assessment
from polis.alarms.rules.base import STEP
from polis.alarms.windows import Series, Windows
from polis.common.catalogue import Catalogue, parse_catalogue

NOW = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday, noon
BMS = "m1/b1/b1-bms"
TEMPERATURE = f"{BMS}/zone-z1-temperature"
HEATING = f"{BMS}/zone-z1-heating-output"
COOLING = f"{BMS}/zone-z1-cooling-output"
STATUS = f"{BMS}/zone-z1-heat-pump-status"
OUTDOOR = f"{BMS}/outdoor-air-temperature"
SETPOINT = f"{BMS}/zone-z1-heating-setpoint"
MANUAL = f"{BMS}/zone-z1-manual-override"
MAIN_POWER = "m1/b1/b1-main/total-power"
IMPORT = "m1/b1/b1-main/import-energy"
EXPORT = "m1/b1/b1-main/export-energy"
CONNECTOR = "m1/b1/b1-cp/connector-1-status"


def _bacnet_point(pid: str, n: int, quantity: str, unit: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "object": f"analog-input,{n}", "quantity": quantity, "unit": unit, **extra}


def document(alarms: dict[str, Any] | None = None) -> dict[str, Any]:
    points = [
        _bacnet_point("outdoor-air-temperature", 1, "temperature", "degC"),
        _bacnet_point("zone-z1-temperature", 10, "temperature", "degC"),
        _bacnet_point("zone-z1-heating-output", 103, "position", "%"),
        _bacnet_point("zone-z1-cooling-output", 104, "position", "%"),
        _bacnet_point("zone-z1-heat-pump-status", 105, "status", "1", kind="state"),
        _bacnet_point("zone-z1-manual-override", 106, "status", "1", kind="state"),
        {
            "id": "zone-z1-heating-setpoint",
            "object": "analog-value,10",
            "quantity": "setpoint",
            "unit": "degC",
            "kind": "command",
            "write": {"min": 8, "max": 30},
        },
    ]
    doc: dict[str, Any] = {
        "municipality": "m1",
        "timezone": "UTC",
        "calendars": [{"id": "c1", "occupied": [{"start": "06:00", "end": "22:00"}]}],
        "buildings": [
            {
                "id": "b1",
                "neighbourhood": "n1",
                "calendar": "c1",
                "contracted_peak_kw": 80,
                "meters": {"main": "b1-main"},
                "devices": [
                    {
                        "protocol": "bacnet",
                        "id": "b1-bms",
                        "device_instance": 1,
                        "address": "127.0.0.1:47808",
                        "poll_interval_s": 10,
                        "points": points,
                    },
                    {
                        "protocol": "modbus",
                        "id": "b1-main",
                        "host": "127.0.0.1",
                        "profile": "eastron_sdm630",
                        "poll_interval_s": 10,
                    },
                    {"protocol": "ocpp", "id": "b1-cp", "version": "1.6", "connectors": 1},
                ],
                "loads": [
                    {
                        "kind": "hvac",
                        "id": "z1",
                        "r_k_per_kw": 1,
                        "c_kwh_per_k": 10,
                        "max_kw": 10,
                        "occupied": [{"start": "06:00", "end": "22:00", "lo_c": 20, "hi_c": 22}],
                        "controller": {"proportional_band_k": 0.5, "cooling_offset_k": 5},
                        "command_point": "b1-bms/zone-z1-heating-setpoint",
                    }
                ],
            }
        ],
    }
    if alarms is not None:
        doc["alarms"] = alarms
    return doc


def catalogue(alarms: dict[str, Any] | None = None) -> Catalogue:
    return parse_catalogue(document(alarms), "scene")


def engine(alarms: dict[str, Any] | None = None) -> AlarmEngine:
    return AlarmEngine(catalogue(alarms))


def healthy(now: datetime = NOW) -> Windows:
    """Every point measured a minute ago, the store receiving readings for a day."""
    windows = Windows(now, first_seen=now - timedelta(days=1))
    for ref in catalogue().points():
        windows.last_measured[ref.point_id] = now - timedelta(minutes=1)
    return windows


def series(
    windows: Windows,
    request: str,
    point: str,
    value: Callable[[datetime], float | None] | float,
    span: timedelta,
) -> None:
    """Windows of ``request`` for ``point`` from ``now - span`` to ``now``, aligned to the
    epoch as InfluxDB aligns them; ``value`` of each window's start (None: no readings)."""
    step = STEP[request]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    t = epoch + ((windows.now - span) - epoch) // step * step
    times, values = [], []
    while t < windows.now:
        v = value(t) if callable(value) else value
        if v is not None:
            times.append(t)
            values.append(v)
        t += step
    windows.series.setdefault(request, {})[point] = Series(tuple(times), tuple(values))


def judge(
    e: AlarmEngine,
    windows: Windows,
    rule: str,
    subject: str = "",
    facts: ControlFacts | None = None,
    baselines: Sequence[BaselineExpectation] = (),
) -> Assessment:
    found = [
        a
        for a in e.assess(windows.now, windows, facts, baselines)
        if a.key.rule == rule and a.key.subject == subject
    ]
    assert len(found) == 1, f"{rule}:{subject}: {len(found)} assessments"
    return found[0]

"""A winter Wednesday in Larissa with ten faults in different buildings and zones, on the real
simulator, adapter, InfluxDB and gateway (tests/alarms/stack.py): each fault raises exactly
one alarm in the API and one ``alarm.raised`` webhook while it lasts, without flapping, and the
alarm clears (``alarm.cleared``) once the fault is removed; nothing else raises an alarm above
info.

Local time is UTC+2. The faults (simulator faults unless said otherwise), and the alarm each
raises:

- 18:00 the eve - 11:00, the library's heat pump at 10 % (reduced_capacity): comfort.too_cold
  on the reading room. It opens at 08:30; after an hour's grace it stays below its band
  (20.25 °C) less 1.5 K for an hour at full heating output; back in the band by about 12:15.
- 06:00-07:30, meter library-hvac dead (dead_meter): communication.stale on the device, after
  twelve 0.5 s polls at speed 300 (30 min). The adapter retries a silent device with an
  exponential back-off in wall seconds, so at speed 300 it notices the meter again about as
  long after as it was dead: the alarm clears within 90 min.
- 06:00-08:00, the school's admin CO2 sensor reads 0 ppm (broken_sensor) outside the 300-5000
  ppm range this catalogue gives it: communication.quality on school-bms (over 20 % of the
  hour's readings flagged out_of_range).
- 07:00-11:00, an override of the town hall offices' setpoint through the gateway API,
  cancelled at 11:00: control.override_long after the 2 h this catalogue allows.
- 07:00-09:30, the school classrooms' heat pump short cycling every 6 min: hvac.short_cycling
  (10 starts an hour; the status points are read by COV, every start is stored).
- 09:00-11:00, the council chamber's cooling valve stuck at 30 % while it heats
  (heating_and_cooling): hvac.simultaneous_heat_cool.
- 08:00-12:00, an operator's value at priority 8 on the sports hall's setpoint
  (forgotten_override); at 09:00 an override through the API at priority 13 is overridden:
  control.command_refused, clearing an hour after the refusal. The controller's
  manual-override status shows the operator's value: control.override_long once it has been
  held for the 2 h this catalogue allows, clearing when it is released.
- 10:00-11:00, charger depot-cp2/1 reports Faulted over OCPP (charger_faulted):
  ev.charger_faulted.
- 09:00-14:30, the pool hall's temperature sensor stuck (stuck_sensor): sensor.flatlined after
  four hours without change while its heat pump runs. From 09:00 the hall still warms to its
  27 °C (its heat pump near a third of full output over those hours); a sensor stuck later,
  on the sunny afternoon, would sit beside a heat pump at 3-8 %, around the rule's 5 %.
- 13:00-14:00, 50 kW left on in the town hall (load_left_on): energy.peak_limit, a quarter
  hour above the 70 kW this catalogue contracts.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alarms.expect import Expected, problems
from alarms.stack import API, Scenario, Stack, running_stack
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.influx]

DAY = datetime(2026, 1, 13, 22, 0, tzinfo=UTC)  # Wednesday 14 January, local midnight
SPEED = 300.0  # five virtual minutes per wall second
END = 17.0  # local hour the run stops at


def local(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def window(
    kind: str, building: str, target: str, start: float, end: float, **kw: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "building": building,
        "target": target,
        "from": local(start).isoformat(),
        "until": local(end).isoformat(),
        **kw,
    }


FAULTS = (
    window("reduced_capacity", "library", "reading-room", -6.0, 11.0, factor=0.1),
    window("dead_meter", "library", "hvac", 6.0, 7.5),
    window("broken_sensor", "school", "zone-admin-co2", 6.0, 8.0, value=0.0),
    window("short_cycling", "school", "classrooms", 7.0, 9.5, period_minutes=6),
    window("heating_and_cooling", "town-hall", "council-chamber", 9.0, 11.0, fraction=0.3),
    window("forgotten_override", "sports-hall", "hall", 8.0, 12.0, value=19.0),
    window("charger_faulted", "depot", "depot-cp2/1", 10.0, 11.0),
    window("stuck_sensor", "sports-hall", "pool-hall", 9.0, 14.5),
    window("load_left_on", "town-hall", "plug", 13.0, 14.0, power_kw=50.0),
)
ALARMS = {
    "rules": {
        # a municipality that wants to hear of an override after two hours, not a day
        "control.override_long": {"raise_after_min": 120},
        # twelve polls (6 wall seconds): at speed 300 a busy test machine's pause of a few
        # wall seconds is a quarter of an hour without readings
        "communication.stale": {"raise_after_intervals": 12},
    },
}
OFFICES_SETPOINT = "larissa/town-hall/town-hall-bms/zone-offices-heating-setpoint"
HALL_SETPOINT = "larissa/sports-hall/sports-hall-bms/zone-hall-heating-setpoint"


def edit(document: dict[str, Any]) -> None:
    """The facility manager's settings this scenario relies on: a plausible range for the
    school's CO2 sensors, the town hall's contracted peak, and COV on the heat pumps' status
    (every start is stored, whatever the poll interval)."""
    for building in document["buildings"]:
        if building["id"] == "town-hall":
            building["contracted_peak_kw"] = 70.0
        for device in building["devices"]:
            for point in device.get("points", ()):
                if point["id"].endswith("-heat-pump-status"):
                    point["cov"] = True
                if building["id"] == "school" and point["id"].endswith("-co2"):
                    point["range"] = {"min": 300.0, "max": 5000.0}


SCENARIO = Scenario(
    name="winter-faults",
    start=local(5.0),
    speed=SPEED,
    faults=FAULTS,
    alarms=ALARMS,
    edit=edit,
    interval_s=300.0,
)


# rule, building, subject; the local hours the fault's condition holds from and to; within
# how many hours of those the alarm must be raised and cleared
EXPECTED = [
    ("comfort.too_cold", "library", "reading-room", 9.5, 11.0, 1.5, 2.5),
    ("communication.stale", "library", "library-hvac", 6.0, 7.5, 0.75, 1.5),
    ("communication.quality", "school", "school-bms", 6.0, 8.0, 0.75, 1.5),
    ("control.override_long", "town-hall", "town-hall-bms/zone-offices-heating-setpoint",
     9.0, 11.0, 0.5, 0.5),
    ("hvac.short_cycling", "school", "classrooms", 7.0, 9.5, 1.25, 1.25),
    ("hvac.simultaneous_heat_cool", "town-hall", "council-chamber", 9.0, 11.0, 0.75, 0.75),
    ("control.command_refused", "sports-hall", "sports-hall-bms/zone-hall-heating-setpoint",
     9.0, 9.0, 0.5, 1.75),
    ("control.override_long", "sports-hall", "sports-hall-bms/zone-hall-heating-setpoint",
     10.0, 12.0, 0.75, 0.75),
    ("ev.charger_faulted", "depot", "depot-cp2/connector-1-status", 10.0, 11.0, 0.75, 0.5),
    ("sensor.flatlined", "sports-hall", "sports-hall-bms/zone-pool-hall-temperature",
     9.0, 14.5, 5.0, 1.0),
    ("energy.peak_limit", "town-hall", "", 13.0, 14.0, 0.75, 1.75),
]  # fmt: skip


def expected() -> list[Expected]:
    h = timedelta(hours=1)
    return [
        Expected(rule, building, subject, local(since), local(until), r * h, c * h)
        for rule, building, subject, since, until, r, c in EXPECTED
    ]


async def _override(
    stack: Stack, point: str, value: float, priority: int | None = None
) -> dict[str, Any]:
    """An override through the API; without ``priority``, the API's default (9)."""
    building = point.split("/")[1]
    body: dict[str, Any] = {"point_id": point, "value": value, "duration_minutes": 480}
    if priority is not None:
        body["priority"] = priority
    response = await stack.http.post(f"{API}/buildings/{building}/overrides", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.mark.timeout(600)
async def test_each_winter_fault_raises_one_alarm_and_clears_when_removed(
    influx_server: InfluxServer, influx_store: InfluxStore, tmp_path: Path
) -> None:
    async with running_stack(SCENARIO, influx_server, influx_store, tmp_path) as stack:
        await stack.until(local(7.0))
        offices = await _override(stack, OFFICES_SETPOINT, 21.0)  # the default priority
        assert offices["status"] == "applied"
        await stack.until(local(9.0))
        refused = await _override(stack, HALL_SETPOINT, 20.0, 13)
        assert refused["status"] == "overridden"  # the operator's value at 8 stays in force
        await stack.until(local(9.25))
        response = await stack.http.delete(f"{API}/buildings/sports-hall/overrides/{refused['id']}")
        assert response.status_code == 200, response.text
        await stack.until(local(11.0))
        response = await stack.http.delete(f"{API}/buildings/town-hall/overrides/{offices['id']}")
        assert response.status_code == 200, response.text
        await stack.until(local(END))
        await asyncio.sleep(2.0)  # the last round's webhooks on their way
        alarms = await stack.alarms()
        deliveries = stack.hooks.events()
    found = problems(expected(), alarms, deliveries)
    assert not found, "\n".join(found)

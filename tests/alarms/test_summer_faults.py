"""A June day and the next morning in Larissa, on the real simulator, adapter, InfluxDB and
gateway (tests/alarms/stack.py): the rules that need warm weather raise one alarm each while
their fault lasts and clear once it is removed; nothing else raises an alarm above info (the
school's classrooms have no cooling and pass 28 °C on their own: info).

Local time is UTC+3. The town hall, the library and the school are simulated (fewer
controllers to poll at speed 600, a reading every 2.5 virtual minutes).

- From 17:00 the day before to 13:00, the council chamber's setpoint held at 25 °C by a
  forgotten override (priority 8): its cooling setpoint follows to 30 °C, the cooling stays
  off, and the June sun heats the room past 27.5 °C (26 °C less its 1.5 K margin) by 10:00:
  comfort.too_hot, a control problem (cooling output 0). Relinquished at 13:00, the cooling
  runs flat out but cannot bring the sunlit room back before the evening; the rule judges
  only occupied hours, so the alarm clears the next morning after the hour's grace, the room
  cooled overnight.
- 10:00-14:00, the school classrooms' heating valve stuck at 30 % while the air outside is
  22-26 °C, above the zone's heating limit (20 °C comfort less 3 K): hvac.heating_above_limit.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alarms.expect import Expected, problems
from alarms.stack import Scenario, running_stack
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.influx]

DAY = datetime(2026, 6, 9, 21, 0, tzinfo=UTC)  # Wednesday 10 June, local midnight
END = 24.0 + 10.0  # 10:00 the next morning


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


SCENARIO = Scenario(
    name="summer-faults",
    start=local(6.0),
    speed=600.0,
    poll_s=0.25,
    buildings=("town-hall", "library", "school"),
    faults=(
        window("forgotten_override", "town-hall", "council-chamber", -7.0, 13.0, value=25.0),
        window("stuck_heating", "school", "classrooms", 10.0, 14.0, fraction=0.3),
    ),
    alarms={"rules": {"communication.stale": {"raise_after_intervals": 24}}},
    interval_s=300.0,
)
# rule, building, subject; the local hours the fault's condition holds from and to; within
# how many hours of those the alarm must be raised and cleared
EXPECTED = [
    ("comfort.too_hot", "town-hall", "council-chamber", 10.0, 24.0 + 9.0, 1.5, 1.0),
    ("hvac.heating_above_limit", "school", "classrooms", 10.0, 14.0, 1.25, 0.75),
]


@pytest.mark.timeout(600)
async def test_each_summer_fault_raises_one_alarm_and_clears_when_removed(
    influx_server: InfluxServer, influx_store: InfluxStore, tmp_path: Path
) -> None:
    async with running_stack(SCENARIO, influx_server, influx_store, tmp_path) as stack:
        await stack.until(local(12.0))
        hot = [a for a in await stack.alarms("open") if a["rule"] == "comfort.too_hot"]
        await stack.until(local(END))
        await asyncio.sleep(2.0)  # the last round's webhooks on their way
        alarms = await stack.alarms()
        deliveries = stack.hooks.events()
    h = timedelta(hours=1)
    expected = [
        Expected(rule, building, subject, local(since), local(until), r * h, c * h)
        for rule, building, subject, since, until, r, c in EXPECTED
    ]
    found = problems(expected, alarms, deliveries)
    assert not found, "\n".join(found)
    # raised while the override kept the cooling off: a control problem, not the plant
    chamber = [a for a in hot if a["subject"] == "council-chamber"]
    assert len(chamber) == 1
    assert chamber[0]["severity"] == "warning"
    assert "cooling at only 0%" in chamber[0]["message"]

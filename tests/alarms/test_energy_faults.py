"""Energy alarms judged against the buildings' accepted baseline models, on the real simulator,
adapter, InfluxDB, savings service and gateway (tests/alarms/stack.py): a year of the
simulated municipality's history is exported from its model and imported as M&V baseline
(as ``make demo`` does), the savings service serves each building's expectation for the last
local day with its uncertainty, and the gateway judges the live meters against it. Each fault
raises one alarm and one ``alarm.raised`` webhook, and clears when it is over; no other rule
raises an alarm above info.

Local time is UTC+2; the clock runs at speed 1200 from Wednesday 14 January, local midnight,
to Friday 05:00 (the zone rules, which want a reading every five virtual minutes, hold at this
speed; the energy rules work on hourly counter values).

- Wednesday 08:00-16:00, 25 kW more in the school (load_left_on, plug: a heater left on):
  energy.above_baseline once the gateway has Wednesday's expectation, early on Thursday;
  cleared with Thursday's, early on Friday.
- Wednesday 22:00 to Thursday 02:00, 15 kW more in the town hall overnight: energy.after_hours
  when the mean of two unoccupied hours (after the two hours' wind-down since the 19:00
  closing) passes the model's prediction for those hours by three of its standard
  uncertainties; cleared by a span clean of the load (02:00-04:00 or the next). Its energy
  (60 kWh over two days) stays inside the daily expectations.

One run serves both tests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alarms.expect import Expected, problems
from alarms.stack import Scenario, running_stack
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.influx]

DAY = datetime(2026, 1, 13, 22, 0, tzinfo=UTC)  # Wednesday 14 January, local midnight
END = 48.0 + 8.0  # Friday 08:00


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
    name="energy-faults",
    start=local(0.0),
    speed=1200.0,
    faults=(
        window("load_left_on", "school", "plug", 8.0, 16.0, power_kw=25.0),
        window("load_left_on", "town-hall", "plug", 22.0, 26.0, power_kw=15.0),
    ),
    # 24 polls (4 virtual hours): a pause of a few wall seconds is hours at speed 1200
    alarms={"rules": {"communication.stale": {"raise_after_intervals": 24}}},
    interval_s=900.0,
    baseline_days=365,
)
# rule, building, subject; the local hours the fault's condition holds from and to; within
# how many hours of those the alarm must be raised and cleared. A day's expectation comes
# from fitting each building's baseline model, seconds of wall time per building: at speed
# 1200 the expectations of a day reach the gateway some virtual hours into the next.
# The after-hours rule judges the last two unoccupied hours against the model's prediction for
# exactly those hours, asked once per span and building, each a year's fit: at speed 1200 a
# fit of a wall second or two on a loaded machine is most of a virtual hour, so a span may be
# skipped — the first one wholly in the load (22:00-24:00) may be the first judged, an hour
# after it ends, and the first after the load (02:00-04:00) may give way to the next.
ABOVE_BASELINE = ("energy.above_baseline", "school", "", 24.0, 48.0, 6.0, 6.0)
AFTER_HOURS = ("energy.after_hours", "town-hall", "", 23.0, 28.0, 3.0, 4.0)


@dataclass(frozen=True)
class Outcome:
    alarms: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]


async def _run(influx: InfluxServer, store: InfluxStore, tmp: Path) -> Outcome:
    async with running_stack(SCENARIO, influx, store, tmp) as stack:
        await stack.until(local(END))
        await asyncio.sleep(2.0)  # the last round's webhooks on their way
        return Outcome(await stack.alarms(), stack.hooks.events())


@pytest.fixture(scope="module")
def outcome(
    influx_server: InfluxServer, influx_admin: InfluxStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Outcome]:
    """One run of the scenario for the module's tests, on a bucket of its own."""
    bucket = f"test_{uuid.uuid4().hex[:12]}"
    influx_admin.ensure_bucket(bucket)
    store = InfluxStore(influx_server.url, influx_server.token, influx_server.org, bucket)
    try:
        yield asyncio.run(_run(influx_server, store, tmp_path_factory.mktemp("energy")))
    finally:
        store.close()
        influx_admin.delete_bucket(bucket)


def _expected(row: tuple[str, str, str, float, float, float, float]) -> Expected:
    rule, building, subject, since, until, r, c = row
    h = timedelta(hours=1)
    return Expected(rule, building, subject, local(since), local(until), r * h, c * h)


def _only(rule: str, items: list[dict[str, Any]], nested: bool) -> list[dict[str, Any]]:
    return [i for i in items if (i["data"] if nested else i)["rule"] == rule]


@pytest.mark.timeout(900)
def test_a_day_above_the_baseline_raises_one_alarm(outcome: Outcome) -> None:
    rule = ABOVE_BASELINE[0]
    found = problems(
        [_expected(ABOVE_BASELINE)],
        _only(rule, outcome.alarms, nested=False),
        _only(rule, outcome.deliveries, nested=True),
    )
    assert not found, "\n".join(found)
    (school,) = _only(rule, outcome.alarms, nested=False)
    assert "expected" in school["message"]


@pytest.mark.timeout(900)
def test_a_load_left_on_overnight_raises_one_after_hours_alarm(outcome: Outcome) -> None:
    """The night's alarm, without flapping while the load is on, and no other after-hours
    alarm in any building over the two days."""
    rule = AFTER_HOURS[0]
    found = problems(
        [_expected(AFTER_HOURS)],
        _only(rule, outcome.alarms, nested=False),
        _only(rule, outcome.deliveries, nested=True),
    )
    assert not found, "\n".join(found)


@pytest.mark.timeout(900)
def test_no_other_rule_raises_an_alarm_above_info(outcome: Outcome) -> None:
    tested = {ABOVE_BASELINE[0], AFTER_HOURS[0]}
    others = [
        f"{a['first_seen']} {a['rule']} {a['building']}/{a['subject']}: {a['message']}"
        for a in outcome.alarms
        if a["rule"] not in tested and a["severity"] != "info"
    ]
    assert others == []

"""control.fallback_plan end to end: the real optimizer (dry run) plans the town hall and the
library (tests/alarms/stack.py). Its catalogue has the neighbourhood's transformer at 5 kW (a
typing error for 500): no plan keeps that limit, so every plan it makes is infeasible and
falls back to each building's own schedule, and the gateway raises one alarm per building
once that has lasted an hour. Restarted on the corrected catalogue it plans again, and both
alarms clear. Nothing else raises an alarm above info.

Local time is UTC+2; Wednesday 14 January, the clock at speed 300. The optimizer starts with
the clock (about two and a half virtual hours before 06:00, as the gateway starts) and
re-plans every 30 virtual minutes; it is restarted at 08:00.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alarms.expect import Expected, problems
from alarms.stack import GATEWAY_LEAD_S, Scenario, running_stack
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.influx]

DAY = datetime(2026, 1, 13, 22, 0, tzinfo=UTC)  # Wednesday 14 January, local midnight
SPEED = 300.0


def mistyped_transformer(document: dict[str, Any]) -> None:
    for hood in document["neighbourhoods"]:
        if hood["id"] == "kentro":
            hood["transformer_kw"] = 5.0


def local(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


SCENARIO = Scenario(
    name="optimizer-fallback",
    start=local(6.0),
    speed=SPEED,
    buildings=("town-hall", "library"),
    alarms={"rules": {"communication.stale": {"raise_after_intervals": 12}}},
    optimizer_edit=mistyped_transformer,
)
RELEASED = SCENARIO.start - timedelta(seconds=GATEWAY_LEAD_S * SPEED)  # the optimizer starts
RESTART = local(8.0)


@pytest.mark.timeout(600)
async def test_fallback_plans_raise_one_alarm_per_building_and_clear_once_planning(
    influx_server: InfluxServer, influx_store: InfluxStore, tmp_path: Path
) -> None:
    async with running_stack(SCENARIO, influx_server, influx_store, tmp_path) as stack:
        assert stack.optimizer is not None
        await stack.until(RESTART)
        open_before = await stack.alarms("open")
        assert stack.catalogue_path is not None
        await stack.optimizer.restart(stack.catalogue_path)
        await stack.until(local(10.0))
        await asyncio.sleep(2.0)  # the last round's webhooks on their way
        alarms = await stack.alarms()
        deliveries = stack.hooks.events()
    h = timedelta(hours=1)
    expected = [
        # an hour of fallback plans from the first one the gateway sees (it starts up to 30
        # wall seconds, 2.5 virtual hours, after the optimizer); planning again after the
        # restart (its start and first solve: some virtual minutes at speed 300)
        Expected("control.fallback_plan", building, "", RELEASED + h, RESTART, 2.5 * h, 1.0 * h)
        for building in ("town-hall", "library")
    ]
    found = problems(expected, alarms, deliveries)
    assert not found, "\n".join(found)
    fallbacks = [a for a in open_before if a["rule"] == "control.fallback_plan"]
    assert {a["building"] for a in fallbacks} == {"town-hall", "library"}
    assert all("fallback" in a["message"] for a in fallbacks), fallbacks

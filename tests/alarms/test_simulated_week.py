"""False alarms: a fault-free week of the default municipality, the simulator's model run in
process, every rule evaluated every ten simulated minutes, raises nothing above info and no
alarm more than once a day.

The winter week starts where the simulator's clock starts by default (Monday 12 January
2026, after a weekend's setback: the slowest morning warm-ups); the summer week is the hottest
of the year (cooling at full output in the town hall, zones without cooling over 28 °C: info).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from alarms.simulated import run_engine, simulate, utc
from polis.alarms.engine import AlarmEngine
from polis.alarms.model import Severity
from polis.simulator.config import load_config

pytestmark = [pytest.mark.unit, pytest.mark.slow]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("start", [utc(2026, 1, 12), utc(2026, 7, 13)], ids=["january", "july"])
def test_a_fault_free_week_raises_nothing_above_info(start: datetime) -> None:
    week = simulate(load_config(), start, 7)
    engine = AlarmEngine(week.catalogue)
    outcome = run_engine(
        engine,
        week.readings,
        start + timedelta(hours=6),
        start + timedelta(days=7),
        timedelta(minutes=10),
    )
    assert outcome.evaluations == 973  # 6 h into the week to its end, every 10 min
    above = [
        f"{a.at:%a %H:%M} {a.key} {a.severity}: {a.message}"
        for a in outcome.raised_above(Severity.INFO)
    ]
    assert above == []
    per_day = Counter((a.key, a.at.date()) for a in outcome.raised)
    assert max(per_day.values(), default=0) <= 1

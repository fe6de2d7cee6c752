"""What the engine's evidence holds: the series and figures a verdict rests on, a figure left
out when it could not be measured (never a placeholder such as -1), and no evidence at all when
a rule measured nothing, so that an open alarm keeps the evidence that raised it."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from alarms.scene import EXPORT, IMPORT, NOW, engine, healthy, judge, series

from polis.alarms.facts import BaselineExpectation, ExpectationKind
from polis.alarms.model import Status
from polis.alarms.rules.base import ENERGY
from polis.alarms.windows import Windows

pytestmark = pytest.mark.unit

DAY = BaselineExpectation(
    "b1",
    NOW - timedelta(hours=24),
    NOW - timedelta(hours=14),
    100.0,
    5.0,
    unoccupied_kw=5.0,
    unoccupied_uncertainty_kw=0.5,
)
# 00:00 to 02:00 of NOW's day (noon): unoccupied, clear of the evening's wind-down after
# 22:00 and of the 06:00 opening
NIGHT = BaselineExpectation(
    "b1",
    NOW - timedelta(hours=12),
    NOW - timedelta(hours=10),
    10.0,
    1.0,
    kind=ExpectationKind.AFTER_HOURS,
)


def test_an_empty_store_measures_nothing_and_gives_no_evidence() -> None:
    found = engine().assess(NOW, Windows(NOW), None, [DAY, NIGHT])
    readings_rules = [a for a in found if not a.key.rule.startswith("control.")]
    assert {a.key.rule for a in readings_rules} >= {
        "communication.stale",
        "comfort.too_cold",
        "hvac.heating_above_limit",
        "energy.above_baseline",
        "energy.after_hours",
    }
    for a in readings_rules:
        assert a.status is not Status.RAISE, a.key
        assert a.evidence.empty, (a.key, a.evidence)
    for a in found:  # the control rules' figures are counts and ages, all known
        for name, value in a.evidence.figures.items():
            assert value != -1.0, name
            assert not (isinstance(value, float) and math.isnan(value)), name


def test_energy_rules_that_cannot_measure_hold_without_evidence() -> None:
    windows = healthy()  # noon on a Wednesday: open, and no counter values at all
    above = judge(engine(), windows, "energy.above_baseline", baselines=[DAY])
    after = judge(engine(), windows, "energy.after_hours", baselines=[DAY, NIGHT])
    assert (above.status, after.status) == (Status.HOLD, Status.HOLD)
    assert above.evidence.empty
    assert after.evidence.empty
    assert "consumption unknown" in above.message
    assert "unknown from" in after.message
    # with the counter measured over the whole period, the same rule has figures to show
    hour = timedelta(hours=1)
    series(windows, ENERGY, IMPORT, lambda t: (t - NOW) / hour * 10 + 1000, DAY_SPAN)
    series(windows, ENERGY, EXPORT, 0.0, DAY_SPAN)
    measured = judge(engine(), windows, "energy.above_baseline", baselines=[DAY])
    assert measured.evidence.figures["measured_kwh"] == pytest.approx(100.0)
    assert measured.evidence.figures["threshold_kwh"] == 115.0


DAY_SPAN = timedelta(hours=30)

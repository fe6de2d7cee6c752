"""What the runner of the engine knows and InfluxDB does not: the typed facts it hands in.

The readings come from InfluxDB; these come from the gateway's own database and from the
savings service. Each evaluation is handed the facts *as they are now* (no history beyond what
each type carries), so any replica can evaluate after a leader handover.

- :class:`ControlFacts` feeds the ``control.*`` rules: operator overrides in force, buildings
  running on the optimizer's fallback plan, commands the adapter or a device refused.
- :class:`BaselineExpectation` feeds ``energy.above_baseline`` and ``energy.after_hours``: what
  the building's accepted baseline model (polis.savings) expects for a period, with its
  uncertainty.

Times are timezone-aware (UTC or any zone); point ids are full ids,
``municipality/building/device/point`` (:func:`polis.common.catalogue.point_id`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# How far back the runner should hand refused commands: the longest window the
# ``control.command_refused`` rule may be configured with (older refusals are ignored).
REFUSALS_LOOKBACK = timedelta(hours=24)


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got {value.isoformat()})")


@dataclass(frozen=True, slots=True)
class OverrideInForce:
    """A manual override an operator put on a command point, still in force."""

    building: str
    point_id: str  # the overridden command point (full id)
    since: datetime  # when the override was written
    by: str = ""  # who wrote it (user name or API key label), shown in the message
    value: float | None = None  # the value held, in the point's canonical unit
    until: datetime | None = None  # when it expires by itself; None: until cancelled

    def __post_init__(self) -> None:
        _aware("since", self.since)
        _aware("until", self.until)


@dataclass(frozen=True, slots=True)
class FallbackPlan:
    """A building whose loads currently follow the optimizer's fallback plan (its rule-based
    schedule, used when the optimization failed or timed out) instead of an optimized one."""

    building: str
    since: datetime  # the start of the uninterrupted run of fallback plans
    reason: str = ""  # why the optimizer fell back (solver status, missing forecast, …)

    def __post_init__(self) -> None:
        _aware("since", self.since)


@dataclass(frozen=True, slots=True)
class RefusedCommand:
    """A command the adapter or the device did not take (out of limits, write refused, read
    back differs, a higher-priority manual value wins)."""

    building: str
    point_id: str  # the command point (full id)
    at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        _aware("at", self.at)


@dataclass(frozen=True, slots=True)
class ControlFacts:
    """The control state of the municipality at evaluation time.

    ``refused_commands``: every refusal since ``now - REFUSALS_LOOKBACK`` (at least); the rule
    looks at those within its own window. Empty facts are valid: no ``control.*`` alarm is
    raised, and open ones clear.
    """

    overrides: tuple[OverrideInForce, ...] = ()
    fallback_plans: tuple[FallbackPlan, ...] = ()
    refused_commands: tuple[RefusedCommand, ...] = ()


class ExpectationKind(StrEnum):
    """What a :class:`BaselineExpectation` is for: a whole period (``energy.above_baseline``)
    or a stretch of unoccupied hours (``energy.after_hours``)."""

    PERIOD = "period"
    AFTER_HOURS = "after_hours"


@dataclass(frozen=True, slots=True)
class BaselineExpectation:
    """What a building's accepted baseline model expects over ``[start, end)``.

    ``expected_kwh`` is the model's prediction of the building's consumption within the IPMVP
    Option C boundary (the main meter's net energy, generation behind it added back, excluded
    sub-meters and storage taken off: polis.savings' boundary) under the period's actual
    weather and calendar; the engine measures the same boundary from the meters' energy
    counters. ``uncertainty_kwh`` is its standard uncertainty (one standard deviation) over the
    period: for a model with CV(RMSE) ``c`` on hourly data and errors roughly independent,
    ``c * expected / sqrt(hours)`` is a fair figure; the rule raises only above
    ``expected + k * uncertainty`` (k = 3 by default), so a noisy building with a wide
    uncertainty does not alarm. Periods are judged in whole hours (UTC).

    ``kind`` says which rule judges it. A ``PERIOD`` expectation (a past local day, say) feeds
    ``energy.above_baseline``: the latest one that has ended is judged. An ``AFTER_HOURS``
    expectation is the model's prediction for exactly the unoccupied hours
    :func:`polis.alarms.rules.energy.after_hours_span` names (the hour of the week and that
    night's weather in it: a Monday's early warm-up after a cold weekend is expected, a load
    left on is not); ``energy.after_hours`` compares the same hours' metered energy with it.

    ``unoccupied_kw`` (optional, informative) is the mean power the model expects in the
    period's unoccupied hours, ``unoccupied_uncertainty_kw`` its standard uncertainty for one
    hour's mean. Periods should be complete (``end <= now``); the engine ignores an
    expectation whose period has not ended.
    """

    building: str
    start: datetime
    end: datetime
    expected_kwh: float
    uncertainty_kwh: float
    unoccupied_kw: float | None = None
    unoccupied_uncertainty_kw: float = 0.0
    model: str = ""  # the model's label, shown in the message ("daily, HDD(15.5 °C)")
    kind: ExpectationKind = ExpectationKind.PERIOD

    def __post_init__(self) -> None:
        _aware("start", self.start)
        _aware("end", self.end)
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        for name in ("expected_kwh", "uncertainty_kwh", "unoccupied_uncertainty_kw"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite non-negative number (got {value})")
        kw = self.unoccupied_kw
        if kw is not None and not (math.isfinite(kw) and kw >= 0):
            raise ValueError(f"unoccupied_kw must be a finite non-negative number (got {kw})")

"""What every rule shares: its inputs, the hysteresis verdict, windows of a series, evidence."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from polis.alarms.facts import BaselineExpectation, ControlFacts
from polis.alarms.model import (
    AlarmKey,
    Assessment,
    Evidence,
    EvidenceSeries,
    Severity,
    Status,
)
from polis.alarms.windows import Series, Windows

# the requests of the engine's plan (polis.alarms.plan)
ZONE = "zone5"  # 5-minute means: zone temperatures, heat-pump outputs, power, status, outdoor
ZONE_MIN = "min5"  # 5-minute minima: heat-pump outputs, OCPP connector statuses
FLAT_MIN = "flat_min"  # 30-minute minima and maxima of temperature sensors
FLAT_MAX = "flat_max"
FLAT_PLANT = "flat_plant"  # 30-minute means of the plant those sensors belong to
DEMAND = "demand15"  # 15-minute mean power of main meters
ENERGY = "energy1h"  # hourly last values of the energy counters of the savings boundary
HELD = "held30"  # 30-minute minima of the controllers' manual-override status (a day and more)

STEP = {
    ZONE: timedelta(minutes=5),
    ZONE_MIN: timedelta(minutes=5),
    FLAT_MIN: timedelta(minutes=30),
    FLAT_MAX: timedelta(minutes=30),
    FLAT_PLANT: timedelta(minutes=30),
    DEMAND: timedelta(minutes=15),
    ENERGY: timedelta(hours=1),
    HELD: timedelta(minutes=30),
}


@dataclass(frozen=True, slots=True)
class Context:
    """One evaluation's inputs, shared by every rule."""

    now: datetime
    windows: Windows
    facts: ControlFacts = field(default_factory=ControlFacts)
    baselines: Sequence[BaselineExpectation] = ()
    time_scale: float = 1.0  # virtual seconds per wall second of the poll intervals
    # occupancy on the 5-minute grid, per Occupancy object, filled by the first rule asking
    grid: dict[int, dict[datetime, int | None]] = field(default_factory=dict)
    # whether a window is judged (occupied, past the start-up grace), per Occupancy and grace
    judged: dict[tuple[int, float, datetime], bool] = field(default_factory=dict)


def verdict(raise_: bool, clear: bool) -> Status:
    """RAISE when the raise condition holds, CLEAR when the clear condition holds, else HOLD
    (the hysteresis band). Raise wins should both hold."""
    if raise_:
        return Status.RAISE
    return Status.CLEAR if clear else Status.HOLD


@dataclass(frozen=True, slots=True)
class Recent:
    """The windows of a series that end within the last ``span``, and whether they cover it."""

    times: tuple[datetime, ...]
    values: tuple[float, ...]
    covered: bool


def recent(series: Series, now: datetime, span: timedelta, step: timedelta) -> Recent:
    """Windows ending after ``now - span``. Covered: the first starts at or before
    ``now - span`` and at most one window (or the one under way) is missing."""
    part = series.since(now - span - step + timedelta(microseconds=1))
    if not part.times:
        return Recent((), (), False)
    expected = int(span / step)
    fresh = part.times[-1] >= now - 2 * step
    covered = part.times[0] <= now - span and len(part) >= expected and fresh
    return Recent(part.times, part.values, covered)


def holds_throughout(window: Recent, condition: Sequence[bool]) -> bool:
    """The window covers its span and the condition holds in every one of its windows."""
    return window.covered and bool(condition) and all(condition)


def key(rule: str, building: str, subject: str) -> AlarmKey:
    return AlarmKey(rule, building, subject)


def chart(label: str, point: str | None, unit: str, series: Series) -> tuple[EvidenceSeries, ...]:
    """One evidence series (nothing when the point is unknown or has no values)."""
    if point is None or not series.times:
        return ()
    return (EvidenceSeries(label, point, unit, series.times, tuple(series.values)),)


def rounded(figures: Mapping[str, float | str]) -> dict[str, float | str]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}


def _known(measured: Mapping[str, float | str | None]) -> dict[str, float | str]:
    """The figures that were measured: None (and NaN) means not measured, and is left out."""
    return {
        k: v
        for k, v in measured.items()
        if v is not None and not (isinstance(v, float) and math.isnan(v))
    }


SEVERITIES = {s.value: s for s in Severity}
_NO_EVIDENCE = Evidence()


def assessment(
    k: AlarmKey,
    status: Status,
    ctx: Context,
    severity: str,
    message: str = "",
    points: Sequence[str] = (),
    series: Sequence[EvidenceSeries] = (),
    figures: Mapping[str, float | str] | None = None,
    measured: Mapping[str, float | str | None] | None = None,
) -> Assessment:
    """One verdict with its evidence: the series charted, the rule's ``figures`` (thresholds,
    durations) and what it ``measured`` (None where it could not). Without a series or a
    measured figure the evidence is empty: the rule judged nothing, and an open alarm keeps
    the evidence it has (polis.alarms.model.Evidence)."""
    known = _known(measured or {})
    evidence = (
        Evidence(tuple(series), rounded({**(figures or {}), **known}))
        if series or known
        else _NO_EVIDENCE
    )
    return Assessment(k, status, ctx.now, SEVERITIES[severity], message, tuple(points), evidence)


def minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60.0


def window_values(ctx: Context, request: str, point: str | None, span_min: float) -> Recent:
    step = STEP[request]
    return recent(ctx.windows.of(request, point), ctx.now, timedelta(minutes=span_min), step)

"""The alarm engine: the catalogue's bindings, the plan of what to fetch, and the assessment of
every rule on what was fetched (pure: no I/O, no state kept between evaluations).

    engine = AlarmEngine(catalogue, time_scale=clock.speed)
    plan = engine.plan(now, baselines)            # what the readings store must answer
    windows = source.fetch(plan)                  # polis.alarms.influx_source
    assessments = engine.assess(now, windows, facts, baselines)
    transitions = reconcile(assessments, active)  # polis.alarms.model

Every enabled rule assesses every subject it covers at every evaluation (RAISE, HOLD or
CLEAR), so an open alarm whose subject has no verdict has left the catalogue or had its rule
switched off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from polis.alarms.bindings import BuildingBinding, bind
from polis.alarms.facts import BaselineExpectation, ControlFacts, ExpectationKind
from polis.alarms.model import Assessment
from polis.alarms.rules import communication, control, energy, sensor, zones
from polis.alarms.rules.base import (
    DEMAND,
    ENERGY,
    FLAT_MAX,
    FLAT_MIN,
    FLAT_PLANT,
    HELD,
    STEP,
    ZONE,
    ZONE_MIN,
    Context,
)
from polis.alarms.windows import Aggregate, Plan, SeriesRequest, Windows
from polis.common.catalogue import Catalogue
from polis.common.catalogue.alarms import AlarmsConfig
from polis.common.catalogue.points import PointKind

EVIDENCE = timedelta(minutes=30)  # fetched before the longest span, for the evidence charts
SEEN_LOOKBACK = timedelta(hours=24)

Rule = Callable[[Context, BuildingBinding], Iterator[Assessment]]


def _minutes(values: Iterable[float]) -> timedelta:
    return timedelta(minutes=max(values, default=0.0))


@dataclass(frozen=True, slots=True)
class Spans:
    """How far back each request reaches before ``now`` (its rules' longest span)."""

    zone: timedelta
    zone_min: timedelta
    flat: timedelta
    demand: timedelta
    quality: timedelta
    starts: timedelta
    seen: timedelta
    held: timedelta


def _zone_span(buildings: Sequence[BuildingBinding]) -> timedelta:
    spans = []
    for z in (z for b in buildings for z in b.zones):
        p = z.params
        spans += [p.too_cold.raise_after_min, p.too_cold.clear_after_min]
        spans += [p.too_hot.raise_after_min, p.too_hot.clear_after_min]
        spans += [p.heating_limit.raise_after_min, p.heating_limit.clear_after_min]
        spans += [p.simultaneous.clear_after_min, p.short_cycling.window_min]
    return _minutes(spans) + STEP[ZONE] + EVIDENCE


def _held_span(alarms: AlarmsConfig, buildings: Sequence[BuildingBinding]) -> timedelta:
    """control.override_long's longest wait over the setpoints a controller can hold."""
    waits = [
        control.params_of(alarms, b, z.setpoint).override_long.raise_after_min
        for b in buildings
        for z in b.zones
        if z.manual_override is not None and z.setpoint is not None
    ]
    return _minutes(waits) + STEP[HELD] + EVIDENCE


def _spans(buildings: Sequence[BuildingBinding], time_scale: float, alarms: AlarmsConfig) -> Spans:
    zone_list = [z for b in buildings for z in b.zones]
    devices = [d for b in buildings for d in b.devices]
    stale = [
        communication.limits(p.stale, p.poll_interval_s, time_scale).raise_after
        for d in devices
        for p in d.points
    ]
    return Spans(
        zone=_zone_span(buildings),
        zone_min=_minutes(
            [z.params.simultaneous.raise_after_min for z in zone_list]
            + [c.params.raise_after_min for b in buildings for c in b.connectors]
            + [c.params.clear_after_min for b in buildings for c in b.connectors]
        )
        + STEP[ZONE_MIN]
        + EVIDENCE,
        flat=_minutes(s.params.raise_after_min for b in buildings for s in sensor.sensors(b))
        + STEP[FLAT_MIN],
        demand=_minutes(b.params.peak.window_min for b in buildings) + STEP[DEMAND] + EVIDENCE,
        quality=_minutes(p.quality.window_min for d in devices for p in d.points),
        starts=_minutes(z.params.short_cycling.window_min for z in zone_list),
        seen=max([SEEN_LOOKBACK, *(2 * s for s in stale)]),
        held=_held_span(alarms, buildings),
    )


def _quality_points(catalogue: Catalogue) -> frozenset[str]:
    """Points the adapter can flag one by one: those with a plausible range (out_of_range)
    and counters (reset). ``missing`` comes a device at a time: one point per device tells."""
    return frozenset(
        ref.point_id
        for ref in catalogue.points()
        if ref.point.range is not None or ref.point.kind is PointKind.CUMULATIVE
    )


def _points(values: Iterable[str | None]) -> frozenset[str]:
    return frozenset(v for v in values if v is not None)


class AlarmEngine:
    """Every built-in rule over one catalogue; ``time_scale`` is the clock's speed (virtual
    seconds per wall second), since poll intervals are wall seconds and readings carry
    virtual time."""

    def __init__(self, catalogue: Catalogue, *, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive (got {time_scale})")
        self.catalogue = catalogue
        self.time_scale = time_scale
        self.buildings = bind(catalogue)
        self.sensors = {b.id: sensor.sensors(b) for b in self.buildings}
        self.spans = _spans(self.buildings, time_scale, catalogue.alarms)
        self._zone_points = _points(
            p
            for b in self.buildings
            for z in b.zones
            for p in (
                z.temperature,
                z.heating_output,
                z.cooling_output,
                z.power,
                z.status,
                z.outdoor,
            )
        )
        self._min_points = _points(
            [
                p
                for b in self.buildings
                for z in b.zones
                if z.heating_output and z.cooling_output
                for p in (z.heating_output, z.cooling_output)
            ]
            + [c.point_id for b in self.buildings for c in b.connectors]
        )
        judged = [s for sensors in self.sensors.values() for s in sensors]
        self._flat_points = _points(s.point for s in judged)
        self._plant_points = _points(p for s in judged for p in s.plant)
        self._demand_points = _points(
            b.main_power for b in self.buildings if b.contracted_peak_kw is not None
        )
        self._status_points = _points(z.status for b in self.buildings for z in b.zones)
        self._held_points = _points(
            z.manual_override for b in self.buildings for z in b.zones if z.setpoint is not None
        )
        self._all_points = frozenset(p for b in self.buildings for p in b.point_ids())
        self._first_points = frozenset(
            d.points[0].point_id for b in self.buildings for d in b.devices if d.points
        )
        self._quality_points = _quality_points(catalogue) | self._first_points

    # -- the plan -------------------------------------------------------------------------

    def _series(
        self, name: str, fn: Aggregate, span: timedelta, points: frozenset[str], now: datetime
    ) -> SeriesRequest:
        return SeriesRequest(name, fn, STEP[name], now - span, now, points)

    def _energy(
        self, now: datetime, baselines: Sequence[BaselineExpectation]
    ) -> SeriesRequest | None:
        """Hourly counter values back to the earliest period any rule judges."""
        starts: dict[str, datetime] = {}
        by_id = {b.id: b for b in self.buildings}
        for b in self.buildings:
            e = energy.latest(baselines, b.id, now)
            if e is not None and b.params.above_baseline.enabled:
                starts[b.id] = e.start
            night = energy.latest(baselines, b.id, now, ExpectationKind.AFTER_HOURS)
            if night is not None and b.params.after_hours.enabled:
                starts[b.id] = min(starts.get(b.id, night.start), night.start)
        if not starts:
            return None
        points = _points(c.point_id for bid in starts for c in by_id[bid].counters)
        start = min(starts.values()).replace(minute=0, second=0, microsecond=0) - 2 * STEP[ENERGY]
        return SeriesRequest(ENERGY, Aggregate.LAST, STEP[ENERGY], start, now, points)

    def plan(self, now: datetime, baselines: Sequence[BaselineExpectation] = ()) -> Plan:
        s = self.spans
        series = [
            self._series(ZONE, Aggregate.MEAN, s.zone, self._zone_points, now),
            self._series(ZONE_MIN, Aggregate.MIN, s.zone_min, self._min_points, now),
            self._series(FLAT_MIN, Aggregate.MIN, s.flat, self._flat_points, now),
            self._series(FLAT_MAX, Aggregate.MAX, s.flat, self._flat_points, now),
            self._series(FLAT_PLANT, Aggregate.MEAN, s.flat, self._plant_points, now),
            self._series(DEMAND, Aggregate.MEAN, s.demand, self._demand_points, now),
            self._series(HELD, Aggregate.MIN, s.held, self._held_points, now),
        ]
        counters = self._energy(now, baselines)
        if counters is not None:
            series.append(counters)
        return Plan(
            now=now,
            seen_start=now - s.seen,
            seen_points=self._all_points,
            quality_start=now - s.quality,
            quality_points=self._quality_points,
            first_points=self._first_points,
            series=tuple(r for r in series if r.points),
            starts_start=now - s.starts if self._status_points else None,
            starts_points=self._status_points,
        )

    # -- the assessment -------------------------------------------------------------------

    def _rules(self, b: BuildingBinding) -> list[Rule]:
        alarms = self.catalogue.alarms
        judged = self.sensors[b.id]
        return [
            communication.stale,
            communication.quality,
            zones.comfort,
            zones.simultaneous,
            zones.heating_above_limit,
            zones.short_cycling,
            lambda ctx, bb: sensor.flatlined(ctx, bb, judged),
            energy.above_baseline,
            energy.after_hours,
            energy.peak_limit,
            lambda ctx, bb: control.override_long(ctx, alarms, bb),
            control.fallback_plan,
            lambda ctx, bb: control.command_refused(ctx, alarms, bb),
            control.charger_faulted,
        ]

    def assess(
        self,
        now: datetime,
        windows: Windows,
        facts: ControlFacts | None = None,
        baselines: Sequence[BaselineExpectation] = (),
    ) -> list[Assessment]:
        """Every rule's verdict on every subject at ``now``."""
        if now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        ctx = Context(now, windows, facts or ControlFacts(), tuple(baselines), self.time_scale)
        out: list[Assessment] = []
        for b in self.buildings:
            for rule in self._rules(b):
                out.extend(rule(ctx, b))
        return out

"""control.override_long, control.fallback_plan, control.command_refused and
ev.charger_faulted.

The control rules judge the facts the gateway hands in (polis.alarms.facts); every command
point and every building is assessed each time, so an alarm whose override was cancelled, or
whose building left its fallback plan, clears without the engine remembering anything.
control.override_long also reads the controllers' own account: a zone's manual-override
status (1 while its setpoint is held at a manual priority, 1-8, by someone at the panel or
another system) held throughout the rule's wait is an override as long as one written through
Polis.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta

from polis.alarms.bindings import BuildingBinding, ControlParams, ZoneBinding, control_params
from polis.alarms.facts import OverrideInForce, RefusedCommand
from polis.alarms.model import Assessment, Status
from polis.alarms.rules.base import (
    HELD,
    STEP,
    ZONE_MIN,
    Context,
    assessment,
    chart,
    key,
    verdict,
    window_values,
)
from polis.common.catalogue.alarms import AlarmsConfig

OVERRIDE_LONG = "control.override_long"
FALLBACK = "control.fallback_plan"
REFUSED = "control.command_refused"
CHARGER = "ev.charger_faulted"
UNAVAILABLE = 7.0  # OCPP connector status codes 7 (unavailable) and 8 (faulted)


def subject_of(point_id: str) -> str:
    """``device/point`` of a full point id (the id itself if it is not one)."""
    parts = point_id.split("/")
    return "/".join(parts[2:]) if len(parts) == 4 else point_id


def params_of(alarms: AlarmsConfig, b: BuildingBinding, point: str) -> ControlParams:
    """A command point's parameters; a point the catalogue lacks gets its building's."""
    found = b.commands.get(point)
    return found if found is not None else control_params(alarms, b.id, subject_of(point))


HELD_ON = 0.5  # the manual-override status is 0/1


def _held_at_controller(
    ctx: Context, zone: ZoneBinding, point: str, raise_after_min: float, severity: str
) -> Assessment:
    """The controller's manual-override status of the zone whose setpoint ``point`` is:
    RAISE when it was on throughout the last ``raise_after_min``, CLEAR when its latest
    half hour saw it off, HOLD otherwise (on for less long, or no fresh readings)."""
    status = zone.manual_override
    assert status is not None
    held = window_values(ctx, HELD, status, raise_after_min)
    fresh = bool(held.times) and held.times[-1] >= ctx.now - 2 * STEP[HELD]
    raise_ = held.covered and all(v >= HELD_ON for v in held.values)
    clear = fresh and held.values[-1] < HELD_ON
    span = ctx.now - timedelta(minutes=raise_after_min) - 2 * STEP[HELD]
    return assessment(
        key(OVERRIDE_LONG, zone.building, subject_of(point)),
        verdict(raise_, clear),
        ctx,
        severity,
        f"{subject_of(point)}: held by a manual command at the controller (priority 1-8) "
        f"for {raise_after_min / 60:.1f} h and more",
        (point, status),
        chart("manual override", status, "1", ctx.windows.of(HELD, status).since(span)),
        {"limit_h": raise_after_min / 60},
        {"held": held.values[-1] if fresh else None},
    )


def _override(
    ctx: Context,
    alarms: AlarmsConfig,
    b: BuildingBinding,
    point: str,
    o: OverrideInForce | None,
    zone: ZoneBinding | None,
) -> Assessment | None:
    """An override through Polis (``o``) or held at the controller (``zone``'s status): the
    one that raises wins; a Polis override in force keeps an alarm open."""
    ref = subject_of(point)
    p = params_of(alarms, b, point).override_long
    if not p.enabled:
        return None
    panel = None
    if zone is not None:
        panel = _held_at_controller(ctx, zone, point, p.raise_after_min, p.severity)
    if panel is not None and (o is None or panel.status is Status.RAISE):
        return panel
    if o is None:
        return assessment(
            key(OVERRIDE_LONG, b.id, ref), Status.CLEAR, ctx, p.severity, "", (point,)
        )
    age = ctx.now - o.since
    limit = timedelta(minutes=p.raise_after_min)
    by = f" by {o.by}" if o.by else ""
    value = f" at {o.value:g}" if o.value is not None else ""
    return assessment(
        key(OVERRIDE_LONG, b.id, ref),
        Status.RAISE if age > limit else Status.HOLD,
        ctx,
        p.severity,
        f"{ref}: overridden{value}{by} since {o.since:%Y-%m-%d %H:%M} "
        f"({age.total_seconds() / 3600:.1f} h)",
        (point,),
        figures={"limit_h": p.raise_after_min / 60},
        measured={"age_h": age.total_seconds() / 3600, "by": o.by, "value": o.value},
    )


def override_long(ctx: Context, alarms: AlarmsConfig, b: BuildingBinding) -> Iterator[Assessment]:
    held: dict[str, OverrideInForce] = {}
    for o in ctx.facts.overrides:
        if o.building == b.id and (o.point_id not in held or o.since < held[o.point_id].since):
            held[o.point_id] = o  # the oldest override of a point is the one that counts
    panels = {
        z.setpoint: z for z in b.zones if z.setpoint is not None and z.manual_override is not None
    }
    for point in sorted({*b.commands, *held, *panels}):
        found = _override(ctx, alarms, b, point, held.get(point), panels.get(point))
        if found is not None:
            yield found


def fallback_plan(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    p = b.params.fallback
    if not p.enabled:
        return
    fact = min(
        (f for f in ctx.facts.fallback_plans if f.building == b.id),
        key=lambda f: f.since,
        default=None,
    )
    if fact is None:
        yield assessment(
            key(FALLBACK, b.id, ""),
            Status.CLEAR,
            ctx,
            p.severity,
            f"building {b.id}: optimized plans",
        )
        return
    age = ctx.now - fact.since
    reason = f": {fact.reason}" if fact.reason else ""
    yield assessment(
        key(FALLBACK, b.id, ""),
        Status.RAISE if age >= timedelta(minutes=p.raise_after_min) else Status.HOLD,
        ctx,
        p.severity,
        f"building {b.id}: on the optimizer's fallback plan "
        f"since {fact.since:%Y-%m-%d %H:%M}{reason}",
        figures={"limit_min": p.raise_after_min},
        measured={"age_min": age.total_seconds() / 60, "reason": fact.reason},
    )


def _refusals(ctx: Context, b: str) -> Mapping[str, list[RefusedCommand]]:
    out: dict[str, list[RefusedCommand]] = {}
    for r in ctx.facts.refused_commands:
        if r.building == b and r.at <= ctx.now:
            out.setdefault(r.point_id, []).append(r)
    return out


def _refused(
    ctx: Context,
    alarms: AlarmsConfig,
    b: BuildingBinding,
    point: str,
    refusals: list[RefusedCommand],
) -> Assessment | None:
    ref = subject_of(point)
    p = params_of(alarms, b, point).refused
    if not p.enabled:
        return None
    within = [r for r in refusals if r.at > ctx.now - timedelta(minutes=p.window_min)]
    recent = [r for r in refusals if r.at > ctx.now - timedelta(minutes=p.clear_after_min)]
    last = max(refusals, key=lambda r: r.at, default=None)
    reason = f": {last.reason}" if last is not None and last.reason else ""
    return assessment(
        key(REFUSED, b.id, ref),
        verdict(len(within) >= p.raise_count, not recent),
        ctx,
        p.severity,
        f"{ref}: {len(within)} command(s) refused in {p.window_min:.0f} min{reason}",
        (point,),
        figures={"raise_count": float(p.raise_count), "window_min": p.window_min},
        measured={"refused": float(len(within))},
    )


def command_refused(ctx: Context, alarms: AlarmsConfig, b: BuildingBinding) -> Iterator[Assessment]:
    refusals = _refusals(ctx, b.id)
    for point in sorted({*b.commands, *refusals}):
        found = _refused(ctx, alarms, b, point, refusals.get(point, []))
        if found is not None:
            yield found


def charger_faulted(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    for connector in b.connectors:
        point, ref, p = connector.point_id, connector.ref, connector.params
        if not p.enabled:
            continue
        stuck = window_values(ctx, ZONE_MIN, point, p.raise_after_min)
        fine = window_values(ctx, ZONE_MIN, point, p.clear_after_min)
        raise_ = stuck.covered and all(v >= UNAVAILABLE for v in stuck.values)
        clear = fine.covered and all(v < UNAVAILABLE for v in fine.values)
        latest = stuck.values[-1] if stuck.values else None
        yield assessment(
            key(CHARGER, b.id, ref),
            verdict(raise_, clear),
            ctx,
            p.severity,
            f"{ref}: {_connector_state(latest)} for {p.raise_after_min:.0f} min",
            (point,),
            chart(
                "connector status",
                point,
                "1",
                ctx.windows.of(ZONE_MIN, point).since(
                    ctx.now - timedelta(minutes=3 * p.raise_after_min)
                ),
            ),
            {"duration_min": p.raise_after_min},
            {"status": latest},
        )


def _connector_state(status: float | None) -> str:
    if status is None:
        return "status unknown"
    return "faulted" if status >= 8 else "unavailable"

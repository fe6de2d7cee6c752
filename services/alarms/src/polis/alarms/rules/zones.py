"""Rules on a zone: comfort.too_cold / comfort.too_hot, hvac.simultaneous_heat_cool,
hvac.heating_above_limit, hvac.short_cycling.

All judge 5-minute means (minima for simultaneity) over whole recent spans: "throughout the
last N minutes" means every 5-minute window ending in them, with the span covered by readings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from polis.alarms.bindings import BuildingBinding, ZoneBinding
from polis.alarms.model import Assessment, Status
from polis.alarms.occupancy import Occupancy
from polis.alarms.rules.base import (
    ZONE,
    ZONE_MIN,
    Context,
    Recent,
    assessment,
    chart,
    holds_throughout,
    key,
    verdict,
    window_values,
)
from polis.common.catalogue.alarms import ComfortParams

TOO_COLD = "comfort.too_cold"
TOO_HOT = "comfort.too_hot"
SIMULTANEOUS = "hvac.simultaneous_heat_cool"
HEATING_LIMIT = "hvac.heating_above_limit"
SHORT_CYCLING = "hvac.short_cycling"
GRID = timedelta(minutes=5)


def period_at(ctx: Context, occupancy: Occupancy, t: datetime) -> int | None:
    """The occupancy period in force at ``t`` (memoised per evaluation)."""
    memo = ctx.grid.setdefault(id(occupancy), {})
    if t not in memo:
        memo[t] = occupancy.period_at(t)
    return memo[t]


def judged(ctx: Context, occupancy: Occupancy, t: datetime, grace_min: float) -> bool:
    """Occupied at ``t`` and for ``grace_min`` before it (the morning start-up is not judged)."""
    memo = (id(occupancy), grace_min, t)
    found = ctx.judged.get(memo)
    if found is None:
        steps = int(grace_min // 5)
        found = all(period_at(ctx, occupancy, t - k * GRID) is not None for k in range(steps + 1))
        ctx.judged[memo] = found
    return found


def recovering(window: Recent, p: ComfortParams, cold: bool) -> bool:
    """The zone moves towards its band at ``recovering_k_per_h`` or faster over the window
    (a morning warm-up at full output, not a fault)."""
    if len(window.times) < 2:
        return False
    hours = (window.times[-1] - window.times[0]).total_seconds() / 3600
    rise = (window.values[-1] - window.values[0]) * (1 if cold else -1)
    return hours > 0 and rise / hours >= p.recovering_k_per_h


def _lower(z: ZoneBinding, index: int, p: ComfortParams) -> float:
    return z.bands[index].lo_c if z.bands else p.default_lo_c


def _upper(z: ZoneBinding, index: int, p: ComfortParams) -> float:
    """The band's top, at least ``upper_limit_c``, and at least the cooling setpoint of a zone
    whose controller cools (it holds the zone there by design)."""
    limit = max(z.bands[index].hi_c if z.bands else p.upper_limit_c, p.upper_limit_c)
    if z.cooling_offset_k is not None and z.bands:
        limit = max(limit, z.bands[index].lo_c + z.cooling_offset_k)
    return limit


def _beyond(
    ctx: Context, z: ZoneBinding, p: ComfortParams, window: Recent, margin: float, cold: bool
) -> list[bool]:
    """Per window: judged, and beyond the band by more than ``margin`` (cold: below)."""
    out = []
    for t, value in zip(window.times, window.values, strict=True):
        index = period_at(ctx, z.occupancy, t)
        if index is None or not judged(ctx, z.occupancy, t, p.startup_grace_min):
            out.append(False)
        elif cold:
            out.append(value < _lower(z, index, p) - margin)
        else:
            out.append(value > _upper(z, index, p) + margin)
    return out


def _output_share(ctx: Context, z: ZoneBinding, span_min: float, cold: bool) -> float | None:
    """Mean heating (cooling) output over the span as a share of full, from the output point,
    else (heating only) the heat pump's power against the zone's maximum."""
    point = z.heating_output if cold else z.cooling_output
    window = window_values(ctx, ZONE, point, span_min)
    if window.values:
        return sum(window.values) / len(window.values) / 100.0
    if cold and z.power is not None:
        power = window_values(ctx, ZONE, z.power, span_min)
        if power.values:
            return sum(power.values) / len(power.values) / z.max_kw
    return None


def _under_capacity(z: ZoneBinding, share: float | None, p: ComfortParams, cold: bool) -> bool:
    """The plant ran at full output, or the zone has no cooling at all (too hot)."""
    no_cooling = not cold and z.cooling_offset_k is None
    return no_cooling or (share is not None and share >= p.full_power)


def _diagnosis(z: ZoneBinding, share: float | None, p: ComfortParams, cold: bool) -> str:
    plant = "heat pump" if cold else "cooling"
    if not cold and z.cooling_offset_k is None:
        return "the zone has no cooling"
    if share is None:
        return f"{plant} output unknown"
    if share >= p.full_power:
        return f"{plant} at {share:.0%} of full output: under capacity"
    return (
        f"{plant} at only {share:.0%} of full output: "
        "a control problem (setpoint, schedule or controller)"
    )


def _comfort(ctx: Context, z: ZoneBinding, cold: bool) -> Assessment:
    p = z.params.too_cold if cold else z.params.too_hot
    raising = window_values(ctx, ZONE, z.temperature, p.raise_after_min)
    clearing = window_values(ctx, ZONE, z.temperature, p.clear_after_min)
    raise_ = holds_throughout(
        raising, _beyond(ctx, z, p, raising, p.raise_margin_k, cold)
    ) and not recovering(raising, p, cold)
    within = [
        not beyond and judged(ctx, z.occupancy, t, p.startup_grace_min)
        for t, beyond in zip(
            clearing.times, _beyond(ctx, z, p, clearing, p.clear_margin_k, cold), strict=True
        )
    ]
    status = verdict(raise_, holds_throughout(clearing, within))
    share = _output_share(ctx, z, p.raise_after_min, cold)
    index = period_at(ctx, z.occupancy, raising.times[-1]) if raising.times else None
    limit = _limit(z, index, p, cold)
    latest = raising.values[-1] if raising.values else None
    word = "below" if cold else "above"
    now_c = "no recent reading" if latest is None else f"{latest:.1f} °C"
    message = (
        f"zone {z.zone}: {now_c}, {word} {limit:.1f} °C for {p.raise_after_min:.0f} min "
        f"of occupancy; {_diagnosis(z, share, p, cold)}"
        if status is not Status.CLEAR
        else f"zone {z.zone}: back within its comfort band"
    )
    output = z.heating_output if cold else z.cooling_output
    span = ctx.now - timedelta(minutes=2 * max(p.raise_after_min, p.clear_after_min))
    severity = p.severity
    if p.under_capacity_severity is not None and _under_capacity(z, share, p, cold):
        severity = p.under_capacity_severity
    return assessment(
        key(TOO_COLD if cold else TOO_HOT, z.building, z.zone),
        status,
        ctx,
        severity,
        message,
        tuple(x for x in (z.temperature, output, z.power) if x is not None),
        chart(
            "zone temperature",
            z.temperature,
            "degC",
            ctx.windows.of(ZONE, z.temperature).since(span),
        )
        + chart("output", output, "%", ctx.windows.of(ZONE, output).since(span)),
        {
            "threshold_c": limit,
            "margin_k": p.raise_margin_k,
            "clear_margin_k": p.clear_margin_k,
            "duration_min": p.raise_after_min,
        },
        {"measured_c": latest, "output_share": share},
    )


def _limit(z: ZoneBinding, index: int | None, p: ComfortParams, cold: bool) -> float:
    """The raise threshold in the period in force (the first period's out of hours)."""
    i = index if index is not None else 0
    if cold:
        return _lower(z, i, p) - p.raise_margin_k
    return _upper(z, i, p) + p.raise_margin_k


def comfort(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    for z in b.zones:
        if z.temperature is None:
            continue
        if z.params.too_cold.enabled:
            yield _comfort(ctx, z, cold=True)
        if z.params.too_hot.enabled:
            yield _comfort(ctx, z, cold=False)


def _shares(window: Recent) -> list[float]:
    return [v / 100.0 for v in window.values]


def _simultaneous(ctx: Context, z: ZoneBinding) -> Assessment:
    p = z.params.simultaneous
    assert z.heating_output is not None
    assert z.cooling_output is not None
    heat_min = window_values(ctx, ZONE_MIN, z.heating_output, p.raise_after_min)
    cool_min = window_values(ctx, ZONE_MIN, z.cooling_output, p.raise_after_min)
    both = _paired(
        heat_min, cool_min, lambda h, c: h / 100 >= p.raise_output and c / 100 >= p.raise_output
    )
    raise_ = heat_min.covered and cool_min.covered and bool(both) and all(both)
    heat = window_values(ctx, ZONE, z.heating_output, p.clear_after_min)
    cool = window_values(ctx, ZONE, z.cooling_output, p.clear_after_min)
    apart = _paired(heat, cool, lambda h, c: h / 100 < p.raise_output or c / 100 < p.raise_output)
    clear = heat.covered and cool.covered and bool(apart) and all(apart)
    status = verdict(raise_, clear)
    span = ctx.now - timedelta(minutes=2 * max(p.raise_after_min, p.clear_after_min))
    return assessment(
        key(SIMULTANEOUS, z.building, z.zone),
        status,
        ctx,
        p.severity,
        f"zone {z.zone}: heating and cooling at once for {p.raise_after_min:.0f} min"
        if status is not Status.CLEAR
        else f"zone {z.zone}: no longer heating and cooling at once",
        (z.heating_output, z.cooling_output),
        chart(
            "heating output",
            z.heating_output,
            "%",
            ctx.windows.of(ZONE, z.heating_output).since(span),
        )
        + chart(
            "cooling output",
            z.cooling_output,
            "%",
            ctx.windows.of(ZONE, z.cooling_output).since(span),
        ),
        {"raise_output": p.raise_output, "duration_min": p.raise_after_min},
        {
            "heating_min_share": min(_shares(heat_min), default=None),
            "cooling_min_share": min(_shares(cool_min), default=None),
        },
    )


def _paired(a: Recent, b: Recent, test: Callable[[float, float], bool]) -> list[bool]:
    """``test`` of the two series' values in the windows both have."""
    other = dict(zip(b.times, b.values, strict=True))
    return [bool(test(v, other[t])) for t, v in zip(a.times, a.values, strict=True) if t in other]


def simultaneous(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    for z in b.zones:
        if z.params.simultaneous.enabled and z.heating_output and z.cooling_output:
            yield _simultaneous(ctx, z)


def heating_limit_c(z: ZoneBinding) -> float:
    """The zone's heating limit: as the catalogue states it, else its occupied comfort bound
    (the highest ``lo_c`` of its periods; 20 °C without any) less ``limit_below_band_k``."""
    if z.heating_limit_c is not None:
        return z.heating_limit_c
    comfort = max((band.lo_c for band in z.bands), default=z.params.too_cold.default_lo_c)
    return comfort - z.params.heating_limit.limit_below_band_k


def _heating(ctx: Context, z: ZoneBinding, span_min: float) -> Recent:
    """Heating as a share of full output per window."""
    if z.heating_output is not None:
        window = window_values(ctx, ZONE, z.heating_output, span_min)
        return Recent(window.times, tuple(_shares(window)), window.covered)
    window = window_values(ctx, ZONE, z.power, span_min)
    return Recent(window.times, tuple(v / z.max_kw for v in window.values), window.covered)


def _heating_above_limit(ctx: Context, z: ZoneBinding) -> Assessment:
    p = z.params.heating_limit
    limit = heating_limit_c(z)
    heat = _heating(ctx, z, p.raise_after_min)
    outdoor = window_values(ctx, ZONE, z.outdoor, p.raise_after_min)
    pairs = _paired(
        heat, outdoor, lambda h, o: h >= p.raise_output and o >= limit + p.raise_margin_k
    )
    raise_ = heat.covered and outdoor.covered and bool(pairs) and all(pairs)
    heat_c = _heating(ctx, z, p.clear_after_min)
    outdoor_c = window_values(ctx, ZONE, z.outdoor, p.clear_after_min)
    calm = _paired(
        heat_c, outdoor_c, lambda h, o: h < p.raise_output or o < limit + p.clear_margin_k
    )
    clear = heat_c.covered and outdoor_c.covered and bool(calm) and all(calm)
    status = verdict(raise_, clear)
    mean_out = sum(outdoor.values) / len(outdoor.values) if outdoor.values else None
    outdoors = "unknown" if mean_out is None else f"{mean_out:.1f} °C"
    span = ctx.now - timedelta(minutes=2 * max(p.raise_after_min, p.clear_after_min))
    heat_point = z.heating_output or z.power
    return assessment(
        key(HEATING_LIMIT, z.building, z.zone),
        status,
        ctx,
        p.severity,
        f"zone {z.zone}: heating for {p.raise_after_min:.0f} min while outdoors "
        f"{outdoors}, above its heating limit {limit:.1f} °C"
        if status is not Status.CLEAR
        else f"zone {z.zone}: no heating above its heating limit",
        tuple(x for x in (heat_point, z.outdoor) if x is not None),
        chart(
            "heating",
            heat_point,
            "%" if z.heating_output else "kW",
            ctx.windows.of(ZONE, heat_point).since(span),
        )
        + chart(
            "outdoor temperature", z.outdoor, "degC", ctx.windows.of(ZONE, z.outdoor).since(span)
        ),
        {
            "heating_limit_c": limit,
            "raise_margin_k": p.raise_margin_k,
            "raise_output": p.raise_output,
            "duration_min": p.raise_after_min,
        },
        {
            "outdoor_mean_c": mean_out,
            "heating_mean_share": sum(heat.values) / len(heat.values) if heat.values else None,
        },
    )


def heating_above_limit(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    for z in b.zones:
        has_heat = z.heating_output is not None or z.power is not None
        if z.params.heating_limit.enabled and has_heat and z.outdoor is not None:
            yield _heating_above_limit(ctx, z)


def _short_cycling(ctx: Context, z: ZoneBinding) -> Assessment:
    p = z.params.short_cycling
    assert z.status is not None
    starts = ctx.windows.starts.get(z.status)
    status = (
        Status.HOLD
        if starts is None
        else verdict(starts >= p.raise_starts, starts <= p.clear_starts)
    )
    span = ctx.now - timedelta(minutes=2 * p.window_min)
    count = "an unknown number of" if starts is None else str(starts)
    return assessment(
        key(SHORT_CYCLING, z.building, z.zone),
        status,
        ctx,
        p.severity,
        f"zone {z.zone}: heat pump started {count} times in {p.window_min:.0f} min "
        f"(limit {p.raise_starts})",
        (z.status,),
        chart(
            "heat pump running (share of time)",
            z.status,
            "1",
            ctx.windows.of(ZONE, z.status).since(span),
        ),
        {
            "raise_starts": float(p.raise_starts),
            "clear_starts": float(p.clear_starts),
            "window_min": p.window_min,
        },
        {"starts": float(starts) if starts is not None else None},
    )


def short_cycling(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    for z in b.zones:
        if z.params.short_cycling.enabled and z.status is not None:
            yield _short_cycling(ctx, z)

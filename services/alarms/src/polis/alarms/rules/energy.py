"""energy.above_baseline, energy.after_hours and energy.peak_limit.

Consumption is the savings service's boundary (polis.alarms.bindings.Counter): the main
meter's net energy, plus generation behind it, less excluded sub-meters and storage, from
the counters' hourly last values. An hour's energy is its last value less the previous
hour's; a counter that went backwards (reset, roll-over) counts from zero again, as in
polis.savings.metered. A period with an hour missing is not judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from polis.alarms.bindings import BuildingBinding
from polis.alarms.facts import BaselineExpectation, ExpectationKind
from polis.alarms.model import Assessment, Status
from polis.alarms.rules.base import (
    DEMAND,
    ENERGY,
    Context,
    assessment,
    chart,
    key,
    verdict,
    window_values,
)
from polis.alarms.windows import Series

ABOVE_BASELINE = "energy.above_baseline"
AFTER_HOURS = "energy.after_hours"
PEAK = "energy.peak_limit"
HOUR = timedelta(hours=1)


def _hour_energy(series: Series, start: datetime, end: datetime) -> float | None:
    """A counter's energy over whole hours [start, end), from each hour's last value; None
    when an hour (or the hour before ``start``) has no value."""
    values = dict(zip(series.times, series.values, strict=True))
    total = 0.0
    hour = start
    previous = values.get(start - HOUR)
    if previous is None:
        return None
    while hour < end:
        current = values.get(hour)
        if current is None:
            return None
        delta = current - previous
        total += delta if delta >= 0 else current
        previous = current
        hour += HOUR
    return total


def consumption(ctx: Context, b: BuildingBinding, start: datetime, end: datetime) -> float | None:
    """Energy within the boundary over [start, end) (whole hours), or None where unknown."""
    if not b.counters:
        return None
    total = 0.0
    for counter in b.counters:
        kwh = _hour_energy(ctx.windows.of(ENERGY, counter.point_id), start, end)
        if kwh is None:
            return None
        total += counter.sign * kwh
    return total


def thresholds(
    expected: float, sigma: float, k_raise: float, k_clear: float, min_excess: float, floor: float
) -> tuple[float, float]:
    """(raise, clear) thresholds: the raise one is the highest of expected + k σ, expected
    × (1 + min_excess) and expected + floor; the clear one sits at ``k_clear / k_raise`` of
    the raise margin above the expectation (the same share of a noisy building's margin)."""
    raise_at = max(expected + k_raise * sigma, expected * (1 + min_excess), expected + floor)
    share = k_clear / k_raise if k_raise > 0 else 1.0
    return raise_at, expected + (raise_at - expected) * share


def latest(
    baselines: Sequence[BaselineExpectation],
    building: str,
    now: datetime,
    kind: ExpectationKind = ExpectationKind.PERIOD,
) -> BaselineExpectation | None:
    """The building's expectation of ``kind`` that ended last (by ``now``)."""
    ended = [e for e in baselines if e.building == building and e.kind is kind and e.end <= now]
    return max(ended, key=lambda e: (e.end, e.start), default=None)


def _expectation_figures(e: BaselineExpectation, raise_at: float) -> dict[str, float | str]:
    return {
        "expected_kwh": e.expected_kwh,
        "uncertainty_kwh": e.uncertainty_kwh,
        "threshold_kwh": raise_at,
        "period_start": e.start.isoformat(),
        "period_end": e.end.isoformat(),
        "model": e.model,
    }


def _period(e: BaselineExpectation) -> str:
    return f"{e.start:%Y-%m-%d %H:%M} to {e.end:%Y-%m-%d %H:%M}"


def above_baseline(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    p = b.params.above_baseline
    if not p.enabled or not b.counters:
        return
    e = latest(ctx.baselines, b.id, ctx.now)
    if e is None:  # nothing to judge by (yet): an open alarm stays open
        yield assessment(key(ABOVE_BASELINE, b.id, ""), Status.HOLD, ctx, p.severity)
        return
    measured = consumption(ctx, b, _floor_hour(e.start), _floor_hour(e.end))
    raise_at, clear_at = thresholds(
        e.expected_kwh, e.uncertainty_kwh, p.raise_sigmas, p.clear_sigmas, p.min_excess, p.min_kwh
    )
    status = Status.HOLD if measured is None else verdict(measured > raise_at, measured <= clear_at)
    excess = "" if measured is None else f" ({measured - e.expected_kwh:+.0f} kWh)"
    yield assessment(
        key(ABOVE_BASELINE, b.id, ""),
        status,
        ctx,
        p.severity,
        f"building {b.id}: {_kwh(measured)} from {_period(e)}, expected "
        f"{e.expected_kwh:.0f} ± {e.uncertainty_kwh:.0f} kWh{excess}; "
        f"alarm above {raise_at:.0f} kWh",
        tuple(c.point_id for c in b.counters),
        figures=_expectation_figures(e, raise_at),
        # consumption unknown (an hour missing): nothing measured, no evidence
        measured={"measured_kwh": measured},
    )


def _kwh(value: float | None) -> str:
    return "consumption unknown" if value is None else f"{value:.0f} kWh"


def _floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _unoccupied_between(b: BuildingBinding, start: datetime, end: datetime) -> bool:
    """Unoccupied throughout ``[start, end)``, for ``after_closing_min`` before it and for
    ``before_opening_min`` after it (neither the evening's wind-down nor the morning start
    is after hours), checked every 15 minutes."""
    p = b.params.after_hours
    t = start - timedelta(minutes=p.after_closing_min)
    while t < end + timedelta(minutes=p.before_opening_min):
        if b.occupancy.occupied(t):
            return False
        t += timedelta(minutes=15)
    return True


def after_hours_span(b: BuildingBinding, now: datetime) -> tuple[datetime, datetime] | None:
    """The unoccupied hours ``energy.after_hours`` would judge at ``now``: the last
    ``window_min`` of whole hours, when the building was unoccupied throughout them and stays
    so for ``before_opening_min`` after them; None otherwise, when the rule is off or the
    building has no meters or no occupied hours at all. The runner asks the baseline model
    for these hours (an ``AFTER_HOURS`` expectation)."""
    p = b.params.after_hours
    if not p.enabled or not b.counters or not b.occupancy.periods:
        return None
    end = _floor_hour(now)
    start = end - max(1, round(p.window_min / 60)) * HOUR
    return (start, end) if _unoccupied_between(b, start, end) else None


def after_hours_spans(
    buildings: Sequence[BuildingBinding], now: datetime
) -> dict[str, tuple[datetime, datetime]]:
    """:func:`after_hours_span` of every building that has one at ``now``."""
    spans = {b.id: after_hours_span(b, now) for b in buildings}
    return {building: span for building, span in spans.items() if span is not None}


def _hour_sigma(ctx: Context, building: str, e: BaselineExpectation, hours: int) -> float:
    """One hour's standard uncertainty of the model at night: the span's own (Guideline 14's,
    which scales a relative error to the span's small expectation), or the latest day's
    ``unoccupied_uncertainty_kw`` (CV(RMSE) times the day's mean hour: about the model's
    hourly RMSE, which a regression's errors keep at night too) where that is wider."""
    day = latest(ctx.baselines, building, ctx.now)
    return max(e.uncertainty_kwh / hours, day.unoccupied_uncertainty_kw if day else 0.0)


def after_hours(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    """The latest unoccupied stretch the baseline model was asked about, metered against its
    prediction for those very hours. Between stretches (open hours, or before the runner's
    answer for the current one) the last verdict stands: an alarm raised for a night stays
    open through the day and clears on a night within its expectation."""
    p = b.params.after_hours
    if not p.enabled or not b.counters:
        return
    e = latest(ctx.baselines, b.id, ctx.now, ExpectationKind.AFTER_HOURS)
    if (
        e is None
        or e.start != _floor_hour(e.start)
        or e.end != _floor_hour(e.end)
        or not _unoccupied_between(b, e.start, e.end)
    ):
        yield assessment(key(AFTER_HOURS, b.id, ""), Status.HOLD, ctx, p.severity)
        return
    hours = round((e.end - e.start) / HOUR)
    kwh = consumption(ctx, b, e.start, e.end)
    mean_kw = kwh / hours if kwh is not None else None
    expected_kw = e.expected_kwh / hours
    sigma_kw = _hour_sigma(ctx, b.id, e, hours)
    raise_at, clear_at = thresholds(
        expected_kw, sigma_kw, p.raise_sigmas, p.clear_sigmas, p.min_excess, p.min_kw
    )
    status = Status.HOLD if mean_kw is None else verdict(mean_kw > raise_at, mean_kw <= clear_at)
    shown = "unknown" if mean_kw is None else f"{mean_kw:.1f} kW"
    yield assessment(
        key(AFTER_HOURS, b.id, ""),
        status,
        ctx,
        p.severity,
        f"building {b.id}: {shown} from {_period(e)} (unoccupied), its baseline model expects "
        f"{expected_kw:.1f} ± {sigma_kw:.1f} kW for those hours; alarm above {raise_at:.1f} kW",
        tuple(c.point_id for c in b.counters),
        figures={
            "expected_kw": expected_kw,
            "uncertainty_kw": sigma_kw,
            "threshold_kw": raise_at,
            "window_min": hours * 60.0,
            "period_start": e.start.isoformat(),
            "period_end": e.end.isoformat(),
            "model": e.model,
        },
        # an hour missing: nothing measured, no evidence
        measured={"measured_kw": mean_kw},
    )


def peak_limit(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    p = b.params.peak
    limit = b.contracted_peak_kw
    if not p.enabled or limit is None or b.main_power is None:
        return
    demand = window_values(ctx, DEMAND, b.main_power, p.window_min)
    peak = max(demand.values, default=None)
    status = (
        Status.HOLD
        if peak is None
        else verdict(
            peak > limit * p.raise_fraction, demand.covered and peak < limit * p.clear_fraction
        )
    )
    shown = "unknown" if peak is None else f"{peak:.0f} kW"
    span = ctx.now - timedelta(minutes=3 * p.window_min)
    yield assessment(
        key(PEAK, b.id, ""),
        status,
        ctx,
        p.severity,
        f"building {b.id}: 15-minute demand {shown} against a contracted peak of {limit:.0f} kW",
        (b.main_power,),
        chart(
            "15-minute demand", b.main_power, "kW", ctx.windows.of(DEMAND, b.main_power).since(span)
        ),
        {
            "contracted_peak_kw": limit,
            "threshold_kw": limit * p.raise_fraction,
            "clear_below_kw": limit * p.clear_fraction,
            "window_min": p.window_min,
        },
        {"measured_kw": peak},
    )

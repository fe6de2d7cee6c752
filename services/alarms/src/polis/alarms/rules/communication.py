"""communication.stale and communication.quality: devices and points that stop reporting, or
report readings the adapter flags.

Silence is measured from the last *measured* reading (any quality but ``missing``: the adapter
writes ``missing`` rows with the last value when a device does not answer), and at most from
the first reading the store holds at all, so a freshly started system does not alarm on
devices it has not polled yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from polis.alarms.bindings import BuildingBinding, DeviceBinding, PointBinding
from polis.alarms.model import Assessment, Status
from polis.alarms.rules.base import Context, assessment, key, minutes, verdict
from polis.common.catalogue.alarms import StaleParams

STALE = "communication.stale"
QUALITY = "communication.quality"


@dataclass(frozen=True, slots=True)
class Limits:
    raise_after: timedelta
    clear_within: timedelta


@lru_cache(maxsize=4096)
def limits(params: StaleParams, poll_interval_s: float, time_scale: float) -> Limits:
    """Raise after ``raise_after_intervals`` poll intervals (at least ``raise_after_min``);
    clear once a reading is within ``clear_within_intervals`` intervals or half the raise
    limit, whichever is longer (so a clear is never stricter than what raised)."""
    interval = poll_interval_s * time_scale
    raise_after = max(params.raise_after_intervals * interval, params.raise_after_min * 60.0)
    clear_within = max(params.clear_within_intervals * interval, raise_after / 2)
    return Limits(timedelta(seconds=raise_after), timedelta(seconds=clear_within))


def silence(ctx: Context, last: datetime | None) -> timedelta | None:
    """How long nothing measured came, counted from the store's first reading at most."""
    first = ctx.windows.first_seen
    if first is None:
        return None
    since = max(last, first) if last is not None else first
    return max(ctx.now - since, timedelta(0))


def _device_last(ctx: Context, device: DeviceBinding) -> datetime | None:
    seen = ctx.windows.last_measured
    times = [t for p in device.points if (t := seen.get(p.point_id)) is not None]
    return max(times) if times else None


def _stale_status(quiet: timedelta | None, lim: Limits) -> Status:
    if quiet is None:
        return Status.HOLD
    return verdict(quiet > lim.raise_after, quiet <= lim.clear_within)


def _stale_message(what: str, quiet: timedelta | None, lim: Limits) -> str:
    if quiet is None:
        return ""
    return (
        f"{what}: no measured reading for {minutes(quiet):.0f} min "
        f"(limit {minutes(lim.raise_after):.0f} min)"
    )


def _point_stale(
    ctx: Context, b: BuildingBinding, point: PointBinding, answers: bool
) -> Assessment:
    lim = limits(point.stale, point.poll_interval_s, ctx.time_scale)
    quiet = silence(ctx, ctx.windows.last_measured.get(point.point_id))
    # a point of a device that does not answer is the device's alarm, not its own
    status = _stale_status(quiet, lim) if answers else Status.HOLD
    if status is Status.CLEAR:  # the common case, kept cheap: thousands of points
        return assessment(key(STALE, b.id, point.ref), status, ctx, point.stale.point_severity)
    return assessment(
        key(STALE, b.id, point.ref),
        status,
        ctx,
        point.stale.point_severity,
        _stale_message(f"point {point.ref}", quiet, lim),
        (point.point_id,),
        figures=_limit_figures(lim),
        measured={"silence_min": minutes(quiet) if quiet is not None else None},
    )


def _limit_figures(lim: Limits) -> dict[str, float | str]:
    return {
        "raise_after_min": minutes(lim.raise_after),
        "clear_within_min": minutes(lim.clear_within),
    }


def stale(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    for device in b.devices:
        if not device.stale.enabled:
            continue
        lim = limits(device.stale, device.poll_interval_s, ctx.time_scale)
        quiet = silence(ctx, _device_last(ctx, device))
        status = _stale_status(quiet, lim)
        yield assessment(
            key(STALE, b.id, device.device),
            status,
            ctx,
            device.stale.severity,
            _stale_message(f"device {device.device}", quiet, lim),
            tuple(p.point_id for p in device.points),
            figures=_limit_figures(lim),
            measured={"silence_min": minutes(quiet) if quiet is not None else None},
        )
        answers = status is Status.CLEAR
        for point in device.points:
            if point.stale.enabled:
                yield _point_stale(ctx, b, point, answers)


@dataclass(frozen=True, slots=True)
class Rate:
    point: PointBinding
    flagged: int
    total: int
    by_flag: dict[str, int]

    @property
    def rate(self) -> float:
        return self.flagged / self.total


def _rate(ctx: Context, point: PointBinding) -> Rate | None:
    counts = ctx.windows.quality.get(point.point_id, {})
    total = sum(counts.values())
    if total < point.quality.min_readings:
        return None
    by_flag = {str(flag): counts.get(flag, 0) for flag in point.quality.flags if counts.get(flag)}
    return Rate(point, sum(by_flag.values()), total, by_flag)


def _quality_message(device: str, worst: list[Rate]) -> str:
    if not worst:
        return ""
    parts = [
        f"{r.point.ref} {r.rate:.0%} ("
        + ", ".join(f"{flag} {n}" for flag, n in sorted(r.by_flag.items()))
        + f" of {r.total})"
        for r in worst[:5]
    ]
    more = f" and {len(worst) - 5} more" if len(worst) > 5 else ""
    return f"device {device}: flagged readings: " + "; ".join(parts) + more


def _device_quality(ctx: Context, b: BuildingBinding, device: DeviceBinding) -> Assessment:
    rates = [r for p in device.points if p.quality.enabled and (r := _rate(ctx, p)) is not None]
    over = sorted((r for r in rates if r.rate > r.point.quality.raise_rate), key=lambda r: -r.rate)
    calm = all(r.rate <= r.point.quality.clear_rate for r in rates)
    lim = limits(device.stale, device.poll_interval_s, ctx.time_scale)
    quiet = silence(ctx, _device_last(ctx, device))
    answering = quiet is not None and quiet <= lim.clear_within
    # a device that does not answer at all is communication.stale's alarm
    status = verdict(bool(over), calm) if answering and rates else Status.HOLD
    worst = max(rates, key=lambda r: r.rate, default=None)
    return assessment(
        key(QUALITY, b.id, device.device),
        status,
        ctx,
        device.quality.severity,
        _quality_message(device.device, over),
        tuple(r.point.point_id for r in over),
        figures={
            "raise_rate": device.quality.raise_rate,
            "clear_rate": device.quality.clear_rate,
            "window_min": device.quality.window_min,
        },
        # nothing measured without a point with enough readings
        measured={
            "worst_rate": worst.rate if worst else None,
            "worst_point": worst.point.ref if worst else None,
            "points_over": float(len(over)) if worst else None,
        },
    )


def quality(ctx: Context, b: BuildingBinding) -> Iterator[Assessment]:
    for device in b.devices:
        if device.quality.enabled:
            yield _device_quality(ctx, b, device)

"""sensor.flatlined: a temperature sensor whose value does not move while its plant runs.

A zone's air temperature sensor is judged while the zone's heat pump runs (its mean output
over the span at least ``plant_running``): a running heat pump moves a real room's
temperature. The outdoor air sensor is judged always: the weather never stands still for
hours. The spread is the largest 30-minute maximum less the smallest 30-minute minimum.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from polis.alarms.bindings import BuildingBinding, ZoneBinding
from polis.alarms.model import Assessment
from polis.alarms.rules.base import (
    FLAT_MAX,
    FLAT_MIN,
    FLAT_PLANT,
    Context,
    assessment,
    chart,
    key,
    verdict,
    window_values,
)
from polis.common.catalogue.alarms import FlatlineParams

FLATLINED = "sensor.flatlined"


@dataclass(frozen=True, slots=True)
class Sensor:
    point: str
    subject: str  # device/point
    params: FlatlineParams
    plant: tuple[str, ...]  # points whose mean share of full shows the plant running
    plant_scale: tuple[float, ...]  # what full output is in each plant point's unit


def _spread(ctx: Context, point: str, span_min: float) -> tuple[float | None, bool]:
    lows = window_values(ctx, FLAT_MIN, point, span_min)
    highs = window_values(ctx, FLAT_MAX, point, span_min)
    if not lows.values or not highs.values:
        return None, False
    return max(highs.values) - min(lows.values), lows.covered and highs.covered


def _plant_shares(ctx: Context, sensor: Sensor) -> list[float]:
    """Each plant point's mean output over the span as a share of full (those with readings)."""
    shares = []
    for point, full in zip(sensor.plant, sensor.plant_scale, strict=True):
        values = window_values(ctx, FLAT_PLANT, point, sensor.params.raise_after_min).values
        if values:
            shares.append(sum(values) / len(values) / full)
    return shares


def _assess(ctx: Context, building: str, sensor: Sensor) -> Assessment:
    p = sensor.params
    spread, covered = _spread(ctx, sensor.point, p.raise_after_min)
    shares = _plant_shares(ctx, sensor)
    # None: no plant, judged always; a plant without readings counts as not running
    running = max(shares, default=0.0) if sensor.plant else None
    plant_ok = running is None or running >= p.plant_running
    raise_ = covered and spread is not None and spread <= p.tolerance and plant_ok
    recent_spread, recent_covered = _spread(ctx, sensor.point, p.clear_after_min)
    clear = recent_covered and recent_spread is not None and recent_spread > p.tolerance
    status = verdict(raise_, clear)
    span = ctx.now - timedelta(minutes=p.raise_after_min * 1.5)
    return assessment(
        key(FLATLINED, building, sensor.subject),
        status,
        ctx,
        p.severity,
        f"sensor {sensor.subject}: no change over {p.raise_after_min / 60:.1f} h "
        f"(spread {'unknown' if spread is None else f'{spread:.3f}'}, "
        f"tolerance {p.tolerance:g})"
        + ("" if running is None else f" while its plant ran at {running:.0%}"),
        (sensor.point,),
        chart(
            "minimum per 30 min",
            sensor.point,
            "",
            ctx.windows.of(FLAT_MIN, sensor.point).since(span),
        )
        + chart(
            "maximum per 30 min",
            sensor.point,
            "",
            ctx.windows.of(FLAT_MAX, sensor.point).since(span),
        ),
        {"tolerance": p.tolerance, "duration_min": p.raise_after_min},
        {"spread": spread, "plant_share": max(shares, default=None)},
    )


def _subject(point: str) -> str:
    _, _, device, name = point.split("/")
    return f"{device}/{name}"


def _zone_sensor(z: ZoneBinding) -> Sensor | None:
    if z.temperature is None:
        return None
    plant, scale = [], []
    for point, full in ((z.heating_output, 100.0), (z.cooling_output, 100.0)):
        if point is not None:
            plant.append(point)
            scale.append(full)
    if not plant and z.power is not None:
        plant, scale = [z.power], [z.max_kw]
    if not plant:
        return None  # without a plant signal the rule cannot tell a stable room from a stuck sensor
    return Sensor(
        z.temperature, _subject(z.temperature), z.params.flatlined, tuple(plant), tuple(scale)
    )


def sensors(b: BuildingBinding) -> list[Sensor]:
    """The sensors the rule judges in a building (each point once)."""
    out: dict[str, Sensor] = {}
    for z in b.zones:
        sensor = _zone_sensor(z)
        if sensor is not None and sensor.params.enabled:
            out.setdefault(sensor.point, sensor)
    if b.outdoor is not None and b.params.outdoor_flatlined.enabled:
        out.setdefault(
            b.outdoor, Sensor(b.outdoor, _subject(b.outdoor), b.params.outdoor_flatlined, (), ())
        )
    return list(out.values())


def flatlined(ctx: Context, b: BuildingBinding, judged: list[Sensor]) -> Iterator[Assessment]:
    for sensor in judged:
        yield _assess(ctx, b.id, sensor)

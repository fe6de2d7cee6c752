"""Neighbourhood load and PV from the newest power readings (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from polis.gateway.domain.catalogue import PointInfo

PV_MARKERS = ("pv", "solar", "photovoltaic")


def is_pv(point: PointInfo) -> bool:
    text = " ".join((point.id, point.device, point.brick_class, point.description)).lower()
    return any(marker in text for marker in PV_MARKERS)


def split_power(
    points: Iterable[PointInfo], values: Mapping[str, float]
) -> tuple[float | None, float | None]:
    """(load kW, PV generation kW); None when no reading of that kind exists.

    PV points are recognised by their id, device, Brick class or description; PV is reported
    as a positive generation whatever the meter's sign convention.
    """
    load: float | None = None
    pv: float | None = None
    for point in points:
        if point.id not in values:
            continue
        value = values[point.id]
        if is_pv(point):
            pv = (pv or 0.0) + abs(value)
        else:
            load = (load or 0.0) + value
    return load, pv

"""Small catalogues for adapter tests."""

from __future__ import annotations

from typing import Any

from polis.adapter.config import iter_points, parse_config
from polis.common.catalogue import PointRef


def one_bacnet_point(point: dict[str, Any]) -> PointRef:
    """The reference of ``point``, alone on a BACnet device of one school."""
    device = {
        "protocol": "bacnet",
        "id": "bms",
        "device_instance": 5,
        "address": "127.0.0.1:47809",
        "points": [point],
    }
    building = {"id": "school", "neighbourhood": "kentro", "devices": [device]}
    site = parse_config({"municipality": "larissa", "buildings": [building]})
    return next(iter_points(site))

"""Hourly energy and temperature from what the building adapter measures (pure).

The adapter stores cumulative energy counters (``active_energy``, kWh) and instantaneous
temperatures. M&V needs interval energy: the energy of hour h is the counter's last value in
hour h minus its last value in hour h-1. An hour without readings on either side is a gap, not
a zero; a counter that went backwards (meter reset or roll-over) counts from zero again.
Net consumption is import minus export where the meter has an export register.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from itertools import pairwise

Point = tuple[datetime, float]
HOUR = timedelta(hours=1)


def hourly_from_counter(last_per_hour: Iterable[Point]) -> dict[datetime, float]:
    """Energy per hour (keyed by the hour's start) from each hour's last counter value."""
    ordered = sorted(last_per_hour)
    energy: dict[datetime, float] = {}
    for (previous_hour, previous), (hour, current) in pairwise(ordered):
        if hour - previous_hour != HOUR:
            continue  # a gap: the energy across it is not attributed to any one hour
        delta = current - previous
        energy[hour] = delta if delta >= 0 else current
    return energy


def net_hourly(
    imported: Mapping[datetime, float], exported: Mapping[datetime, float] | None = None
) -> list[Point]:
    """Import minus export per hour; hours missing from an existing export series are gaps."""
    if exported is None:
        return sorted(imported.items())
    return sorted(
        (hour, value - exported[hour]) for hour, value in imported.items() if hour in exported
    )


def merge_preferring(primary: Iterable[Point], secondary: Iterable[Point]) -> list[Point]:
    """Primary points (imported history) win; secondary ones fill the times they lack."""
    merged = dict(secondary)
    merged.update(primary)
    return sorted(merged.items())


def add_generation(net: Iterable[Point], generation_meter: Iterable[Point]) -> list[Point]:
    """Whole-building consumption: grid energy (net of PV) plus what the PV meter produced.

    A PV meter records production as export (negative energy); hours it has no value for keep
    the net figure, since a building without production then consumed exactly what it imported.
    """
    produced = {hour: -kwh for hour, kwh in generation_meter if kwh < 0}
    return [(hour, kwh + produced.get(hour, 0.0)) for hour, kwh in sorted(net)]


def subtract_submeter(energy: Iterable[Point], submeter: Iterable[Point]) -> list[Point]:
    """Energy less a sub-metered load; hours the sub-meter lacks are gaps, not zeros."""
    sub = dict(submeter)
    if not sub:
        return sorted(energy)  # the building has no such sub-meter
    return [(hour, kwh - sub[hour]) for hour, kwh in sorted(energy) if hour in sub]

"""The identification schedule of a zone: setpoint steps around its setpoint (pure).

A zone held at one setpoint day and night gives its history nothing to learn the time
constant from (``identify`` rejects it for no excitation). Steps of ± the amplitude around
the setpoint, in the order of a maximum-length pseudo-random binary sequence, make the zone
warm and drift by turns: the drift after a step down is what fixes τ = R·C, and the PRBS's
holds of one to ``ORDER`` steps spread the excitation over the periods a day's plan depends
on. Every value is clipped into the zone's comfort band in force over the whole step, and
written only in the hours the catalogue allows; outside them the building's own control runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from scipy.signal import max_len_seq

from polis.common.catalogue.loads import ExcitationConfig, ZoneConfig

SLOT = timedelta(minutes=15)
# the PRBS's register length: holds of 1..ORDER steps, a period of 2**ORDER - 1 steps
ORDER = 6
SETPOINT_RESOLUTION_K = 0.1


@dataclass(frozen=True)
class Step:
    """``[start, end)`` with one command: a setpoint within ``[lo_c, hi_c]``, or none (the
    building's own control)."""

    start: datetime
    end: datetime
    setpoint_c: float | None
    lo_c: float
    hi_c: float


@dataclass(frozen=True)
class Schedule:
    building: str
    zone: str
    point_id: str
    base_c: float  # the setpoint the steps go around
    amplitude_k: float
    start: datetime
    end: datetime
    steps: tuple[Step, ...]  # contiguous, covering [start, end)

    def writes(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.setpoint_c is not None)


def prbs(length: int) -> list[int]:
    """``length`` bits of the maximum-length sequence of order ``ORDER``, repeated."""
    sequence, _ = max_len_seq(ORDER)
    return [int(sequence[i % len(sequence)]) for i in range(length)]


def comfort_band(zone: ZoneConfig, local: datetime) -> tuple[float, float]:
    """The zone's comfort band at a local instant, as the optimizer plans with it."""
    period = next((p for p in zone.occupied if p.contains(local)), None)
    if period is not None:
        return period.lo_c, period.hi_c
    return zone.unoccupied_lo_c, zone.unoccupied_hi_c


def _allowed(config: ExcitationConfig, local: datetime) -> bool:
    return any(p.contains(local) for p in config.hours)


def _slot_value(
    zone: ZoneConfig,
    config: ExcitationConfig,
    base_c: float,
    bit: int,
    start: datetime,
    tz: ZoneInfo,
) -> tuple[float | None, float, float]:
    """One 15-minute slot: its setpoint (None outside the hours or without room) and band.

    The band is the one in force at both ends of the slot, so a step never leaves comfort as
    an occupied period starts."""
    first, last = start.astimezone(tz), (start + SLOT).astimezone(tz)
    lo_a, hi_a = comfort_band(zone, first)
    lo_b, hi_b = comfort_band(zone, last)
    lo, hi = max(lo_a, lo_b), min(hi_a, hi_b)
    if not _allowed(config, first) or lo > hi:
        return None, lo, hi
    wanted = base_c + (config.amplitude_k if bit else -config.amplitude_k)
    rounded = round(wanted / SETPOINT_RESOLUTION_K) * SETPOINT_RESOLUTION_K
    return round(float(np.clip(rounded, lo, hi)), 2), lo, hi


def plan_excitation(
    building: str,
    zone: ZoneConfig,
    point_id: str,
    base_c: float,
    start: datetime,
    days: float,
    timezone: str,
) -> Schedule:
    """The steps from ``start`` (rounded up to a 15-minute slot) for ``days``.

    Raises ``ValueError`` naming the field when the zone allows no excitation or ``days`` is
    out of its bounds."""
    config = zone.excitation
    if config is None or not config.enabled:
        raise ValueError(f"{building}/{zone.id}: excitation is not enabled in the catalogue")
    if not 0 < days <= config.max_days:
        raise ValueError(f"days: {days:g} is outside 0..{config.max_days} (the zone's max_days)")
    if start.tzinfo is None:
        raise ValueError("start: needs a timezone")
    tz = ZoneInfo(timezone)
    first = _ceil_slot(start)
    slots = max(1, round(timedelta(days=days) / SLOT))
    per_step = config.step_minutes // 15
    step_length = per_step * SLOT
    bits = prbs(-(-slots // per_step))
    steps: list[Step] = []
    for k in range(slots):
        at = first + k * SLOT
        value, lo, hi = _slot_value(zone, config, base_c, bits[k // per_step], at, tz)
        previous = steps[-1] if steps else None
        same_step = (
            previous is not None and (previous.start - first) // step_length == k // per_step
        )
        if previous is not None and same_step and previous.setpoint_c == value:
            # one command per step while the value holds (each write lasts a step at most);
            # its bounds are those of every slot in it
            steps[-1] = Step(
                previous.start, at + SLOT, value, max(previous.lo_c, lo), min(previous.hi_c, hi)
            )
        else:
            steps.append(Step(at, at + SLOT, value, lo, hi))
    return Schedule(
        building,
        zone.id,
        point_id,
        base_c,
        config.amplitude_k,
        first,
        first + slots * SLOT,
        tuple(steps),
    )


def _ceil_slot(when: datetime) -> datetime:
    floor = when.replace(minute=when.minute - when.minute % 15, second=0, microsecond=0)
    return floor if floor == when else floor + SLOT

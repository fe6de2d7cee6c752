"""Domain types shared by every part of the adapter (no I/O, no protocol libraries)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Quality(StrEnum):
    """Quality tag written beside every reading: gaps are marked, never hidden."""

    GOOD = "good"
    STALE = "stale"
    OUT_OF_RANGE = "out_of_range"
    MISSING = "missing"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class RawValue:
    """A value as read from the field, before normalisation (``None``: no answer)."""

    point_id: str
    value: float | None
    unit: str
    time_ns: int


@dataclass(slots=True)
class Reading:
    """A normalised reading in the point's canonical unit, ready to store.

    Treated as immutable; not declared frozen because a frozen dataclass costs three times
    as much to construct, measurable at tens of thousands of readings per second."""

    point_id: str
    value: float
    unit: str
    quality: Quality
    time_ns: int

"""Domain types shared by every part of the adapter (no I/O, no protocol libraries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import overload


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


@dataclass(frozen=True, slots=True, eq=False)
class PointLayout:
    """The points of one scan group in poll order, with their canonical units: what every
    poll of the group shares, built once (compared and hashed by identity)."""

    point_ids: tuple[str, ...]
    units: tuple[str, ...]
    index: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        if len(self.point_ids) != len(self.units):
            raise ValueError("one unit per point")
        object.__setattr__(self, "index", {pid: i for i, pid in enumerate(self.point_ids)})


class ReadingBatch(Sequence[Reading]):
    """The readings of one poll by column: one time, values and qualities in the layout's
    order. Nothing is built per reading on the way to the sink; :class:`Reading` objects
    are made only when asked for (ReadPoints, a consumer iterating)."""

    __slots__ = ("layout", "qualities", "time_ns", "values")

    def __init__(
        self, layout: PointLayout, values: list[float], qualities: list[Quality], time_ns: int
    ) -> None:
        if not len(values) == len(qualities) == len(layout.point_ids):
            raise ValueError("one value and one quality per point of the layout")
        self.layout = layout
        self.values = values
        self.qualities = qualities
        self.time_ns = time_ns

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> Reading: ...

    @overload
    def __getitem__(self, index: slice) -> list[Reading]: ...

    def __getitem__(self, index: int | slice) -> Reading | list[Reading]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        layout = self.layout
        return Reading(
            layout.point_ids[index],
            self.values[index],
            layout.units[index],
            self.qualities[index],
            self.time_ns,
        )

    def reading(self, point_id: str) -> Reading:
        """The reading of ``point_id`` (KeyError when not in the layout)."""
        return self[self.layout.index[point_id]]

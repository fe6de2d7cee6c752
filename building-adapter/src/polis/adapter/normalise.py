"""Normalisation and quality flags (pure).

One :class:`PointNormaliser` per point converts raw field values into the canonical unit and
decides the quality tag. Nothing is dropped and nothing is invented: a device that does not
answer yields a ``missing`` reading, a counter that goes backwards yields ``reset``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from polis.adapter.model import Quality, Reading
from polis.common.catalogue.points import PointKind
from polis.common.catalogue.units import Conversion, Quantity, conversion

NS = 1_000_000_000
# module-level aliases: enum attribute lookups are measurable at tens of thousands of points/s
_GOOD, _STALE, _OUT, _RESET = Quality.GOOD, Quality.STALE, Quality.OUT_OF_RANGE, Quality.RESET
_MISSING = Quality.MISSING
_CUMULATIVE = PointKind.CUMULATIVE
_INF = float("inf")
_NAN = float("nan")
_NEVER = 1 << 64  # ns: beyond any difference of two timestamps


@dataclass(frozen=True, slots=True)
class QualityRules:
    kind: PointKind
    minimum: float | None = None
    maximum: float | None = None
    stale_after_s: float | None = None
    # a drop of a cumulative counter larger than this fraction of the previous value is a
    # reset or roll-over; smaller drops are noise (meters rounding) and also flagged reset
    counter_tolerance: float = 0.0


class PointNormaliser:
    """One point's conversion and quality rules. Its state (the last value, to detect
    resets and staleness) is kept by the :class:`GroupNormaliser` of the points polled with
    it; a point normalised alone gets a group of its own."""

    __slots__ = (
        "_group",
        "_high",
        "_index",
        "_low",
        "_offset",
        "_scale",
        "_stale_ns",
        "_tolerance",
        "conv",
        "point_id",
        "rules",
    )

    def __init__(self, point_id: str, unit: str, quantity: Quantity, rules: QualityRules) -> None:
        self.point_id = point_id
        self.conv: Conversion = conversion(unit, quantity)
        self.rules = rules
        # the rules as plain numbers, so a poll needs no None checks: an absent bound is
        # infinite, a non-counter has no tolerance
        self._scale = self.conv.scale
        self._offset = self.conv.offset
        self._low = -_INF if rules.minimum is None else rules.minimum
        self._high = _INF if rules.maximum is None else rules.maximum
        self._tolerance = rules.counter_tolerance if rules.kind is _CUMULATIVE else None
        self._stale_ns = _whole_ns(rules.stale_after_s)
        self._group: GroupNormaliser | None = None  # holds the state, at ``_index``
        self._index = 0

    @property
    def unit(self) -> str:
        return self.conv.unit

    @property
    def last_value(self) -> float | None:
        return None if self._group is None else self._group.last[self._index]

    def missing(self, time_ns: int) -> Reading:
        """The device did not answer. The field carries the last good value (0 if none),
        the tag says it was not measured."""
        last = self.last_value
        return Reading(
            self.point_id, 0.0 if last is None else last, self.conv.unit, _MISSING, time_ns
        )

    def normalise(self, raw: float, time_ns: int) -> Reading:
        group = self._group if self._group is not None else GroupNormaliser([self])
        values, qualities, _ = group.normalise_points([self._index], [raw], time_ns)
        return Reading(self.point_id, values[0], self.conv.unit, qualities[0], time_ns)


def _whole_ns(seconds: float | None) -> int:
    """A staleness limit as whole nanoseconds: for a whole number of nanoseconds ``d``,
    ``d > seconds * NS`` exactly when ``d > floor(seconds * NS)``; none, or an infinite one,
    is never reached."""
    if seconds is None or not math.isfinite(seconds * NS):
        return _NEVER
    return math.floor(seconds * NS)


Normalised = tuple[list[float], list[Quality], list[Quality]]


class GroupNormaliser:
    """The points of one scan group, normalised a poll at a time: values in poll order in,
    converted values, their qualities and the qualities other than good out.

    This is the adapter's per-point work at tens of thousands of points per second. The
    rules are tables built once; a poll whose every value was read and is finite is
    converted by one comprehension, and only the points with a rule (a range, a counter,
    a staleness limit) are looked at one by one. Taking a point into a group moves its
    state (last value, when it goes stale) into the group's lists.
    """

    def __init__(self, normalisers: Sequence[PointNormaliser]) -> None:
        self.normalisers = list(normalisers)
        self.last: list[float | None] = [n.last_value for n in normalisers]
        # an unchanged value is stale after this instant: its last change plus the limit
        self.stale_at: list[int] = [
            n._stale_ns if n._group is None else n._group.stale_at[n._index] for n in normalisers
        ]
        for index, n in enumerate(normalisers):
            n._group, n._index = self, index
        self._scales = [n._scale for n in normalisers]
        self._offsets = [n._offset for n in normalisers]
        self._lows = [n._low for n in normalisers]
        self._highs = [n._high for n in normalisers]
        self._tolerances = [n._tolerance for n in normalisers]
        self._stale_ns = [n._stale_ns for n in normalisers]
        self._ranged = [i for i, n in enumerate(normalisers) if n._low > -_INF or n._high < _INF]
        self._counters = [i for i, n in enumerate(normalisers) if n._tolerance is not None]
        self._staling = [i for i, n in enumerate(normalisers) if n._stale_ns != _NEVER]
        self._all = range(len(normalisers))
        self._good = [_GOOD] * len(normalisers)

    def normalise(self, raws: Sequence[float | None], time_ns: int) -> Normalised:
        """One poll: a raw value (``None``: not read) per point, in the group's order."""
        try:
            values = [
                raw * scale + offset  # type: ignore[operator]  # None: the loop below
                for raw, scale, offset in zip(raws, self._scales, self._offsets, strict=True)
            ]
        except TypeError:
            return self.normalise_points(self._all, raws, time_ns)
        # a sum of finite values is finite unless it overflows: then, as with a value not
        # finite, the point-by-point loop decides
        if not math.isfinite(sum(values)):
            return self.normalise_points(self._all, raws, time_ns)
        qualities = self._good.copy()
        flagged = self._flag(values, qualities, time_ns)
        if not flagged:
            self.last[:] = values
            return values, qualities, []
        last = self.last
        for i, (value, quality) in enumerate(zip(values, qualities, strict=True)):
            if quality is not _OUT:
                last[i] = value
        return values, qualities, [q for q in qualities if q is not _GOOD]

    def _flag(self, values: list[float], qualities: list[Quality], time_ns: int) -> bool:
        """Flag the finite ``values`` by the rules of their points; True if any is flagged.
        The last values are those of the previous poll still."""
        flagged = False
        last, lows, highs = self.last, self._lows, self._highs
        for i in self._ranged:
            if values[i] < lows[i] or values[i] > highs[i]:
                qualities[i] = _OUT
                flagged = True
        for i in self._counters:
            before, tolerance = last[i], self._tolerances[i]
            assert tolerance is not None
            if (
                qualities[i] is not _OUT
                and before is not None
                and values[i] < before - abs(before) * tolerance
            ):
                qualities[i] = _RESET
                flagged = True
        stale_at = self.stale_at
        for i in self._staling:
            before = last[i]
            if before is None or values[i] != before:
                stale_at[i] = time_ns + self._stale_ns[i]
            elif qualities[i] is _GOOD and time_ns > stale_at[i]:
                qualities[i] = _STALE
                flagged = True
        return flagged

    def normalise_points(
        self, indexes: Iterable[int], raws: Iterable[float | None], time_ns: int
    ) -> Normalised:
        """The points at ``indexes``, one by one: what :meth:`normalise` does, also for
        values not read (the last good value, 0 if none, marked missing) and not finite."""
        values: list[float] = []
        qualities: list[Quality] = []
        flagged: list[Quality] = []
        last, stale_at = self.last, self.stale_at
        for i, raw in zip(indexes, raws, strict=True):
            value = _NAN if raw is None else raw * self._scales[i] + self._offsets[i]
            before = last[i]
            if not -_INF < value < _INF:
                values.append(0.0 if before is None else before)
                qualities.append(_MISSING)
                flagged.append(_MISSING)
                continue
            quality = _GOOD
            tolerance = self._tolerances[i]
            if value < self._lows[i] or value > self._highs[i]:
                quality = _OUT
            elif (
                tolerance is not None
                and before is not None
                and value < before - abs(before) * tolerance
            ):
                quality = _RESET
            if before is None or value != before:
                stale_at[i] = time_ns + self._stale_ns[i]
            elif quality is _GOOD and time_ns > stale_at[i]:
                quality = _STALE
            if quality is not _OUT:
                last[i] = value
            values.append(value)
            qualities.append(quality)
            if quality is not _GOOD:
                flagged.append(quality)
        return values, qualities, flagged


def counter_delta(previous: float, current: float, rollover_at: float | None = None) -> float:
    """Energy accumulated between two counter readings.

    A counter that went backwards either rolled over (when ``rollover_at``, the register's
    modulus in the same unit, is known and the previous value was in its upper half) or was
    reset to zero, in which case everything since the reset is the current value.
    """
    if current >= previous:
        return current - previous
    if rollover_at is not None and previous > rollover_at / 2:
        return rollover_at - previous + current
    return current

"""Tariffs (€/kWh) and grid emission factors (kg CO2/kWh) that change over time.

A schedule is a list of steps, each in force from ``valid_from`` until the next step. The
rate applied to an interval is the one in force when the interval starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class RateStep:
    valid_from: datetime
    rate: float

    def __post_init__(self) -> None:
        if self.valid_from.tzinfo is None:
            raise ValueError("valid_from must carry a time zone")
        if self.rate < 0:
            raise ValueError(f"rate must be >= 0, got {self.rate}")


@dataclass(frozen=True, slots=True)
class RateSchedule:
    """Piecewise-constant rate; before the first step the first step's rate applies."""

    steps: tuple[RateStep, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("a rate schedule needs at least one step")
        object.__setattr__(self, "steps", tuple(sorted(self.steps, key=lambda s: s.valid_from)))

    @classmethod
    def flat(cls, rate: float) -> RateSchedule:
        return cls((RateStep(datetime.fromisoformat("1970-01-01T00:00:00+00:00"), rate),))

    @classmethod
    def of(cls, steps: Sequence[tuple[datetime, float]]) -> RateSchedule:
        return cls(tuple(RateStep(when, rate) for when, rate in steps))

    def at(self, utc_seconds: NDArray[np.int64]) -> NDArray[np.float64]:
        starts = np.array([int(s.valid_from.timestamp()) for s in self.steps], dtype=np.int64)
        rates = np.array([s.rate for s in self.steps], dtype=float)
        idx = np.searchsorted(starts, utc_seconds, side="right") - 1
        return rates[np.clip(idx, 0, None)]

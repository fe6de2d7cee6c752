"""Baseline data sufficiency (CalTRACK section 2), checked before any model is fitted.

- The baseline must span at least ``min_days`` days (365: a full year, so every season is
  represented).
- Daily models: at least 90 % of the baseline days must have both usage and a mean
  temperature.
- Hourly models: at least 90 % of the hours must have usage and temperature, overall and in
  every calendar month of the baseline (each month's segment model needs its own data).
- Optionally, no run of missing days longer than ``max_gap_days`` (off by default, as in
  CalTRACK; the coverage rules already bound gaps to about five weeks in a year).

A failed check returns every reason, each naming the rule and the figure that broke it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from polis.savings.calendar import month_label


@dataclass(frozen=True, slots=True)
class SufficiencyRules:
    min_days: int = 365
    min_daily_coverage: float = 0.9
    min_hourly_coverage: float = 0.9
    min_monthly_hourly_coverage: float = 0.9
    max_gap_days: int | None = None


@dataclass(frozen=True, slots=True)
class Sufficiency:
    sufficient: bool
    reasons: tuple[str, ...]
    coverage: float

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "baseline data sufficient"


def _longest_run(missing: NDArray[np.bool_]) -> int:
    longest = run = 0
    for flag in missing.tolist():
        run = run + 1 if flag else 0
        longest = max(longest, run)
    return longest


def _span_reason(span_days: float, rules: SufficiencyRules) -> list[str]:
    if span_days + 1e-9 < rules.min_days:
        return [f"baseline spans {span_days:.0f} days; at least {rules.min_days} are required"]
    return []


def _coverage(
    valid: NDArray[np.bool_], minimum: float, label: str, unit: str
) -> tuple[float, list[str]]:
    """The share of ``valid`` flags, and the reason it fails when it is below ``minimum``."""
    total = int(valid.size)
    coverage = float(valid.mean()) if total else 0.0
    if coverage < minimum:
        return coverage, [
            f"{label} coverage {coverage:.1%} ({int(valid.sum())} of {total} {unit}) is below "
            f"{minimum:.0%}"
        ]
    return coverage, []


def _gap_reason(valid_day: NDArray[np.bool_], max_gap_days: int) -> list[str]:
    gap = _longest_run(~valid_day)
    if gap > max_gap_days:
        return [f"gap of {gap} days without data exceeds {max_gap_days}"]
    return []


def check_daily(
    valid_day: NDArray[np.bool_], span_days: float, rules: SufficiencyRules
) -> Sufficiency:
    """``valid_day``: one flag per local day of the baseline (usage and temperature known)."""
    coverage, short = _coverage(valid_day, rules.min_daily_coverage, "daily", "days")
    reasons = _span_reason(span_days, rules) + short
    if rules.max_gap_days is not None and valid_day.size:
        reasons += _gap_reason(valid_day, rules.max_gap_days)
    return Sufficiency(not reasons, tuple(reasons), coverage)


def check_hourly(
    valid_hour: NDArray[np.bool_],
    month: NDArray[np.int64],
    day: NDArray[np.int64],
    span_days: float,
    rules: SufficiencyRules,
) -> Sufficiency:
    """``valid_hour``: per hour of the baseline; ``month``/``day``: its local month/day index."""
    coverage, short = _coverage(valid_hour, rules.min_hourly_coverage, "hourly", "hours")
    reasons = _span_reason(span_days, rules) + short
    if valid_hour.size:
        months, inverse = np.unique(month, return_inverse=True)
        have = np.bincount(inverse, weights=valid_hour.astype(float))
        size = np.bincount(inverse)
        for m, h, s in zip(months.tolist(), have.tolist(), size.tolist(), strict=True):
            if h / s < rules.min_monthly_hourly_coverage:
                reasons.append(
                    f"month {month_label(m)} coverage {h / s:.1%} is below "
                    f"{rules.min_monthly_hourly_coverage:.0%}"
                )
    if rules.max_gap_days is not None and valid_hour.size:
        # a day counts when any of its hours has data
        _, inverse = np.unique(day, return_inverse=True)
        any_valid = np.bincount(inverse, weights=valid_hour.astype(float)) > 0
        reasons += _gap_reason(any_valid, rules.max_gap_days)
    return Sufficiency(not reasons, tuple(reasons), coverage)

"""Savings across buildings (neighbourhood, municipality) and plan-versus-measured savings.

Buildings' savings add; their uncertainties are independent and add in quadrature.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from polis.savings.measurement import TOTAL, PeriodSavings


def combine_periods(series: Iterable[Iterable[PeriodSavings]]) -> tuple[PeriodSavings, ...]:
    """Sum period savings by period label; months in order, ``total`` last."""
    sums: dict[str, list[float]] = {}
    for periods in series:
        for p in periods:
            acc = sums.setdefault(p.period, [0.0] * 10)
            acc[0] += p.baseline_kwh
            acc[1] += p.actual_kwh
            acc[2] += p.avoided_kwh
            acc[3] += p.avoided_eur
            acc[4] += p.avoided_co2_kg
            acc[5] += p.points
            acc[6] += p.uncertainty_68_kwh**2
            acc[7] += p.uncertainty_90_kwh**2
            acc[8] += p.baseline_eur
            acc[9] += p.actual_eur
    labels = sorted(k for k in sums if k != TOTAL) + ([TOTAL] if TOTAL in sums else [])
    return tuple(
        PeriodSavings(
            period=label,
            baseline_kwh=sums[label][0],
            actual_kwh=sums[label][1],
            avoided_kwh=sums[label][2],
            avoided_eur=sums[label][3],
            avoided_co2_kg=sums[label][4],
            points=int(sums[label][5]),
            uncertainty_68_kwh=math.sqrt(sums[label][6]),
            uncertainty_90_kwh=math.sqrt(sums[label][7]),
            baseline_eur=sums[label][8],
            actual_eur=sums[label][9],
        )
        for label in labels
    )


@dataclass(frozen=True, slots=True)
class PlanComparison:
    period: str
    planned_kwh: float
    measured_kwh: float
    difference_kwh: float  # measured - planned
    realisation: float | None  # measured / planned; None when nothing was planned
    within_uncertainty: bool | None  # |difference| <= 90 % uncertainty, when it is known


def plan_versus_measured(
    planned_kwh: Mapping[str, float],
    measured: Iterable[PeriodSavings],
) -> tuple[PlanComparison, ...]:
    """Compare the optimizer's planned savings with measured avoided energy per period.

    ``planned_kwh`` maps a period label ("2026-03", or a day "2026-03-14") to planned savings.
    Periods present on either side are reported; a missing side counts as zero, so unplanned
    savings and planned-but-unmeasured periods both show up.
    """
    by_period = {p.period: p for p in measured}
    labels = sorted((set(planned_kwh) | set(by_period)) - {TOTAL})
    rows = []
    for label in labels:
        plan = float(planned_kwh.get(label, 0.0))
        meas = by_period.get(label)
        value = meas.avoided_kwh if meas else 0.0
        diff = value - plan
        rows.append(
            PlanComparison(
                period=label,
                planned_kwh=plan,
                measured_kwh=value,
                difference_kwh=diff,
                realisation=value / plan if plan else None,
                within_uncertainty=(
                    abs(diff) <= meas.uncertainty_90_kwh
                    if meas and math.isfinite(meas.uncertainty_90_kwh)
                    else None
                ),
            )
        )
    return tuple(rows)

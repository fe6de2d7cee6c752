"""Avoided energy for one building (IPMVP Option C), from baseline fit to monthly savings.

The flow: check baseline sufficiency, fit the daily or hourly model on the baseline period,
judge it with Guideline 14 statistics, predict the adjusted baseline for every reporting
interval, and sum baseline, actual and avoided energy per local calendar month and for the
whole period, with €, CO2 and the fractional savings uncertainty. Intervals inside an
exclusion window (a non-routine event) are left out of both the fit and the savings.

The building's calendar (closures, holidays) is an independent variable of both models: the
daily model gives each day type its own intercept, the hourly model gives closed days their
own time-of-day profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from polis.savings.calendar import (
    DailySeries,
    HourlySeries,
    daily_from_hourly,
    local_calendar,
    month_label,
)
from polis.savings.closures import NO_CLOSURES, BuildingCalendar, DayTypes, day_types
from polis.savings.daily_model import DailyModel, DailyModelOptions, fit_daily_model
from polis.savings.hourly_model import HourlyModel, HourlyModelOptions, fit_hourly_model
from polis.savings.pricing import RateSchedule
from polis.savings.statistics import (
    HOURLY_GATES,
    MONTHLY_GATES,
    FitStatistics,
    Gates,
    fit_statistics,
    savings_uncertainty,
)
from polis.savings.sufficiency import Sufficiency, SufficiencyRules, check_daily, check_hourly

TOTAL = "total"


class ModelKind(StrEnum):
    DAILY = "daily"
    HOURLY = "hourly"


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must carry a time zone")
        if self.end <= self.start:
            raise ValueError(f"window end {self.end} is not after its start {self.start}")

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400.0

    def contains(self, utc_seconds: NDArray[np.int64]) -> NDArray[np.bool_]:
        return np.asarray(
            (utc_seconds >= int(self.start.timestamp())) & (utc_seconds < int(self.end.timestamp()))
        )


@dataclass(frozen=True, slots=True)
class MeasurementOptions:
    timezone: str = "Europe/Athens"
    daily: DailyModelOptions = field(default_factory=DailyModelOptions)
    hourly: HourlyModelOptions = field(default_factory=HourlyModelOptions)
    sufficiency: SufficiencyRules = field(default_factory=SufficiencyRules)
    #: Guideline 14 gives gates for monthly and hourly models; daily models are interval-data
    #: models and are judged by the interval (hourly) gates unless configured otherwise.
    daily_gates: Gates = HOURLY_GATES
    monthly_gates: Gates = MONTHLY_GATES
    hourly_gates: Gates = HOURLY_GATES
    #: Day types of the daily model (closed days are always their own type).
    day_types: DayTypes = DayTypes.DAY_OF_WEEK
    tariff: RateSchedule = field(default_factory=lambda: RateSchedule.flat(0.20))
    emission_factor: RateSchedule = field(default_factory=lambda: RateSchedule.flat(0.35))


@dataclass(frozen=True, slots=True)
class PeriodSavings:
    period: str  # "2026-03" or "total"
    baseline_kwh: float
    actual_kwh: float
    avoided_kwh: float
    avoided_eur: float
    avoided_co2_kg: float
    points: int
    uncertainty_68_kwh: float
    uncertainty_90_kwh: float
    #: Cost of the adjusted baseline and of the actual energy at the tariff in force at each
    #: interval; avoided_eur = baseline_eur - actual_eur. Under a time-of-use tariff, energy
    #: moved to cheap hours lowers the bill even when kWh do not fall.
    baseline_eur: float = 0.0
    actual_eur: float = 0.0

    @property
    def fractional_savings(self) -> float:
        return self.avoided_kwh / self.baseline_kwh if self.baseline_kwh else 0.0


@dataclass(frozen=True, slots=True)
class IntervalSeries:
    """Per-interval reporting results (for charts and CSV)."""

    start_utc_seconds: NDArray[np.int64]
    baseline_kwh: NDArray[np.float64]
    actual_kwh: NDArray[np.float64]
    used: NDArray[np.bool_]  # counted in the savings (both known, not excluded)


@dataclass(frozen=True, slots=True)
class BuildingMeasurement:
    building: str
    model_kind: ModelKind
    model_label: str
    sufficiency: Sufficiency
    statistics: FitStatistics | None
    model: DailyModel | HourlyModel | None
    periods: tuple[PeriodSavings, ...] = ()  # months in order, then the total
    cumulative: tuple[PeriodSavings, ...] = ()  # running totals at each month end
    intervals: IntervalSeries | None = None

    @property
    def accepted(self) -> bool:
        return self.statistics is not None and self.statistics.accepted

    @property
    def reason(self) -> str:
        if not self.sufficiency.sufficient:
            return self.sufficiency.reason
        if self.statistics is None:
            return "no model"
        return self.statistics.reason

    @property
    def total(self) -> PeriodSavings | None:
        return self.periods[-1] if self.periods else None


def _excluded(utc_seconds: NDArray[np.int64], exclusions: Sequence[Window]) -> NDArray[np.bool_]:
    mask = np.zeros(utc_seconds.shape, dtype=bool)
    for window in exclusions:
        mask |= window.contains(utc_seconds)
    return mask


def _summarise(
    label: str,
    rows: NDArray[np.bool_],
    intervals: IntervalSeries,
    eur_rate: NDArray[np.float64],
    co2_rate: NDArray[np.float64],
    stats: FitStatistics,
) -> PeriodSavings:
    baseline, actual = intervals.baseline_kwh, intervals.actual_kwh
    b = float(baseline[rows].sum())
    a = float(actual[rows].sum())
    avoided = baseline[rows] - actual[rows]
    m = int(rows.sum())
    baseline_eur = float((baseline[rows] * eur_rate[rows]).sum())
    actual_eur = float((actual[rows] * eur_rate[rows]).sum())
    return PeriodSavings(
        period=label,
        baseline_kwh=b,
        actual_kwh=a,
        avoided_kwh=b - a,
        avoided_eur=baseline_eur - actual_eur,
        avoided_co2_kg=float((avoided * co2_rate[rows]).sum()),
        points=m,
        uncertainty_68_kwh=savings_uncertainty(stats, b, m, 0.68) if m else 0.0,
        uncertainty_90_kwh=savings_uncertainty(stats, b, m, 0.90) if m else 0.0,
        baseline_eur=baseline_eur,
        actual_eur=actual_eur,
    )


def _reported(
    starts: NDArray[np.int64],
    predicted: NDArray[np.float64],
    actual: NDArray[np.float64],
    excluded: NDArray[np.bool_],
) -> IntervalSeries:
    """The reporting intervals; one counts where both energies are known and none excludes it."""
    used = np.isfinite(predicted) & np.isfinite(actual) & ~excluded
    return IntervalSeries(starts, predicted, actual, used)


def _measured(
    building: str,
    kind: ModelKind,
    sufficiency: Sufficiency,
    model: DailyModel | HourlyModel,
    stats: FitStatistics,
    intervals: IntervalSeries,
    months: NDArray[np.int64],
    eur: NDArray[np.float64],
    co2: NDArray[np.float64],
) -> BuildingMeasurement:
    """Monthly and running totals of a fitted model's reporting intervals (``months``: local
    month of each); ``eur`` and ``co2`` are each interval's rates."""
    used = intervals.used
    monthly: list[PeriodSavings] = []
    running: list[PeriodSavings] = []
    for m in np.unique(months).tolist():
        label = month_label(m)
        monthly.append(_summarise(label, used & (months == m), intervals, eur, co2, stats))
        running.append(_summarise(label, used & (months <= m), intervals, eur, co2, stats))
    monthly.append(_summarise(TOTAL, used, intervals, eur, co2, stats))
    return BuildingMeasurement(
        building,
        kind,
        model.label,
        sufficiency,
        stats,
        model,
        tuple(monthly),
        tuple(running),
        intervals,
    )


def measure_daily(
    building: str,
    daily: DailySeries,
    baseline: Window,
    reporting: Window,
    options: MeasurementOptions,
    exclusions: Sequence[Window] = (),
    calendar: BuildingCalendar = NO_CLOSURES,
) -> BuildingMeasurement:
    """Daily change-point model on local days; a day belongs to the window it starts in."""
    excluded = _excluded(daily.start_utc_seconds, exclusions)
    in_base = baseline.contains(daily.start_utc_seconds) & ~excluded
    valid = np.isfinite(daily.energy_kwh) & np.isfinite(daily.temperature_c)
    base_days = baseline.contains(daily.start_utc_seconds)
    sufficiency = check_daily((valid & in_base)[base_days], baseline.days, options.sufficiency)
    if not sufficiency.sufficient:
        return BuildingMeasurement(
            building, ModelKind.DAILY, "daily change-point", sufficiency, None, None
        )
    fit_rows = in_base & valid
    types = (
        day_types(daily.day, calendar.closed(daily.day), options.day_types)
        if calendar or options.day_types is not DayTypes.NONE
        else None
    )

    def of(rows: NDArray[np.bool_]) -> NDArray[np.int64] | None:
        return None if types is None else types[rows]

    model = fit_daily_model(
        daily.energy_kwh[fit_rows], daily.temperature_c[fit_rows], options.daily, of(fit_rows)
    )
    observed = daily.energy_kwh[fit_rows]
    stats = fit_statistics(
        observed,
        model.predict(daily.temperature_c[fit_rows], of(fit_rows)),
        model.parameters,
        options.daily_gates,
    )
    rep = reporting.contains(daily.start_utc_seconds)
    starts = daily.start_utc_seconds[rep]
    predicted = model.predict(daily.temperature_c[rep], of(rep))
    intervals = _reported(starts, predicted, daily.energy_kwh[rep], excluded[rep])
    # a daily model has no hourly shape: a day is valued at the mean rate of its hours
    hours, tz = daily.hours[rep], options.timezone
    eur = options.tariff.mean_over_hours(starts, hours, tz)
    co2 = options.emission_factor.mean_over_hours(starts, hours, tz)
    return _measured(
        building, ModelKind.DAILY, sufficiency, model, stats, intervals, daily.month[rep], eur, co2
    )


@dataclass(frozen=True, slots=True)
class FittedBaseline:
    """A building's hourly baseline model as fitted on its baseline period, with the checks it
    passed or failed: what predicts any later period (a report, or the hour the gateway's
    after-hours rule asks about) without reading the baseline's data again."""

    building: str
    sufficiency: Sufficiency
    statistics: FitStatistics | None
    model: HourlyModel | None

    @property
    def label(self) -> str:
        return self.model.label if self.model is not None else "hourly TOWT"

    def unreported(self) -> BuildingMeasurement:
        """The measurement of a baseline that predicts nothing (insufficient data)."""
        return BuildingMeasurement(
            self.building, ModelKind.HOURLY, self.label, self.sufficiency, self.statistics, None
        )


def _closed_days(calendar: BuildingCalendar, day: NDArray[np.int64]) -> NDArray[np.bool_] | None:
    return calendar.closed(day) if calendar else None


def fit_hourly(
    building: str,
    series: HourlySeries,
    baseline: Window,
    options: MeasurementOptions,
    exclusions: Sequence[Window] = (),
    calendar: BuildingCalendar = NO_CLOSURES,
) -> FittedBaseline:
    """Hourly TOWT model fitted on the hours of ``series`` inside ``baseline``."""
    cal = local_calendar(series, options.timezone)
    excluded = _excluded(cal.utc_seconds, exclusions)
    base_hours = baseline.contains(cal.utc_seconds)
    valid = np.isfinite(series.energy_kwh) & np.isfinite(series.temperature_c)
    sufficiency = check_hourly(
        (valid & ~excluded)[base_hours],
        cal.month[base_hours],
        cal.day[base_hours],
        baseline.days,
        options.sufficiency,
    )
    if not sufficiency.sufficient:
        return FittedBaseline(building, sufficiency, None, None)
    calendar_month = (cal.month % 12) + 1
    closed = _closed_days(calendar, cal.day)
    rows = base_hours & valid & ~excluded
    of = None if closed is None else closed[rows]
    model = fit_hourly_model(
        series.energy_kwh[rows],
        series.temperature_c[rows],
        cal.hour_of_week[rows],
        calendar_month[rows],
        options.hourly,
        of,
    )
    predicted = model.predict(
        series.temperature_c[rows], cal.hour_of_week[rows], calendar_month[rows], of
    )
    stats = fit_statistics(
        series.energy_kwh[rows], predicted, model.parameters, options.hourly_gates
    )
    return FittedBaseline(building, sufficiency, stats, model)


def report_hourly(
    fitted: FittedBaseline,
    series: HourlySeries,
    reporting: Window,
    options: MeasurementOptions,
    exclusions: Sequence[Window] = (),
    calendar: BuildingCalendar = NO_CLOSURES,
) -> BuildingMeasurement:
    """The fitted model's adjusted baseline for the hours of ``series`` inside ``reporting``,
    against the energy measured in them."""
    if fitted.model is None or fitted.statistics is None:
        return fitted.unreported()
    cal = local_calendar(series, options.timezone)
    excluded = _excluded(cal.utc_seconds, exclusions)
    rep = reporting.contains(cal.utc_seconds)
    closed = _closed_days(calendar, cal.day)
    starts = cal.utc_seconds[rep]
    predicted = fitted.model.predict(
        series.temperature_c[rep],
        cal.hour_of_week[rep],
        ((cal.month % 12) + 1)[rep],
        None if closed is None else closed[rep],
    )
    intervals = _reported(starts, predicted, series.energy_kwh[rep], excluded[rep])
    eur = options.tariff.at(starts, options.timezone)
    co2 = options.emission_factor.at(starts, options.timezone)
    return _measured(
        fitted.building,
        ModelKind.HOURLY,
        fitted.sufficiency,
        fitted.model,
        fitted.statistics,
        intervals,
        cal.month[rep],
        eur,
        co2,
    )


def measure_hourly(
    building: str,
    series: HourlySeries,
    baseline: Window,
    reporting: Window,
    options: MeasurementOptions,
    exclusions: Sequence[Window] = (),
    calendar: BuildingCalendar = NO_CLOSURES,
) -> BuildingMeasurement:
    """Hourly TOWT model on an hourly grid that covers both windows."""
    fitted = fit_hourly(building, series, baseline, options, exclusions, calendar)
    return report_hourly(fitted, series, reporting, options, exclusions, calendar)


def measure(
    building: str,
    series: HourlySeries,
    baseline: Window,
    reporting: Window,
    kind: ModelKind,
    options: MeasurementOptions,
    exclusions: Sequence[Window] = (),
    calendar: BuildingCalendar = NO_CLOSURES,
) -> BuildingMeasurement:
    """Measure savings from an hourly grid with the chosen model."""
    if kind is ModelKind.HOURLY:
        return measure_hourly(building, series, baseline, reporting, options, exclusions, calendar)
    daily = daily_from_hourly(series, options.timezone)
    return measure_daily(building, daily, baseline, reporting, options, exclusions, calendar)

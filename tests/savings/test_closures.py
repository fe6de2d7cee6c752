"""Closure calendars as an independent variable: day types, and a school with holidays."""

from datetime import UTC, date, datetime

import numpy as np
import pytest

from polis.savings.closures import (
    CLOSED_DAY_TYPE,
    BuildingCalendar,
    Closure,
    DayTypes,
    day_types,
)
from polis.savings.daily_model import DailyModelOptions, fit_daily_model
from polis.savings.measurement import (
    BuildingMeasurement,
    MeasurementOptions,
    ModelKind,
    Window,
    measure,
)
from polis.savings.synthetic import SyntheticBuilding, SyntheticData, synthetic_building

pytestmark = pytest.mark.unit

EPOCH = date(1970, 1, 1).toordinal()


def days(*iso: str) -> np.ndarray:
    return np.array([date.fromisoformat(d).toordinal() - EPOCH for d in iso], dtype=np.int64)


def test_recurring_closure_wraps_the_new_year_inclusive() -> None:
    winter = Closure("12-24", "01-07")
    found = winter.covers(
        days("2025-12-23", "2025-12-24", "2026-01-01", "2026-01-07", "2026-01-08")
    )
    assert found.tolist() == [False, True, True, True, False]
    summer = Closure("06-20", "09-10")
    assert summer.covers(days("2031-06-19", "2031-06-20", "2031-09-10", "2031-09-11")).tolist() == [
        False,
        True,
        True,
        False,
    ]


def test_dated_closure_applies_once() -> None:
    easter = Closure("2025-04-14", "2025-04-27", "Easter 2025")
    found = easter.covers(days("2025-04-13", "2025-04-14", "2025-04-27", "2026-04-20"))
    assert found.tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("13-01", "13-05", "month must be in 1..12"),
        ("2025-05-01", "2025-04-01", "before its start"),
        ("2025-05-01", "06-01", "both ends"),
        ("summer", "06-01", "neither MM-DD nor YYYY-MM-DD"),
    ],
)
def test_bad_closures_are_refused_with_the_reason(start: str, end: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Closure(start, end)


def test_day_types_by_scheme_with_closed_days_apart() -> None:
    week = days(*(f"2026-03-{d:02d}" for d in range(2, 9)))  # Monday 2 March .. Sunday 8 March
    closed = np.array([False, False, True, False, False, False, False])
    assert day_types(week, closed, DayTypes.DAY_OF_WEEK).tolist() == [0, 1, 7, 3, 4, 5, 6]
    assert day_types(week, closed, DayTypes.WEEKDAY_WEEKEND).tolist() == [0, 0, 7, 0, 0, 1, 1]
    assert day_types(week, closed, DayTypes.NONE).tolist() == [0, 0, 7, 0, 0, 0, 0]


def test_daily_model_recovers_an_intercept_per_day_type() -> None:
    rng = np.random.default_rng(5)
    n = 730
    t = 15 + 10 * np.sin(np.arange(n) * 2 * np.pi / 365) + rng.normal(0, 2, n)
    types = np.where(np.arange(n) % 7 >= 5, 1, 0)
    types[100:130] = CLOSED_DAY_TYPE
    intercept = np.array([400.0, 150.0, 0, 0, 0, 0, 0, 60.0])[types]
    y = intercept + 25 * np.maximum(14 - t, 0) + rng.normal(0, 5, n)
    grid = tuple(float(v) for v in np.arange(8.0, 24.0, 1.0))
    model = fit_daily_model(y, t, DailyModelOptions(grid, grid, fit_cooling=False), types)
    assert model.kind == "hdd_only"
    assert model.heating_balance_point_c == pytest.approx(14.0)
    assert model.beta_hdd == pytest.approx(25, rel=0.03)
    assert model.day_intercepts[0] == pytest.approx(400, abs=4)
    assert model.day_intercepts[1] == pytest.approx(150, abs=4)
    assert model.day_intercepts[CLOSED_DAY_TYPE] == pytest.approx(60, abs=6)
    assert np.isnan(model.day_intercepts[2])  # never seen: no prediction for it
    assert model.parameters == 3 + 2  # intercept, slope, balance point, two more intercepts
    assert np.isnan(model.predict(np.array([10.0]), np.array([2]))[0])
    with pytest.raises(ValueError, match="day type"):
        model.predict(np.array([10.0]))


# A school: small base load, closed for the summer, at Christmas, and at Easter, which moves.
START = datetime(2024, 12, 31, 22, tzinfo=UTC)  # 1 January 2025, local midnight
SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
END = datetime(2026, 12, 31, 22, tzinfo=UTC)
REDUCTION = 0.12
SCHOOL = SyntheticBuilding(base_kw=6.0, occupied_kw=40.0, noise_kw=3.0)
HOLIDAYS = BuildingCalendar(
    (
        Closure("06-20", "09-10", "summer"),
        Closure("12-24", "01-07", "Christmas"),
        Closure("2025-04-14", "2025-04-27", "Easter 2025"),
        Closure("2026-04-06", "2026-04-19", "Easter 2026"),
    )
)


@pytest.fixture(scope="module")
def school() -> SyntheticData:
    hours = int((END - START).total_seconds() // 3600)
    return synthetic_building(START, hours, 11, SCHOOL, REDUCTION, SWITCH, calendar=HOLIDAYS)


def _measure(
    data: SyntheticData, kind: ModelKind, calendar: BuildingCalendar
) -> BuildingMeasurement:
    return measure(
        "school",
        data.series,
        Window(START, SWITCH),
        Window(SWITCH, END),
        kind,
        MeasurementOptions(),
        calendar=calendar,
    )


def _august_error(data: SyntheticData, result: BuildingMeasurement) -> float:
    """Adjusted baseline minus the true counterfactual in August 2026, as a fraction."""
    aug = next(p for p in result.periods if p.period == "2026-08")
    i = data.series.index_of(datetime(2026, 7, 31, 21, tzinfo=UTC))
    j = data.series.index_of(datetime(2026, 8, 31, 21, tzinfo=UTC))
    truth = float(data.counterfactual_kwh[i:j].sum())
    return (aug.baseline_kwh - truth) / truth


@pytest.mark.parametrize("kind", list(ModelKind))
def test_school_holidays_are_modelled_only_with_the_calendar(
    school: SyntheticData, kind: ModelKind
) -> None:
    rep = slice(school.series.index_of(SWITCH), None)
    true_avoided = float(np.sum(school.counterfactual_kwh[rep] - school.series.energy_kwh[rep]))

    with_calendar = _measure(school, kind, HOLIDAYS)
    assert with_calendar.accepted, with_calendar.reason
    total = with_calendar.total
    assert total is not None
    assert total.fractional_savings == pytest.approx(REDUCTION, abs=0.01)
    assert abs(total.avoided_kwh - true_avoided) <= total.uncertainty_90_kwh
    assert abs(_august_error(school, with_calendar)) < 0.05

    without = _measure(school, kind, BuildingCalendar())
    assert without.statistics is not None
    assert with_calendar.statistics is not None
    assert without.statistics.cv_rmse > 2 * with_calendar.statistics.cv_rmse
    assert without.total is not None
    assert without.total.uncertainty_90_kwh > 3 * total.uncertainty_90_kwh
    # A closed August predicted as a term-time month: savings that never happened.
    assert _august_error(school, without) > 0.08 > 4 * abs(_august_error(school, with_calendar))

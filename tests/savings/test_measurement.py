from datetime import UTC, datetime

import numpy as np
import pytest

from polis.savings.calendar import HourlySeries, daily_from_hourly, local_calendar
from polis.savings.measurement import MeasurementOptions, ModelKind, Window, measure
from polis.savings.pricing import RateSchedule
from polis.savings.sufficiency import SufficiencyRules
from polis.savings.synthetic import synthetic_building

pytestmark = pytest.mark.unit

START = datetime(2024, 12, 31, 22, tzinfo=UTC)
SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
END = datetime(2026, 3, 31, 21, tzinfo=UTC)  # local midnight 1 April (summer time)
HOURS = int((END - START).total_seconds() // 3600)


def _data(seed: int = 3):  # type: ignore[no-untyped-def]
    return synthetic_building(START, HOURS, seed=seed, reduction=0.1, reduction_start=SWITCH)


def test_local_calendar_follows_athens_time() -> None:
    series = HourlySeries(START, np.zeros(48), np.zeros(48))
    cal = local_calendar(series, "Europe/Athens")
    # 2025-01-01 00:00 local is a Wednesday: hour of week 2 * 24.
    assert cal.hour_of_week[0] == 48
    assert str(cal.day[0].astype("datetime64[D]")) == "2025-01-01"


def test_daily_aggregation_requires_complete_days() -> None:
    energy = np.ones(72)
    energy[30] = np.nan
    series = HourlySeries(START, energy, np.full(72, 10.0))
    days = daily_from_hourly(series, "Europe/Athens")
    assert days.energy_kwh[0] == 24
    assert np.isnan(days.energy_kwh[1])


def test_tariff_and_emission_steps_apply_by_interval() -> None:
    data = _data()
    step = datetime(2026, 2, 28, 22, tzinfo=UTC)  # local 1 March
    options = MeasurementOptions(
        tariff=RateSchedule.of([(START, 0.10), (step, 0.30)]),
        emission_factor=RateSchedule.flat(0.5),
    )
    result = measure(
        "b", data.series, Window(START, SWITCH), Window(SWITCH, END), ModelKind.DAILY, options
    )
    by_month = {p.period: p for p in result.periods}
    assert by_month["2026-01"].avoided_eur == pytest.approx(0.10 * by_month["2026-01"].avoided_kwh)
    assert by_month["2026-03"].avoided_eur == pytest.approx(0.30 * by_month["2026-03"].avoided_kwh)
    assert by_month["total"].avoided_co2_kg == pytest.approx(0.5 * by_month["total"].avoided_kwh)


def test_exclusion_window_removes_intervals_from_savings() -> None:
    data = _data()
    window = (datetime(2026, 2, 9, 22, tzinfo=UTC), datetime(2026, 2, 16, 22, tzinfo=UTC))
    options = MeasurementOptions()
    args = ("b", data.series, Window(START, SWITCH), Window(SWITCH, END), ModelKind.DAILY, options)
    plain = measure(*args)
    excluded = measure(*args, exclusions=[Window(*window)])
    feb = {p.period: p for p in plain.periods}["2026-02"]
    feb_ex = {p.period: p for p in excluded.periods}["2026-02"]
    assert feb.points - feb_ex.points == 7


def test_insufficient_baseline_is_rejected_with_reason() -> None:
    data = _data()
    short = Window(datetime(2025, 6, 30, 21, tzinfo=UTC), SWITCH)
    result = measure(
        "b", data.series, short, Window(SWITCH, END), ModelKind.DAILY, MeasurementOptions()
    )
    assert not result.accepted
    assert result.periods == ()
    assert "at least 365" in result.reason


def test_hourly_month_with_poor_coverage_is_rejected() -> None:
    data = _data()
    energy = data.series.energy_kwh.copy()
    energy[24 * 40 : 24 * 50] = np.nan  # ten days of February 2025 missing
    series = HourlySeries(START, energy, data.series.temperature_c)
    result = measure(
        "b",
        series,
        Window(START, SWITCH),
        Window(SWITCH, END),
        ModelKind.HOURLY,
        MeasurementOptions(),
    )
    assert not result.sufficiency.sufficient
    assert "month 2025-02 coverage" in result.reason


def test_gap_rule_when_enabled() -> None:
    data = _data()
    energy = data.series.energy_kwh.copy()
    gap_start = data.series.index_of(datetime(2025, 4, 10, 21, tzinfo=UTC))  # local midnight
    energy[gap_start : gap_start + 24 * 21] = np.nan  # 21 whole local days
    series = HourlySeries(START, energy, data.series.temperature_c)
    windows = (Window(START, SWITCH), Window(SWITCH, END))
    lenient = measure("b", series, *windows, ModelKind.DAILY, MeasurementOptions())
    assert lenient.sufficiency.sufficient
    strict = measure(
        "b",
        series,
        *windows,
        ModelKind.DAILY,
        MeasurementOptions(sufficiency=SufficiencyRules(max_gap_days=14)),
    )
    assert "gap of 21 days" in strict.reason

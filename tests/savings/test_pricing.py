"""Time-of-use tariffs: the rate in force at each interval, and € savings from load shifting."""

from datetime import UTC, datetime

import numpy as np
import pytest

from polis.common.settings import SettingsError, load_settings
from polis.savings.calendar import HourlySeries, local_calendar
from polis.savings.measurement import MeasurementOptions, ModelKind, Window, measure
from polis.savings.pricing import RateSchedule, RateStep, TouPeriod
from polis.savings.settings import SavingsSettings
from polis.savings.synthetic import synthetic_building

pytestmark = pytest.mark.unit

TZ = "Europe/Athens"
WORKDAYS = frozenset(range(5))
PEAK = TouPeriod(WORKDAYS, 7 * 60, 23 * 60, 0.30)  # weekdays 07:00-23:00 local
TOU = RateSchedule((RateStep(datetime(2020, 1, 1, tzinfo=UTC), 0.12, (PEAK,)),))


def ts(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def test_rate_in_force_by_local_hour_and_day() -> None:
    instants = np.array(
        [
            ts("2026-03-02T06:59:00+02:00"),  # Monday, before the peak
            ts("2026-03-02T07:00:00+02:00"),
            ts("2026-03-02T22:00:00+02:00"),
            ts("2026-03-02T23:00:00+02:00"),
            ts("2026-03-07T12:00:00+02:00"),  # Saturday
            ts("2026-03-30T07:00:00+03:00"),  # Monday after the change to summer time
            ts("2026-03-30T06:00:00+03:00"),
        ]
    )
    assert TOU.at(instants, TZ).tolist() == [0.12, 0.30, 0.30, 0.12, 0.12, 0.30, 0.12]
    # the same instants in UTC wall-clock time fall in other periods
    assert TOU.at(instants[5:6], "UTC").tolist() == [0.12]  # 04:00 UTC


def test_a_day_is_valued_at_the_mean_of_its_hours() -> None:
    monday, saturday = ts("2026-03-02T00:00:00+02:00"), ts("2026-03-07T00:00:00+02:00")
    mean = TOU.mean_over_hours(np.array([monday, saturday]), np.array([24, 24]), TZ)
    assert mean.tolist() == pytest.approx([(16 * 0.30 + 8 * 0.12) / 24, 0.12])


def test_steps_join_without_gaps_and_end_where_they_say() -> None:
    jan, feb, mar = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3))
    with pytest.raises(ValueError, match="no gaps or overlaps"):
        RateSchedule((RateStep(jan, 0.1, valid_to=feb), RateStep(mar, 0.2)))
    ending = RateSchedule((RateStep(jan, 0.1, valid_to=feb), RateStep(feb, 0.2, valid_to=mar)))
    assert ending.at(np.array([ts("2026-02-15T00:00:00+00:00")])).tolist() == [0.2]
    with pytest.raises(ValueError, match="no rate in force"):
        ending.at(np.array([ts("2026-03-01T00:00:00+00:00")]))
    with pytest.raises(ValueError, match="overlap"):
        RateStep(jan, 0.1, (PEAK, TouPeriod(frozenset({0}), 22 * 60, 24 * 60, 0.2)))


def test_time_of_use_tariff_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "POLIS_SAVINGS_TARIFF",
        '[{"valid_from": "2026-01-01T00:00:00+02:00", "rate": 0.12, "periods": '
        '[{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "23:00",'
        ' "rate": 0.30}, {"days": ["sat"], "start": "20:00", "end": "24:00", "rate": 0.2}]}]',
    )
    tariff = load_settings(SavingsSettings).measurement_options().tariff
    instants = np.array(
        [
            ts("2026-03-02T08:00:00+02:00"),
            ts("2026-03-07T23:30:00+02:00"),
            ts("2026-03-08T08:00:00+02:00"),
        ]
    )
    assert tariff.at(instants, TZ).tolist() == [0.30, 0.2, 0.12]
    monkeypatch.setenv(
        "POLIS_SAVINGS_TARIFF",
        '[{"rate": 0.12, "periods": [{"start": "07:00", "end": "25:00", "rate": 0.3}]}]',
    )
    with pytest.raises(SettingsError, match="POLIS_SAVINGS_TARIFF"):
        load_settings(SavingsSettings)


START = datetime(2024, 12, 31, 22, tzinfo=UTC)
SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
END = datetime(2026, 12, 31, 22, tzinfo=UTC)


def test_load_shifting_saves_euros_while_kwh_rise() -> None:
    hours = int((END - START).total_seconds() // 3600)
    data = synthetic_building(START, hours, seed=11)
    counterfactual = data.series.energy_kwh
    cal = local_calendar(data.series, TZ)
    hour, weekday = cal.hour_of_week % 24, cal.hour_of_week // 24
    reporting = cal.utc_seconds >= int(SWITCH.timestamp())
    # Every reporting weekday, 30 % of the 17:00-21:00 energy moves to 01:00-05:00 with 10 %
    # storage losses: more kWh, bought in cheaper hours.
    actual = counterfactual.copy()
    evening = reporting & (weekday < 5) & (hour >= 17) & (hour < 21)
    moved = 0.3 * counterfactual[evening]
    actual[evening] -= moved
    night = np.flatnonzero(evening) - 16  # 17:00 -> 01:00 the same day (no DST change then)
    assert np.all(hour[night] == hour[evening] - 16)
    actual[night] += 1.1 * moved
    series = HourlySeries(START, actual, data.series.temperature_c)

    prices = TOU.at(cal.utc_seconds, TZ)
    true_kwh = float((counterfactual - actual)[reporting].sum())
    true_eur = float(((counterfactual - actual) * prices)[reporting].sum())
    assert true_kwh < 0 < true_eur

    windows = (Window(START, SWITCH), Window(SWITCH, END))
    result = measure("b", series, *windows, ModelKind.HOURLY, MeasurementOptions(tariff=TOU))
    assert result.accepted, result.reason
    total = result.total
    assert total is not None
    assert abs(total.avoided_kwh - true_kwh) <= total.uncertainty_90_kwh
    # the model's error in kWh, priced at the dearest rate, bounds its error in €
    assert abs(total.avoided_eur - true_eur) <= total.uncertainty_90_kwh * 0.30
    assert total.avoided_eur > 0
    assert total.avoided_eur == pytest.approx(total.baseline_eur - total.actual_eur)
    # at a flat rate the same measurement shows only the kWh picture: a loss
    flat = measure("b", series, *windows, ModelKind.HOURLY, MeasurementOptions())
    assert flat.total is not None
    assert flat.total.avoided_eur == pytest.approx(0.20 * flat.total.avoided_kwh)

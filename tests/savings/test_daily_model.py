import numpy as np
import pytest

from polis.savings.daily_model import DailyModelOptions, fit_daily_model

pytestmark = pytest.mark.unit

GRID = tuple(float(v) for v in np.arange(8.0, 26.0, 0.5))


def _weather(seed: int, days: int = 365) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = np.arange(days)
    return 17 - 10 * np.cos(2 * np.pi * (d - 15) / 365) + rng.normal(0, 3, days)


def test_recovers_heating_and_cooling_change_points() -> None:
    t = _weather(1)
    rng = np.random.default_rng(2)
    y = 200 + 12 * np.maximum(15 - t, 0) + 20 * np.maximum(t - 22, 0) + rng.normal(0, 5, t.size)
    model = fit_daily_model(y, t, DailyModelOptions(GRID, GRID))
    assert model.kind == "hdd_cdd"
    assert model.heating_balance_point_c == pytest.approx(15.0, abs=1.0)
    assert model.cooling_balance_point_c == pytest.approx(22.0, abs=1.0)
    assert model.beta_hdd == pytest.approx(12, rel=0.1)
    assert model.beta_cdd == pytest.approx(20, rel=0.1)
    assert model.p_values["beta_hdd"] < 0.1


def test_exact_fit_matches_least_squares_at_the_chosen_balance_points() -> None:
    t = _weather(4)
    rng = np.random.default_rng(5)
    y = 50 + 3 * np.maximum(16 - t, 0) + rng.normal(0, 2, t.size)
    model = fit_daily_model(y, t, DailyModelOptions(GRID, GRID, fit_cooling=False))
    assert model.kind == "hdd_only"
    hdd = np.maximum(model.heating_balance_point_c - t, 0)
    x = np.column_stack([np.ones_like(t), hdd])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    assert model.intercept == pytest.approx(beta[0])
    assert model.beta_hdd == pytest.approx(beta[1])
    r2 = 1 - np.sum((y - x @ beta) ** 2) / np.sum((y - y.mean()) ** 2)
    assert model.r_squared == pytest.approx(r2)


def test_no_temperature_response_gives_intercept_only() -> None:
    t = _weather(6)
    y = 80 + np.random.default_rng(7).normal(0, 5, t.size)
    model = fit_daily_model(y, t)
    assert model.kind == "intercept_only"
    assert model.intercept == pytest.approx(y.mean())
    assert np.allclose(model.predict(t), y.mean())


def test_negative_slopes_do_not_qualify() -> None:
    t = _weather(8)
    # Usage falls as it gets colder: physically implausible heating slope.
    y = 100 - 4 * np.maximum(15 - t, 0) + np.random.default_rng(9).normal(0, 1, t.size)
    model = fit_daily_model(y, t, DailyModelOptions(GRID, GRID))
    assert model.beta_hdd >= 0
    assert model.kind in {"intercept_only", "cdd_only"}


def test_missing_days_are_ignored_and_prediction_needs_temperature() -> None:
    t = _weather(10)
    y = 60 + 2 * np.maximum(t - 20, 0)
    y[::7] = np.nan
    model = fit_daily_model(y, t, DailyModelOptions(GRID, GRID))
    assert np.isnan(model.predict(np.array([np.nan, 20.0]))[0])

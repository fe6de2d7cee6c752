import math

import numpy as np
import pytest

from polis.savings.statistics import (
    Gates,
    adjusted_r_squared,
    cv_rmse,
    effective_sample_size,
    fit_statistics,
    fractional_savings_uncertainty,
    lag1_autocorrelation,
    nmbe,
    r_squared,
    savings_uncertainty,
)

pytestmark = pytest.mark.unit

Y = np.array([10.0, 12.0, 9.0, 14.0, 11.0, 13.0])
Y_HAT = np.array([11.0, 11.0, 10.0, 13.0, 11.0, 12.0])
# residuals y - y_hat: -1, 1, -1, 1, 0, 1; sum = 1; sum of squares = 5; mean(y) = 11.5


def test_cv_rmse_uses_n_minus_p() -> None:
    assert cv_rmse(Y, Y_HAT, parameters=2) == pytest.approx(math.sqrt(5 / 4) / 11.5)


def test_nmbe_uses_n_minus_p_and_sign() -> None:
    assert nmbe(Y, Y_HAT, parameters=2) == pytest.approx(1 / (4 * 11.5))
    assert nmbe(Y_HAT, Y, parameters=2) < 0


def test_r_squared_by_hand() -> None:
    ss_tot = sum((v - 11.5) ** 2 for v in Y)  # 17.5
    assert r_squared(Y, Y_HAT) == pytest.approx(1 - 5 / ss_tot)


def test_adjusted_r_squared() -> None:
    assert adjusted_r_squared(0.8, n=21, regressors=2) == pytest.approx(1 - 0.2 * 20 / 18)


def test_lag1_autocorrelation_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    e = rng.normal(size=200).cumsum()
    d = e - e.mean()
    expected = np.sum(d[1:] * d[:-1]) / np.sum(d * d)
    assert lag1_autocorrelation(e) == pytest.approx(expected)


def test_effective_sample_size() -> None:
    assert effective_sample_size(100, 0.5) == pytest.approx(100 * 0.5 / 1.5)
    assert effective_sample_size(100, -0.3) == 100


def test_gates_accept_and_reject_with_reasons() -> None:
    ok = fit_statistics(Y, Y_HAT, 2, Gates(max_cv_rmse=0.15, max_abs_nmbe=0.05))
    assert ok.accepted
    strict = fit_statistics(Y, Y_HAT, 2, Gates(max_cv_rmse=0.05, max_abs_nmbe=0.01))
    assert not strict.accepted
    assert "CV(RMSE)" in strict.reason
    assert "NMBE" in strict.reason


def test_savings_uncertainty_follows_guideline_14() -> None:
    rng = np.random.default_rng(5)
    y = 100 + rng.normal(0, 5, 365)
    y_hat = np.full(365, y.mean())
    stats = fit_statistics(y, y_hat, 1, Gates(1.0, 1.0))
    rho = stats.autocorrelation
    n = 365
    n_eff = n * (1 - max(rho, 0)) / (1 + max(rho, 0))
    cv = math.sqrt(np.sum((y - y_hat) ** 2) / (n - 1)) / y.mean()
    m, baseline = 30, 3000.0
    from polis.savings.tdist import t_critical

    t90 = t_critical(0.90, n_eff - 1)
    expected = 1.26 * t90 * cv * math.sqrt((n / n_eff) * (1 + 2 / n_eff) / m) * baseline
    assert savings_uncertainty(stats, baseline, m, 0.90) == pytest.approx(expected)
    assert savings_uncertainty(stats, baseline, m, 0.68) < expected
    assert fractional_savings_uncertainty(stats, baseline, 300.0, m, 0.90) == pytest.approx(
        expected / 300.0
    )


def test_rejects_mismatched_or_tiny_inputs() -> None:
    with pytest.raises(ValueError, match="same length"):
        cv_rmse([1.0, 2.0], [1.0], 1)
    with pytest.raises(ValueError, match="more observations"):
        nmbe([1.0, 2.0], [1.0, 2.0], 2)


def test_cv_rmse_is_positive_for_a_net_exporting_building() -> None:
    y = np.array([-4.0, -2.0, -3.0, -5.0])
    y_hat = np.array([-3.5, -2.5, -3.0, -4.0])
    expected = np.sqrt(np.sum((y - y_hat) ** 2) / (4 - 1)) / 3.5
    assert cv_rmse(y, y_hat, 1) == pytest.approx(expected)

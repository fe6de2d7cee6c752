import numpy as np
import pytest

from polis.savings.hourly_model import (
    HourlyModelOptions,
    Segmentation,
    detect_occupancy,
    fit_bin_endpoints,
    fit_hourly_model,
    temperature_components,
    three_month_weights,
)

pytestmark = pytest.mark.unit


def test_temperature_components_sum_to_temperature() -> None:
    t = np.array([-5.0, 0.0, 7.0, 12.0, 40.0])
    comps = temperature_components(t, (0.0, 10.0, 20.0))
    assert np.allclose(comps.sum(axis=1), t)
    assert comps[3].tolist() == [0.0, 10.0, 2.0, 0.0]


def test_sparse_bins_are_merged_from_the_extremes() -> None:
    t = np.concatenate([np.full(5, -10.0), np.full(100, 5.0), np.full(100, 15.0)])
    # (-inf, 0] has 5 values: its upper endpoint 0 goes; (20, inf) is empty: 20 goes.
    assert fit_bin_endpoints(t, (0.0, 10.0, 20.0), 20) == (10.0,)


def test_three_month_weights() -> None:
    months = np.array([12, 1, 2, 3])
    assert three_month_weights(months, 1).tolist() == [0.5, 1.0, 0.5, 0.0]


def test_occupancy_detected_from_residuals() -> None:
    hours = 24 * 7 * 20
    how = np.arange(hours) % 168
    occupied = (how < 120) & (how % 24 >= 8) & (how % 24 < 18)
    t = 15 + 5 * np.sin(np.arange(hours) / 50)
    y = 10 + 30 * occupied + np.random.default_rng(1).normal(0, 1, hours)
    found = detect_occupancy(y, t, how, np.ones(hours), 0.65)
    assert found.tolist() == occupied[:168].tolist()


@pytest.mark.parametrize("segmentation", list(Segmentation))
def test_fits_known_towt_process(segmentation: Segmentation) -> None:
    rng = np.random.default_rng(2)
    hours = 8760
    h = np.arange(hours)
    how = h % 168
    month = np.minimum(h // 730, 11) + 1
    t = 17 - 10 * np.cos(2 * np.pi * h / hours) + rng.normal(0, 2, hours)
    occupied = (how < 120) & (how % 24 >= 8) & (how % 24 < 18)
    y = 10 + 20 * occupied + 2 * np.maximum(15 - t, 0) + rng.normal(0, 1, hours)
    model = fit_hourly_model(y, t, how, month, HourlyModelOptions(segmentation=segmentation))
    resid = y - model.predict(t, how, month)
    assert np.sqrt(np.mean(resid**2)) < 1.2  # noise sigma is 1
    assert abs(resid.mean()) < 0.05

"""The pieces on synthetic data: exact discretisation, windows, counters, the COP line."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from polis.optimizer.identify import (
    CopLine,
    CopSource,
    ZoneModel,
    ZoneModel2,
    ZoneSeries,
    cop_from_submeter,
    fit_1r1c,
    identify_zone,
    power_from_counter,
    simulate,
    stuck_mask,
)
from polis.optimizer.identify.rc import windows
from polis.optimizer.identify.rc2 import _step_matrices_expm, step_matrices

pytestmark = pytest.mark.unit

COP = CopLine(3.0, 0.1, CopSource.PRIOR)
TRUTH = ZoneModel(0.8, 50.0, 6.0, 1.0, 20.0, COP, 4.0)


def _synthetic(days: int = 14, step_hours: float = 0.25, seed: int = 0) -> ZoneSeries:
    """A zone that obeys the discrete model exactly, driven by random heating."""
    rng = np.random.default_rng(seed)
    n = round(days * 24 / step_hours)
    hours = np.arange(n) * step_hours
    outdoor = 5.0 + 5.0 * np.sin(2 * np.pi * (hours - 9.0) / 24.0)
    irradiance = np.clip(600.0 * np.sin(2 * np.pi * (hours - 6.0) / 24.0), 0.0, None)
    occupancy = ((hours % 24 >= 8) & (hours % 24 < 18)).astype(float)
    power = rng.uniform(0.0, 12.0, n) * (rng.random(n) < 0.6)
    cooling = rng.uniform(0.0, 2.0, n) * (rng.random(n) < 0.05)
    series = ZoneSeries(
        step_hours, np.zeros(n), outdoor, power, irradiance, occupancy, None, cooling
    )
    a = TRUTH.decay(step_hours)
    heat = TRUTH.heat_kw(series)
    temps = np.empty(n)
    temps[0] = 20.0
    for k in range(n - 1):
        temps[k + 1] = a * temps[k] + (1 - a) * (outdoor[k] + TRUTH.r_k_per_kw * heat[k])
    return ZoneSeries(step_hours, temps, outdoor, power, irradiance, occupancy, None, cooling)


def test_the_fit_recovers_an_exact_model() -> None:
    fit = fit_1r1c(_synthetic(), COP)
    assert fit is not None
    model = fit.model
    assert model.r_k_per_kw == pytest.approx(0.8, rel=1e-4)
    assert model.c_kwh_per_k == pytest.approx(50.0, rel=1e-4)
    assert model.gains_occupied_kw == pytest.approx(6.0, rel=1e-3)
    assert model.gains_unoccupied_kw == pytest.approx(1.0, rel=1e-3)
    assert model.aperture_m2 == pytest.approx(20.0, rel=1e-3)
    assert model.eer == pytest.approx(4.0, rel=1e-3)
    assert fit.rmse_k < 1e-6
    assert fit.standard_errors["tau_h"] < 1e-3


def test_the_discretisation_is_exact_at_any_step() -> None:
    """Hourly steps hold the same inputs for four quarter hours: the same temperatures."""
    fine = _synthetic(days=2)
    coarse_steps = fine.steps // 4
    held = ZoneSeries(
        1.0,
        fine.temperature_c[::4],
        fine.outdoor_c[::4],
        fine.power_kw[::4],
        fine.irradiance_w_m2[::4] if fine.irradiance_w_m2 is not None else None,
        fine.occupancy[::4] if fine.occupancy is not None else None,
        None,
        fine.cooling_power_kw[::4] if fine.cooling_power_kw is not None else None,
    )

    def repeat(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else np.repeat(values, 4)

    quarter = ZoneSeries(
        0.25,
        np.repeat(held.temperature_c, 4),
        np.repeat(held.outdoor_c, 4),
        np.repeat(held.power_kw, 4),
        repeat(held.irradiance_w_m2),
        repeat(held.occupancy),
        None,
        repeat(held.cooling_power_kw),
    )
    hourly = simulate(TRUTH, held, 0, coarse_steps - 1)
    fine_sim = simulate(TRUTH, quarter, 0, quarter.steps - 4)
    np.testing.assert_allclose(hourly, fine_sim[3::4][: len(hourly)], atol=1e-9)


def test_windows_stop_before_each_gap() -> None:
    valid = np.array([True] * 10 + [False] + [True] * 3 + [False] + [True] * 30)
    assert windows(valid, 12) == [(0, 9), (15, 12), (27, 12), (39, 5)]


def test_windows_run_through_missing_temperatures() -> None:
    """Inputs decide where a window may run; it starts and ends on a measured temperature."""
    inputs = np.array([True] * 20 + [False] + [True] * 10)
    measured = np.ones(31, dtype=bool)
    measured[[0, 5, 6, 19, 20]] = False
    assert windows(inputs, 12, measured) == [(1, 12), (13, 5), (21, 9)]


def test_the_closed_form_step_matches_the_matrix_exponential() -> None:
    rng = np.random.default_rng(0)
    low, high = np.log([0.01, 0.001, 0.1, 0.1]), np.log([100.0, 100.0, 5000.0, 5000.0])
    for _ in range(500):
        x = np.exp(rng.uniform(low, high))
        step = float(rng.choice([1 / 60, 0.25, 1.0]))
        ad, bd = step_matrices(x, step)
        ad_ref, bd_ref = _step_matrices_expm(x, step)
        np.testing.assert_allclose(ad, ad_ref, rtol=0, atol=1e-10)
        np.testing.assert_allclose(bd, bd_ref, rtol=1e-8, atol=1e-12 * np.abs(bd_ref).max())


def test_counter_reset_and_spike() -> None:
    counter = 10.0 + np.arange(200.0)
    counter[50:] -= counter[50] - 0.5  # reset
    counter[120:] += 900.0  # a jump no heat pump draws
    power = power_from_counter(counter, 1.0)
    assert np.isnan(power[49])
    assert np.isnan(power[119])
    assert np.isnan(power[-1])
    assert int(np.isnan(power).sum()) == 3
    np.testing.assert_allclose(power[np.isfinite(power)], 1.0)


def test_stuck_runs() -> None:
    values = np.array([20.0, 20.1] + [20.2] * 24 + [20.3])
    mask = stuck_mask(values, 0.25)
    assert mask.sum() == 24
    assert not mask[:2].any()
    assert not mask[-1]


def test_cop_line_from_the_sub_meter() -> None:
    series = _synthetic()
    heat = COP.at(series.outdoor_c) * series.power_kw
    fitted = cop_from_submeter(
        ZoneSeries(
            series.step_hours, series.temperature_c, series.outdoor_c, series.power_kw, heat_kw=heat
        )
    )
    assert fitted is not None
    assert fitted.source is CopSource.SUBMETER
    assert fitted.nominal == pytest.approx(3.0, rel=1e-6)
    assert fitted.slope_per_k == pytest.approx(0.1, rel=1e-6)
    assert cop_from_submeter(series) is None


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="outdoor_c has 3 values"):
        ZoneSeries(0.25, np.zeros(4), np.zeros(3), np.zeros(4))


def test_a_two_node_zone_gets_the_2r2c_model() -> None:
    """A light air node on a heavy mass: the 1R1C model misses the fast response."""
    truth = ZoneModel2(0.8, 0.05, 4.0, 60.0, 6.0, 1.0, 20.0, COP, 4.0)
    base = _synthetic(days=17)
    power = base.power_kw * (np.arange(base.steps) % 96 < 48)  # heat only in the mornings
    series = ZoneSeries(
        0.25,
        np.zeros(base.steps),
        base.outdoor_c,
        power,
        base.irradiance_w_m2,
        base.occupancy,
        None,
        base.cooling_power_kw,
    )
    temps = np.empty(base.steps)
    temps[0] = 20.0
    ad, bd = step_matrices(truth.vector(), 0.25)
    heat = ZoneModel(0.8, 1.0, 6.0, 1.0, 20.0, COP, 4.0).heat_kw(series)
    state = np.array([20.0, 20.0])
    for k in range(base.steps - 1):
        state = ad @ state + bd @ np.array([base.outdoor_c[k], heat[k]])
        temps[k + 1] = state[0]
    result = identify_zone(replace(series, temperature_c=temps), holdout_days=3, cop_prior=COP)
    assert isinstance(result.model, ZoneModel2), result.notes
    assert result.accepted, result.reasons
    assert result.model.tau_h == pytest.approx(truth.tau_h, rel=1e-6)
    assert result.model.c_air_kwh_per_k == pytest.approx(4.0, rel=1e-6)
    assert any("2R2C chosen" in note for note in result.notes)

"""PV from the generation meter: the depot's 100 kWp array over a simulated January month
(the simulator's physics: irradiance, performance ratio 0.8, cell temperature), as the
kWp-equivalent the optimizer's forecast needs."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.identify.simulated import pv_history
from polis.optimizer.identify.pv import CV_LIMIT, fit_pv

pytestmark = pytest.mark.unit

DAYS = 30
PER_DAY = 96
PV = pv_history(DAYS)


def test_the_kwp_equivalent_from_a_month() -> None:
    result = fit_pv(PV.generation_kw, PV.irradiance_w_m2, 0.25)
    assert result.accepted, result.reasons
    assert result.kwp is not None
    assert result.standard_error_kwp is not None
    # January's cold cells yield a few per cent above the nameplate at 25 °C
    assert PV.peak_kw < result.kwp < 1.08 * PV.peak_kw
    assert result.standard_error_kwp < 0.01 * result.kwp
    assert result.cv is not None
    assert result.cv < CV_LIMIT / 3
    assert result.training_days == DAYS - 3
    assert result.notes == ("generation metered as export (negative): sign turned",)


def test_the_sign_of_the_meter_does_not_matter() -> None:
    turned = fit_pv(-PV.generation_kw, PV.irradiance_w_m2, 0.25)
    as_export = fit_pv(PV.generation_kw, PV.irradiance_w_m2, 0.25)
    assert turned.kwp == pytest.approx(as_export.kwp, rel=1e-12)
    assert turned.notes == ()


def test_an_inverter_trip_is_left_out() -> None:
    generation = PV.generation_kw.copy()
    generation[4 * PER_DAY : 6 * PER_DAY] = 0.0  # two days off
    whole = fit_pv(PV.generation_kw, PV.irradiance_w_m2, 0.25)
    tripped = fit_pv(generation, PV.irradiance_w_m2, 0.25)
    assert tripped.accepted, tripped.reasons
    assert tripped.outage_days == 2
    assert tripped.kwp == pytest.approx(whole.kwp, rel=0.01)
    assert "2 days under 10% of their predicted yield left out" in tripped.notes


def test_gaps_are_skipped() -> None:
    generation = PV.generation_kw.copy()
    generation[np.random.default_rng(1).random(len(generation)) < 0.05] = np.nan
    result = fit_pv(generation, PV.irradiance_w_m2, 0.25)
    whole = fit_pv(PV.generation_kw, PV.irradiance_w_m2, 0.25)
    assert result.accepted, result.reasons
    assert result.kwp == pytest.approx(whole.kwp, rel=0.01)


def test_a_meter_that_reads_nothing_is_rejected() -> None:
    result = fit_pv(np.zeros_like(PV.generation_kw), PV.irradiance_w_m2, 0.25)
    assert result.reasons == ("the generation meter never read above 0 in daylight",)
    assert result.kwp is None


def test_too_little_history_is_rejected() -> None:
    short = fit_pv(PV.generation_kw[: 3 * PER_DAY], PV.irradiance_w_m2[: 3 * PER_DAY], 0.25)
    assert short.reasons == ("3 whole days of data: not more than the 3 held out",)
    week = fit_pv(PV.generation_kw[: 7 * PER_DAY], PV.irradiance_w_m2[: 7 * PER_DAY], 0.25)
    assert week.reasons == ("4 training days with daylight data < 5",)


def test_irradiance_without_readings_is_rejected() -> None:
    empty = np.full(len(PV.generation_kw), np.nan)
    result = fit_pv(PV.generation_kw, empty, 0.25)
    assert result.reasons == ("0 training days with daylight data < 5",)

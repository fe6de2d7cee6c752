"""Every zone of the five default buildings identified from three simulated January weeks
and validated on the three days after them. The truth (R = 1/UA, C = thermal mass) is read
here only to judge the result; the identification sees measured series alone."""

from __future__ import annotations

import pytest

from optimizer.identify.simulated import SimulatedZone, zone_histories
from polis.optimizer.identify import RMSE_LIMIT_K, CopSource, identify_zone

pytestmark = [pytest.mark.unit, pytest.mark.slow]  # 1R1C and 2R2C fits of every zone

TRAIN_DAYS = 21
HOLDOUT_DAYS = 3
TAU_TOLERANCE = 0.25
ZONES = zone_histories(TRAIN_DAYS + HOLDOUT_DAYS)


def _id(zone: SimulatedZone) -> str:
    return f"{zone.building}/{zone.zone}"


@pytest.mark.parametrize("zone", ZONES, ids=_id)
def test_zone_identified_within_limits(zone: SimulatedZone) -> None:
    result = identify_zone(zone.series, holdout_days=HOLDOUT_DAYS, cop_prior=zone.datasheet_cop)
    assert result.accepted, result.reasons
    assert result.model is not None
    assert result.validation is not None
    assert result.validation.rmse_k <= RMSE_LIMIT_K
    assert result.model.tau_h == pytest.approx(zone.tau_h, rel=TAU_TOLERANCE)
    # With the data sheet's COP line the scale is right too: R and C separately.
    assert result.model.r_k_per_kw == pytest.approx(zone.r_k_per_kw, rel=TAU_TOLERANCE)
    assert result.model.c_kwh_per_k == pytest.approx(zone.c_kwh_per_k, rel=TAU_TOLERANCE)
    assert result.model.cop.source is CopSource.PRIOR


def test_without_a_cop_line_the_time_constant_is_still_learned() -> None:
    """The default COP line scales R and C, never their product."""
    for zone in ZONES:
        result = identify_zone(zone.series, holdout_days=HOLDOUT_DAYS)
        assert result.model is not None
        assert result.model.cop.source is CopSource.DEFAULT
        assert result.model.tau_h == pytest.approx(zone.tau_h, rel=TAU_TOLERANCE), _id(zone)
        assert any("default COP line" in note for note in result.notes)

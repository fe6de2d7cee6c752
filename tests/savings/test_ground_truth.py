"""Acceptance: a known 12 % reduction is recovered within ±1 percentage point."""

from datetime import UTC, datetime

import numpy as np
import pytest

from polis.savings.measurement import MeasurementOptions, ModelKind, Window, measure
from polis.savings.synthetic import synthetic_building

pytestmark = pytest.mark.unit

START = datetime(2024, 12, 31, 22, tzinfo=UTC)  # local midnight, 1 Jan 2025 in Athens
SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
END = datetime(2026, 12, 31, 22, tzinfo=UTC)
HOURS = int((END - START).total_seconds() // 3600)
REDUCTION = 0.12


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return synthetic_building(START, HOURS, seed=11, reduction=REDUCTION, reduction_start=SWITCH)


@pytest.mark.parametrize("kind", list(ModelKind))
def test_recovers_known_savings(data, kind: ModelKind) -> None:  # type: ignore[no-untyped-def]
    result = measure(
        "test", data.series, Window(START, SWITCH), Window(SWITCH, END), kind, MeasurementOptions()
    )
    assert result.sufficiency.sufficient
    assert result.accepted, result.reason
    total = result.total
    assert total is not None

    # Ground truth from the generator: counterfactual minus actual over the reporting year.
    rep = slice(data.series.index_of(SWITCH), None)
    true_avoided = float(np.sum(data.counterfactual_kwh[rep] - data.series.energy_kwh[rep]))
    true_fraction = true_avoided / float(np.sum(data.counterfactual_kwh[rep]))
    assert true_fraction == pytest.approx(REDUCTION)

    assert total.fractional_savings == pytest.approx(REDUCTION, abs=0.01)
    assert abs(total.avoided_kwh - true_avoided) <= total.uncertainty_90_kwh
    assert total.uncertainty_68_kwh < total.uncertainty_90_kwh
    # Twelve local months, each with its own figures, summing to the total.
    months = [p for p in result.periods if p.period != "total"]
    assert [p.period for p in months] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert sum(p.avoided_kwh for p in months) == pytest.approx(total.avoided_kwh)
    assert result.cumulative[-1].avoided_kwh == pytest.approx(total.avoided_kwh)
    # Euros and CO2 at the default flat tariff and grid factor.
    assert total.avoided_eur == pytest.approx(0.20 * total.avoided_kwh)
    assert total.avoided_co2_kg == pytest.approx(0.35 * total.avoided_kwh)

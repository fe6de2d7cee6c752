import math

import pytest

from polis.savings.aggregate import combine_periods, plan_versus_measured
from polis.savings.measurement import PeriodSavings

pytestmark = pytest.mark.unit


def _p(period: str, avoided: float, u90: float, baseline: float = 100.0) -> PeriodSavings:
    return PeriodSavings(
        period,
        baseline,
        baseline - avoided,
        avoided,
        avoided * 0.2,
        avoided * 0.35,
        30,
        u90 * 0.6,
        u90,
    )


def test_buildings_add_and_uncertainties_add_in_quadrature() -> None:
    a = [_p("2026-01", 10, 3), _p("total", 10, 3)]
    b = [_p("2026-01", 5, 4), _p("2026-02", 2, 1), _p("total", 7, 4)]
    combined = {p.period: p for p in combine_periods([a, b])}
    assert list(combined) == ["2026-01", "2026-02", "total"]
    assert combined["2026-01"].avoided_kwh == 15
    assert combined["2026-01"].uncertainty_90_kwh == pytest.approx(5.0)
    assert combined["total"].baseline_kwh == 200
    assert combined["2026-02"].uncertainty_68_kwh == pytest.approx(math.sqrt(0.6**2))


def test_plan_versus_measured() -> None:
    measured = [_p("2026-01", 90, 15), _p("2026-02", 40, 5), _p("total", 130, 16)]
    rows = {r.period: r for r in plan_versus_measured({"2026-01": 100, "2026-03": 20}, measured)}
    assert rows["2026-01"].difference_kwh == -10
    assert rows["2026-01"].realisation == pytest.approx(0.9)
    assert rows["2026-01"].within_uncertainty is True
    assert rows["2026-02"].planned_kwh == 0
    assert rows["2026-02"].realisation is None
    assert rows["2026-02"].within_uncertainty is False
    assert rows["2026-03"].measured_kwh == 0
    assert rows["2026-03"].within_uncertainty is None
    assert "total" not in rows

import math

import pytest

from polis.savings.tdist import regularized_beta, t_cdf, t_critical, t_two_sided_p

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("confidence", "df", "expected"),
    [
        # Printed Student's t tables (two-sided).
        (0.95, 10, 2.228),
        (0.90, 10, 1.812),
        (0.95, 1, 12.706),
        (0.99, 30, 2.750),
        (0.90, 120, 1.658),
    ],
)
def test_critical_values_match_tables(confidence: float, df: int, expected: float) -> None:
    assert t_critical(confidence, df) == pytest.approx(expected, abs=1e-3)


def test_large_df_tends_to_normal() -> None:
    assert t_critical(0.68, 1e7) == pytest.approx(0.99446, abs=1e-4)
    assert t_critical(0.90, 1e7) == pytest.approx(1.64485, abs=1e-4)


def test_cdf_with_one_df_is_cauchy() -> None:
    for t in (-3.0, -0.5, 0.0, 0.7, 5.0):
        assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)


def test_two_sided_p_value() -> None:
    assert t_two_sided_p(2.228, 10) == pytest.approx(0.05, abs=2e-4)
    assert t_two_sided_p(0.0, 10) == pytest.approx(1.0)


def test_regularized_beta_closed_forms() -> None:
    # I_x(1, b) = 1 - (1 - x)^b and I_x(a, 1) = x^a
    assert regularized_beta(1.0, 3.0, 0.3) == pytest.approx(1 - 0.7**3, abs=1e-12)
    assert regularized_beta(2.5, 1.0, 0.6) == pytest.approx(0.6**2.5, abs=1e-12)

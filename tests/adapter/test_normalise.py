from __future__ import annotations

import pytest

from polis.adapter.model import PointKind, Quality
from polis.adapter.normalise import NS, PointNormaliser, QualityRules, counter_delta
from polis.adapter.units import Quantity, UnitError, to_canonical


@pytest.mark.parametrize(
    ("value", "unit", "quantity", "expected", "canonical"),
    [
        (1500.0, "W", Quantity.ACTIVE_POWER, 1.5, "kW"),
        (2500.0, "Wh", Quantity.ACTIVE_ENERGY, 2.5, "kWh"),
        (212.0, "degF", Quantity.TEMPERATURE, 100.0, "degC"),
        (273.15, "K", Quantity.TEMPERATURE, 0.0, "degC"),
        (-500.0, "var", Quantity.REACTIVE_POWER, -0.5, "kvar"),
    ],
)
def test_units_convert_to_canonical(
    value: float, unit: str, quantity: Quantity, expected: float, canonical: str
) -> None:
    converted, unit_out = to_canonical(value, unit, quantity)
    assert converted == pytest.approx(expected)
    assert unit_out == canonical


def test_unit_of_the_wrong_quantity_is_an_error() -> None:
    with pytest.raises(UnitError, match="does not measure active_power"):
        to_canonical(1.0, "kWh", Quantity.ACTIVE_POWER)


def energy() -> PointNormaliser:
    return PointNormaliser("p", "Wh", Quantity.ACTIVE_ENERGY, QualityRules(PointKind.CUMULATIVE))


def test_counter_going_backwards_is_flagged_reset_and_kept() -> None:
    n = energy()
    assert n.normalise(10_000, 1).quality is Quality.GOOD
    r = n.normalise(500, 2)
    assert (r.value, r.quality) == (0.5, Quality.RESET)
    assert n.normalise(600, 3).quality is Quality.GOOD


def test_out_of_range_is_flagged_not_dropped_and_does_not_move_the_baseline() -> None:
    n = PointNormaliser(
        "t", "degC", Quantity.TEMPERATURE, QualityRules(PointKind.INSTANTANEOUS, -10, 45)
    )
    assert n.normalise(21.0, 1).quality is Quality.GOOD
    r = n.normalise(850.0, 2)
    assert (r.value, r.quality) == (850.0, Quality.OUT_OF_RANGE)
    assert n.last_value == 21.0


def test_missing_carries_the_last_good_value_and_says_so() -> None:
    n = energy()
    assert n.missing(1).value == 0.0
    n.normalise(2000, 2)
    r = n.missing(3)
    assert (r.value, r.quality, r.time_ns) == (2.0, Quality.MISSING, 3)


def test_nan_is_missing() -> None:
    assert energy().normalise(float("nan"), 1).quality is Quality.MISSING


def test_value_frozen_longer_than_the_window_is_stale() -> None:
    n = PointNormaliser(
        "t", "degC", Quantity.TEMPERATURE, QualityRules(PointKind.INSTANTANEOUS, stale_after_s=60)
    )
    assert n.normalise(20.0, 0).quality is Quality.GOOD
    assert n.normalise(20.0, 30 * NS).quality is Quality.GOOD
    assert n.normalise(20.0, 61 * NS).quality is Quality.STALE
    assert n.normalise(20.5, 62 * NS).quality is Quality.GOOD


def test_counter_delta_handles_roll_over_and_reset() -> None:
    assert counter_delta(100.0, 130.0) == 30.0
    assert counter_delta(4_294_967_290.0, 10.0, rollover_at=4_294_967_296.0) == 16.0
    assert counter_delta(500.0, 20.0, rollover_at=4_294_967_296.0) == 20.0

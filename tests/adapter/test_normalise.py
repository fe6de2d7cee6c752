from __future__ import annotations

import pytest

from polis.adapter.model import Quality
from polis.adapter.normalise import NS, PointNormaliser, QualityRules, counter_delta
from polis.common.catalogue.points import PointKind
from polis.common.catalogue.units import Quantity, UnitError, to_canonical

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "unit", "quantity", "expected", "canonical"),
    [
        (1500.0, "W", Quantity.ACTIVE_POWER, 1.5, "kW"),
        (2500.0, "Wh", Quantity.ACTIVE_ENERGY, 2.5, "kWh"),
        (212.0, "degF", Quantity.TEMPERATURE, 100.0, "degC"),
        (273.15, "K", Quantity.TEMPERATURE, 0.0, "degC"),
        (-500.0, "var", Quantity.REACTIVE_POWER, -0.5, "kvar"),
        (12_500.0, "VA", Quantity.APPARENT_POWER, 12.5, "kVA"),
        (4200.0, "varh", Quantity.REACTIVE_ENERGY, 4.2, "kvarh"),
        (48.0, "%RH", Quantity.RELATIVE_HUMIDITY, 48.0, "%"),
        (850.0, "ppm", Quantity.CO2_CONCENTRATION, 850.0, "ppm"),
        (1234.0, "L", Quantity.VOLUME, 1.234, "m3"),
        (2.0, "L/s", Quantity.VOLUME_FLOW, 7.2, "m3/h"),
        (1.5, "bar", Quantity.PRESSURE, 150.0, "kPa"),
        (2500.0, "Wh", Quantity.THERMAL_ENERGY, 2.5, "kWh"),
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


def test_every_quantity_is_in_the_contract() -> None:
    from polis.points.v1 import points_pb2

    names = {name for name in points_pb2.Quantity.keys() if name != "QUANTITY_UNSPECIFIED"}  # noqa: SIM118
    assert names == {f"QUANTITY_{q.value.upper()}" for q in Quantity}


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

"""No alarm flaps: readings hovering at a rule's threshold, with noise, for hours of simulated
time evaluated every two minutes (open alarms kept as the gateway keeps them), raise at most
once."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alarms.scene import COOLING, HEATING, MAIN_POWER, NOW, TEMPERATURE, catalogue, engine
from alarms.simulated import run_engine
from polis.alarms.memory_source import MemoryReadings
from polis.alarms.model import AlarmKey

pytestmark = pytest.mark.unit

START = NOW.replace(hour=7)  # occupied since 06:00
HOURS = 4
EVERY = timedelta(minutes=2)


def readings(point: str, level: float, noise: float, seed: int) -> MemoryReadings:
    """Every point of the scene measured every minute; ``point`` at ``level`` ± ``noise``."""
    store = MemoryReadings()
    t = START.timestamp() + 60.0 * np.arange(HOURS * 60)
    rng = np.random.default_rng(seed)
    for ref in catalogue().points():
        store.add(ref.point_id, t, np.zeros_like(t))
    store.drop(point)
    store.add(point, t, level + rng.uniform(-noise, noise, t.shape))
    return store


def raises(store: MemoryReadings, key: AlarmKey) -> int:
    outcome = run_engine(
        engine(), store, START + timedelta(minutes=90), START + timedelta(hours=HOURS), EVERY
    )
    count: int = outcome.raises_per_key()[key]
    return count


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offset=st.floats(-0.4, 0.4), seed=st.integers(0, 2**16))
def test_a_zone_hovering_at_the_cold_threshold_raises_at_most_once(
    offset: float, seed: int
) -> None:
    store = readings(TEMPERATURE, 18.5 + offset, 0.3, seed)  # the threshold: 20 °C less 1.5 K
    store.drop(HEATING)
    t = START.timestamp() + 60.0 * np.arange(HOURS * 60)
    store.add(HEATING, t, np.full(t.shape, 100.0))
    assert raises(store, AlarmKey("comfort.too_cold", "b1", "z1")) <= 1


def test_a_zone_below_the_threshold_with_noise_raises_exactly_once() -> None:
    store = readings(TEMPERATURE, 17.9, 0.3, 7)
    assert raises(store, AlarmKey("comfort.too_cold", "b1", "z1")) == 1


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offset=st.floats(-6.0, 6.0), seed=st.integers(0, 2**16))
def test_demand_hovering_at_the_contracted_peak_raises_at_most_once(
    offset: float, seed: int
) -> None:
    store = readings(MAIN_POWER, 80.0 + offset, 10.0, seed)
    assert raises(store, AlarmKey("energy.peak_limit", "b1", "")) <= 1


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(level=st.floats(0.0, 20.0), seed=st.integers(0, 2**16))
def test_outputs_around_the_simultaneity_threshold_raise_at_most_once(
    level: float, seed: int
) -> None:
    store = readings(HEATING, level, 5.0, seed)
    t = START.timestamp() + 60.0 * np.arange(HOURS * 60)
    store.drop(COOLING)
    store.add(COOLING, t, level + np.random.default_rng(seed + 1).uniform(-5, 5, t.shape))
    assert raises(store, AlarmKey("hvac.simultaneous_heat_cool", "b1", "z1")) <= 1

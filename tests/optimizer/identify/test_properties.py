"""Whatever the series hold, ``identify_zone`` answers: it never raises, and a model it
accepts has every parameter finite and inside its physical bounds.

Two kinds of input: arbitrary values (NaN, huge, negative, constant) in every series of
the right length, and a real simulated zone with parts of its series overwritten by such
values, which reaches the fits and the validation."""

from __future__ import annotations

from dataclasses import replace

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optimizer.identify.simulated import zone_histories
from polis.optimizer.identify import (
    RMSE_LIMIT_K,
    Identification,
    ZoneModel,
    ZoneModel2,
    ZoneSeries,
    identify_zone,
    power_from_counter,
)
from polis.optimizer.identify.rc import LOWER, UPPER, vector_of
from polis.optimizer.identify.rc2 import LOWER2, UPPER2
from polis.optimizer.identify.zone import C_RANGE_KWH_PER_K

pytestmark = [pytest.mark.unit, pytest.mark.slow]  # a few hundred fits

DAYS = 11  # 8 training days: enough for the fits to run
STEPS = DAYS * 96
REAL = next(z for z in zone_histories(DAYS) if z.zone == "offices")
NAMES = ("temperature_c", "outdoor_c", "power_kw", "irradiance_w_m2", "occupancy")
OPTIONAL = ("irradiance_w_m2", "occupancy", "cooling_power_kw", "heat_kw")

Optional = np.ndarray | None
Corruption = tuple[str, int, int, str | float, float]  # series, start, steps, kind, factor
anything = st.floats(allow_nan=True, allow_infinity=True, width=64)
arbitrary = hnp.arrays(np.float64, STEPS, elements=anything, fill=anything)


def _assert_answer(result: Identification) -> None:
    event("accepted" if result.accepted else "fitted" if result.fit else "rejected before a fit")
    assert all(isinstance(reason, str) and reason for reason in result.reasons)
    if not result.accepted:
        return
    model = result.model
    if isinstance(model, ZoneModel):
        x = vector_of(model)
        assert np.all(np.isfinite(x))
        assert np.all(x >= LOWER)
        assert np.all(x <= UPPER)
        assert C_RANGE_KWH_PER_K[0] <= model.c_kwh_per_k <= C_RANGE_KWH_PER_K[1]
    else:
        assert isinstance(model, ZoneModel2)
        x = model.vector()
        assert np.all(np.isfinite(x))
        assert np.all(x >= LOWER2)
        assert np.all(x <= UPPER2)
    assert result.validation is not None
    assert result.validation.rmse_k <= RMSE_LIMIT_K


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    temperature=arbitrary,
    outdoor=arbitrary,
    power=arbitrary,
    optional=st.lists(st.one_of(st.none(), arbitrary), min_size=4, max_size=4),
)
def test_arbitrary_series(
    temperature: np.ndarray, outdoor: np.ndarray, power: np.ndarray, optional: list[Optional]
) -> None:
    series = ZoneSeries(
        0.25,
        temperature,
        outdoor,
        power,
        irradiance_w_m2=optional[0],
        occupancy=optional[1],
        heat_kw=optional[2],
        cooling_power_kw=optional[3],
    )
    _assert_answer(identify_zone(series, holdout_days=3))


corruption = st.tuples(
    st.sampled_from(NAMES),
    st.integers(0, STEPS - 1),  # where
    st.integers(1, STEPS),  # how many steps
    st.one_of(
        st.just("nan"),
        st.just("scale"),
        st.floats(allow_nan=False, allow_infinity=False, width=64),  # a constant
    ),
    st.floats(-1e6, 1e6),  # the factor for "scale"
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    corruptions=st.lists(corruption, min_size=1, max_size=4),
    dropped=st.sets(st.sampled_from(OPTIONAL[:2])),
)
def test_a_real_zone_with_corrupted_stretches(
    corruptions: list[Corruption], dropped: set[str]
) -> None:
    changes: dict[str, np.ndarray | None] = {
        name: np.array(getattr(REAL.series, name), dtype=np.float64) for name in NAMES
    }
    for name, start, length, kind, factor in corruptions:
        values = changes[name]
        assert values is not None
        stretch = slice(start, start + length)
        if kind == "nan":
            values[stretch] = np.nan
        elif kind == "scale":
            values[stretch] = values[stretch] * factor
        else:
            values[stretch] = kind
    for name in dropped:
        changes[name] = None
    series = replace(REAL.series, **changes)
    _assert_answer(identify_zone(series, holdout_days=3, cop_prior=REAL.datasheet_cop))


@settings(max_examples=200, deadline=None)
@given(counter=hnp.arrays(np.float64, st.integers(0, 300), elements=anything))
def test_power_from_any_counter(counter: np.ndarray) -> None:
    """A meter register, however broken, gives power that is a gap or finite and ≥ 0."""
    power = power_from_counter(counter, 0.25)
    assert len(power) == len(counter)
    finite = power[np.isfinite(power)]
    assert np.all(finite >= 0.0)
    assert not np.isinf(power).any()

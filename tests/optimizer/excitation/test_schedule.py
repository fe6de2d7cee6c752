"""The identification schedule: bounded steps, only in the allowed hours, only when enabled."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from polis.common.catalogue.loads import ZoneConfig
from polis.optimizer.excitation.schedule import ORDER, comfort_band, plan_excitation, prbs

from .physics import catalogue_zone

pytestmark = pytest.mark.unit

ATHENS = ZoneInfo("Europe/Athens")
MONDAY = datetime(2025, 1, 5, 22, tzinfo=UTC)  # Monday 6 January 2025, local midnight
POINT = "larissa/library/library-bms/zone-reading-room-heating-setpoint"


def reading_room(**excitation: object) -> ZoneConfig:
    return catalogue_zone("library", "reading-room", excitation=excitation)


def test_every_step_stays_in_the_comfort_band_and_within_the_amplitude() -> None:
    zone = reading_room(amplitude_k=1.0, step_minutes=60)
    schedule = plan_excitation("library", zone, POINT, 20.5, MONDAY, 7, "Europe/Athens")
    assert schedule.start == MONDAY
    assert schedule.end == MONDAY + timedelta(days=7)
    writes = schedule.writes()
    assert len(writes) == len(schedule.steps)  # every hour allowed
    for step in writes:
        assert step.setpoint_c is not None
        assert step.lo_c <= step.setpoint_c <= step.hi_c
        assert abs(step.setpoint_c - 20.5) <= 1.0 + 1e-9
        assert step.end - step.start <= timedelta(minutes=60)
        # the band is the zone's own at both ends of every slot of the step
        t = step.start
        while t < step.end:
            for at in (t, t + timedelta(minutes=15)):
                lo, hi = comfort_band(zone, at.astimezone(ATHENS))
                assert lo <= step.setpoint_c <= hi
            t += timedelta(minutes=15)
    values = {s.setpoint_c for s in writes}
    # occupied (20.5..21.5): 20.5 or 21.5; unoccupied (14..21.5): 19.5 or 21.5
    assert values == {19.5, 20.5, 21.5}
    # contiguous from start to end
    assert all(a.end == b.start for a, b in zip(schedule.steps, schedule.steps[1:], strict=False))


def test_steps_are_written_only_in_the_allowed_hours() -> None:
    night = [{"start": "20:00", "end": "06:00"}]
    zone = reading_room(hours=night, step_minutes=120)
    schedule = plan_excitation("library", zone, POINT, 20.5, MONDAY, 3, "Europe/Athens")
    writes = schedule.writes()
    assert writes
    assert len(writes) < len(schedule.steps)
    for step in writes:
        first = step.start.astimezone(ATHENS)
        last = (step.end - timedelta(minutes=15)).astimezone(ATHENS)
        for local in (first, last):
            assert local.hour >= 20 or local.hour < 6, local
    nights = {s.start.astimezone(ATHENS).hour for s in writes}
    assert nights <= {20, 22, 0, 2, 4}


def test_the_steps_follow_a_maximum_length_sequence() -> None:
    bits = prbs(2**ORDER - 1)
    assert sum(bits) == 2 ** (ORDER - 1)  # one more 1 than 0s: balanced
    runs, current = [], 1
    for a, b in itertools.pairwise(bits):
        if a == b:
            current += 1
        else:
            runs.append(current)
            current = 1
    assert max(runs) <= ORDER
    assert min(runs) == 1
    assert prbs(130)[:63] == prbs(130)[63:126]  # repeats with its period


def test_a_start_between_slots_is_rounded_up_and_days_may_be_a_fraction() -> None:
    zone = reading_room()
    start = MONDAY + timedelta(minutes=7, seconds=3)
    schedule = plan_excitation("library", zone, POINT, 20.5, start, 0.25, "Europe/Athens")
    assert schedule.start == MONDAY + timedelta(minutes=15)
    assert schedule.end == schedule.start + timedelta(hours=6)


def test_no_room_in_the_band_writes_nothing() -> None:
    """A band with its floor above its ceiling over a slot (a comfort period starting) gets
    no command rather than one outside either band."""
    zone = reading_room(step_minutes=15).model_copy(
        update={"unoccupied_lo_c": 22.0, "unoccupied_hi_c": 24.0}
    )
    schedule = plan_excitation("library", zone, POINT, 20.5, MONDAY, 1, "Europe/Athens")
    boundary = [
        s
        for s in schedule.steps
        if comfort_band(zone, s.start.astimezone(ATHENS))
        != comfort_band(zone, s.end.astimezone(ATHENS))
    ]
    assert boundary
    assert all(s.setpoint_c is None for s in boundary)


def test_refused_unless_enabled_and_within_max_days() -> None:
    plain = catalogue_zone("library", "reading-room")
    with pytest.raises(ValueError, match="excitation is not enabled"):
        plan_excitation("library", plain, POINT, 20.5, MONDAY, 1, "Europe/Athens")
    off = reading_room(enabled=False)
    with pytest.raises(ValueError, match="excitation is not enabled"):
        plan_excitation("library", off, POINT, 20.5, MONDAY, 1, "Europe/Athens")
    capped = reading_room(max_days=7)
    with pytest.raises(ValueError, match=r"days: 8 is outside 0\.\.7"):
        plan_excitation("library", capped, POINT, 20.5, MONDAY, 8, "Europe/Athens")
    with pytest.raises(ValueError, match="start: needs a timezone"):
        plan_excitation("library", capped, POINT, 20.5, MONDAY.replace(tzinfo=None), 1, "UTC")


@pytest.mark.parametrize(
    ("field", "value"),
    [("amplitude_k", 2.0), ("amplitude_k", 0.1), ("step_minutes", 50), ("max_days", 100)],
)
def test_the_catalogue_bounds_the_excitation(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=f"excitation.{field}"):
        reading_room(**{field: value})

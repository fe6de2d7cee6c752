from datetime import UTC, datetime, timedelta

import pytest

from polis.common.clock import Clock

pytestmark = pytest.mark.unit

ORIGIN = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
START = datetime(2026, 1, 12, 0, 0, tzinfo=UTC)


def test_accelerated_clock_maps_wall_to_virtual_and_back() -> None:
    clock = Clock(origin=ORIGIN, start=START, speed=96.0)
    wall = ORIGIN.timestamp() + 900  # 15 wall minutes
    assert clock.at_wall(wall) == START + timedelta(hours=24)
    assert clock.wall_for(START + timedelta(hours=24)) == pytest.approx(wall)
    assert clock.wall_seconds(900) == pytest.approx(900 / 96)


def test_two_processes_configured_alike_agree() -> None:
    a = Clock(origin=ORIGIN, start=START, speed=60.0)
    b = Clock(origin=ORIGIN, start=START, speed=60.0)
    assert a.now() - b.now() < timedelta(seconds=1)


def test_invalid_clocks_are_refused() -> None:
    with pytest.raises(ValueError, match="speed"):
        Clock(origin=ORIGIN, start=START, speed=0)
    with pytest.raises(ValueError, match="timezone"):
        Clock(origin=datetime(2026, 1, 1), start=START)

"""The point mapping proposed from the simulator's catalogue, and its overrides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimizer.commissioning.catalogue import simulator_catalogue
from polis.common.catalogue import parse_catalogue
from polis.optimizer.commissioning.history import zone_history
from polis.optimizer.commissioning.mapping import (
    MappingError,
    apply_overrides,
    load_overrides,
    propose,
)

pytestmark = pytest.mark.unit

CAT = parse_catalogue(simulator_catalogue(), "simulator")
BMS = "larissa/library/library-bms"


def test_every_zone_of_every_building_gets_its_own_points() -> None:
    for building in CAT.buildings:
        mappings = propose(CAT, building.id)
        zones = [load.id for load in building.loads if load.kind == "hvac"]
        assert [m.zone for m in mappings] == zones
        for m in mappings:
            assert m.missing() == [], (building.id, m.zone)
            bms = f"larissa/{building.id}/{building.id}-bms"
            assert m.temperature == f"{bms}/zone-{m.zone}-temperature"
            assert m.outdoor == f"{bms}/outdoor-air-temperature"
            assert m.power == f"{bms}/zone-{m.zone}-heat-pump-electric-power"
            assert m.thermal_power == f"{bms}/zone-{m.zone}-heat-pump-thermal-power"
            assert m.occupancy == f"{bms}/zone-{m.zone}-occupancy-level"
            assert m.irradiance == f"{bms}/global-irradiance"


def test_the_library_reading_room() -> None:
    (m,) = propose(CAT, "library")
    assert (m.building, m.zone) == ("library", "reading-room")
    assert m.cooling_output == f"{BMS}/zone-reading-room-cooling-output"


def test_a_mapping_file_overrides_and_removes_points(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "zones:\n  reading-room:\n    power: library-bms/hvac-electric-power\n"
        "    thermal_power: null\n",
        encoding="utf-8",
    )
    (m,) = apply_overrides(CAT, propose(CAT, "library"), load_overrides(path))
    assert m.power == f"{BMS}/hvac-electric-power"
    assert m.thermal_power is None
    assert m.temperature == f"{BMS}/zone-reading-room-temperature"


def test_a_mapping_file_naming_an_unknown_point_or_zone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("zones:\n  reading-room:\n    power: library-bms/nope\n", encoding="utf-8")
    with pytest.raises(MappingError, match="unknown point"):
        apply_overrides(CAT, propose(CAT, "library"), load_overrides(path))
    path.write_text("zones:\n  attic:\n    power: library-bms/nope\n", encoding="utf-8")
    with pytest.raises(MappingError, match="unknown zone"):
        apply_overrides(CAT, propose(CAT, "library"), load_overrides(path))
    path.write_text("zones:\n  reading-room:\n    humidity: x\n", encoding="utf-8")
    with pytest.raises(MappingError, match="unknown role"):
        load_overrides(path)


def test_power_is_split_by_the_cooling_output() -> None:
    (m,) = propose(CAT, "library")
    values = {
        "temperature": [20.0, 20.5, 21.0, 21.0],
        "outdoor": [5.0, 6.0, 7.0, 8.0],
        "power": [2.0, 1.0, 0.5, np.nan],
        "cooling_output": [0.0, 0.0, 40.0, 0.0],
        "occupancy": [0.0, 50.0, 100.0, 100.0],
    }
    points = m.points()
    data = {points[role]: np.array(v, dtype=np.float64) for role, v in values.items()}
    history = zone_history(m, data, 4)
    series = history.series
    np.testing.assert_array_equal(series.power_kw[:3], [2.0, 1.0, 0.0])
    assert series.cooling_power_kw is not None
    np.testing.assert_array_equal(series.cooling_power_kw[:3], [0.0, 0.0, 0.5])
    assert series.occupancy is not None
    np.testing.assert_array_equal(series.occupancy, [0.0, 0.5, 1.0, 1.0])
    # mapped points without a single reading: no series, and a note says so
    assert series.heat_kw is None
    assert series.irradiance_w_m2 is None
    assert "thermal_power mapped but no reading in the span" in history.notes

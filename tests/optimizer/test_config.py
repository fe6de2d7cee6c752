"""The optimizer's view of the catalogue: validation messages and the instances built from it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from polis.common.catalogue import CatalogueError, load_catalogue, parse_catalogue
from polis.optimizer.config import OptimizerConfig, build_building, optimizer_view
from polis.optimizer.domain import DeferrableLoad, EVSession, Horizon, ThermalZone
from polis.optimizer.instances import InstanceFactory

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).parents[2] / "examples" / "neighbourhood.yaml"


def parse_config(data: dict[str, object], source: str) -> OptimizerConfig:
    return optimizer_view(parse_catalogue(data, source))


# Wednesday 15 January 2025, 00:00 Athens time (UTC+2)
START = datetime(2025, 1, 14, 22, 0, tzinfo=UTC)


def test_example_config_builds_instances() -> None:
    config = optimizer_view(load_catalogue(EXAMPLE))
    factory = InstanceFactory(config)
    hall = factory("town-hall", START, 96)
    assert not isinstance(hall, tuple)
    horizon = Horizon(START, 96)
    prices = hall.tariff.import_eur_per_kwh  # type: ignore[union-attr]
    # 06:45 local: night price; 07:00 day price; 17:00-21:00 peak
    assert prices[27] == 0.14
    assert prices[28] == 0.19
    assert prices[68] == 0.26
    assert horizon.slot_start(68).hour == 15  # 17:00 local is 15:00 UTC
    zone = next(load for load in hall.loads if isinstance(load, ThermalZone))  # type: ignore[union-attr]
    # comfort applies at the end of each slot: slot 31 ends at 08:00 local
    assert zone.comfort_lo[30] == 16
    assert zone.comfort_lo[31] == 21
    school = factory("school-1", START, 96)
    (ev,) = [load for load in school.loads if isinstance(load, EVSession)]  # type: ignore[union-attr]
    assert (ev.arrival, ev.departure, ev.energy_kwh) == (32, 60, 18)
    pool = factory("pool", START, 96)
    (pump,) = [load for load in pool.loads if isinstance(load, DeferrableLoad)]  # type: ignore[union-attr]
    assert (pump.run_slots, pump.min_run_slots, pump.baseline_start) == (32, 4, 32)
    hood = factory("old-town", START, 96)
    assert [b.id for b in hood.buildings] == ["town-hall", "school-1"]  # type: ignore[union-attr]
    assert factory.scopes() == ["old-town", "riverside"]


def test_errors_name_the_file_and_path(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["buildings"][2]["loads"][0]["power_kw"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(CatalogueError) as error:
        load_catalogue(bad)
    assert "bad.yaml:" in str(error.value)
    assert "buildings[2].loads[0].power_kw: Input should be greater than 0" in str(error.value)


def test_zone_controller_is_validated_and_reaches_the_instance() -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    hall = next(b for b in data["buildings"] if b["id"] == "town-hall")
    zone_cfg = next(load for load in hall["loads"] if load["kind"] == "hvac")
    zone_cfg["controller"] = {"proportional_band_k": 1.0, "cooling_offset_k": 0.5}
    overlap = r"loads\[0\]\.controller: .*cooling_offset_k \(0\.5\)"
    with pytest.raises(CatalogueError, match=overlap):
        parse_config(data, "optimizer.yaml")
    zone_cfg["controller"] = {"proportional_band_k": 1.0, "cooling_offset_k": 4.0}
    zone = next(
        load
        for load in InstanceFactory(parse_config(data, "ok"))("town-hall", START, 96).loads  # type: ignore[union-attr]
        if isinstance(load, ThermalZone)
    )
    assert (zone.control_band_k, zone.cooling_offset_k) == (1.0, 4.0)


def test_unknown_tariff_reference_is_rejected() -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["buildings"][0]["tariff"] = "nope"
    with pytest.raises(CatalogueError, match=r"buildings\[0\]\.tariff: unknown tariff 'nope'"):
        parse_config(data, "optimizer.yaml")


def test_zone_gains_add_solar_through_the_aperture() -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    hall = next(b for b in data["buildings"] if b["id"] == "town-hall")
    zone_cfg = next(load for load in hall["loads"] if load["kind"] == "hvac")
    zone_cfg["solar_aperture_m2"] = 40.0
    config = parse_config(data, "with aperture")
    horizon = Horizon(START, 96)
    irradiance = tuple(float(10 * t) for t in range(96))
    instance = build_building(
        config, "town-hall", horizon, (5.0,) * 96, (10.0,) * 96, (0.0,) * 96,
        irradiance_w_m2=irradiance,
    )  # fmt: skip
    without = build_building(
        config, "town-hall", horizon, (5.0,) * 96, (10.0,) * 96, (0.0,) * 96
    )  # fmt: skip
    zone = next(x for x in instance.loads if isinstance(x, ThermalZone))
    internal = next(x for x in without.loads if isinstance(x, ThermalZone))
    # 40 m2 of aperture under 10·t W/m2 add 40 · 10·t / 1000 kW to the internal gains
    for t in (0, 30, 95):
        assert zone.gains_kw[t] == pytest.approx(internal.gains_kw[t] + 40 * 10 * t / 1000)

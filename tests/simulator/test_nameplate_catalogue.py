"""The simulator's catalogue without its physics: what a facility manager has of a building."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from polis.common.catalogue import parse_catalogue
from polis.common.catalogue.loads import ModelState, TankConfig, ZoneConfig
from polis.optimizer.config import optimizer_view
from polis.simulator.__main__ import main as simulator_main
from polis.simulator.catalogue import catalogue, nameplate_catalogue
from polis.simulator.config import load_config
from polis.simulator.endpoints import endpoint_layout
from polis.simulator.loads import rated_electric_kw

pytestmark = pytest.mark.unit

SIM = load_config()
LAYOUT = endpoint_layout(SIM, "127.0.0.1", 47900)
TRUTH = catalogue(SIM, LAYOUT, modbus_poll_s=1.0, bacnet_poll_s=0.5)
NAMEPLATE = nameplate_catalogue(SIM, LAYOUT, modbus_poll_s=1.0, bacnet_poll_s=0.5)
# what the simulator's physics would put into a load's entry
PHYSICS = {
    "r_k_per_kw",
    "c_kwh_per_k",
    "cop_nominal",
    "cop_slope_per_k",
    "cop_reference_c",
    "gains_occupied_kw",
    "gains_unoccupied_kw",
    "solar_aperture_m2",
    "controller",
    "initial_temp_c",
    "daily_draw_kwh",
    "loss_kw",
    "cold_water_c",
}


def _loads(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [x for b in document["buildings"] for x in b["loads"] if x["kind"] == kind]


def test_no_physics_in_zones_and_tanks_and_no_base_load() -> None:
    for load in _loads(NAMEPLATE, "hvac") + _loads(NAMEPLATE, "water_heater"):
        assert load["model"] == "uncommissioned"
        assert not PHYSICS & set(load), load["id"]
    assert all("base_load_kw" not in b for b in NAMEPLATE["buildings"])


def test_everything_but_the_physics_is_the_truth_catalogue() -> None:
    """Devices, points, meters, tariff, calendars, comfort periods and command points."""
    for key in ("tariffs", "calendars", "neighbourhoods"):
        assert NAMEPLATE[key] == TRUTH[key]
    for mine, truth in zip(NAMEPLATE["buildings"], TRUTH["buildings"], strict=True):
        assert mine["devices"] == truth["devices"]
        assert mine["meters"] == truth["meters"]
        assert mine["pv_kwp"] == truth["pv_kwp"]
        for load, true_load in zip(mine["loads"], truth["loads"], strict=True):
            assert load["id"] == true_load["id"]
            kept = set(load) - {"model", "max_kw"}
            assert {k: load[k] for k in kept} == {k: true_load[k] for k in kept}


def test_a_zone_is_limited_to_its_heat_pumps_rated_input() -> None:
    offices = next(x for x in _loads(NAMEPLATE, "hvac") if x["id"] == "offices")
    zone = SIM.buildings[0].zones[0]
    # 60 kW at 7 degC outdoor and COP 4.2 there: the data sheet's A7/W35 input
    assert offices["max_kw"] == pytest.approx(rated_electric_kw(zone), abs=0.01)
    assert offices["max_kw"] == pytest.approx(14.28, abs=0.01)


def test_the_optimizer_plans_only_what_needs_no_learned_model() -> None:
    cat = parse_catalogue(NAMEPLATE, "nameplate", complete=True)
    loads = [x for b in cat.buildings for x in b.loads]
    assert {x.model for x in loads if isinstance(x, ZoneConfig | TankConfig)} == {
        ModelState.UNCOMMISSIONED
    }
    planned = {(b.id, x.id) for b in optimizer_view(cat).buildings for x in b.loads}
    assert planned == {
        ("sports-hall", "pool-pump"),
        ("depot", "ev-depot-cp1"),
        ("depot", "ev-depot-cp2"),
        ("depot", "battery"),
    }


def test_cli_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    code = simulator_main(
        ["catalogue", "--base-port", "47900", "--bacnet-poll-s", "0.5", "--nameplate-only"]
    )
    assert code == 0
    assert yaml.safe_load(capsys.readouterr().out) == NAMEPLATE

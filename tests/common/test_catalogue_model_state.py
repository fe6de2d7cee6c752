"""A load's model state: given, learned, or uncommissioned (not planned until learned)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from polis.common.catalogue import CatalogueError, load_catalogue, parse_catalogue
from polis.common.catalogue.loads import ModelState, TankConfig, ZoneConfig
from polis.optimizer.config import optimizer_view, uncommissioned_loads

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalogue.yaml"


def example() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(data, dict)
    return data


def _loads(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {load["id"]: load for load in data["buildings"][0]["loads"]}


def uncommissioned_example() -> dict[str, Any]:
    """The example with its zone and tank not commissioned yet."""
    data = example()
    loads = _loads(data)
    zone, tank = loads["classrooms"], loads["dhw"]
    del zone["r_k_per_kw"], zone["c_kwh_per_k"]
    zone["model"] = "uncommissioned"
    tank.pop("daily_draw_kwh", None)
    tank.pop("loss_kw", None)
    tank["model"] = "uncommissioned"
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(data, "c.yaml")
    return str(caught.value).splitlines()


def test_a_given_zone_is_the_default_and_keeps_its_model() -> None:
    cat = load_catalogue(EXAMPLE, complete=True)
    zone = next(x for x in cat.buildings[0].loads if isinstance(x, ZoneConfig))
    assert zone.model is ModelState.GIVEN
    assert (zone.r_k_per_kw, zone.c_kwh_per_k) == (0.8, 60)


def test_uncommissioned_zone_and_tank_are_valid_and_not_planned() -> None:
    cat = parse_catalogue(uncommissioned_example(), "c.yaml", complete=True)
    building = cat.buildings[0]
    zone = next(x for x in building.loads if isinstance(x, ZoneConfig))
    tank = next(x for x in building.loads if isinstance(x, TankConfig))
    assert zone.model is tank.model is ModelState.UNCOMMISSIONED
    assert zone.r_k_per_kw is None
    assert uncommissioned_loads(cat) == {building.id: ["classrooms", "dhw"]}
    view = optimizer_view(cat)
    planned = {load.id for b in view.buildings for load in b.loads}
    assert not planned & {"classrooms", "dhw"}
    # never commanded either: their own controllers run them
    commanded = {load for loads in view.command_points().values() for load in loads}
    assert not commanded & {"classrooms", "dhw"}


def test_a_building_with_only_uncommissioned_loads_is_not_planned() -> None:
    data = uncommissioned_example()
    building = data["buildings"][0]
    building["loads"] = [x for x in building["loads"] if x["id"] in ("classrooms", "dhw")]
    assert optimizer_view(parse_catalogue(data, "c.yaml")).buildings == ()


def test_a_given_zone_without_r_or_c_is_refused_naming_them() -> None:
    data = example()
    del _loads(data)["classrooms"]["c_kwh_per_k"]
    assert problems(data) == [
        "c.yaml: buildings[0].loads[0]: c_kwh_per_k required (model: given); a zone without "
        "a model yet is model: uncommissioned"
    ]


def test_an_uncommissioned_zone_with_a_model_is_refused() -> None:
    data = uncommissioned_example()
    _loads(data)["classrooms"]["r_k_per_kw"] = 0.8
    (message,) = problems(data)
    assert "an uncommissioned zone has no model: remove r_k_per_kw" in message


def test_an_uncommissioned_tank_with_a_draw_profile_is_refused() -> None:
    data = uncommissioned_example()
    _loads(data)["dhw"]["loss_kw"] = 0.1
    (message,) = problems(data)
    assert "an uncommissioned water heater has no model: remove loss_kw" in message


def test_an_unknown_model_state_is_refused() -> None:
    data = example()
    _loads(data)["classrooms"]["model"] = "guessed"
    assert problems(data) == [
        "c.yaml: buildings[0].loads[0].model: Input should be 'given', 'learned' or "
        "'uncommissioned' (got 'guessed')"
    ]

"""Configuration errors name the offending field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from polis.simulator.config import ConfigError, default_config_text, parse_config

pytestmark = pytest.mark.unit


def _default() -> dict[str, Any]:
    data = yaml.safe_load(default_config_text())
    assert isinstance(data, dict)
    return data


def test_default_municipality_has_the_required_sites() -> None:
    config = parse_config(_default())
    kinds = {b.kind for b in config.buildings}
    assert {"office", "school", "library", "sports", "depot"} <= kinds
    assert len(config.neighbourhoods) >= 2
    depot = next(b for b in config.buildings if b.kind == "depot")
    assert depot.pv is not None
    assert depot.pv.peak_kw == 100
    assert depot.ev_chargers is not None
    assert any(b.pool for b in config.buildings)
    assert any(b.modbus_gateway and len(b.meters) > 1 for b in config.buildings)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda d: d["buildings"][2]["zones"][0].update(ua_w_per_k=-5),
            "buildings.2.zones.0.ua_w_per_k",
        ),
        (lambda d: d["buildings"][0].update(floor_area_m2="big"), "buildings.0.floor_area_m2"),
        (lambda d: d["buildings"][1]["occupancy"].update(default=3), "buildings.1.occupancy"),
        (lambda d: d["buildings"][0].pop("heating_setpoint"), "buildings.0.heating_setpoint"),
        (lambda d: d.update(step_seconds=0), "step_seconds"),
        (
            lambda d: d["buildings"][0]["meters"][0].update(profile="acme"),
            "buildings.0.meters.0.profile",
        ),
        (lambda d: d["buildings"][4].update(neighbourhood="atlantis"), "atlantis"),
    ],
)
def test_errors_name_the_field(mutate: Any, field: str) -> None:
    data = copy.deepcopy(_default())
    mutate(data)
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert field in str(error.value)

"""OCPP chargers in the catalogue: their points, the charging-limit command point, errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from polis.common.catalogue import CatalogueError, parse_catalogue
from polis.common.catalogue.points import PointKind
from polis.common.catalogue.units import Quantity

pytestmark = pytest.mark.unit

CHARGER: dict[str, Any] = {
    "protocol": "ocpp",
    "id": "depot-cp1",
    "identity": "DEPOT-CP-1",
    "version": "1.6",
    "connectors": 2,
    "charging_limit": {"min": 0, "max": 44, "default_duration_s": 900},
}


def document(*chargers: dict[str, Any], loads: list[dict[str, Any]] | None = None) -> dict:  # type: ignore[type-arg]
    return {
        "municipality": "larissa",
        "buildings": [
            {
                "id": "depot",
                "neighbourhood": "viopa",
                "devices": list(chargers),
                "loads": loads or [],
            }
        ],
    }


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(data, "c.yaml")
    return str(caught.value).splitlines()


def test_a_charger_has_points_per_connector_and_its_charging_limit() -> None:
    cat = parse_catalogue(document(CHARGER))
    points = {ref.point.id: ref.point for ref in cat.points()}
    assert list(points) == [
        "connector-1-energy",
        "connector-1-power",
        "connector-1-session-energy",
        "connector-1-status",
        "connector-2-energy",
        "connector-2-power",
        "connector-2-session-energy",
        "connector-2-status",
        "charging-limit",
    ]
    energy = points["connector-1-energy"]
    assert (energy.quantity, energy.unit, energy.kind) == (
        Quantity.ACTIVE_ENERGY,
        "kWh",
        PointKind.CUMULATIVE,
    )
    assert points["connector-2-power"].unit == "kW"
    assert points["connector-1-status"].kind is PointKind.STATE
    limit = points["charging-limit"]
    assert (limit.quantity, limit.unit, limit.kind) == (Quantity.SETPOINT, "kW", PointKind.COMMAND)
    assert limit.write is not None
    assert (limit.write.min, limit.write.max, limit.write.default_duration_s) == (0, 44, 900)
    device = cat.buildings[0].devices[0]
    assert device.charge_point_identity == "DEPOT-CP-1"  # type: ignore[union-attr]


def test_without_charging_limit_a_charger_is_only_read() -> None:
    charger = {k: v for k, v in CHARGER.items() if k not in ("charging_limit", "identity")}
    cat = parse_catalogue(document(charger))
    assert all(ref.point.kind is not PointKind.COMMAND for ref in cat.points())
    assert cat.buildings[0].devices[0].charge_point_identity == "depot-cp1"  # type: ignore[union-attr]


def test_an_ev_load_is_commanded_through_the_charging_limit() -> None:
    load = {
        "kind": "ev_charger",
        "id": "fleet",
        "max_kw": 44,
        "command_point": "depot-cp1/charging-limit",
    }
    parse_catalogue(document(CHARGER, loads=[load]))
    read_only = {k: v for k, v in CHARGER.items() if k != "charging_limit"}
    assert problems(document(read_only, loads=[load])) == [
        "c.yaml: buildings[0].loads[0].command_point: no point 'depot-cp1/charging-limit' "
        "among building depot's devices"
    ]


def test_bad_chargers_are_named_with_their_path() -> None:
    bad = copy.deepcopy(CHARGER)
    bad.update(version="2.0", connectors=0, identity="depot cp/1")
    assert problems(document(bad)) == [
        "c.yaml: buildings[0].devices[0].identity: String should match pattern "
        "'^[A-Za-z0-9*_=:+|@.-]{1,48}$' (got 'depot cp/1')",
        "c.yaml: buildings[0].devices[0].version: Input should be '1.6' or '2.0.1' (got '2.0')",
        "c.yaml: buildings[0].devices[0].connectors: Input should be greater than or equal to 1 "
        "(got 0)",
    ]
    negative = copy.deepcopy(CHARGER)
    negative["charging_limit"] = {"min": -5, "max": 44}
    assert problems(document(negative)) == [
        "c.yaml: buildings[0].devices[0]: charging_limit.min must not be negative (got -5.0)"
    ]


def test_two_chargers_may_not_share_an_identity() -> None:
    other = {**CHARGER, "id": "depot-cp2"}
    assert problems(document(CHARGER, other)) == [
        "c.yaml: buildings: duplicate OCPP charge point identity id 'DEPOT-CP-1'"
    ]

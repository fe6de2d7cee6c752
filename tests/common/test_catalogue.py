"""The municipality catalogue: schema, errors with file/line/path, references, views."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml

from polis.common.catalogue import (
    CatalogueError,
    load_catalogue,
    parse_catalogue,
    point_id,
    resolve_point_ref,
    split_point_id,
)
from polis.common.catalogue.__main__ import main as catalogue_cli
from polis.common.catalogue.drafting import bacnet_units, draft_point
from polis.optimizer.config import optimizer_view, resolve_tariff
from polis.optimizer.domain import Horizon
from polis.savings.catalogue_view import co2_schedule, price_schedule, site_directory

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalogue.yaml"


def example() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(data, dict)
    return data


def problems(data: dict[str, Any], *, complete: bool = False) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(data, "c.yaml", complete=complete)
    return str(caught.value).splitlines()


def test_the_example_is_complete_and_lists_profile_registers() -> None:
    cat = load_catalogue(EXAMPLE, complete=True)
    ids = {ref.point_id for ref in cat.points()}
    # the Modbus meter lists no points: every readable register of its profile is one
    assert "stara-zagora/school-3/school-3-main/import-energy" in ids
    assert "stara-zagora/school-3/school-3-bms/zone-classrooms-heating-setpoint" in ids
    assert len(ids) == 45


def test_schema_errors_name_file_line_and_path(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("port: 502", "port: 70000")
    bad = tmp_path / "catalogue.yaml"
    bad.write_text(text)
    line = 1 + text.splitlines().index("        port: 70000")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(bad)
    assert str(caught.value) == (
        f"catalogue.yaml:{line}: buildings[0].devices[0].port: "
        "Input should be less than or equal to 65535 (got 70000)"
    )


def test_a_missing_field_is_named_inside_its_union_member() -> None:
    data = example()
    del data["buildings"][0]["devices"][1]["device_instance"]
    del data["buildings"][0]["loads"][0]["max_kw"]
    assert problems(data) == [
        "c.yaml: buildings[0].devices[1].device_instance: Field required",
        "c.yaml: buildings[0].loads[0].max_kw: Field required",
    ]


def test_every_dangling_reference_is_reported_at_once() -> None:
    data = example()
    b = data["buildings"][0]
    b["tariff"] = "nowhere"
    b["calendar"] = "never"
    b["neighbourhood"] = "elsewhere"
    b["meters"] = {"main": "school-3-mains"}
    b["loads"][0]["temperature_point"] = "school-3-bms/outdoor"
    b["loads"][1]["command_point"] = "school-3-bms/dhw-tank-temperature"
    assert problems(data) == [
        "c.yaml: buildings[0].neighbourhood: unknown neighbourhood 'elsewhere'",
        "c.yaml: buildings[0].tariff: unknown tariff 'nowhere'",
        "c.yaml: buildings[0].calendar: unknown calendar 'never'",
        "c.yaml: buildings[0].meters.main: no device 'school-3-mains' in school-3",
        "c.yaml: buildings[0].loads[0].temperature_point: no point 'school-3-bms/outdoor' "
        "among building school-3's devices",
        "c.yaml: buildings[0].loads[1].command_point: 'school-3-bms/dhw-tank-temperature' "
        "is not a command point with write limits",
    ]


def test_point_references_check_quantity_and_building() -> None:
    data = example()
    data["buildings"][0]["loads"][0]["temperature_point"] = "school-3-main/total-power"
    data["buildings"][0]["loads"][1]["command_point"] = (
        "stara-zagora/other/school-3-bms/dhw-heater-enable"
    )
    assert problems(data) == [
        "c.yaml: buildings[0].loads[0].temperature_point: 'school-3-main/total-power' "
        "measures active_power, not temperature",
        "c.yaml: buildings[0].loads[1].command_point: no point "
        "'stara-zagora/other/school-3-bms/dhw-heater-enable' among building school-3's devices",
    ]


def test_duplicates_are_refused() -> None:
    data = example()
    twin = copy.deepcopy(data["buildings"][0])
    twin["id"] = "school-4"
    data["buildings"].append(twin)  # same device ids in another building
    points = data["buildings"][0]["devices"][1]["points"]
    points.append(dict(points[0]))
    found = problems(data)
    assert "c.yaml: buildings: duplicate device id 'school-3-bms'" in found
    assert "c.yaml: buildings: duplicate device id 'school-3-main'" in found
    assert "c.yaml: buildings[0].devices[1]: duplicate point id 'outdoor-air-temperature'" in found


def test_completeness_asks_for_a_main_meter_with_energy_and_a_tariff() -> None:
    data = example()
    b = data["buildings"][0]
    del b["meters"]
    del b["tariff"]
    parse_catalogue(data)  # a draft may lack them
    assert problems(data, complete=True) == [
        "c.yaml: buildings[0]: building school-3 has no main meter",
        "c.yaml: buildings[0]: building school-3 plans loads without a tariff",
    ]
    data = example()
    data["buildings"][0]["meters"] = {"main": "school-3-bms"}
    assert problems(data, complete=True) == [
        "c.yaml: buildings[0].meters.main: main meter school-3-bms has no cumulative active "
        "energy point"
    ]


def test_bad_yaml_and_missing_files_are_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("municipality: [unclosed\n")
    with pytest.raises(CatalogueError, match=r"^broken.yaml: not valid YAML"):
        load_catalogue(broken)
    with pytest.raises(CatalogueError, match=r"absent.yaml: cannot read"):
        load_catalogue(tmp_path / "absent.yaml")


def test_check_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert catalogue_cli(["check", str(EXAMPLE), "--complete"]) == 0
    assert "1 buildings, 45 points, 2 loads, 1 tariffs" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("tariff: bg-two-rate", "tariff: none"))
    assert catalogue_cli(["check", str(bad)]) == 1
    assert "buildings[0].tariff: unknown tariff 'none'" in capsys.readouterr().err


def test_point_ids_are_built_and_resolved_in_one_place() -> None:
    assert point_id("m", "b", "d", "p") == "m/b/d/p"
    assert split_point_id("m/b/d/p") == ("m", "b", "d", "p")
    assert resolve_point_ref("d/p", "m", "b") == "m/b/d/p"
    assert resolve_point_ref("m/x/d/p", "m", "b") == "m/x/d/p"
    for bad in ("p", "a/b/c", "/p", "d/"):
        with pytest.raises(ValueError, match=r"is neither device/point nor"):
            resolve_point_ref(bad, "m", "b")
    with pytest.raises(ValueError, match=r"is not a point id"):
        split_point_id("m/b//p")


def test_bacnet_drafting_reads_either_spelling_of_units() -> None:
    assert bacnet_units("degreesCelsius") == "degrees-celsius"
    assert bacnet_units("kilowatt-hours") == "kilowatt-hours"
    camel = draft_point("analog-input,2", "Meter Energy", "kilowattHours", "")
    hyphen = draft_point("analog-input,2", "Meter Energy", "kilowatt-hours", "")
    assert camel == hyphen
    assert (camel["id"], camel["unit"], camel["kind"]) == ("meter-energy", "kWh", "cumulative")


# -- the views ------------------------------------------------------------------------------
def test_optimizer_view_resolves_references_and_skips_buildings_without_loads() -> None:
    data = example()
    data["buildings"].append({"id": "museum", "neighbourhood": "centre"})
    view = optimizer_view(parse_catalogue(data))
    assert [b.id for b in view.buildings] == ["school-3"]
    school = view.buildings[0]
    assert school.meter_point == "stara-zagora/school-3/school-3-main/total-power"
    assert view.command_points() == {
        "school-3": {
            "classrooms": "stara-zagora/school-3/school-3-bms/zone-classrooms-heating-setpoint",
            "dhw": "stara-zagora/school-3/school-3-bms/dhw-heater-enable",
        }
    }
    assert view.timezone == "Europe/Sofia"
    assert [n.id for n in view.neighbourhoods] == ["centre"]
    assert view.neighbourhoods[0].transformer_kw == 400


def _tou(periods: list[dict[str, Any]]) -> dict[str, Any]:
    data = example()
    data["tariffs"] = [
        {
            "id": "bg-two-rate",
            "default_price_eur_per_kwh": 0.10,
            "periods": periods,
            "co2_kg_per_kwh": [0.3 + 0.01 * h for h in range(24)],
        }
    ]
    return data


@pytest.mark.parametrize(
    "periods",
    [
        [{"start": "06:00", "end": "22:00", "price_eur_per_kwh": 0.19}],
        # overlapping: the last matching period wins, as in the optimizer
        [
            {"start": "07:00", "end": "23:00", "price_eur_per_kwh": 0.185},
            {"start": "17:00", "end": "21:00", "price_eur_per_kwh": 0.265},
            {"days": ["sat", "sun"], "start": "10:00", "end": "14:00", "price_eur_per_kwh": 0.0},
        ],
        # across midnight, and one only between two dates
        [
            {"start": "22:30", "end": "06:15", "price_eur_per_kwh": 0.05},
            {
                "start": "12:00",
                "end": "13:00",
                "price_eur_per_kwh": 0.5,
                "valid_from": "2026-01-14",
                "valid_to": "2026-01-20",
            },
        ],
    ],
)
def test_savings_prices_equal_the_optimizers_every_quarter_hour(
    periods: list[dict[str, Any]],
) -> None:
    cat = parse_catalogue(_tou(periods))
    tariff = cat.tariffs[0]
    tz = ZoneInfo(cat.timezone)
    start = datetime(2026, 1, 10, tzinfo=tz)
    horizon = Horizon(start=start.astimezone(ZoneInfo("UTC")), slots=96 * 14, slot_minutes=15)
    planned = resolve_tariff(tariff, horizon, tz)
    instants = np.array(
        [int((start + timedelta(minutes=15 * k)).timestamp()) for k in range(96 * 14)]
    )
    valued = price_schedule(tariff, cat.timezone).at(instants, cat.timezone)
    np.testing.assert_allclose(valued, planned.import_eur_per_kwh)
    co2 = co2_schedule(tariff).at(instants, cat.timezone)
    np.testing.assert_allclose(co2, planned.co2_kg_per_kwh)


def test_savings_view_takes_meters_closures_and_tariff() -> None:
    data = example()
    data["buildings"][0]["meters"] = {
        "main": "school-3-main",
        "excluded": ["school-3-bms"],
    }
    sites = site_directory(parse_catalogue(data))
    site = sites.site("school-3")
    assert (site.neighbourhood, site.municipality) == ("centre", "stara-zagora")
    assert site.meters is not None
    assert (site.meters.main, site.meters.excluded) == ("school-3-main", ("school-3-bms",))
    assert [c.start for c in site.calendar.closures] == ["07-01", "12-22"]
    assert site.tariff is not None
    assert site.tariff.time_of_use
    assert site.storage is False

"""The catalogue's alarms section: defaults, overrides per building/zone/device/point, errors
that name the file, line and path, and the facts the rules need (contracted peak, heating
limit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from polis.common.catalogue import CatalogueError, load_catalogue, parse_catalogue
from polis.common.catalogue.alarms import (
    RULE_IDS,
    ComfortParams,
    FlatlineParams,
    StaleParams,
    resolve,
)
from polis.common.catalogue.loads import ZoneConfig

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalogue.yaml"


def example() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(data, dict)
    return data


def with_alarms(section: dict[str, Any]) -> dict[str, Any]:
    data = example()
    data["alarms"] = section
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(data, "c.yaml")
    return str(caught.value).splitlines()


def test_without_a_section_every_rule_runs_with_its_defaults() -> None:
    data = example()
    del data["alarms"]
    cat = parse_catalogue(data, "c.yaml", complete=True)
    for rule in RULE_IDS:
        assert resolve(cat.alarms, rule, type(_params(rule)), "school-3").enabled
    cold = resolve(cat.alarms, "comfort.too_cold", ComfortParams, "school-3")
    hot = resolve(cat.alarms, "comfort.too_hot", ComfortParams, "school-3")
    assert (cold.raise_margin_k, cold.raise_after_min, cold.severity) == (1.5, 60.0, "warning")
    assert hot.under_capacity_severity == "info"  # a rule's own default
    assert cold.under_capacity_severity is None
    stale = resolve(cat.alarms, "communication.stale", StaleParams, "school-3")
    assert stale.severity == "major"


def _params(rule: str) -> Any:
    from polis.common.catalogue.alarms import RULE_FIELDS, RuleSet

    return getattr(RuleSet(), RULE_FIELDS[rule])


def test_the_example_changes_a_rule_for_the_municipality_a_zone_and_a_point() -> None:
    cat = load_catalogue(EXAMPLE, complete=True)
    cold = resolve(cat.alarms, "comfort.too_cold", ComfortParams, "school-3", zone="classrooms")
    assert cold.raise_after_min == 45.0
    assert cold.raise_margin_k == 1.5  # not written: the default
    hot = resolve(cat.alarms, "comfort.too_hot", ComfortParams, "school-3", zone="classrooms")
    assert hot.raise_margin_k == 2.5
    assert hot.under_capacity_severity == "info"  # the rule's own default survives an override
    other = resolve(cat.alarms, "comfort.too_hot", ComfortParams, "school-3", zone="elsewhere")
    assert other.raise_margin_k == 1.5
    point = "school-3-bms/outdoor-air-temperature"
    scope = {"device": "school-3-bms", "point": point}
    flat = resolve(cat.alarms, "sensor.flatlined", FlatlineParams, "school-3", **scope)
    assert flat.severity == "info"
    assert flat.raise_after_min == 240.0
    assert cat.building("school-3").contracted_peak_kw == 80
    zone = cat.building("school-3").loads[0]
    assert isinstance(zone, ZoneConfig)
    assert zone.heating_limit_c == 15


def test_more_specific_entries_win_and_later_ones_of_a_kind() -> None:
    data = with_alarms(
        {
            "overrides": [
                {
                    "building": "school-3",
                    "point": "school-3-bms/zone-classrooms-temperature",
                    "rules": {"communication.stale": {"raise_after_min": 30}},
                },
                {"building": "school-3", "rules": {"communication.stale": {"raise_after_min": 20}}},
                {
                    "building": "school-3",
                    "device": "school-3-bms",
                    "rules": {"communication.stale": {"raise_after_min": 25, "severity": "info"}},
                },
                {"building": "school-3", "rules": {"communication.stale": {"raise_after_min": 21}}},
            ]
        }
    )
    cat = parse_catalogue(data, "c.yaml")

    def stale(**scope: str) -> StaleParams:
        return resolve(cat.alarms, "communication.stale", StaleParams, "school-3", **scope)

    assert stale().raise_after_min == 21  # the later building entry
    assert stale(device="school-3-main").raise_after_min == 21
    device = stale(device="school-3-bms")
    assert (device.raise_after_min, device.severity) == (25, "info")
    point = stale(device="school-3-bms", point="school-3-bms/zone-classrooms-temperature")
    assert (point.raise_after_min, point.severity) == (30, "info")  # device fields carry on


def test_errors_name_the_line_and_path_of_the_alarm_entry(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace(
        "comfort.too_hot: {raise_margin_k: 2.5}", "comfort.too_hot: {raise_margin_k: -1}"
    )
    bad = tmp_path / "catalogue.yaml"
    bad.write_text(text)
    line = 1 + next(i for i, t in enumerate(text.splitlines()) if "raise_margin_k: -1" in t)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(bad)
    assert str(caught.value) == (
        f"catalogue.yaml:{line}: alarms.overrides[0].rules.comfort.too_hot.raise_margin_k: "
        "Input should be greater than or equal to 0 (got -1)"
    )


def test_unknown_rules_and_fields_are_refused_by_name() -> None:
    found = problems(with_alarms({"rules": {"comfort.to_cold": {}}}))
    assert len(found) == 1
    assert found[0].startswith("c.yaml: alarms.rules: unknown rule(s) ['comfort.to_cold']")
    found = problems(with_alarms({"rules": {"comfort.too_cold": {"raise_after": 10}}}))
    assert found == [
        "c.yaml: alarms.rules.comfort.too_cold.raise_after: Extra inputs are not permitted (got 10)"
    ]


def test_overrides_must_name_what_the_building_has() -> None:
    found = problems(
        with_alarms(
            {
                "overrides": [
                    {"building": "school-9", "rules": {"sensor.flatlined": {"enabled": False}}},
                    {
                        "building": "school-3",
                        "zone": "gym",
                        "rules": {"comfort.too_cold": {"enabled": False}},
                    },
                    {
                        "building": "school-3",
                        "device": "school-3-ahu",
                        "rules": {"communication.stale": {"enabled": False}},
                    },
                    {
                        "building": "school-3",
                        "point": "school-3-bms/nothing",
                        "rules": {"sensor.flatlined": {"enabled": False}},
                    },
                    {
                        "building": "school-3",
                        "zone": "classrooms",
                        "point": "school-3-bms/zone-classrooms-temperature",
                        "rules": {"sensor.flatlined": {"enabled": False}},
                    },
                    {"building": "school-3", "rules": {}},
                ]
            }
        )
    )
    assert found == [
        "c.yaml: alarms.overrides[4]: name at most one of zone, device, point (got zone, point)",
        "c.yaml: alarms.overrides[5]: rules: name at least one rule to change",
    ]
    found = problems(
        with_alarms(
            {
                "overrides": [
                    {"building": "school-9", "rules": {"sensor.flatlined": {"enabled": False}}},
                    {"building": "school-3", "zone": "gym", "rules": {"comfort.too_cold": {}}},
                    {"building": "school-3", "device": "ahu", "rules": {"communication.stale": {}}},
                    {
                        "building": "school-3",
                        "point": "school-3-bms/nothing",
                        "rules": {"sensor.flatlined": {}},
                    },
                ]
            }
        )
    )
    assert found == [
        "c.yaml: alarms.overrides[0].building: unknown building 'school-9'",
        "c.yaml: alarms.overrides[1].zone: no hvac load (zone) 'gym' in school-3 "
        "(has ['classrooms'])",
        "c.yaml: alarms.overrides[2].device: no device 'ahu' in school-3",
        "c.yaml: alarms.overrides[3].point: no point 'nothing' on device school-3-bms",
    ]


def test_raise_and_clear_settings_must_leave_a_hysteresis_band() -> None:
    found = problems(
        with_alarms(
            {
                "rules": {"communication.quality": {"raise_rate": 0.1, "clear_rate": 0.3}},
                "overrides": [
                    {
                        "building": "school-3",
                        "rules": {"comfort.too_cold": {"clear_margin_k": 2.0}},  # above 1.5
                    },
                    {  # the zone's band is fine; the building's own subjects are not
                        "building": "school-3",
                        "zone": "classrooms",
                        "rules": {"comfort.too_cold": {"raise_margin_k": 3}},
                    },
                ],
            }
        )
    )
    assert found == [
        "c.yaml: alarms.rules.communication.quality: clear_rate (0.3) must not exceed "
        "raise_rate (0.1)",
        "c.yaml: alarms.overrides[0].rules.comfort.too_cold: clear_margin_k (2) must not exceed "
        "raise_margin_k (1.5)",
    ]


def test_hysteresis_is_judged_on_every_subject_with_the_entries_that_cover_it() -> None:
    """Each entry is fine against the defaults, but a zone entry over a building entry, or a
    point entry over a device entry, leaves no band for that subject."""
    data = with_alarms(
        {
            "overrides": [
                {
                    "building": "school-3",
                    "rules": {"comfort.too_cold": {"raise_margin_k": 3, "clear_margin_k": 2.5}},
                },
                {
                    "building": "school-3",
                    "zone": "classrooms",
                    "rules": {"comfort.too_cold": {"raise_margin_k": 1}},
                },
                {
                    "building": "school-3",
                    "device": "school-3-bms",
                    "rules": {"communication.stale": {"raise_after_intervals": 3}},
                },
                {
                    "building": "school-3",
                    "point": "school-3-bms/zone-classrooms-temperature",
                    "rules": {"communication.stale": {"clear_within_intervals": 4}},
                },
            ]
        }
    )
    assert problems(data) == [
        "c.yaml: alarms.overrides[1].rules.comfort.too_cold: clear_margin_k (2.5) must not "
        "exceed raise_margin_k (1) for zone classrooms, with alarms.overrides[0]",
        "c.yaml: alarms.overrides[3].rules.communication.stale: clear_within_intervals (4) must "
        "not exceed raise_after_intervals (3) for point "
        "school-3-bms/zone-classrooms-temperature, with alarms.overrides[2]",
    ]
    # what the engine would have used for the zone: no band left between raise and clear
    data["alarms"]["overrides"] = data["alarms"]["overrides"][:1]
    cat = parse_catalogue(data, "c.yaml")
    cold = resolve(cat.alarms, "comfort.too_cold", ComfortParams, "school-3", zone="classrooms")
    assert (cold.raise_margin_k, cold.clear_margin_k) == (3, 2.5)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from polis.adapter.config import ConfigError, iter_points, load_config, parse_config
from polis.adapter.settings import AdapterSettings
from polis.common.settings import SettingsError, load_settings

pytestmark = pytest.mark.unit


def site(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "municipality": "larissa",
        "buildings": [
            {
                "id": "town-hall",
                "neighbourhood": "kentro",
                "devices": [
                    {
                        "protocol": "modbus",
                        "id": "town-hall-main",
                        "host": "127.0.0.1",
                        "port": 15020,
                        "profile": "eastron_sdm630",
                    },
                    {
                        "protocol": "bacnet",
                        "id": "town-hall-bms",
                        "device_instance": 1001,
                        "address": "127.0.0.1:47809",
                        "points": [
                            {
                                "id": "zone-temp",
                                "object": "analog-input,1",
                                "quantity": "temperature",
                                "unit": "degF",
                                "range": {"min": -10, "max": 45},
                            },
                            {
                                "id": "zone-setpoint",
                                "object": "analog-value,1",
                                "quantity": "setpoint",
                                "unit": "degC",
                                "kind": "command",
                                "write": {"min": 16, "max": 26, "max_rate_per_min": 2},
                            },
                        ],
                    },
                ],
            }
        ],
    }
    data.update(overrides)
    return data


def test_valid_site_expands_modbus_profile_and_keeps_bacnet_points() -> None:
    config = parse_config(site())
    ids = [ref.point_id for ref in iter_points(config)]
    assert "larissa/town-hall/town-hall-main/total-power" in ids
    assert "larissa/town-hall/town-hall-bms/zone-setpoint" in ids
    # 40 registers in the SDM630 profile + 2 BACnet points
    assert len(ids) == 42


def test_error_names_file_path_and_expectation() -> None:
    data = site()
    data["buildings"][0]["devices"][0]["port"] = 70000
    with pytest.raises(ConfigError) as info:
        parse_config(data, "catalogue.yaml")
    assert "catalogue.yaml: buildings[0].devices[0].port" in str(info.value)
    assert "less than or equal to 65535" in str(info.value)


def test_every_error_is_reported() -> None:
    data = site()
    data["buildings"][0]["devices"][0]["profile"] = "no_such_meter"
    data["buildings"][0]["devices"][1]["points"][0]["unit"] = "kWh"
    with pytest.raises(ConfigError) as info:
        parse_config(data, "catalogue.yaml")
    text = str(info.value)
    assert "buildings[0].devices[0]: unknown Modbus profile 'no_such_meter'" in text
    assert "buildings[0].devices[1].points[0]: unit 'kWh' does not measure temperature" in text


def test_command_point_needs_write_limits() -> None:
    data = site()
    del data["buildings"][0]["devices"][1]["points"][1]["write"]
    with pytest.raises(ConfigError, match=r"points\[1\]: command points need write limits"):
        parse_config(data, "catalogue.yaml")


def test_duplicate_point_ids_are_refused() -> None:
    data = site()
    points = data["buildings"][0]["devices"][1]["points"]
    points.append(dict(points[0]))
    with pytest.raises(
        ConfigError, match=r"buildings\[0\].devices\[1\]: duplicate point id 'zone-temp'"
    ):
        parse_config(data)


def test_unknown_register_names_the_profile() -> None:
    data = site()
    data["buildings"][0]["devices"][0]["points"] = [
        {"id": "p", "register": "total_powr", "quantity": "active_power", "unit": "W"}
    ]
    with pytest.raises(ConfigError, match="'total_powr' is not in profile eastron_sdm630"):
        parse_config(data)


def test_load_config_reports_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    data = site()
    data["buildings"][0]["devices"][1]["address"] = "not-an-address"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(
        ConfigError, match=r"^catalogue.yaml:\d+: buildings\[0\].devices\[1\].address"
    ):
        load_config(path)
    path.write_text("municipality: [unclosed")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith("catalogue.yaml: not valid YAML")
    assert 'in "catalogue.yaml", line 1' in str(error.value)


def test_runtime_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLIS_ADAPTER_GRPC_PORT", "50061")
    monkeypatch.setenv("POLIS_ADAPTER_STATE_DIR", "/var/lib/polis/state")
    config = parse_config(site(), settings=AdapterSettings())
    assert config.adapter.grpc_port == 50061
    assert config.adapter.state_dir == Path("/var/lib/polis/state")
    monkeypatch.setenv("POLIS_ADAPTER_GRPC_PORT", "eighty")
    with pytest.raises(SettingsError, match=r"POLIS_ADAPTER_GRPC_PORT: .*\(got 'eighty'\)"):
        load_settings(AdapterSettings)


def test_adapter_settings_in_the_catalogue_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"adapter: Extra inputs are not permitted"):
        parse_config(site(adapter={"grpc_port": 1}), "catalogue.yaml")

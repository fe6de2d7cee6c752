"""Settings of the adapter's BACnet/IP port across subnets, and the routes of routed devices."""

from __future__ import annotations

import pytest

from polis.adapter.config import ConfigError
from polis.adapter.service import bacnet_routes
from polis.adapter.settings import AdapterSettings
from polis.common.catalogue.devices import BacnetDeviceConfig
from polis.common.settings import SettingsError, load_settings

pytestmark = pytest.mark.unit


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> AdapterSettings:
    for name, value in env.items():
        monkeypatch.setenv(f"POLIS_ADAPTER_{name}", value)
    return load_settings(AdapterSettings)


def test_a_foreign_device_names_its_bbmd_and_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = settings(monkeypatch)
    assert (plain.bacnet_bbmd_address, plain.bacnet_bbmd_mode) == (None, False)
    foreign = settings(monkeypatch, BACNET_BBMD_ADDRESS="10.20.0.5:47808", BACNET_BBMD_TTL_S="600")
    assert (foreign.bacnet_bbmd_address, foreign.bacnet_bbmd_ttl_s) == ("10.20.0.5:47808", 600)


def test_bbmd_mode_takes_its_peers(monkeypatch: pytest.MonkeyPatch) -> None:
    bbmd = settings(
        monkeypatch,
        BACNET_ADDRESS="10.10.0.2/24:47808",
        BACNET_BBMD_MODE="true",
        BACNET_BDT=" 10.20.0.5:47808, 10.30.0.0/24 ,",
    )
    assert bbmd.bacnet_bdt_peers == ("10.20.0.5:47808", "10.30.0.0/24")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BACNET_BBMD_ADDRESS": "10.20.0.500"}, "POLIS_ADAPTER_BACNET_BBMD_ADDRESS: .*octet"),
        (
            {"BACNET_BBMD_ADDRESS": "bbmd.local"},
            "POLIS_ADAPTER_BACNET_BBMD_ADDRESS: .*ip\\[:port\\]",
        ),
        ({"BACNET_BBMD_ADDRESS": "10.0.0.5/24"}, "POLIS_ADAPTER_BACNET_BBMD_ADDRESS: .*prefix"),
        ({"BACNET_BBMD_TTL_S": "5"}, "POLIS_ADAPTER_BACNET_BBMD_TTL_S: .*greater than or equal"),
        ({"BACNET_BBMD_TTL_S": "70000"}, "POLIS_ADAPTER_BACNET_BBMD_TTL_S: "),
        ({"BACNET_ADDRESS": "10.0.0.2:99999"}, "POLIS_ADAPTER_BACNET_ADDRESS: .*port 99999"),
        ({"BACNET_ADDRESS": "10.0.0.2/33"}, "POLIS_ADAPTER_BACNET_ADDRESS: .*prefix /33"),
        ({"BACNET_BBMD_MODE": "perhaps"}, "POLIS_ADAPTER_BACNET_BBMD_MODE: "),
        ({"BACNET_BDT": "10.0.0.5"}, "POLIS_ADAPTER_BACNET_BDT is the table of a BBMD"),
        (
            {"BACNET_BBMD_MODE": "true", "BACNET_ADDRESS": "1.2.3.4/24", "BACNET_BDT": "1.2.3.x"},
            "POLIS_ADAPTER_BACNET_BDT: .*'1.2.3.x' is not comma-separated",
        ),
        ({"BACNET_BBMD_MODE": "true"}, "POLIS_ADAPTER_BACNET_ADDRESS .*needs the subnet prefix"),
        (
            {"BACNET_BBMD_MODE": "1", "BACNET_BBMD_ADDRESS": "10.0.0.5"},
            "POLIS_ADAPTER_BACNET_BBMD_MODE and POLIS_ADAPTER_BACNET_BBMD_ADDRESS exclude",
        ),
    ],
)
def test_bad_settings_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        settings(monkeypatch, **env)


def bacnet(device_id: str, router: str, network: int | None = None) -> BacnetDeviceConfig:
    routed = {} if network is None else {"network": network, "mac": 5}
    return BacnetDeviceConfig.model_validate(
        {"protocol": "bacnet", "id": device_id, "device_instance": 1, "address": router, **routed}
    )


def test_each_network_behind_a_router_gets_its_route() -> None:
    routes = bacnet_routes(
        [
            bacnet("direct", "10.0.0.9:47808"),
            bacnet("ahu-1", "10.0.0.50:47808", network=5),
            bacnet("ahu-2", "10.0.0.50:47808", network=5),
            bacnet("vav-1", "10.0.0.51:47808", network=6),
        ]
    )
    assert routes == {5: "10.0.0.50:47808", 6: "10.0.0.51:47808"}


def test_two_routers_to_one_network_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"ahu-1 and ahu-2 reach BACnet network 5 through"):
        bacnet_routes(
            [bacnet("ahu-1", "10.0.0.50:47808", 5), bacnet("ahu-2", "10.0.0.51:47808", 5)]
        )

"""BACnet devices behind routers in the catalogue: network and MAC, and their errors."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from polis.common.catalogue import CatalogueError, load_catalogue, parse_catalogue
from polis.common.catalogue.bacnet_address import normalise_mac
from polis.common.catalogue.devices import BacnetDeviceConfig

pytestmark = pytest.mark.unit


def device(**fields: Any) -> dict[str, Any]:
    return {
        "protocol": "bacnet",
        "id": "ahu-1",
        "device_instance": 4005,
        "address": "192.0.2.50:47808",
        **fields,
    }


def document(*devices: dict[str, Any]) -> dict[str, Any]:
    building = {"id": "school", "neighbourhood": "kentro", "devices": list(devices)}
    return {"municipality": "larissa", "buildings": [building]}


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(data, "c.yaml")
    return str(caught.value).splitlines()


def test_a_device_on_the_ip_network_is_its_address() -> None:
    assert BacnetDeviceConfig.model_validate(device()).station == "192.0.2.50:47808"


@pytest.mark.parametrize(
    ("mac", "station"),
    [
        (5, "2:5"),  # MS/TP
        ("5", "2:5"),
        (0, "2:0"),
        ("0x0A0b", "2:0x0a0b"),  # any MAC as hex, 1-7 bytes
        ("0x0a0b0c0d0e0f10", "2:0x0a0b0c0d0e0f10"),
        ("10.1.2.3", "2:10.1.2.3:47808"),  # BACnet/IP behind an IP-to-IP router
        ("10.1.2.3:47809", "2:10.1.2.3:47809"),
    ],
)
def test_a_routed_device_is_network_and_mac_behind_its_router(mac: object, station: str) -> None:
    config = BacnetDeviceConfig.model_validate(device(network=2, mac=mac))
    assert config.station == station
    assert config.address == "192.0.2.50:47808"  # where requests go: the router


@pytest.mark.parametrize(
    ("mac", "message"),
    [
        (255, "not a one-byte MAC"),  # the MS/TP broadcast
        (300, "write longer MACs as a quoted hex string"),
        ("0x", "mac must be"),
        ("0xabc", "mac must be"),  # odd number of hex digits
        ("0x0102030405060708", "mac must be"),  # 8 bytes
        ("10.1.2.300", "not an IPv4 address"),
        ("10.1.2.3:70000", "port 70000"),
        (True, "mac must be"),
        (2.5, "mac must be"),
    ],
)
def test_bad_macs_say_which_forms_are_taken(mac: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_mac(mac)


def test_routing_errors_name_the_file_line_and_key(tmp_path: Any) -> None:
    assert problems(document(device(network=2, mac=255))) == [
        "c.yaml: buildings[0].devices[0].mac: mac 255 is not a one-byte MAC (0..254); write "
        "longer MACs as a quoted hex string '0x…' or as ip:port (got 255)"
    ]
    [message] = problems(document(device(network=2)))
    assert message.startswith("c.yaml: buildings[0].devices[0]: network 2: a routed device")
    [message] = problems(document(device(mac=5)))
    assert "needs the network number too" in message
    for network in (0, 65535):
        [message] = problems(document(device(network=network, mac=5)))
        assert message.startswith("c.yaml: buildings[0].devices[0].network: ")
    path = tmp_path / "town.yaml"
    path.write_text(yaml.safe_dump(document(device(network=2, mac="0xzz"))))
    with pytest.raises(CatalogueError, match=r"town.yaml:\d+: buildings\[0\]\.devices\[0\]\.mac"):
        load_catalogue(path)


def test_an_unquoted_network_mac_in_address_is_explained(tmp_path: Any) -> None:
    # YAML 1.1 reads 2:5 as the base-60 number 125
    path = tmp_path / "town.yaml"
    path.write_text(yaml.safe_dump(document(device())).replace("192.0.2.50:47808", "2:5"))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert "address must be a string ip[:port], got the number 125" in str(caught.value)
    [message] = problems(document(device(address="2:5")))
    assert "looks like network:mac" in message

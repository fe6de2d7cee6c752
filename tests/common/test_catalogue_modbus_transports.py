"""Modbus transports in the catalogue: TCP, RTU over TCP and serial RTU, and the buses the
units share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from polis.common.catalogue import CatalogueError, load_catalogue, parse_catalogue
from polis.common.catalogue.devices import ModbusDeviceConfig, SerialLine

pytestmark = pytest.mark.unit


def meter(device_id: str = "meter", **fields: Any) -> dict[str, Any]:
    return {"protocol": "modbus", "id": device_id, "profile": "eastron_sdm630", **fields}


def rtu(device_id: str = "meter", unit_id: int = 1, **line: Any) -> dict[str, Any]:
    serial = {"port": "/dev/ttyUSB0", **line}
    return meter(device_id, transport="rtu", unit_id=unit_id, serial=serial)


def devices_of(*devices: dict[str, Any]) -> list[ModbusDeviceConfig]:
    building = {"id": "school", "neighbourhood": "kentro", "devices": list(devices)}
    cat = parse_catalogue({"municipality": "larissa", "buildings": [building]}, "c.yaml")
    out = [d for d in cat.buildings[0].devices if isinstance(d, ModbusDeviceConfig)]
    assert len(out) == len(devices)
    return out


def problems(*devices: dict[str, Any]) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        devices_of(*devices)
    return str(caught.value).splitlines()


def test_tcp_stays_the_default_and_serial_rtu_takes_a_line() -> None:
    tcp, serial, gateway = devices_of(
        meter("main", host="192.0.2.10"),
        rtu("sub", 3, baudrate=9600, parity="N", stopbits=2),
        meter("pv", transport="rtu_over_tcp", host="192.0.2.20", port=4001, unit_id=7),
    )
    assert (tcp.transport, tcp.host, tcp.port, tcp.serial) == ("tcp", "192.0.2.10", 502, None)
    assert tcp.bus() == "192.0.2.10:502"
    assert serial.transport == "rtu"
    assert serial.host is None
    assert serial.serial == SerialLine(port="/dev/ttyUSB0", baudrate=9600, parity="N", stopbits=2)
    assert serial.bus() == "/dev/ttyUSB0"
    assert gateway.bus() == "192.0.2.20:4001"


def test_the_silent_interval_is_three_and_a_half_characters() -> None:
    # 11 bits a character (start, 8 data, parity, stop) at 9600 baud: 4.01 ms
    assert SerialLine(port="/dev/x", baudrate=9600).inter_frame_s == pytest.approx(3.5 * 11 / 9600)
    # 8N1 is 10 bits a character
    line = SerialLine(port="/dev/x", baudrate=4800, parity="N")
    assert line.inter_frame_s == pytest.approx(3.5 * 10 / 4800)
    # above 19200 baud the specification fixes 1.75 ms
    assert SerialLine(port="/dev/x", baudrate=115200).inter_frame_s == 0.00175
    # a slow device may want more
    assert SerialLine(port="/dev/x", inter_frame_ms=20).inter_frame_s == 0.02


def test_transport_combinations_are_named_by_field() -> None:
    assert problems(meter()) == [
        "c.yaml: buildings[0].devices[0].host: transport tcp needs the host of the meter or gateway"
    ]
    assert problems(meter(transport="rtu")) == [
        "c.yaml: buildings[0].devices[0].serial: transport rtu needs serial: {port, baudrate, "
        "parity, stopbits}"
    ]
    assert problems({**rtu(), "host": "192.0.2.1", "port": 502}) == [
        "c.yaml: buildings[0].devices[0].host: not used by transport rtu: its bus is "
        "serial.port (got '192.0.2.1')",
        "c.yaml: buildings[0].devices[0].port: not used by transport rtu: its bus is "
        "serial.port (got 502)",
    ]
    assert problems(meter(host="192.0.2.1", serial={"port": "/dev/ttyUSB0"})) == [
        "c.yaml: buildings[0].devices[0].serial: only for transport rtu; transport tcp uses "
        "host and port"
    ]
    assert problems(meter(transport="rtu_over_tcp", host="192.0.2.1", unit_id=0)) == [
        "c.yaml: buildings[0].devices[0].unit_id: a unit on a serial bus has an address in "
        "1..247; 0 is broadcast (got 0)"
    ]
    assert problems(meter(transport="modbus-rtu", host="192.0.2.1"))[0].startswith(
        "c.yaml: buildings[0].devices[0].transport: Input should be 'tcp', 'rtu_over_tcp' or 'rtu'"
    )


def test_line_settings_are_checked() -> None:
    assert problems(rtu(baudrate=9601, parity="even", stopbits=3, bytesize=7)) == [
        "c.yaml: buildings[0].devices[0].serial.baudrate: Input should be 1200, 2400, 4800, "
        "9600, 19200, 38400, 57600 or 115200 (got 9601)",
        "c.yaml: buildings[0].devices[0].serial.parity: Input should be 'N', 'E' or 'O' "
        "(got 'even')",
        "c.yaml: buildings[0].devices[0].serial.stopbits: Input should be 1 or 2 (got 3)",
        "c.yaml: buildings[0].devices[0].serial.bytesize: Modbus RTU frames carry 8 data bits "
        "(7 is Modbus ASCII) (got 7)",
    ]


def test_units_on_one_bus_agree_on_it_and_have_addresses_of_their_own() -> None:
    assert problems(
        rtu("a", 1),
        rtu("b", 2, baudrate=9600),
        rtu("c", 1),
        meter("d", host="192.0.2.5", unit_id=1),
        meter("e", transport="rtu_over_tcp", host="192.0.2.5", unit_id=2),
    ) == [
        "c.yaml: buildings[0].devices[1].serial: every unit on /dev/ttyUSB0 has the line "
        "settings of device a: baudrate 9600 against 19200",
        "c.yaml: buildings[0].devices[2].unit_id: unit 1 on /dev/ttyUSB0 is already device a",
        "c.yaml: buildings[0].devices[4].transport: 192.0.2.5:502 is reached by transport tcp "
        "(device d), not rtu_over_tcp",
    ]
    # the same unit id on two buses is two devices
    assert len(devices_of(rtu("a", 1), meter("b", host="192.0.2.5", unit_id=1))) == 2


def test_a_catalogue_file_names_the_line_of_the_device(tmp_path: Path) -> None:
    text = """\
municipality: larissa
buildings:
  - id: school
    neighbourhood: kentro
    devices:
      - protocol: modbus
        id: sub-meter
        transport: rtu
        unit_id: 4
        profile: eastron_sdm630
"""
    path = tmp_path / "catalogue.yaml"
    path.write_text(text)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert str(caught.value) == (
        "catalogue.yaml:6: buildings[0].devices[0].serial: transport rtu needs serial: "
        "{port, baudrate, parity, stopbits}"
    )

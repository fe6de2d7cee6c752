"""A bacpypes3 device on a loopback UDP port, with a sensor and a commandable setpoint."""

from __future__ import annotations

import socket

from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser
from bacpypes3.local.analog import AnalogInputObject, AnalogValueObjectCmd


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_app(address: str, instance: int, name: str) -> Application:
    args = SimpleArgumentParser().parse_args(
        ["--address", address, "--instance", str(instance), "--name", name]
    )
    return Application.from_args(args)


class FakeBacnetDevice:
    def __init__(self, instance: int = 1001) -> None:
        self.address = f"127.0.0.1:{free_udp_port()}"
        self.instance = instance
        self.app = make_app(self.address, instance, f"bms-{instance}")
        self.temperature = AnalogInputObject(
            objectIdentifier=("analog-input", 1),
            objectName="Zone Temp",
            presentValue=21.5,
            units="degreesFahrenheit",
            description="Zone air temperature",
            covIncrement=0.1,
        )
        self.setpoint = AnalogValueObjectCmd(
            objectIdentifier=("analog-value", 1),
            objectName="Zone Setpoint",
            presentValue=20.0,
            relinquishDefault=20.0,
            units="degreesCelsius",
            description="Heating setpoint",
        )
        self.app.add_object(self.temperature)
        self.app.add_object(self.setpoint)

    def close(self) -> None:
        self.app.close()

"""A BACnet site on another subnet, in a process of its own: a BBMD, two devices beside it,
and a BACnet router to network 2 with two devices behind it.

    python tests/adapter/bacnet_site.py --port 47809 [--peer 127.0.0.1:47990 ...]

Loopback has no subnets, so a UDP port stands for one: every node of the site listens on
the given port at its own 127.0.0.x address with a /8 prefix, so a local broadcast goes to
127.255.255.255, which Linux delivers to every socket bound there on that port: a real
broadcast domain. The client under test sits at another port (another subnet), where none of
these broadcasts reach it. bacpypes3 short-circuits a datagram to any 127.x address on its own
port to itself, so no two nodes of the site ever unicast to each other; none need to.

    127.0.0.2  BBMD (device 900), BDT = itself and the --peer BBMDs; accepts foreign devices
    127.0.0.3  device 3001          127.0.0.4  device 3002
    127.0.0.5  router (device 950), network 1 here, network 2 (MAC 1) on a virtual LAN
    2:5        device 4005          2:6        device 4006   (MS/TP-like one-byte MACs)

Each device has ``analog-input,1`` (a temperature, degC) and the commandable
``analog-value,1`` (a setpoint, 20 degC). The first line on stdout is ``ready`` and a JSON
object of the addresses; then one ``register`` JSON line per Register-Foreign-Device the BBMD
accepts (``refuse`` ones with ``--refuse-foreign``), and a ``delete`` line per
Delete-Foreign-Device-Table-Entry. The site stops when stdin closes or on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any

from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser
from bacpypes3.local.analog import AnalogInputObject, AnalogValueObjectCmd
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.vlan import VirtualNetwork

SUBNET_DEVICES = {3001: "127.0.0.3", 3002: "127.0.0.4"}
ROUTED_DEVICES = {4005: 5, 4006: 6}  # instance: MAC on network 2
BBMD_HOST, BBMD_INSTANCE = "127.0.0.2", 900
ROUTER_HOST, ROUTER_INSTANCE = "127.0.0.5", 950
REMOTE_NETWORK, LOCAL_NETWORK = 2, 1
REGISTER_NAK = 0x0030


def temperature(instance: int) -> float:
    """What a device's analog-input,1 reads: distinct per device."""
    return 20.0 + (instance % 100) / 2


def _points(app: Application, instance: int) -> None:
    app.add_object(
        AnalogInputObject(
            objectIdentifier=("analog-input", 1),
            objectName="zone-temperature",
            presentValue=temperature(instance),
            units="degreesCelsius",
            description="Zone air temperature",
        )
    )
    app.add_object(
        AnalogValueObjectCmd(
            objectIdentifier=("analog-value", 1),
            objectName="zone-setpoint",
            presentValue=20.0,
            relinquishDefault=20.0,
            units="degreesCelsius",
            description="Heating setpoint",
        )
    )


def _ip_node(address: str, instance: int, *extra: str) -> Application:
    argv = ["--address", address, "--instance", str(instance), "--name", f"site-{instance}"]
    return Application.from_args(SimpleArgumentParser().parse_args([*argv, *extra]))


def _event(kind: str, **fields: Any) -> None:
    print(kind, json.dumps(fields), flush=True)


def _watch_registrations(bbmd: Application, refuse: bool) -> None:
    """Report each foreign-device registration the BBMD takes (or refuses), and deletions."""
    (link,) = bbmd.link_layers.values()
    accept = link.register_foreign_device
    delete = link.delete_foreign_device_table_entry

    def register(addr: Any, ttl: int) -> int:
        if refuse:
            _event("refuse", address=str(addr), ttl=ttl)
            return REGISTER_NAK
        _event("register", address=str(addr), ttl=ttl)
        return int(accept(addr, ttl))

    def deleted(addr: Any) -> int:
        _event("delete", address=str(addr))
        return int(delete(addr))

    link.register_foreign_device = register
    link.delete_foreign_device_table_entry = deleted


def _router(port: int) -> Application:
    VirtualNetwork("polis-site-net2")
    device = DeviceObject(
        objectIdentifier=("device", ROUTER_INSTANCE), objectName="router", vendorIdentifier=999
    )
    ip_port = NetworkPortObject(
        f"{ROUTER_HOST}/8:{port}",
        objectIdentifier=("network-port", 1),
        objectName="ip-port",
        networkNumber=LOCAL_NETWORK,
        networkNumberQuality="configured",
    )
    trunk = _virtual_port(2, mac=1, network=REMOTE_NETWORK)
    return Application.from_object_list([device, ip_port, trunk])


def _virtual_port(instance: int, mac: int, network: int) -> NetworkPortObject:
    """A port on network 2, the virtual LAN behind the router (network 0: "the local one")."""
    return NetworkPortObject(
        None,
        objectIdentifier=("network-port", instance),
        objectName="trunk-port",
        networkType="virtual",
        protocolLevel="bacnet-application",
        macAddress=bytes([mac]),
        networkInterfaceName="polis-site-net2",
        networkNumber=network,
        networkNumberQuality="configured" if network else "unknown",
    )


def _routed_device(instance: int, mac: int) -> Application:
    device = DeviceObject(
        objectIdentifier=("device", instance), objectName=f"site-{instance}", vendorIdentifier=999
    )
    app = Application.from_object_list([device, _virtual_port(1, mac=mac, network=0)])
    _points(app, instance)
    return app


async def _bound(apps: list[Application]) -> None:
    """Wait until every UDP socket of the site is bound."""
    for app in apps:
        for link in app.link_layers.values():
            server = getattr(link, "server", None)
            if server is not None:
                await asyncio.gather(*server._transport_tasks)


async def run(port: int, peers: list[str], refuse: bool) -> None:
    bbmd_address = f"{BBMD_HOST}:{port}"
    bbmd = _ip_node(f"{BBMD_HOST}/8:{port}", BBMD_INSTANCE, "--bbmd", bbmd_address, *peers)
    _watch_registrations(bbmd, refuse)
    apps = [bbmd]
    for instance, host in SUBNET_DEVICES.items():
        app = _ip_node(f"{host}/8:{port}", instance)
        _points(app, instance)
        apps.append(app)
    apps.append(_router(port))
    apps += [_routed_device(i, mac) for i, mac in ROUTED_DEVICES.items()]
    await _bound(apps)

    _event(
        "ready",
        bbmd=bbmd_address,
        router=f"{ROUTER_HOST}:{port}",
        network=REMOTE_NETWORK,
        devices={str(i): f"{host}:{port}" for i, host in SUBNET_DEVICES.items()},
        routed={str(i): mac for i, mac in ROUTED_DEVICES.items()},
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    stdin = sys.stdin.fileno()

    def on_stdin() -> None:
        if not os.read(stdin, 4096):  # closed: the test is done with the site
            stop.set()

    loop.add_reader(stdin, on_stdin)
    await stop.wait()
    for app in apps:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--peer", action="append", default=[], help="a BDT peer BBMD")
    parser.add_argument("--refuse-foreign", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.port, args.peer, args.refuse_foreign))


if __name__ == "__main__":
    main()

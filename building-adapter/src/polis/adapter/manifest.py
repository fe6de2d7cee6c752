"""A draft catalogue (a dict ready for YAML) of the devices a simulator manifest lists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

BacnetDiscover = Callable[[str, int], Awaitable[dict[str, Any]]]


def _modbus_device(m: dict[str, Any]) -> dict[str, Any]:
    device: dict[str, Any] = {"protocol": "modbus", "id": m["device"]}
    transport = m.get("transport", "tcp")
    if transport != "tcp":
        device["transport"] = transport
    if transport == "rtu":
        device["serial"] = dict(m["serial"])  # port and line settings
    else:
        device.update(host=m["host"], port=int(m["port"]))
    device.update(unit_id=int(m.get("unit_id", 1)), profile=m["profile"])
    return device


async def config_from_manifest(
    manifest: dict[str, Any], discover: BacnetDiscover | None = None
) -> dict[str, Any]:
    """Modbus devices take every register of their profile; BACnet devices are discovered
    (``discover(address, instance)``) or left with an empty point list to fill in by hand."""
    buildings = []
    for b in manifest.get("buildings", []):
        devices: list[dict[str, Any]] = []
        for m in b.get("modbus", []) or []:
            devices.append(_modbus_device(m))
        for d in b.get("bacnet", []) or []:
            entry: dict[str, Any] = {
                "protocol": "bacnet",
                "id": d["device"],
                "device_instance": int(d["device_instance"]),
                "address": d["address"],
                "points": [],
            }
            if discover is not None:
                found = await discover(d["address"], int(d["device_instance"]))
                entry["points"] = found["points"]
            devices.append(entry)
        buildings.append(
            {
                "id": b["id"],
                "neighbourhood": b["neighbourhood"],
                "name": b.get("name", ""),
                "devices": devices,
            }
        )
    return {"municipality": manifest["municipality"], "buildings": buildings}

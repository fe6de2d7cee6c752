"""Who-Is/I-Am discovery and object-list walk into a draft point list (YAML-ready dicts)."""

from __future__ import annotations

from typing import Any

from polis.adapter.bacnet.client import BacnetClient, BacnetError
from polis.common.catalogue.drafting import draft_point

_POLLED_TYPES = (
    "analog-input",
    "analog-output",
    "analog-value",
    "binary-input",
    "binary-output",
    "binary-value",
    "multi-state-input",
    "multi-state-output",
    "multi-state-value",
)


async def discover_device(
    client: BacnetClient, address: str, instance: int | None, timeout_s: float = 3.0
) -> dict[str, Any]:
    """Discover one device by unicast Who-Is and walk its object list."""
    found = await client.who_is(address, instance, instance, timeout_s)
    if not found:
        raise BacnetError(f"no I-Am from {address}", "timeout")
    device = found[0]
    objects = await client.read(address, f"device,{device.instance}", "object-list", timeout_s)
    points: list[dict[str, Any]] = []
    for obj in objects:
        objid = f"{obj[0]},{obj[1]}"
        if str(obj[0]) not in _POLLED_TYPES:
            continue
        rows = await client.read_multiple(
            address, [(objid, ["object-name", "units", "description"])], timeout_s
        )
        values = {
            prop: value for (_, prop), value in rows.items() if not isinstance(value, Exception)
        }
        name = str(values.get("object-name", objid))
        points.append(
            draft_point(
                objid, name, str(values.get("units", "")), str(values.get("description", ""))
            )
        )
    seen: dict[str, int] = {}
    for p in points:  # ids must be unique within a device
        n = seen.get(p["id"], 0)
        seen[p["id"]] = n + 1
        if n:
            p["id"] = f"{p['id']}-{n + 1}"
    return {
        "protocol": "bacnet",
        "device_instance": device.instance,
        "address": address,
        "points": points,
    }

"""Who-Is/I-Am discovery and object-list walk into a draft point list (YAML-ready dicts).

Who-Is goes to one address, or to every network: a global broadcast, which reaches the other
subnets through the BBMD the client is registered with (or is), and the devices behind
BACnet routers; those come back as drafts with their router's address, network and MAC.
"""

from __future__ import annotations

from typing import Any

from polis.adapter.bacnet.client import BacnetClient, BacnetError, DiscoveredDevice
from polis.common.catalogue.drafting import draft_point
from polis.common.logging import get_logger

log = get_logger(__name__)

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
    return await draft_device(client, found[0], timeout_s)


async def discover_network(
    client: BacnetClient, low: int | None = None, high: int | None = None, timeout_s: float = 3.0
) -> list[dict[str, Any]]:
    """A global Who-Is (optionally for instances ``low..high``) and a draft of every device
    that answered, by instance; a device that then fails its object-list walk is logged
    and left out."""
    found = await client.who_is(None, low, high, timeout_s)
    drafts = []
    for device in sorted(found, key=lambda d: d.instance):
        try:
            drafts.append(await draft_device(client, device, timeout_s))
        except BacnetError as error:
            log.warning(
                "no object list", instance=device.instance, address=device.address, error=str(error)
            )
    return drafts


async def draft_device(
    client: BacnetClient, device: DiscoveredDevice, timeout_s: float = 3.0
) -> dict[str, Any]:
    """Walk the object list of a device that answered Who-Is into a draft catalogue entry."""
    address = device.address
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
    draft: dict[str, Any] = {"protocol": "bacnet", "device_instance": device.instance}
    if device.network is None:
        draft["address"] = address
    else:  # behind a router: requests go to the router, for the station network:mac
        draft.update(address=device.router or address, network=device.network, mac=device.mac)
    draft["points"] = points
    return draft

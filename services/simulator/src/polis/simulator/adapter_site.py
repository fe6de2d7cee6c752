"""Finish the adapter's drafted site for the simulated municipality, as its facility manager would.

``python -m polis.adapter config-from-manifest`` drafts points from discovery; it cannot know
what a facility manager allows Polis to command. For the simulated buildings these are the
zone heating setpoints (8–30 °C — the pool hall runs at 27 °C — at most 10 K per minute) and
the enables of HVAC, hot water, pool pump and EV charging (0/1). Poll intervals are wall
seconds, so an accelerated clock wants them short.
"""

from __future__ import annotations

import copy
from typing import Any

ENABLES = ("hvac-enable", "dhw-heater-enable", "pool-pump-enable", "ev-charging-enable")
SETPOINT_LIMITS = {"min": 8.0, "max": 30.0, "max_rate_per_min": 10.0, "default_duration_s": 3600}
ENABLE_LIMITS = {"min": 0.0, "max": 1.0, "default_duration_s": 3600}


def finish_site(
    draft: dict[str, Any],
    adapter: dict[str, Any],
    *,
    modbus_poll_s: float = 1.0,
    bacnet_poll_s: float = 0.2,
) -> dict[str, Any]:
    """The draft with the ``adapter:`` block replaced, write limits set and polls shortened."""
    site = copy.deepcopy(draft)
    site.pop("clock", None)  # the processes share POLIS_CLOCK_* instead
    site["adapter"] = dict(adapter)
    for building in site["buildings"]:
        for device in building["devices"]:
            if device["protocol"] == "modbus":
                device["poll_interval_s"] = modbus_poll_s
                continue
            device["poll_interval_s"] = bacnet_poll_s
            for point in device.get("points", []):
                if point["id"].endswith("-heating-setpoint"):
                    point["write"] = dict(SETPOINT_LIMITS)
                elif point["id"] in ENABLES:
                    point.update(kind="command", write=dict(ENABLE_LIMITS))
    return site

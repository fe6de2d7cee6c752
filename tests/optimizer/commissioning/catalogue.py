"""The simulator's catalogue, as the commissioning tests read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from polis.simulator.catalogue import catalogue
from polis.simulator.config import load_config
from polis.simulator.endpoints import endpoint_layout

BASE_PORT = 47900


def simulator_catalogue() -> dict[str, Any]:
    config = load_config()
    layout = endpoint_layout(config, "127.0.0.1", BASE_PORT)
    return catalogue(config, layout, modbus_poll_s=1.0, bacnet_poll_s=0.5)


def write_simulator_catalogue(path: Path) -> Path:
    path.write_text(yaml.safe_dump(simulator_catalogue(), sort_keys=False), encoding="utf-8")
    return path

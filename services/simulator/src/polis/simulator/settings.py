"""Simulator settings from the environment (POLIS_*); the clock comes from PolisSettings."""

from __future__ import annotations

from pathlib import Path

from polis.common.settings import PolisSettings


class SimulatorSettings(PolisSettings):
    """``POLIS_SIMULATOR_CONFIG`` (municipality YAML; default: the packaged one),
    ``POLIS_SIMULATOR_HOST`` (where endpoints listen) and the shared ``POLIS_CLOCK_*``."""

    simulator_config: Path | None = None
    simulator_host: str = "127.0.0.1"

"""Simulator settings from the environment (POLIS_*); the clock comes from PolisSettings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from polis.common.settings import PolisSettings


class SimulatorSettings(PolisSettings):
    """``POLIS_SIMULATOR_CONFIG`` (municipality YAML; default: the packaged one),
    ``POLIS_SIMULATOR_HOST`` (where endpoints listen), ``POLIS_SIMULATOR_BASE_PORT`` (the
    fixed port layout; unset: free ports) and the shared ``POLIS_CLOCK_*``."""

    simulator_config: Path | None = None
    simulator_host: str = "127.0.0.1"
    simulator_base_port: int | None = Field(default=None, ge=1, le=65535)
    # the OCPP central system (the adapter) the chargers connect to, ws[s]://host:port;
    # unset: the chargers have no OCPP link
    simulator_ocpp_url: str | None = None
    # ``identity:password`` lines for basic auth (OCPP security profiles 1 and 2)
    simulator_ocpp_passwords_file: Path | None = None
    # the certificate (or CA) the chargers trust for wss
    simulator_ocpp_ca_file: Path | None = None
    simulator_ocpp_meter_interval_s: float = Field(default=1.0, gt=0)
    # a YAML list of injected faults, re-read whenever it changes (docs/simulator.md, Faults)
    simulator_faults_file: Path | None = None

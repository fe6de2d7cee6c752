"""The adapter's runtime settings: ``POLIS_ADAPTER_*`` environment variables.

What the adapter reads (buildings, devices, points, write limits) is the municipality
catalogue (``POLIS_CATALOGUE``); these say how this process runs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from polis.common.settings import PolisSettings


class AdapterSettings(BaseSettings):
    """Every field has a safe default; ``POLIS_ADAPTER_GRPC_PORT=50061`` sets ``grpc_port``."""

    model_config = SettingsConfigDict(env_prefix="POLIS_ADAPTER_", extra="ignore", frozen=True)

    automation_priority: int = Field(default=13, ge=8, le=16)
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    metrics_port: int = Field(default=9161, ge=0, le=65535)
    bacnet_address: str = "127.0.0.1:47990"
    state_dir: Path = Path("var/adapter")
    batch_size: int = Field(default=5000, ge=1)
    flush_interval_s: float = Field(default=1.0, gt=0)
    buffer_max_readings: int = Field(default=5_000_000, ge=1000)
    buffer_warn_fraction: float = Field(default=0.8, gt=0, lt=1)


class AdapterProcessSettings(PolisSettings):
    """Shared settings (POLIS_*): InfluxDB, logging, the virtual clock, the catalogue."""

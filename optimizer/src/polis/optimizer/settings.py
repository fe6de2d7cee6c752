"""Optimizer settings (environment POLIS_*), on top of the shared Polis settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from polis.common.settings import PolisSettings
from polis.optimizer.domain import Weights


class OptimizerSettings(PolisSettings):
    # objective weights: EUR per EUR of cost, EUR per kg CO2, multiplier on comfort penalties
    optimizer_weight_cost: float = Field(default=1.0, ge=0)
    optimizer_weight_co2_eur_per_kg: float = Field(default=0.0, ge=0)
    optimizer_weight_comfort: float = Field(default=1.0, ge=0)
    optimizer_host: str = "127.0.0.1"
    optimizer_port: int = Field(default=50052, ge=0, le=65535)
    optimizer_mode: str = Field(default="dry_run", pattern=r"^(dry_run|apply)$")
    optimizer_horizon_slots: int = Field(default=96, ge=4, le=192)
    optimizer_replan_minutes: int = Field(default=15, gt=0)
    # How long each command lasts, in slots; longer than one slot keeps a plan in force when a
    # re-plan is late (the next plan's commands replace it, expiry relinquishes it).
    optimizer_command_slots: int = Field(default=2, ge=1, le=96)
    optimizer_time_limit_s: float = Field(default=10.0, gt=0)
    optimizer_relative_gap_limit: float = Field(default=0.01, ge=0, lt=1)
    optimizer_num_workers: int = Field(default=0, ge=0)
    optimizer_weather_url: str | None = None
    optimizer_latitude: float = 39.64
    optimizer_longitude: float = 22.42
    optimizer_store_plans: bool = True
    # the commissioning reports served to the gateway (``commission --report`` writes here)
    optimizer_commissioning_dir: Path = Path("var/optimizer/commissioning")
    adapter_target: str = "127.0.0.1:50051"
    adapter_deadline_s: float = Field(default=2.0, gt=0)

    def weights(self) -> Weights:
        return Weights(
            cost=self.optimizer_weight_cost,
            co2_eur_per_kg=self.optimizer_weight_co2_eur_per_kg,
            comfort=self.optimizer_weight_comfort,
        )

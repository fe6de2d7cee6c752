"""Planning instances from configuration, forecasts and the latest actuals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from polis.optimizer.config import OptimizerConfig, build_building, neighbourhood_of
from polis.optimizer.domain import Building, Horizon, Neighbourhood
from polis.optimizer.forecast import (
    ClimatologyTemperature,
    LoadHistory,
    TemperatureProvider,
    TimeOfWeekModel,
    clear_sky_series,
    pv_forecast,
)
from polis.optimizer.planner import UnknownScope

HISTORY_DAYS = 28

# building id -> {load id: measured state}; empty when the adapter has nothing yet
ActualsSource = Callable[[str], dict[str, float]]


@dataclass
class InstanceFactory:
    config: OptimizerConfig
    temperature: TemperatureProvider = field(default_factory=ClimatologyTemperature)
    history: LoadHistory | None = None
    actuals: ActualsSource = lambda _building: {}
    pv_ratio: float = 0.8

    def _building(self, building_id: str, horizon: Horizon, outdoor: tuple[float, ...]) -> Building:
        cfg = self.config.building(building_id)
        base: tuple[float, ...] = (cfg.base_load_kw,) * horizon.slots
        if self.history is not None:
            samples = self.history.base_load(
                building_id, horizon.start - timedelta(days=HISTORY_DAYS), horizon.start
            )
            if len(samples) >= 96:
                base = TimeOfWeekModel.fit(samples, self.temperature).predict(horizon, outdoor)
        irradiance = clear_sky_series(horizon)
        pv = pv_forecast(irradiance, cfg.pv_kwp, self.pv_ratio)
        return build_building(
            self.config,
            building_id,
            horizon,
            outdoor,
            base,
            pv,
            self.actuals(building_id),
            irradiance_w_m2=irradiance,
        )

    def __call__(self, scope: str, start: datetime, slots: int) -> Building | Neighbourhood:
        horizon = Horizon(start=start, slots=slots)
        outdoor = self.temperature.outdoor_c(horizon)
        ids = {b.id for b in self.config.buildings}
        if scope in ids:
            return self._building(scope, horizon, outdoor)
        members = tuple(
            self._building(b.id, horizon, outdoor)
            for b in self.config.buildings
            if b.neighbourhood == scope
        )
        if not members:
            raise UnknownScope(scope)
        hood = next(n for n in self.config.neighbourhoods if n.id == scope)
        shared = pv_forecast(clear_sky_series(horizon), hood.shared_pv_kwp, self.pv_ratio)
        return neighbourhood_of(self.config, scope, members, shared)

    def scopes(self) -> list[str]:
        """What the rolling loop plans: each neighbourhood whole, other buildings alone."""
        hoods = [n.id for n in self.config.neighbourhoods]
        alone = [b.id for b in self.config.buildings if not b.neighbourhood]
        return hoods + alone

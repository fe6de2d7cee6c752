"""What commissioning produces: per-zone results, the updated catalogue, the JSON report and
the fit plots."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from polis.common.catalogue import parse_catalogue
from polis.optimizer.commissioning.mapping import ZoneMapping
from polis.optimizer.commissioning.plant import PlantResult
from polis.optimizer.identify import Identification, Validation, ZoneModel, ZoneSeries
from polis.optimizer.identify.controller import ControllerFit
from polis.optimizer.identify.rc import windows
from polis.optimizer.identify.series import FloatArray

DIGITS = 4


@dataclass(frozen=True)
class ZoneResult:
    mapping: ZoneMapping
    identification: Identification | None  # None when required points are missing
    series: ZoneSeries | None
    counts: dict[str, int]
    notes: tuple[str, ...]
    holdout_days: int
    controller: ControllerFit | None = None
    entry: dict[str, Any] | None = None  # the catalogue keys written, when accepted
    # where a 2R2C model was chosen: the 1R1C fit's own held-out validation (the catalogue
    # holds 1R1C models, so that is the model written when it passes)
    one_node: Validation | None = None

    @property
    def reasons(self) -> tuple[str, ...]:
        if self.identification is None:
            missing = ", ".join(self.mapping.missing())
            return (f"no point for: {missing}",) if missing else ("no data",)
        reasons = self.identification.reasons
        if self.identification.accepted and not isinstance(self.identification.model, ZoneModel):
            if self.one_node is None:
                reasons += ("2R2C chosen: the catalogue holds 1R1C models only",)
            elif self.one_node.reasons:
                why = "; ".join(self.one_node.reasons)
                reasons += (f"2R2C chosen, and its 1R1C fit is not accepted: {why}",)
        return reasons

    @property
    def accepted(self) -> bool:
        return self.identification is not None and not self.reasons

    @property
    def catalogue_model(self) -> ZoneModel | None:
        """The 1R1C model the catalogue gets: the chosen one, or the 1R1C fit where a 2R2C
        model was chosen and the 1R1C fit passed on its own."""
        ident = self.identification
        if ident is None:
            return None
        if isinstance(ident.model, ZoneModel):
            return ident.model
        if ident.fit is not None and self.one_node is not None and not self.one_node.reasons:
            return ident.fit.model
        return None

    def learned(self) -> dict[str, float]:
        """The identified parameters of the catalogue's model (before their translation into
        the catalogue's terms, :mod:`polis.optimizer.commissioning.learned`)."""
        model = self.catalogue_model
        assert model is not None
        values = {
            "r_k_per_kw": model.r_k_per_kw,
            "c_kwh_per_k": model.c_kwh_per_k,
            "gains_occupied_kw": model.gains_occupied_kw,
            "gains_unoccupied_kw": model.gains_unoccupied_kw,
            "solar_aperture_m2": model.aperture_m2,
            "cop_nominal": model.cop.nominal,
            "cop_slope_per_k": model.cop.slope_per_k,
            "cop_reference_c": model.cop.reference_c,
        }
        return {k: round(float(v), DIGITS) for k, v in values.items()}


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), DIGITS)


def zone_report(result: ZoneResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "zone": result.mapping.zone,
        "accepted": result.accepted,
        "reasons": list(result.reasons),
        "points": result.mapping.points(),
        "readings": result.counts,
        "notes": list(result.notes),
    }
    ident = result.identification
    if ident is None:
        return out
    out["notes"] += list(ident.notes)
    if ident.model is not None:
        model = ident.model
        out["structure"] = "1R1C" if isinstance(model, ZoneModel) else "2R2C"
        out["tau_h"] = _finite(model.tau_h)
        out["cop_source"] = model.cop.source.value
    if result.accepted:
        out["parameters"] = {k: _finite(v) for k, v in result.learned().items()}
    elif isinstance(ident.model, ZoneModel):
        out["parameters"] = {
            "r_k_per_kw": _finite(ident.model.r_k_per_kw),
            "c_kwh_per_k": _finite(ident.model.c_kwh_per_k),
        }
    if ident.fit is not None:
        out["standard_errors"] = {k: _finite(v) for k, v in ident.fit.standard_errors.items()}
    if ident.validation is not None:
        out["holdout_days"] = ident.validation.days
        out["holdout_rmse_k"] = _finite(ident.validation.rmse_k)
        out["energy_cv"] = _finite(ident.validation.energy_cv)
    if result.one_node is not None:
        out["written_structure"] = "1R1C"
        out["one_node_holdout_rmse_k"] = _finite(result.one_node.rmse_k)
        out["one_node_energy_cv"] = _finite(result.one_node.energy_cv)
    if result.controller is not None:
        c = result.controller
        out["controller"] = {
            "proportional_band_k": _finite(c.proportional_band_k),
            "band_steps": c.band_steps,
            "band_r2": _finite(c.band_r2),
            "cooling_offset_k": _finite(c.cooling_offset_k),
            "full_output_kw": _finite(c.full_output_kw),
            "full_output_steps": c.full_output_steps,
            "notes": list(c.notes),
        }
    if result.entry is not None:
        out["catalogue"] = result.entry
    return out


def plant_report(plant: PlantResult) -> dict[str, Any]:
    """The building's hot-water tanks and base load."""
    tanks = []
    for tank in plant.tanks:
        entry: dict[str, Any] = {
            "load": tank.load_id,
            "accepted": tank.accepted,
            "reasons": list(tank.reasons),
            "points": tank.points,
        }
        if tank.model is not None:
            entry.update(
                outflow_kwh_per_day=_finite(tank.model.outflow_kwh_per_day),
                training_days=tank.model.training_days,
                holdout_days=tank.model.holdout_days,
                holdout_cv=_finite(tank.model.cv),
            )
        if tank.accepted:
            entry["catalogue"] = tank.entry()
        tanks.append(entry)
    base = plant.base_load
    return {
        "water_heaters": tanks,
        "base_load": {
            "kw": None if base is None else _finite(base.kw),
            "days": None if base is None else base.days,
            "points": plant.base_points,
            "reason": plant.base_reason,
        },
    }


@dataclass(frozen=True)
class BuildingUpdate:
    """What commissioning replaces in one building's catalogue entry."""

    loads: dict[str, dict[str, Any]]  # load id -> keys
    building: dict[str, Any]  # e.g. base_load_kw


def building_update(results: list[ZoneResult], plant: PlantResult | None) -> BuildingUpdate:
    loads = {r.mapping.zone: r.entry for r in results if r.accepted and r.entry is not None}
    if plant is not None:
        loads.update(plant.load_entries())
    return BuildingUpdate(loads, plant.building_entry() if plant is not None else {})


def updated_catalogue(text: str, updates: dict[str, BuildingUpdate]) -> str:
    """The catalogue with each building's learned loads and figures replaced; the rest as
    it was (a rejected load keeps its entry, uncommissioned or given).

    The YAML is written anew, so comments and layout of the original do not survive."""
    data = yaml.safe_load(text)
    for entry in data.get("buildings", []):
        update = updates.get(entry.get("id"))
        if update is None:
            continue
        entry.update(update.building)
        for load in entry.get("loads", []):
            if load.get("id") in update.loads:
                load.update(update.loads[load["id"]])
    written: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    parse_catalogue(yaml.safe_load(written), "commissioned catalogue")  # still valid
    return written


def write_report(
    directory: Path,
    building: str,
    span: dict[str, str],
    results: list[ZoneResult],
    plant: PlantResult | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    report = {
        "building": building,
        "span": span,
        "accepted": [r.mapping.zone for r in results if r.accepted],
        "rejected": [r.mapping.zone for r in results if not r.accepted],
        "zones": [zone_report(r) for r in results],
        **(plant_report(plant) if plant is not None else {}),
    }
    # The optimizer serves this directory while a run writes it: each file appears whole
    # (written aside, then renamed), and the plots before the report that lists them.
    for result in results:
        if result.identification is not None and result.identification.model is not None:
            plot_fit(directory / f"{building}-{result.mapping.zone}.png", result)
    path = directory / f"{building}-commissioning.json"
    text = json.dumps(report, indent=2, allow_nan=False) + "\n"
    replace_whole(path, lambda aside: aside.write_text(text, encoding="utf-8"))
    return path


def replace_whole(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through a file beside it, renamed over it once complete."""
    fd, aside = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(aside))
        os.replace(aside, path)
    except BaseException:
        Path(aside).unlink(missing_ok=True)
        raise


def day_ahead(result: ZoneResult) -> FloatArray:
    """Each day simulated from its measured midnight temperature, as validation does."""
    assert result.series is not None
    assert result.identification is not None
    series, model = result.series, result.identification.model
    assert model is not None
    simulated = np.full(series.steps, np.nan)
    per_day = series.steps_per_day
    valid = series.valid_steps()
    for day in range(series.days):
        lo = day * per_day
        for start, steps in windows(valid[lo : lo + per_day].copy(), per_day):
            first = lo + start
            simulated[first + 1 : first + steps + 1] = model.simulate(series, first, steps)
    return simulated


def plot_fit(path: Path, result: ZoneResult) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    assert result.series is not None
    series = result.series
    hours = np.arange(series.steps) * series.step_hours
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), sharex=True)
    top.plot(hours, series.temperature_c, label="measured", linewidth=0.8)
    top.plot(hours, day_ahead(result), label="model, 24 h ahead from midnight", linewidth=0.8)
    held = (series.days - result.holdout_days) * 24.0
    for axis in (top, bottom):
        axis.axvspan(held, hours[-1] if len(hours) else held, color="grey", alpha=0.15)
    verdict = "accepted" if result.accepted else "rejected"
    top.set_title(f"{result.mapping.building}/{result.mapping.zone}: {verdict} (grey: held out)")
    top.set_ylabel("zone temperature (°C)")
    top.legend(loc="upper right")
    bottom.plot(hours, series.power_kw, linewidth=0.6, label="heat pump power (kW)")
    bottom.plot(hours, series.outdoor_c, linewidth=0.6, label="outdoor (°C)")
    bottom.set_xlabel("hours from the first midnight")
    bottom.legend(loc="upper right")
    fig.tight_layout()
    replace_whole(path, lambda aside: fig.savefig(aside, dpi=80, format="png"))
    plt.close(fig)

"""``python -m polis.optimizer commission [--building B]``: map, read, identify, report, write.

Without ``--building`` every building of the catalogue is commissioned in one run, one after
the other with a progress line each, into one learned catalogue. Per building: its zones
(model, controller, electric limit), its hot-water tanks and its base load.

The catalogue's own COP line for the zone is the prior (the heat pump's data sheet) unless
a thermal power point gives a sub-meter; an uncommissioned zone's catalogue entry has no COP
line, so the default line stands in. docs/commissioning.md says what rests on it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from polis.common.catalogue import Catalogue, CatalogueError, load_catalogue
from polis.common.catalogue.loads import ModelState, ZoneConfig
from polis.common.influx import InfluxError, InfluxStore
from polis.common.settings import PolisSettings, SettingsError, catalogue_path, load_settings
from polis.optimizer.commissioning.history import Span, read_points, read_samples, zone_history
from polis.optimizer.commissioning.learned import (
    occupied_steps,
    one_node_validation,
    zone_entry,
)
from polis.optimizer.commissioning.mapping import (
    MappingError,
    ZoneMapping,
    apply_overrides,
    describe,
    load_overrides,
    propose,
)
from polis.optimizer.commissioning.plant import PlantResult, learn_plant
from polis.optimizer.commissioning.plant import describe as describe_plant
from polis.optimizer.commissioning.results import (
    BuildingUpdate,
    ZoneResult,
    building_update,
    updated_catalogue,
    write_report,
)
from polis.optimizer.identify import CopLine, CopSource, ZoneModel, ZoneModel2, identify_zone
from polis.optimizer.identify.controller import ControllerFit, cooling_offset, fit_controller
from polis.optimizer.identify.series import FloatArray

DEFAULT_DAYS = 28
QUERY_TIMEOUT_MS = 120_000
HOLDOUT_DAYS = 3


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m polis.optimizer commission",
        description="Learn a building's zone models from its history in InfluxDB.",
    )
    p.add_argument("--building", help="building id in the catalogue (default: every building)")
    p.add_argument("--since", type=date.fromisoformat, help="first local day (YYYY-MM-DD)")
    p.add_argument("--until", type=date.fromisoformat, help="day after the last (exclusive)")
    p.add_argument("--mapping", type=Path, help="YAML overriding the proposed points")
    p.add_argument("--out", type=Path, help="write the catalogue with the learned models here")
    p.add_argument("--report", type=Path, help="directory for the JSON report and fit plots")
    p.add_argument("--holdout-days", type=int, default=HOLDOUT_DAYS)
    p.add_argument(
        "--mapping-only", action="store_true", help="print the proposed mapping and stop"
    )
    return p


def _span(args: argparse.Namespace, timezone: str) -> Span:
    today = datetime.now(ZoneInfo(timezone)).date()
    until = args.until or today
    since = args.since or until - timedelta(days=DEFAULT_DAYS)
    return Span.of_days(since, until, timezone)


def _prior(zone: ZoneConfig) -> CopLine | None:
    """The catalogue's COP line as the data sheet's; none where an uncommissioned zone's
    entry does not give one (its defaults are no data sheet)."""
    cop = {"cop_nominal", "cop_slope_per_k"} & zone.model_fields_set
    if zone.model is ModelState.UNCOMMISSIONED and not cop:
        return None
    return CopLine(zone.cop_nominal, zone.cop_slope_per_k, CopSource.PRIOR, zone.cop_reference_c)


def _parameters(model: ZoneModel | ZoneModel2) -> list[tuple[str, float]]:
    """Named as in the fit's standard errors."""
    values = [
        ("tau_h", model.tau_h),
        ("r_k_per_kw", model.r_k_per_kw),
        ("c_kwh_per_k", model.c_kwh_per_k),
    ]
    if isinstance(model, ZoneModel):
        values += [
            ("gains_occupied_kw", model.gains_occupied_kw),
            ("gains_unoccupied_kw", model.gains_unoccupied_kw),
            ("aperture_m2", model.aperture_m2),
        ]
    return values


def _print_result(result: ZoneResult) -> None:
    ident = result.identification
    verdict = "ACCEPTED" if result.accepted else "REJECTED"
    print(f"  {result.mapping.zone}: {verdict}")
    if ident is not None and ident.model is not None:
        errors = ident.fit.standard_errors if ident.fit is not None else {}
        model = ident.model
        for name, value in _parameters(model):
            error = errors.get(name)
            shown = f" ± {error:.3g}" if error is not None else ""
            print(f"    {name:<19} {value:.4g}{shown}")
        print(
            f"    COP line            {model.cop.nominal:.3g} at {model.cop.reference_c:g} °C, "
            f"{model.cop.slope_per_k:+.3g}/K ({model.cop.source.value})"
        )
    if ident is not None and ident.validation is not None:
        v = ident.validation
        cv = "—" if v.energy_cv is None else f"{v.energy_cv:.1%}"
        print(f"    held-out RMSE {v.rmse_k:.3f} K over {v.days} days, energy CV {cv}")
    one = result.one_node
    if one is not None and ident is not None and ident.fit is not None:
        cv = "—" if one.energy_cv is None else f"{one.energy_cv:.1%}"
        print(
            f"    1R1C for the catalogue: tau {ident.fit.model.tau_h:.4g} h, held-out RMSE "
            f"{one.rmse_k:.3f} K, energy CV {cv}"
        )
    for reason in result.reasons:
        print(f"    reason: {reason}")


def _controller_lines(result: ZoneResult) -> list[str]:
    c = result.controller
    if c is None:
        return []
    band = "—" if c.proportional_band_k is None else f"{c.proportional_band_k:.3g} K"
    offset = "—" if c.cooling_offset_k is None else f"{c.cooling_offset_k:.3g} K"
    full = "—" if c.full_output_kw is None else f"{c.full_output_kw:.3g} kW"
    lines = [f"    controller band {band}, cooling offset {offset}, full-output input {full}"]
    if result.entry is not None:
        lines.append(
            f"    written: max_kw {result.entry['max_kw']}, gains occupied/unoccupied "
            f"{result.entry['gains_occupied_kw']}/{result.entry['gains_unoccupied_kw']} kW"
        )
    return lines


CONTROLLER_ROLES = ("setpoint", "temperature", "heating_output", "power", "outdoor")


def _controller(store: InfluxStore, mapping: ZoneMapping, span: Span) -> ControllerFit:
    """The controller from the raw readings of its points, a poll's readings together (the
    band from the setpoint, temperature and heating output read at one instant; the offset
    from the setpoint and cooling setpoint read at one instant)."""
    mapped = mapping.points()
    if set(CONTROLLER_ROLES) <= set(mapped):
        s = read_samples(store, {r: mapped[r] for r in CONTROLLER_ROLES}, span)
        fit = fit_controller(
            s["setpoint"], s["temperature"], s["heating_output"], None, s["power"], s["outdoor"]
        )
    else:
        fit = fit_controller(None, np.zeros(0), None, None, np.zeros(0))
    if "setpoint" in mapped and "cooling_setpoint" in mapped:
        pair = read_samples(
            store, {"setpoint": mapped["setpoint"], "cooling": mapped["cooling_setpoint"]}, span
        )
        offset = cooling_offset(pair["setpoint"], pair["cooling"], fit.proportional_band_k)
        fit = replace(fit, cooling_offset_k=offset)
    return fit


def _identify_zone(
    zone: ZoneConfig,
    mapping: ZoneMapping,
    data: dict[str, FloatArray],
    span: Span,
    holdout: int,
    store: InfluxStore,
) -> ZoneResult:
    history = zone_history(mapping, data, span.steps)
    ident = identify_zone(history.series, holdout_days=holdout, cop_prior=_prior(zone))
    controller = _controller(store, mapping, span)
    one_node = None
    if ident.accepted and isinstance(ident.model, ZoneModel2) and ident.fit is not None:
        one_node = one_node_validation(ident.fit, history.series, holdout)
    result = ZoneResult(
        mapping,
        ident,
        history.series,
        history.counts,
        history.notes,
        holdout,
        controller,
        one_node=one_node,
    )
    model = result.catalogue_model
    if result.accepted and model is not None:
        occupied = occupied_steps(zone, span.times(), span.timezone)
        entry = zone_entry(zone, model, history.series, occupied, controller)
        result = replace(result, entry=entry)
    return result


def identify_building(
    catalogue: Catalogue,
    mappings: list[ZoneMapping],
    store: InfluxStore,
    span: Span,
    holdout_days: int,
) -> list[ZoneResult]:
    zones = {
        load.id: load
        for m in mappings[:1]
        for load in catalogue.building(m.building).loads
        if isinstance(load, ZoneConfig)
    }
    results = []
    for i, mapping in enumerate(mappings, 1):
        print(f"[{i}/{len(mappings)}] {mapping.zone}: reading {span.steps} steps …", flush=True)
        if mapping.missing():
            results.append(ZoneResult(mapping, None, None, {}, (), holdout_days))
            _print_result(results[-1])
            continue
        data = read_points(store, list(mapping.points().values()), span)
        print(f"[{i}/{len(mappings)}] {mapping.zone}: identifying …", flush=True)
        result = _identify_zone(zones[mapping.zone], mapping, data, span, holdout_days, store)
        results.append(result)
        _print_result(result)
        print("\n".join(_controller_lines(result)))
    return results


def _mappings(catalogue: Catalogue, building: str, overrides: Path | None) -> list[ZoneMapping]:
    mappings = propose(catalogue, building)
    if overrides is not None:
        mappings = apply_overrides(catalogue, mappings, load_overrides(overrides))
    return mappings


def commission_building(
    catalogue: Catalogue,
    mappings: list[ZoneMapping],
    building: str,
    store: InfluxStore,
    span: Span,
    holdout_days: int,
) -> tuple[list[ZoneResult], PlantResult]:
    """The building's zones, then its hot-water tanks and base load."""
    results = identify_building(catalogue, mappings, store, span, holdout_days)
    plant = learn_plant(catalogue, building, store, span, holdout_days)
    print("\n".join(describe_plant(plant)))
    accepted = [r.mapping.zone for r in results if r.accepted]
    accepted += [t.load_id for t in plant.tanks if t.accepted]
    rejected = [r.mapping.zone for r in results if not r.accepted]
    rejected += [t.load_id for t in plant.tanks if not t.accepted]
    print(
        f"{building}: accepted: {', '.join(accepted) or '—'}; rejected (catalogue kept): "
        f"{', '.join(rejected) or '—'}",
        flush=True,
    )
    return results, plant


def run(args: argparse.Namespace, settings: PolisSettings) -> int:
    path = catalogue_path(settings)
    catalogue = load_catalogue(path)
    if args.building is not None:
        catalogue.building(args.building)  # an unknown building stops here
    elif args.mapping is not None:
        raise MappingError("--mapping names one building's points: give --building too")
    buildings = [args.building] if args.building else [b.id for b in catalogue.buildings]
    mappings = {b: _mappings(catalogue, b, args.mapping) for b in buildings}
    for building in buildings:
        print(f"points of {building}:")
        for mapping in mappings[building]:
            print("\n".join(describe(mapping)))
    if args.mapping_only:
        return 0
    if args.building is not None and not any(
        isinstance(x, ZoneConfig) for x in catalogue.building(args.building).loads
    ):
        print(f"{args.building} has no hvac loads to commission", file=sys.stderr)
        return 1
    span = _span(args, catalogue.timezone)
    print(f"history {span.start.isoformat()} – {span.stop.isoformat()}")
    updates: dict[str, BuildingUpdate] = {}
    # weeks of readings per query: longer than a service's live queries may take
    timeout_ms = max(settings.influx_timeout_ms, QUERY_TIMEOUT_MS)
    with InfluxStore.from_settings(
        settings.model_copy(update={"influx_timeout_ms": timeout_ms})
    ) as store:
        for k, building in enumerate(buildings, 1):
            print(f"== building {k}/{len(buildings)}: {building} ==", flush=True)
            results, plant = commission_building(
                catalogue, mappings[building], building, store, span, args.holdout_days
            )
            updates[building] = building_update(results, plant)
            if args.report is not None:
                span_text = {"since": span.start.isoformat(), "until": span.stop.isoformat()}
                report = write_report(args.report, building, span_text, results, plant)
                print(f"report written: {report}")
    if args.out is not None:
        text = updated_catalogue(path.read_text(encoding="utf-8"), updates)
        args.out.write_text(text, encoding="utf-8")
        print(f"catalogue written: {args.out}")
    return 0


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args, load_settings(PolisSettings))
    except (CatalogueError, SettingsError, MappingError, ValueError, KeyError) as error:
        print(error, file=sys.stderr)
        return 2
    except InfluxError as error:
        print(f"InfluxDB: {error}", file=sys.stderr)
        return 1

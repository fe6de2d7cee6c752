"""``python -m polis.optimizer commission --building B``: map, read, identify, report, write.

The catalogue's own COP line for the zone is the prior (the heat pump's data sheet) unless
a thermal power point gives a sub-meter; docs/commissioning.md says what rests on it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from polis.common.catalogue import Catalogue, CatalogueError, load_catalogue
from polis.common.catalogue.loads import ZoneConfig
from polis.common.influx import InfluxStore
from polis.common.settings import PolisSettings, SettingsError, catalogue_path, load_settings
from polis.optimizer.commissioning.history import Span, read_points, zone_history
from polis.optimizer.commissioning.mapping import (
    MappingError,
    ZoneMapping,
    apply_overrides,
    describe,
    load_overrides,
    propose,
)
from polis.optimizer.commissioning.results import ZoneResult, updated_catalogue, write_report
from polis.optimizer.identify import CopLine, CopSource, ZoneModel, ZoneModel2, identify_zone

DEFAULT_DAYS = 28
HOLDOUT_DAYS = 3


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m polis.optimizer commission",
        description="Learn a building's zone models from its history in InfluxDB.",
    )
    p.add_argument("--building", required=True, help="building id in the catalogue")
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


def _prior(zone: ZoneConfig) -> CopLine:
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
    for reason in result.reasons:
        print(f"    reason: {reason}")


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
        history = zone_history(mapping, data, span.steps)
        print(f"[{i}/{len(mappings)}] {mapping.zone}: identifying …", flush=True)
        ident = identify_zone(
            history.series, holdout_days=holdout_days, cop_prior=_prior(zones[mapping.zone])
        )
        result = ZoneResult(
            mapping, ident, history.series, history.counts, history.notes, holdout_days
        )
        results.append(result)
        _print_result(result)
    return results


def run(args: argparse.Namespace, settings: PolisSettings) -> int:
    path = catalogue_path(settings)
    catalogue = load_catalogue(path)
    catalogue.building(args.building)  # an unknown building stops here
    mappings = propose(catalogue, args.building)
    if args.mapping is not None:
        mappings = apply_overrides(catalogue, mappings, load_overrides(args.mapping))
    print(f"points of {args.building}:")
    for mapping in mappings:
        print("\n".join(describe(mapping)))
    if args.mapping_only:
        return 0
    if not mappings:
        print(f"{args.building} has no hvac loads to commission", file=sys.stderr)
        return 1
    span = _span(args, catalogue.timezone)
    print(f"history {span.start.isoformat()} – {span.stop.isoformat()}")
    with InfluxStore.from_settings(settings) as store:
        results = identify_building(catalogue, mappings, store, span, args.holdout_days)
    accepted = [r.mapping.zone for r in results if r.accepted]
    rejected = [r.mapping.zone for r in results if not r.accepted]
    print(
        f"accepted: {', '.join(accepted) or '—'}; rejected (catalogue kept): "
        f"{', '.join(rejected) or '—'}"
    )
    if args.out is not None:
        text = updated_catalogue(path.read_text(encoding="utf-8"), args.building, results)
        args.out.write_text(text, encoding="utf-8")
        print(f"catalogue written: {args.out}")
    if args.report is not None:
        span_text = {"since": span.start.isoformat(), "until": span.stop.isoformat()}
        report = write_report(args.report, args.building, span_text, results)
        print(f"report written: {report}")
    return 0


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args, load_settings(PolisSettings))
    except (CatalogueError, SettingsError, MappingError, ValueError, KeyError) as error:
        print(error, file=sys.stderr)
        return 2

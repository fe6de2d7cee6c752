"""``python -m polis.savings``: import CSV data, write a savings report, or serve gRPC.

    python -m polis.savings import FILE.csv [--source TEXT]
    python -m polis.savings report --building town-hall \\
        --baseline 2025-01-01/2026-01-01 --reporting 2026-01-01/2027-01-01 \\
        [--model auto|daily|hourly] [--out reports/]
    python -m polis.savings serve

Dates are local dates (the configured time zone) or ISO timestamps with an offset.
Exit status: 0 on success, 1 when the CSV has bad rows (nothing is written), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from polis.common.grpc_server import start_grpc_server
from polis.common.influx import InfluxStore
from polis.common.logging import get_logger
from polis.common.service import service_settings, stop_on_signals
from polis.common.settings import SettingsError
from polis.mv.v1 import savings_pb2_grpc
from polis.savings.application import BuildingClosure, Exclusion, SavingsApp
from polis.savings.charts import write_charts
from polis.savings.grpc_servicer import SERVICE_NAME, SavingsServicer
from polis.savings.measurement import ModelKind, Window
from polis.savings.report_files import write_report
from polis.savings.settings import SavingsSettings
from polis.savings.sites import Scope, ScopeKind
from polis.savings.store import InfluxMeterStore

log = get_logger("polis.savings")


def build_app(settings: SavingsSettings, influx: InfluxStore) -> SavingsApp:
    return SavingsApp(
        InfluxMeterStore(influx),
        settings.site_directory(),
        settings.measurement_options(),
        energy_device=settings.savings_energy_device,
        generation_device=settings.savings_generation_device,
        excluded_devices=settings.savings_excluded_devices,
        storage_devices=settings.savings_storage_devices,
        storage_power_point=settings.savings_storage_power_point,
        exclusions=[Exclusion(e.window(), e.building) for e in settings.savings_exclusions],
        closures=[BuildingClosure(c.closure(), c.building) for c in settings.savings_closures],
        baseline_cache_s=settings.savings_baseline_cache_s,
    )


def parse_moment(text: str, timezone: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


def parse_window(text: str, timezone: str) -> Window:
    start, sep, end = text.partition("/")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r} is not START/END")
    try:
        return Window(parse_moment(start, timezone), parse_moment(end, timezone))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m polis.savings",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import interval or billing data from CSV")
    imp.add_argument("file", type=Path)
    imp.add_argument("--source", default="", help="free text for the audit log")
    rep = sub.add_parser("report", help="fit baselines and write JSON, CSV, SVG and PNG")
    scope = rep.add_mutually_exclusive_group(required=True)
    for kind in ScopeKind:
        scope.add_argument(f"--{kind.value}")
    rep.add_argument("--baseline", required=True, help="START/END")
    rep.add_argument("--reporting", required=True, help="START/END")
    rep.add_argument("--model", choices=["auto", "daily", "hourly"], default="auto")
    rep.add_argument("--out", type=Path, default=Path("reports"))
    sub.add_parser("serve", help="serve polis.mv.v1.Savings over gRPC")
    return parser


def _import(settings: SavingsSettings, args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except OSError as error:
        print(f"cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    with InfluxStore.from_settings(settings) as influx:
        outcome = build_app(settings, influx).import_csv(text, args.source or str(args.file))
    if outcome.errors:
        for row_error in outcome.errors:
            print(f"{args.file}:{row_error}", file=sys.stderr)
        print(f"{len(outcome.errors)} bad row(s); nothing was written", file=sys.stderr)
        return 1
    print(f"{outcome.rows} rows imported, {outcome.points_written} points written")
    return 0


def _report(settings: SavingsSettings, args: argparse.Namespace) -> int:
    tz = settings.savings_timezone
    try:
        baseline = parse_window(args.baseline, tz)
        reporting = parse_window(args.reporting, tz)
    except argparse.ArgumentTypeError as bad:
        print(f"bad period: {bad}", file=sys.stderr)
        return 2
    kind = next(k for k in ScopeKind if getattr(args, k.value) is not None)
    scope = Scope(kind, getattr(args, kind.value))
    model = None if args.model == "auto" else ModelKind(args.model)
    with InfluxStore.from_settings(settings) as influx:
        report = build_app(settings, influx).report(scope, baseline, reporting, model)
    stem = f"savings-{scope.kind.value}-{scope.name}"
    paths = write_report(report, args.out, stem) + write_charts(report, args.out, stem)
    for b in report.buildings:
        state = "accepted" if b.measurement.accepted else "REJECTED"
        print(f"{b.site.building}: {b.measurement.model_label}, {state}: {b.measurement.reason}")
    if report.total:
        t = report.total[-1]
        print(
            f"avoided {t.avoided_kwh:,.0f} kWh ± {t.uncertainty_90_kwh:,.0f} (90 %), "
            f"€{t.avoided_eur:,.0f} (bill €{t.baseline_eur:,.0f} → €{t.actual_eur:,.0f}), "
            f"{t.avoided_co2_kg:,.0f} kg CO2"
        )
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


async def _serve(settings: SavingsSettings) -> int:
    influx = InfluxStore.from_settings(settings)
    app = build_app(settings, influx)
    server = await start_grpc_server(
        lambda s: savings_pb2_grpc.add_SavingsServicer_to_server(  # type: ignore[no-untyped-call]
            SavingsServicer(app), s
        ),
        [SERVICE_NAME],
        host=settings.savings_grpc_host,
        port=settings.savings_grpc_port,
    )
    log.info("savings service listening", host=settings.savings_grpc_host, port=server.port)
    await stop_on_signals().wait()
    await server.stop()
    influx.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = service_settings(SavingsSettings, "savings")
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    if args.command == "import":
        return _import(settings, args)
    if args.command == "report":
        return _report(settings, args)
    return asyncio.run(_serve(settings))


if __name__ == "__main__":
    sys.exit(main())

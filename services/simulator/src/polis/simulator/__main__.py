"""``python -m polis.simulator`` — run the virtual municipality, print its catalogue, or
export its history.

    python -m polis.simulator [--config PATH] [--copies N] [--manifest PATH] \
        [--catalogue PATH] [--base-port P] [--modbus-poll-s S] [--bacnet-poll-s S] \
        [--gateway-transport tcp|rtu_over_tcp|rtu] [--fault SPEC ...] [--faults FILE]
    python -m polis.simulator catalogue [--host H] [--base-port P] [--modbus-poll-s S] \
        [--bacnet-poll-s S] [--config PATH] [--copies N] [--nameplate-only] > catalogue.yaml
    python -m polis.simulator export --start 2025-01-01 --end 2026-01-01 --out history.csv \
        [--interval 15min|1h] [--config PATH] [--copies N]

Serving writes the catalogue of the endpoints as they listen (``--catalogue``) and the
endpoint manifest (``--manifest``), each atomically, once every endpoint listens. The
``catalogue`` command prints the catalogue of the fixed port layout (``--base-port`` or
``POLIS_SIMULATOR_BASE_PORT``) without serving, for deployment files. ``--nameplate-only``
leaves the simulator's physics out of either catalogue (``polis.simulator.catalogue``).

``--gateway-transport`` serves the meters behind each building's gateway in Modbus TCP (the
default), in RTU frames over TCP, or as Modbus RTU on a serial line of their own: a
pseudo-terminal pair whose far end (``/dev/pts/N``) the catalogue names as the serial port.

``--fault`` injects a fault in a window of simulated time (``polis.simulator.faults``), on
top of the configuration's ``faults:``; ``--faults FILE`` adds those of a YAML list that is
re-read whenever it changes, so faults can be switched while the simulator runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import yaml

from polis.common.catalogue import CatalogueError, parse_catalogue
from polis.common.logging import configure_logging, get_logger
from polis.common.settings import SettingsError, load_settings
from polis.simulator.catalogue import catalogue, nameplate_catalogue
from polis.simulator.config import ConfigError, MunicipalityConfig, load_config
from polis.simulator.endpoints import Endpoints, endpoint_layout
from polis.simulator.export import INTERVALS, parse_day, write_history
from polis.simulator.faults import FaultError, check_faults, parse_fault_option
from polis.simulator.ocpp_chargers import link_from
from polis.simulator.settings import SimulatorSettings
from polis.simulator.site import Site

# wall seconds between polls: an accelerated clock wants them short
DEFAULT_MODBUS_POLL_S = 1.0
DEFAULT_BACNET_POLL_S = 1.0


def _endpoint_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """Options shared by serving and ``catalogue``; the subcommand's default is SUPPRESS so
    that an option given before the subcommand is kept."""
    parser.add_argument("--config", type=Path, default=default, help="municipality YAML")
    parser.add_argument("--copies", type=int, default=default, help="N copies of every building")
    parser.add_argument(
        "--base-port",
        type=int,
        default=default,
        help="fixed ports: Modbus endpoint k on TCP P+k, BACnet controller j on UDP P+j "
        "(default: POLIS_SIMULATOR_BASE_PORT, else free ports when serving)",
    )
    parser.add_argument(
        "--modbus-poll-s", type=float, default=default, help="catalogue's Modbus poll interval"
    )
    parser.add_argument(
        "--bacnet-poll-s", type=float, default=default, help="catalogue's BACnet poll interval"
    )
    parser.add_argument(
        "--nameplate-only",
        action="store_true",
        default=default,
        help="catalogue without the simulator's physics: zones and tanks uncommissioned, "
        "only the nameplate data a facility manager has",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m polis.simulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _endpoint_options(parser, None)
    parser.add_argument("--manifest", type=Path, help="write the endpoint manifest here")
    parser.add_argument("--catalogue", type=Path, help="write the municipality catalogue here")
    parser.add_argument(
        "--ocpp-url",
        help="the OCPP central system the chargers connect to, ws[s]://host:port "
        "(default: POLIS_SIMULATOR_OCPP_URL; unset: no OCPP)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault (repeatable): kind=K,building=B,target=T[,from=ISO][,until=ISO]"
        "[,PARAM=V], e.g. kind=stuck_sensor,building=town-hall,target=offices,"
        "from=2026-01-14T06:00:00Z (docs/simulator.md, Faults)",
    )
    parser.add_argument(
        "--faults",
        type=Path,
        help="a YAML list of faults, re-read whenever it changes while serving "
        "(default: POLIS_SIMULATOR_FAULTS_FILE)",
    )
    parser.add_argument(
        "--gateway-transport",
        choices=["tcp", "rtu_over_tcp", "rtu"],
        default="tcp",
        help="how the meters behind a building's gateway are served (default: tcp)",
    )
    sub = parser.add_subparsers(dest="command")
    cat = sub.add_parser("catalogue", help="print the catalogue of the fixed port layout")
    _endpoint_options(cat, argparse.SUPPRESS)
    cat.add_argument("--host", help="where the endpoints listen (default: POLIS_SIMULATOR_HOST)")
    export = sub.add_parser("export", help="write meter history as CSV, straight from the model")
    export.add_argument("--start", required=True, help="first instant, e.g. 2025-01-01 (UTC)")
    export.add_argument("--end", required=True, help="end instant (exclusive)")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--interval", choices=sorted(INTERVALS), default="15min")
    export.add_argument("--config", type=Path, dest="export_config")
    export.add_argument("--copies", type=int, dest="export_copies")
    return parser


def _config(
    path: Path | None, copies: int | None, faults: list[str] | None = None
) -> MunicipalityConfig:
    """The municipality, its copies, and the faults of ``--fault`` added to its own."""
    config = load_config(path).with_copies(copies or 1)
    extra = [parse_fault_option(text) for text in faults or ()]
    if not extra:
        return config
    check_faults(extra, config.buildings)
    return config.model_copy(update={"faults": [*config.faults, *extra]})


def _catalogue(args: argparse.Namespace, config: MunicipalityConfig, endpoints: Endpoints) -> Any:
    """The catalogue document, checked as every service will check it."""
    document = (nameplate_catalogue if args.nameplate_only else catalogue)(
        config,
        endpoints,
        modbus_poll_s=args.modbus_poll_s or DEFAULT_MODBUS_POLL_S,
        bacnet_poll_s=args.bacnet_poll_s or DEFAULT_BACNET_POLL_S,
    )
    parse_catalogue(document, "simulator catalogue", complete=True)
    return document


def _yaml(data: Any) -> str:
    # lists and mappings of plain values on one line each: a point per line
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )


def _write_atomically(path: Path, data: Any) -> None:
    """Readers polling for the file never see it half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(_yaml(data), "utf-8")
    tmp.replace(path)


async def _serve(
    settings: SimulatorSettings, config: MunicipalityConfig, args: argparse.Namespace
) -> None:
    log = get_logger("polis.simulator")
    logging.getLogger("pymodbus").setLevel(logging.WARNING)  # one "listening" line per port
    base_port = args.base_port or settings.simulator_base_port
    site = Site(
        config,
        settings.clock(),
        settings.simulator_host,
        base_port,
        args.gateway_transport,
        faults_file=args.faults or settings.simulator_faults_file,
    )
    site.ocpp = link_from(
        args.ocpp_url or settings.simulator_ocpp_url,
        settings.simulator_ocpp_passwords_file,
        settings.simulator_ocpp_ca_file,
        settings.simulator_ocpp_meter_interval_s,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, site.stop)
    try:
        await site.start()
        # the catalogue first: a reader that waits for the manifest finds both
        if args.catalogue is not None:
            _write_atomically(args.catalogue, _catalogue(args, config, site.served()))
        if args.manifest is not None:
            _write_atomically(args.manifest, site.manifest())
        modbus_points, bacnet_points = site.point_counts()
        print(
            f"polis-simulator ready: {len(site.meters)} Modbus devices on "
            f"{len(site.endpoints)} buses, {len(site.controllers)} BACnet devices, "
            f"{modbus_points + bacnet_points} points, "
            f"virtual time {site.simulation.time.isoformat()}",
            file=sys.stderr,
            flush=True,
        )
        log.info(
            "simulator started",
            buildings=len(config.buildings),
            manifest=str(args.manifest),
            catalogue=str(args.catalogue),
        )
        await site.run()
    finally:
        await site.close()
        log.info("simulator stopped")


def _print_catalogue(settings: SimulatorSettings, args: argparse.Namespace) -> int:
    base_port = args.base_port or settings.simulator_base_port
    if base_port is None:
        print(
            "polis-simulator: catalogue needs the fixed port layout: --base-port or "
            "POLIS_SIMULATOR_BASE_PORT",
            file=sys.stderr,
        )
        return 2
    config = _config(args.config or settings.simulator_config, args.copies)
    layout = endpoint_layout(config, args.host or settings.simulator_host, base_port)
    sys.stdout.write(_yaml(_catalogue(args, config, layout)))
    return 0


def _export(settings: SimulatorSettings, args: argparse.Namespace) -> int:
    config = _config(
        args.export_config or args.config or settings.simulator_config,
        args.export_copies or args.copies,
    )
    with args.out.open("w", encoding="utf-8", newline="") as out:
        rows = write_history(
            out, config, parse_day(args.start), parse_day(args.end), INTERVALS[args.interval]
        )
    print(f"wrote {rows} rows to {args.out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(SimulatorSettings)
        configure_logging("simulator", settings.log_level, settings.log_format)
        if args.command == "catalogue":
            return _print_catalogue(settings, args)
        if args.command == "export":
            return _export(settings, args)
        config = _config(args.config or settings.simulator_config, args.copies, args.fault)
        asyncio.run(_serve(settings, config, args))
        return 0
    except FaultError as error:
        print(f"polis-simulator: {error}", file=sys.stderr)
        return 2
    except (ConfigError, SettingsError, CatalogueError, ValueError) as error:
        print(f"polis-simulator: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"polis-simulator: cannot serve: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

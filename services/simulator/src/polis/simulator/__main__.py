"""``python -m polis.simulator`` — run the virtual municipality, or export its history.

    python -m polis.simulator [--config PATH] [--manifest PATH] [--copies N]
    python -m polis.simulator export --start 2025-01-01 --end 2026-01-01 --out history.csv \
        [--interval 15min|1h] [--config PATH] [--copies N]
    python -m polis.simulator optimizer-config [--config PATH] > optimizer.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

import yaml

from polis.common.logging import configure_logging, get_logger
from polis.common.settings import SettingsError, load_settings
from polis.simulator.config import ConfigError, MunicipalityConfig, load_config
from polis.simulator.export import INTERVALS, parse_day, write_history
from polis.simulator.optimizer_config import optimizer_config
from polis.simulator.settings import SimulatorSettings
from polis.simulator.site import Site


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m polis.simulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="municipality YAML (default: packaged)")
    parser.add_argument("--copies", type=int, default=1, help="N copies of every building")
    parser.add_argument("--manifest", type=Path, help="write the endpoint manifest here")
    sub = parser.add_subparsers(dest="command")
    export = sub.add_parser("export", help="write meter history as CSV, straight from the model")
    export.add_argument("--start", required=True, help="first instant, e.g. 2025-01-01 (UTC)")
    export.add_argument("--end", required=True, help="end instant (exclusive)")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--interval", choices=sorted(INTERVALS), default="15min")
    export.add_argument("--config", type=Path, dest="export_config")
    export.add_argument("--copies", type=int, dest="export_copies")
    opt = sub.add_parser(
        "optimizer-config", help="the optimizer's YAML configuration for this municipality"
    )
    opt.add_argument("--config", type=Path, dest="optimizer_config")
    return parser


def _config(path: Path | None, copies: int) -> MunicipalityConfig:
    return load_config(path).with_copies(copies)


async def _serve(
    settings: SimulatorSettings, config: MunicipalityConfig, manifest: Path | None
) -> None:
    log = get_logger("polis.simulator")
    logging.getLogger("pymodbus").setLevel(logging.WARNING)  # one "listening" line per port
    site = Site(config, settings.clock(), settings.simulator_host)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, site.stop)
    try:
        await site.start()
        if manifest is not None:
            manifest.parent.mkdir(parents=True, exist_ok=True)
            tmp = manifest.with_suffix(manifest.suffix + ".tmp")
            tmp.write_text(yaml.safe_dump(site.manifest(), sort_keys=False), "utf-8")
            tmp.replace(manifest)
        modbus_points, bacnet_points = site.point_counts()
        print(
            f"polis-simulator ready: {len(site.meters)} Modbus devices on "
            f"{len(site.endpoints)} ports, {len(site.controllers)} BACnet devices, "
            f"{modbus_points + bacnet_points} points, "
            f"virtual time {site.simulation.time.isoformat()}",
            file=sys.stderr,
            flush=True,
        )
        log.info("simulator started", buildings=len(config.buildings), manifest=str(manifest))
        await site.run()
    finally:
        await site.close()
        log.info("simulator stopped")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(SimulatorSettings)
        configure_logging("simulator", settings.log_level, settings.log_format)
        if args.command == "optimizer-config":
            config = load_config(args.optimizer_config or args.config or settings.simulator_config)
            yaml.safe_dump(optimizer_config(config), sys.stdout, sort_keys=False)
            return 0
        if args.command == "export":
            config = _config(
                args.export_config or args.config or settings.simulator_config,
                args.export_copies or args.copies,
            )
            with args.out.open("w", encoding="utf-8", newline="") as out:
                rows = write_history(
                    out,
                    config,
                    parse_day(args.start),
                    parse_day(args.end),
                    INTERVALS[args.interval],
                )
            print(f"wrote {rows} rows to {args.out}", file=sys.stderr)
            return 0
        config = _config(args.config or settings.simulator_config, args.copies)
        asyncio.run(_serve(settings, config, args.manifest))
        return 0
    except (ConfigError, SettingsError, ValueError) as error:
        print(f"polis-simulator: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Command line: run the adapter, generate configuration, discover BACnet devices.

python -m polis.adapter run [--catalogue catalogue.yaml]   (default: POLIS_CATALOGUE)
python -m polis.adapter config-from-manifest MANIFEST.yaml [--no-discover] > draft.yaml
python -m polis.adapter discover --address 127.0.0.1:47809 [--instance 1001] > draft.yaml
python -m polis.adapter discover --broadcast [--bbmd 10.20.0.5:47808] --local IP:PORT > draft.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import yaml

from polis.adapter.bacnet.client import BacnetClient, BacnetError, ForeignDevice
from polis.adapter.bacnet.discovery import discover_device, discover_network
from polis.adapter.config import ConfigError, load_config
from polis.adapter.manifest import config_from_manifest
from polis.adapter.runtime import tune_garbage_collection
from polis.adapter.service import Adapter
from polis.adapter.settings import AdapterProcessSettings, AdapterSettings
from polis.common.influx import InfluxStore
from polis.common.logging import get_logger
from polis.common.service import service_settings, stop_on_signals
from polis.common.settings import SettingsError, catalogue_path, load_settings

log = get_logger("polis.adapter")


async def _run(
    catalogue: Path, settings: AdapterProcessSettings, adapter_settings: AdapterSettings
) -> int:
    site = load_config(catalogue, adapter_settings)
    clock = settings.clock()
    store = InfluxStore.from_settings(settings)
    adapter = Adapter(site=site, writer=store, clock=clock)
    tune_garbage_collection()
    stop = stop_on_signals()
    await adapter.start()
    await stop.wait()
    log.info("shutting down")
    await adapter.stop()
    store.close()
    return 0


async def _discover_many(
    local: str,
    targets: list[tuple[str, int | None]],
    foreign: ForeignDevice | None = None,
    broadcast: bool = False,
    instance: int | None = None,
) -> list[dict[str, Any]]:
    client = BacnetClient(local, foreign=foreign)
    client.start()
    try:
        drafts = [await discover_device(client, address, i) for address, i in targets]
        if broadcast:
            drafts += await discover_network(client, instance, instance)
        return drafts
    finally:
        await client.aclose()


def _dump(data: Any) -> None:
    yaml.safe_dump(data, sys.stdout, sort_keys=False, allow_unicode=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m polis.adapter")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="poll devices and write to InfluxDB (the default)")
    run.add_argument("--catalogue", type=Path, help="municipality catalogue (POLIS_CATALOGUE)")
    gen = sub.add_parser(
        "config-from-manifest", help="a draft catalogue of a simulator manifest's devices"
    )
    gen.add_argument("manifest", type=Path)
    gen.add_argument("--no-discover", action="store_true", help="leave BACnet point lists empty")
    gen.add_argument("--local", default="127.0.0.1:47991", help="local BACnet address:port")
    disc = sub.add_parser("discover", help="draft BACnet point list of devices")
    disc.add_argument("--address", action="append", default=[], help="ip:port, repeatable")
    disc.add_argument(
        "--broadcast", action="store_true", help="a global Who-Is (through the BBMD, if any)"
    )
    disc.add_argument("--instance", type=int, default=None)
    disc.add_argument("--local", default="127.0.0.1:47991", help="local BACnet address:port")
    disc.add_argument(
        "--bbmd", help="register with this BBMD (default POLIS_ADAPTER_BACNET_BBMD_ADDRESS)"
    )
    if argv and argv[0].startswith("--"):
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    try:
        settings = service_settings(AdapterProcessSettings, "adapter")
        adapter_settings = load_settings(AdapterSettings)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        if args.command == "run":
            catalogue = args.catalogue or catalogue_path(settings)
            return asyncio.run(_run(catalogue, settings, adapter_settings))
        if args.command == "config-from-manifest":
            manifest = yaml.safe_load(args.manifest.read_text())

            async def generate() -> dict[str, Any]:
                if args.no_discover:
                    return await config_from_manifest(manifest)
                client = BacnetClient(args.local)
                client.start()
                try:
                    return await config_from_manifest(
                        manifest, lambda a, i: discover_device(client, a, i)
                    )
                finally:
                    client.close()

            _dump(asyncio.run(generate()))
            return 0
        if args.command == "discover":
            if not args.address and not args.broadcast:
                parser.error("discover needs --address or --broadcast")
            targets = [(a, args.instance) for a in args.address]
            bbmd = args.bbmd or adapter_settings.bacnet_bbmd_address
            foreign = ForeignDevice(bbmd, adapter_settings.bacnet_bbmd_ttl_s) if bbmd else None
            drafts = asyncio.run(
                _discover_many(args.local, targets, foreign, args.broadcast, args.instance)
            )
            _dump({"devices": drafts})
            return 0
    except (ConfigError, SettingsError) as error:
        print(error, file=sys.stderr)
        return 2
    except BacnetError as error:
        print(f"discovery failed: {error}", file=sys.stderr)
        return 1
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""Wiring: configuration -> drivers, pollers, sink, control service, gRPC, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc

from polis.adapter.audit import AuditLog
from polis.adapter.bacnet.client import BacnetClient, ForeignDevice
from polis.adapter.bacnet.driver import BacnetDriver
from polis.adapter.bacnet.registration import RegistrationOutcome
from polis.adapter.buffer import DurableBuffer
from polis.adapter.config import ConfigError, SiteConfig, iter_points
from polis.adapter.control import CommandService, CommandTarget
from polis.adapter.driver import Driver
from polis.adapter.grpc_api import SERVICE_NAME, AdapterControlServicer
from polis.adapter.journal import PendingJournal
from polis.adapter.metrics import AdapterMetrics
from polis.adapter.modbus.client import EndpointPool
from polis.adapter.modbus.driver import ModbusDriver
from polis.adapter.model import Reading
from polis.adapter.normalise import PointNormaliser, QualityRules
from polis.adapter.ocpp.central import CentralSystem
from polis.adapter.ocpp.driver import OcppDriver
from polis.adapter.poller import DevicePoller, LatestReadings
from polis.adapter.settings import AdapterSettings
from polis.adapter.sink import LineWriter, ReadingEncoder, ReadingSink
from polis.common.catalogue import PointRef
from polis.common.catalogue.devices import (
    BacnetDeviceConfig,
    ModbusDeviceConfig,
    OcppDeviceConfig,
)
from polis.common.clock import Clock
from polis.common.grpc_server import GrpcServer, start_grpc_server
from polis.common.lineprotocol import to_ns
from polis.common.logging import get_logger
from polis.control.v1 import control_pb2_grpc

log = get_logger(__name__)


def build_normaliser(ref: PointRef) -> PointNormaliser:
    p = ref.point
    rules = QualityRules(
        kind=p.kind,
        minimum=p.range.min if p.range else None,
        maximum=p.range.max if p.range else None,
        stale_after_s=p.stale_after_s,
    )
    return PointNormaliser(ref.point_id, p.unit, p.quantity, rules)


def bacnet_client(settings: AdapterSettings, metrics: AdapterMetrics | None = None) -> BacnetClient:
    """The adapter's BACnet/IP port as its settings say: a plain node, a foreign device of
    a BBMD (registration outcomes counted in ``metrics``), or a BBMD itself."""
    foreign = None
    bbmd = settings.bacnet_bbmd_address
    if bbmd:
        on_outcome = None
        if metrics is not None:
            registered = metrics.bacnet_foreign_registered.labels(bbmd)
            registered.set(0)
            failures = metrics.bacnet_foreign_failures

            def on_outcome(outcome: RegistrationOutcome) -> None:
                registered.set(1 if outcome.registered else 0)
                if not outcome.ok:
                    failures.labels(bbmd, outcome.reason or "error").inc()

        foreign = ForeignDevice(bbmd, settings.bacnet_bbmd_ttl_s, on_outcome)
    bdt = settings.bacnet_bdt_peers if settings.bacnet_bbmd_mode else None
    return BacnetClient(settings.bacnet_address, foreign=foreign, bdt=bdt)


def bacnet_routes(devices: Sequence[BacnetDeviceConfig]) -> dict[int, str]:
    """The router of each network that routed devices are on; one router per network."""
    routes: dict[int, tuple[str, str]] = {}
    for device in devices:
        if device.network is None:
            continue
        router, first = routes.setdefault(device.network, (device.address, device.id))
        if router != device.address:
            raise ConfigError(
                f"devices {first} and {device.id} reach BACnet network {device.network} "
                f"through different routers ({router}, {device.address})"
            )
    return {network: router for network, (router, _) in routes.items()}


@dataclass
class Adapter:
    """A running adapter; build with :func:`build_adapter`, then ``await start()``."""

    site: SiteConfig
    writer: LineWriter
    clock: Clock
    metrics: AdapterMetrics = field(default_factory=AdapterMetrics)
    grpc_port: int | None = None
    metrics_port: int | None = None
    pollers: list[DevicePoller] = field(default_factory=list)
    on_readings: Callable[[Sequence[Reading]], None] | None = None

    def __post_init__(self) -> None:
        settings = self.site.adapter
        self._bacnet_routes = bacnet_routes(
            [d for b in self.site.buildings for d in b.devices if isinstance(d, BacnetDeviceConfig)]
        )
        self.points = list(iter_points(self.site))
        self.normalisers = {ref.point_id: build_normaliser(ref) for ref in self.points}
        self.units = {pid: n.unit for pid, n in self.normalisers.items()}
        self.latest = LatestReadings()
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.buffer = DurableBuffer(
            settings.state_dir / "buffer.sqlite", settings.buffer_max_readings
        )
        self.journal = PendingJournal(settings.state_dir / "journal")
        self.sink = ReadingSink(
            ReadingEncoder(self.points, self.units),
            self.writer,
            self.buffer,
            self.metrics,
            batch_size=settings.batch_size,
            flush_interval_s=settings.flush_interval_s,
            warn_fraction=settings.buffer_warn_fraction,
            journal=self.journal,
        )
        self.audit = AuditLog(settings.state_dir / "audit.jsonl")
        self._pool = EndpointPool()
        self._bacnet: BacnetClient | None = None
        chargers = [
            d for b in self.site.buildings for d in b.devices if isinstance(d, OcppDeviceConfig)
        ]
        self.ocpp = CentralSystem(chargers, settings, self.clock) if chargers else None
        self.drivers: list[Driver] = []
        targets: dict[str, CommandTarget] = {}
        refs = {(ref.building, ref.device, ref.point.id): ref for ref in self.points}
        for building in self.site.buildings:
            for device in building.devices:
                driver: Driver
                if isinstance(device, ModbusDeviceConfig):
                    driver = ModbusDriver(device, self._pool.for_device(device))
                elif isinstance(device, OcppDeviceConfig):
                    assert self.ocpp is not None
                    driver = OcppDriver(device, self.ocpp, self.clock)
                else:
                    assert isinstance(device, BacnetDeviceConfig)
                    if self._bacnet is None:
                        self._bacnet = bacnet_client(settings, self.metrics)
                    driver = BacnetDriver(device, self._bacnet)
                self.drivers.append(driver)
                norms = {}
                for group in driver.groups():
                    for key in group.point_keys:
                        ref = refs[(building.id, device.id, key)]
                        norms[key] = self.normalisers[ref.point_id]
                        if ref.point.write is not None:
                            targets[ref.point_id] = CommandTarget(ref, driver, key)
                self.pollers.append(
                    DevicePoller(driver, norms, self._consume, self.metrics, self._now_ns)
                )
        self.commands = CommandService(
            targets,
            self.audit,
            self.clock,
            settings.automation_priority,
            on_outcome=lambda outcome: self.metrics.writes.labels(outcome).inc(),
        )
        self._sink_task: asyncio.Task[None] | None = None
        self._grpc: GrpcServer | None = None

    def _now_ns(self) -> int:
        return to_ns(self.clock.now())

    def _consume(self, readings: Sequence[Reading]) -> None:
        self.latest.update(readings)
        self.sink.submit(readings)
        if self.on_readings is not None:
            self.on_readings(readings)

    async def start(self, *, serve: bool = True) -> None:
        settings = self.site.adapter
        if self._bacnet is not None:
            self._bacnet.start()
            for network, router in self._bacnet_routes.items():
                await self._bacnet.add_route(network, router)
        if self.ocpp is not None:
            await self.ocpp.start()
        self._sink_task = asyncio.create_task(self.sink.run(), name="sink")
        for poller in self.pollers:
            poller.start()
        if serve:
            servicer = AdapterControlServicer(self.points, self.units, self.latest, self.commands)

            def register(server: grpc.aio.Server) -> None:
                control_pb2_grpc.add_AdapterControlServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]

            self._grpc = await start_grpc_server(
                register, [SERVICE_NAME], host=settings.grpc_host, port=settings.grpc_port
            )
            self.grpc_port = self._grpc.port
            self.metrics_port = self.metrics.serve(settings.metrics_port)
        log.info(
            "adapter started",
            points=len(self.points),
            devices=len(self.drivers),
            grpc_port=self.grpc_port,
            metrics_port=self.metrics_port,
            buffered=self.buffer.depth,
        )

    async def stop(self) -> None:
        """Graceful shutdown: stop polling, relinquish commands, flush, close."""
        if self._grpc is not None:
            await self._grpc.set_serving(False)
        for poller in self.pollers:
            await poller.stop()
        await self.commands.relinquish_all("shutdown")
        if self.ocpp is not None:  # after relinquishing: clearing profiles needs the links
            await self.ocpp.stop()
        if self._sink_task is not None:
            await self.sink.stop()
            self._sink_task.cancel()
            await asyncio.gather(self._sink_task, return_exceptions=True)
        if self._grpc is not None:
            await self._grpc.stop(grace=1.0)
        for driver in self.drivers:
            await driver.close()
        self._pool.close()
        if self._bacnet is not None:
            await self._bacnet.aclose()
        self.journal.close()
        self.buffer.close()
        log.info("adapter stopped")

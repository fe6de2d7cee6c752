"""``python -m polis.optimizer``: settings and config, gRPC service, rolling-horizon planning."""

from __future__ import annotations

import asyncio
import sys

import grpc
import httpx

from polis.commissioning.v1 import commissioning_pb2, commissioning_pb2_grpc
from polis.common.catalogue import CatalogueError, load_catalogue
from polis.common.grpc_server import start_grpc_server
from polis.common.logging import get_logger
from polis.common.service import service_settings, stop_on_signals
from polis.common.settings import SettingsError, catalogue_path
from polis.optimizer.actuals import ActualsFeed, state_points
from polis.optimizer.commands import AdapterClient
from polis.optimizer.commissioning.store import ReportStore
from polis.optimizer.config import ConfigError, optimizer_view, uncommissioned_loads
from polis.optimizer.excitation.adapter import AdapterSetpoints
from polis.optimizer.excitation.registry import Excitations
from polis.optimizer.forecast import ClimatologyTemperature, HttpTemperature, TemperatureProvider
from polis.optimizer.grpc_commissioning import CommissioningServicer
from polis.optimizer.grpc_service import OptimizerServicer
from polis.optimizer.instances import InstanceFactory
from polis.optimizer.plan_store import InfluxPlanSink, NullPlanSink, PlanSink
from polis.optimizer.planner import Mode, Planner
from polis.optimizer.rolling import RollingHorizon
from polis.optimizer.settings import OptimizerSettings
from polis.optimizer.solve import SolverParams
from polis.planning.v1 import planning_pb2, planning_pb2_grpc

log = get_logger("polis.optimizer")


async def serve(settings: OptimizerSettings) -> None:
    catalogue = load_catalogue(catalogue_path(settings))
    for building, loads in uncommissioned_loads(catalogue).items():
        log.warning("not planned until commissioned", building=building, loads=loads)
    config = optimizer_view(catalogue, settings.weights())
    clock = settings.clock()
    http: httpx.Client | None = None
    temperature: TemperatureProvider = ClimatologyTemperature()
    if settings.optimizer_weather_url:
        http = httpx.Client(timeout=5.0)
        temperature = HttpTemperature(
            settings.optimizer_weather_url,
            settings.optimizer_latitude,
            settings.optimizer_longitude,
            http,
        )
    sink: PlanSink = NullPlanSink()
    store = None
    if settings.optimizer_store_plans:
        from polis.common.influx import InfluxStore

        store = InfluxStore.from_settings(settings)
        sink = InfluxPlanSink(store)
    adapter = AdapterClient(settings.adapter_target, settings.adapter_deadline_s)
    actuals = ActualsFeed(
        state_points(config), settings.adapter_target, settings.adapter_deadline_s
    )
    factory = InstanceFactory(config, temperature, actuals=actuals)
    params = SolverParams(
        time_limit_s=settings.optimizer_time_limit_s,
        relative_gap_limit=settings.optimizer_relative_gap_limit,
        num_workers=settings.optimizer_num_workers,
    )
    planner = Planner(factory, params)
    default_mode = Mode.APPLY if settings.optimizer_mode == "apply" else Mode.DRY_RUN
    for b in config.buildings:
        planner.set_mode(b.id, default_mode)
    setpoints = AdapterSetpoints(settings.adapter_target, settings.adapter_deadline_s)
    excitations = Excitations(config, planner, setpoints, clock)
    servicer = OptimizerServicer(planner, clock.now, excitations.blocks_apply)
    commissioning = CommissioningServicer(
        ReportStore(settings.optimizer_commissioning_dir), excitations
    )

    def register(s: grpc.aio.Server) -> None:
        planning_pb2_grpc.add_OptimizerServicer_to_server(servicer, s)  # type: ignore[no-untyped-call]
        commissioning_pb2_grpc.add_CommissioningServicer_to_server(commissioning, s)  # type: ignore[no-untyped-call]

    server = await start_grpc_server(
        register,
        [
            planning_pb2.DESCRIPTOR.services_by_name["Optimizer"].full_name,
            commissioning_pb2.DESCRIPTOR.services_by_name["Commissioning"].full_name,
        ],
        host=settings.optimizer_host,
        port=settings.optimizer_port,
    )
    log.info("optimizer serving", address=f"{settings.optimizer_host}:{server.port}")
    loop = RollingHorizon(
        planner,
        factory.scopes(),
        clock,
        config.command_points(),
        sink,
        adapter,
        settings.optimizer_horizon_slots,
        settings.optimizer_replan_minutes,
        actuals=actuals,
        on_off=config.on_off_loads(),
        command_slots=settings.optimizer_command_slots,
    )
    try:
        await loop.run(stop_on_signals())
    finally:
        await excitations.close()  # relinquishes what an excitation holds
        await server.stop(2.0)
        await adapter.close()
        await setpoints.close()
        await actuals.close()
        if http is not None:
            http.close()
        if store is not None:
            store.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["commission"]:
        # a one-shot command, not the service: imported here to keep the service's start lean
        from polis.optimizer.commissioning.command import main as commission

        return commission(args[1:])
    if args[:1] == ["excite"]:
        from polis.optimizer.excitation.command import main as excite

        return excite(args[1:])
    try:
        asyncio.run(serve(service_settings(OptimizerSettings, "optimizer")))
    except (ConfigError, CatalogueError, SettingsError) as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

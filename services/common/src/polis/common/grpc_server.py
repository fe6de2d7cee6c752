"""gRPC server bootstrap with the standard health service, shared by every Polis service."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

DEFAULT_DEADLINE_S = 5.0


@dataclass
class GrpcServer:
    server: grpc.aio.Server
    port: int
    health: HealthServicer
    services: tuple[str, ...]

    async def set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *self.services):
            await self.health.set(name, status)

    async def stop(self, grace: float = 5.0) -> None:
        await self.set_serving(False)
        await self.server.stop(grace)


async def start_grpc_server(
    register: Callable[[grpc.aio.Server], None],
    services: Sequence[str],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
) -> GrpcServer:
    """Start a grpc.aio server with health checking and reflection; port 0 picks a free one.

    ``register`` adds the service's servicers; ``services`` are their full names (for health).
    """
    server = grpc.aio.server()
    register(server)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = (*services, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name)
    reflection.enable_server_reflection((*names, reflection.SERVICE_NAME), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind gRPC server to {host}:{port}")
    await server.start()
    running = GrpcServer(
        server=server, port=bound, health=health_servicer, services=tuple(services)
    )
    await running.set_serving(True)
    return running


async def check_health(target: str, service: str = "", deadline_s: float = 2.0) -> bool:
    """True if the gRPC server at ``target`` reports SERVING for ``service``."""
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service=service), timeout=deadline_s
            )
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

import pytest

from polis.common.grpc_server import check_health, start_grpc_server

pytestmark = pytest.mark.integration


async def test_health_reports_serving_then_not_serving() -> None:
    server = await start_grpc_server(lambda _server: None, ["polis.test.v1.Nothing"], port=0)
    target = f"127.0.0.1:{server.port}"
    try:
        assert await check_health(target)
        assert await check_health(target, "polis.test.v1.Nothing")
        await server.set_serving(False)
        assert not await check_health(target)
    finally:
        await server.stop(0)
    assert not await check_health(target, deadline_s=0.5)

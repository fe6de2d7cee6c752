"""Property-based requests from the live OpenAPI spec (schemathesis), bounded in examples.

Checks: no 5xx other than a documented 503, responses match their declared schemas, content
types and status codes. A dedicated gateway keeps generated keys and webhooks out of the
other tests' state; the SSE stream is excluded because it never ends by design.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import make_rows
from .fakes import MemoryStore, PeerServers
from .server import Running, gateway_settings, run_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow]

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)


@pytest.fixture(scope="module")
def fuzz_gateway(peers: PeerServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    settings_ = gateway_settings(tmp_path_factory.mktemp("fuzz") / "gw.db", peers.addresses)
    with run_gateway(settings_, MemoryStore(make_rows())) as gw:
        yield gw


def not_a_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"{response.status_code} from {case.method} {case.path}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Invalid input must be refused with a documented problem, never crash the gateway.
NEGATIVE_CHECKS = [not_a_server_error, content_type_conformance]


def test_api_conforms_to_its_spec(fuzz_gateway: Running) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_gateway.base_url}/openapi.json")
    schema = schema.exclude(path_regex=r".*/live$").exclude(method="POST", path="/api/v1/webhooks")
    tested = []
    modes = [(GenerationMode.POSITIVE, CHECKS), (GenerationMode.NEGATIVE, NEGATIVE_CHECKS)]
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, checks in modes:
            run_operation(fuzz_gateway, operation, mode, checks)
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 20, tested


def run_operation(gw: Running, operation: Any, mode: Any, checks: list[Any]) -> None:
    """Up to eight generated requests for one operation, each checked."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        case.call_and_validate(
            base_url=gw.base_url, headers={"X-API-Key": gw.admin_key}, checks=checks, timeout=20
        )

    check()

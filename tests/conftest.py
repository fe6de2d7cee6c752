"""Session-wide fixtures: a real InfluxDB 2.x server on loopback.

The server is the project's own build of influxd (scripts/build-influxd.sh, cached under
~/.cache/polis). Without it the InfluxDB tests are skipped on a developer machine, and fail
in CI (CI=true): a missing server is never a silent pass there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer, find_binary

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI: a missing server must never count as a pass there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def influx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    binary = find_binary()
    require(
        binary is not None,
        "influxd not built: run `make influxd` (or scripts/build-influxd.sh)",
    )
    assert binary is not None
    server = InfluxServer(binary=binary, data_dir=tmp_path_factory.mktemp("influxdb"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influx_admin(influx_server: InfluxServer) -> Iterator[InfluxStore]:
    store = InfluxStore(influx_server.url, influx_server.token, influx_server.org, "raw")
    yield store
    store.close()


@pytest.fixture
def influx_store(influx_server: InfluxServer, influx_admin: InfluxStore) -> Iterator[InfluxStore]:
    """An InfluxStore on a fresh bucket of the session's server, removed afterwards."""
    bucket = f"test_{uuid.uuid4().hex[:12]}"
    influx_admin.ensure_bucket(bucket)
    store = InfluxStore(influx_server.url, influx_server.token, influx_server.org, bucket)
    yield store
    store.close()
    influx_admin.delete_bucket(bucket)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]

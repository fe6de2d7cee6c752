"""Session-wide fixtures: a real InfluxDB 2.x server on loopback; the test tiers.

The server is the project's own build of influxd (scripts/build-influxd.sh, cached under
~/.cache/polis). Without it the InfluxDB tests are skipped on a developer machine, and fail
in CI (CI=true): a missing server is never a silent pass there.

Every test belongs to exactly one tier, ``unit``, ``integration`` or ``browser`` (markers in
pyproject.toml, usually a module's ``pytestmark``); collection stops on a test without one. A
``unit`` test that opens a network socket or starts a process fails.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import grpc
import grpc._server
import grpc.aio._server
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


# Test tiers ------------------------------------------------------------------------------

TIERS = ("unit", "integration", "browser")
INFLUX_FIXTURES = frozenset({"influx_server", "influx_admin", "influx_store"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stop when a test has no tier or several: ``-m unit`` would silently drop it.

    tryfirst: this sees every collected test, before ``-m`` deselects any, so ``make unit``
    refuses an unmarked test too.
    """
    problems = []
    for item in items:
        tiers = sorted({mark.name for mark in item.iter_markers() if mark.name in TIERS})
        if len(tiers) != 1:
            found = ", ".join(tiers) if tiers else "none"
            problems.append(f"{item.nodeid}: tier markers found: {found}")
        elif tiers == ["unit"] and (
            item.get_closest_marker("influx") is not None
            or INFLUX_FIXTURES & set(getattr(item, "fixturenames", ()))
        ):
            problems.append(f"{item.nodeid}: marked unit but needs InfluxDB")
    if problems:
        raise pytest.UsageError(
            "each test needs exactly one tier, unit, integration or browser, usually as its "
            "module's `pytestmark`, and a unit test may not need InfluxDB (README.md, Tests):"
            + "".join(f"\n  {problem}" for problem in problems)
        )


class ImpureUnitTest(RuntimeError):
    """A unit test reached for the network or a process."""


# grpc opens its listening sockets in C, out of reach of the socket module.
GRPC_SERVERS = (grpc._server._Server, grpc.aio._server.Server)


class InProcessGuard:
    """Refuses, for one unit test, bind/connect on network sockets, child processes, gRPC ports.

    Threads already running belong to other tiers' session fixtures (a gateway or InfluxDB
    client serving in the background during a full run) and are left alone. Unix sockets
    and socket pairs stay allowed: asyncio's own loop uses them.
    """

    def __init__(self, item: pytest.Item) -> None:
        self.nodeid = item.nodeid
        main = threading.main_thread().ident
        self.background = {t.ident for t in threading.enumerate()} - {main}
        self.refused: list[str] = []

    def check(self, what: str) -> None:
        if threading.get_ident() in self.background:
            return
        message = f"{self.nodeid} is marked unit but {what}: mark its module integration"
        self.refused.append(message)
        raise ImpureUnitTest(message)

    def socket_call(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(sock: socket.socket, address: Any, *args: Any) -> Any:
            if sock.family != socket.AF_UNIX:
                self.check(f"calls socket.{name}({address!r})")
            return original(sock, address, *args)

        return guarded

    def process_start(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(popen: subprocess.Popen[Any], args: Any, *rest: Any, **kw: Any) -> Any:
            self.check(f"starts a process {args!r}")
            return original(popen, args, *rest, **kw)

        return guarded

    def grpc_port(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(server: Any, address: str, *args: Any) -> Any:
            self.check(f"opens a gRPC port on {address!r}")
            return original(server, address, *args)

        return guarded

    def install(self, patch: pytest.MonkeyPatch) -> None:
        for name in ("bind", "connect", "connect_ex"):
            patch.setattr(socket.socket, name, self.socket_call(name, getattr(socket.socket, name)))
        # subprocess.run, Popen and asyncio's subprocesses all start the child here.
        execute_child = subprocess.Popen._execute_child  # type: ignore[attr-defined]
        patch.setattr(subprocess.Popen, "_execute_child", self.process_start(execute_child))
        for server_class in GRPC_SERVERS:
            for name in ("add_insecure_port", "add_secure_port"):
                patch.setattr(server_class, name, self.grpc_port(getattr(server_class, name)))


@contextlib.contextmanager
def unit_test_stays_in_process(item: pytest.Item) -> Iterator[None]:
    if item.get_closest_marker("unit") is None:
        yield
        return
    guard = InProcessGuard(item)
    with pytest.MonkeyPatch.context() as patch:
        guard.install(patch)
        yield
    if guard.refused:  # the error was raised inside code that caught and swallowed it
        pytest.fail(guard.refused[0], pytrace=False)


# Setup and call only: the last test's teardown also closes other tiers' session fixtures.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with unit_test_stays_in_process(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with unit_test_stays_in_process(item):
        return (yield)


# In CI a skip of any kind (a module's importorskip, a test's pytest.skip) is a failure: the
# run must prove every check it counts. An expected failure (xfail) stays what it is.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"module skipped in CI, which counts as a failure: {report.longrepr}"
    return report

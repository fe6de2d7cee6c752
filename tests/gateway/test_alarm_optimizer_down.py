"""An alarm round while the optimizer cannot give plans: one that hangs (a TCP peer on loopback
that accepts and never answers) and one that is not there at all (nothing listens). The round
asks for 40 buildings' current plans, gives up at the first answer that the optimizer is
unavailable, logs the buildings it skipped, keeps their stored fallback runs, and completes
in about one gRPC deadline instead of one per building (40 x 0.5 s asked in turn)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import structlog
import yaml

from polis.alarms.evaluator import AlarmEvaluator
from polis.common.catalogue import parse_catalogue
from polis.common.clock import Clock
from polis.common.influx import InfluxStore
from polis.common.influxd import free_port
from polis.gateway.application.alarm_facts import Baselines
from polis.gateway.application.alarm_job import AlarmJob
from polis.gateway.application.context import Services
from polis.gateway.application.database import Database
from polis.gateway.application.events import Events
from polis.gateway.db.alarm_models import FallbackRun
from polis.gateway.db.engine import make_engine, migrate, session_factory
from polis.gateway.peers.clients import Peers

pytestmark = [pytest.mark.integration, pytest.mark.influx]

BUILDINGS = [f"school-{i}" for i in range(40)]
DEADLINE_S = 0.5


def catalogue_yaml() -> str:
    buildings = [
        {
            "id": b,
            "neighbourhood": "centre",
            "devices": [
                {
                    "protocol": "bacnet",
                    "id": f"{b}-ahu",
                    "device_instance": 1000 + i,
                    "address": f"127.0.0.1:{47808 + i}",
                    "points": [
                        {
                            "id": "setpoint",
                            "object": "analog-value,1",
                            "quantity": "setpoint",
                            "unit": "degC",
                            "kind": "command",
                            "write": {"min": 16, "max": 26},
                        }
                    ],
                }
            ],
        }
        for i, b in enumerate(BUILDINGS)
    ]
    return yaml.safe_dump(
        {
            "municipality": "larissa",
            "timezone": "Europe/Athens",
            "neighbourhoods": [{"id": "centre"}],
            "buildings": buildings,
        }
    )


@pytest.fixture
def hanging() -> Iterator[str]:
    """A peer that accepts connections and never answers (no HTTP/2 settings, nothing)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for connection in held:
        connection.close()
    server.close()


@pytest.mark.parametrize("optimizer", ["hanging", "absent"])
async def test_a_round_completes_promptly_without_the_optimizer(
    optimizer: str,
    request: pytest.FixtureRequest,
    influx_store: InfluxStore,
    tmp_path: Path,
) -> None:
    address = (
        request.getfixturevalue("hanging") if optimizer == "hanging" else f"127.0.0.1:{free_port()}"
    )
    catalogue = parse_catalogue(yaml.safe_load(catalogue_yaml()), "c.yaml")
    engine = make_engine(f"sqlite:///{tmp_path / 'gw.db'}")
    migrate(engine)
    since = datetime(2026, 1, 14, 8, 0, tzinfo=UTC)
    with session_factory(engine)() as session:  # school-7 ran on fallback plans before
        session.add(FallbackRun(building="school-7", since=since, reason="infeasible"))
        session.commit()
    peers = Peers(address, address, address, deadline_s=DEADLINE_S)
    clock = Clock.realtime()
    services = Services(
        db=Database(session_factory(engine)),
        clock=clock,
        events=Events(clock),
        control=cast(Any, None),
        planning=peers,
        savings=cast(Any, None),
    )
    job = AlarmJob(
        services,
        AlarmEvaluator(catalogue, influx_store),
        BUILDINGS,
        Baselines(cast(Any, None), BUILDINGS, None, catalogue.timezone),
        plans_timeout_s=2 * DEADLINE_S,
    )
    try:
        with structlog.testing.capture_logs() as logs:
            report = await job.run_once()
    finally:
        await peers.close()
        engine.dispose()
    skipped = [e for e in logs if e["event"].startswith("current plans not checked")]
    assert report.written
    assert report.seconds < 8 * DEADLINE_S  # asked in turn: 40 deadlines, 20 s
    assert len(skipped) == 1
    assert skipped[0]["skipped"] == len(BUILDINGS)
    assert "optimizer unavailable" in skipped[0]["reason"]
    assert skipped[0]["buildings"] == BUILDINGS[:10]
    assert len([e for e in logs if e["event"] == "alarms evaluated"]) == 1
    # school-7's stored run of fallback plans is still a fact the rules judge
    raised = [(c.alarm.rule, c.alarm.building) for c in report.changes]
    assert raised == [("control.fallback_plan", "school-7")]

"""A real commissioning report of the town hall, and the optimizer's Commissioning service
serving it: the report is what ``commission --report`` writes (``write_report``: JSON and fit
plots) for 12 simulated days of the offices (identified, accepted) and the council chamber
(its temperature point mapped to nothing: rejected without a model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from optimizer.excitation.physics import simulate_zone

from polis.commissioning.v1 import commissioning_pb2, commissioning_pb2_grpc
from polis.common.clock import Clock
from polis.optimizer.commissioning.mapping import ZoneMapping
from polis.optimizer.commissioning.results import ZoneResult, write_report
from polis.optimizer.commissioning.store import ReportStore
from polis.optimizer.config import OptimizerConfig
from polis.optimizer.domain import Building, Neighbourhood
from polis.optimizer.excitation.adapter import AdapterSetpoints
from polis.optimizer.excitation.registry import Excitations
from polis.optimizer.grpc_commissioning import CommissioningServicer
from polis.optimizer.identify import identify_zone
from polis.optimizer.planner import Planner

from .server import grpc_in_thread

BUILDING = "town-hall"  # a building of the gateway tests' canned catalogue
DAYS = 12
HOLDOUT = 3
SPAN = {"since": "2025-01-06T00:00:00+02:00", "until": "2025-01-18T00:00:00+02:00"}
POINTS = {
    "temperature": "larissa/town-hall/town-hall-bms/zone-offices-temperature",
    "outdoor": "larissa/town-hall/town-hall-bms/outdoor-air-temperature",
    "power": "larissa/town-hall/town-hall-bms/zone-offices-heat-pump-electric-power",
}


def write_town_hall_report(directory: Path) -> dict[str, Any]:
    """Write the report; returns it as written (the JSON)."""
    offices = simulate_zone("town-hall", "offices", DAYS, None)
    identified = identify_zone(
        offices.series, holdout_days=HOLDOUT, cop_prior=offices.datasheet_cop
    )
    assert identified.accepted, identified.reasons
    steps = offices.series.steps
    results = [
        ZoneResult(
            ZoneMapping(BUILDING, "offices", **POINTS),
            identified,
            offices.series,
            dict.fromkeys(POINTS, steps),
            (),
            HOLDOUT,
        ),
        ZoneResult(
            ZoneMapping(BUILDING, "council-chamber", outdoor=POINTS["outdoor"]),
            None,
            None,
            {"outdoor": steps},
            (),
            HOLDOUT,
        ),
    ]
    path = write_report(directory, BUILDING, SPAN, results)
    written: dict[str, Any] = json.loads(path.read_text())
    return written


def _never(scope: str, start: datetime, slots: int) -> Building | Neighbourhood:
    raise AssertionError("nothing is planned here")


@contextmanager
def commissioning_service(reports: Path) -> Iterator[str]:
    """The optimizer's Commissioning servicer on its reports directory; yields its address."""

    def register(server: grpc.aio.Server) -> None:
        excitations = Excitations(
            OptimizerConfig(tariffs=(), buildings=()),
            Planner(_never),
            AdapterSetpoints("127.0.0.1:1"),  # never called: nothing is excited here
            Clock(datetime.now(UTC), datetime.now(UTC)),
        )
        servicer = CommissioningServicer(ReportStore(reports), excitations)
        commissioning_pb2_grpc.add_CommissioningServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]

    name = commissioning_pb2.DESCRIPTOR.services_by_name["Commissioning"].full_name
    with grpc_in_thread(register, [name]) as address:
        yield address

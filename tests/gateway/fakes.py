"""Canned gRPC peers, an in-memory readings store and a webhook receiver for the gateway's tests.

The gateway is tested over real HTTP and real gRPC, but against small servers implementing the
adapter, optimizer and savings contracts with fixed data: the real services are tested in their
own suites, and canned answers let these tests compute every expected value independently.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from polis.common.influx import Aggregate, Row
from polis.control.v1 import control_pb2, control_pb2_grpc
from polis.gateway.domain.flux_csv import to_flux_csv
from polis.gateway.domain.paging import parse_rfc3339, rfc3339
from polis.gateway.readings import After
from polis.mv.v1 import savings_pb2, savings_pb2_grpc
from polis.planning.v1 import planning_pb2, planning_pb2_grpc
from polis.points.v1 import points_pb2

Q = points_pb2


def _point(
    pid: str,
    hood: str,
    building: str,
    device: str,
    quantity: int,
    unit: str,
    kind: int,
    **kw: float,
) -> points_pb2.Point:
    return points_pb2.Point(
        id=pid,
        municipality="larissa",
        neighbourhood=hood,
        building=building,
        device=device,
        quantity=quantity,  # type: ignore[arg-type]
        unit=unit,
        kind=kind,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def catalogue_points() -> list[points_pb2.Point]:
    points = []
    for hood, building in (("centre", "town-hall"), ("centre", "school-1"), ("north", "pool")):
        points += [
            _point(
                f"{building}/main-meter/energy",
                hood,
                building,
                "main-meter",
                Q.QUANTITY_ACTIVE_ENERGY,
                "kWh",
                Q.POINT_KIND_CUMULATIVE,
            ),
            _point(
                f"{building}/main-meter/power",
                hood,
                building,
                "main-meter",
                Q.QUANTITY_ACTIVE_POWER,
                "kW",
                Q.POINT_KIND_INSTANTANEOUS,
            ),
            _point(
                f"{building}/ahu-1/setpoint",
                hood,
                building,
                "ahu-1",
                Q.QUANTITY_SETPOINT,
                "degC",
                Q.POINT_KIND_COMMAND,
                min_value=16.0,
                max_value=26.0,
            ),
        ]
    points.append(
        _point(
            "town-hall/pv-inverter/power",
            "centre",
            "town-hall",
            "pv-inverter",
            Q.QUANTITY_ACTIVE_POWER,
            "kW",
            Q.POINT_KIND_INSTANTANEOUS,
        )
    )
    return points


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def slot_start(now: datetime) -> datetime:
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


OPERATOR_HOLDS = 25.5
# and 25.25 for one the device refuses outright (BACnet write-access-denied)
DEVICE_REFUSES = 25.25
HVAC_KW = [10.0 + (i % 4) for i in range(96)]
HEATER_KW = [3.0 if i % 2 == 0 else 0.0 for i in range(96)]
PLANNED = planning_pb2.Figures(energy_kwh=300.0, cost_eur=60.0, peak_kw=40.0, co2_kg=120.0)
BASELINE = planning_pb2.Figures(energy_kwh=340.0, cost_eur=75.0, peak_kw=52.0, co2_kg=136.0)


@dataclass
class Recorder:
    writes: list[control_pb2.WriteCommandRequest] = field(default_factory=list)
    relinquished: list[control_pb2.RelinquishRequest] = field(default_factory=list)
    modes: list[tuple[str, int]] = field(default_factory=list)
    flex: list[planning_pb2.FlexibilityRequest] = field(default_factory=list)
    imports: list[bytes] = field(default_factory=list)
    reports: list[savings_pb2.ReportRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Adapter(control_pb2_grpc.AdapterControlServicer):
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def ListPoints(self, request: Any, context: grpc.ServicerContext) -> Any:
        points = [
            p for p in catalogue_points() if not request.building or p.building == request.building
        ]
        return control_pb2.ListPointsResponse(points=points)

    def WriteCommand(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.rec.lock:
            self.rec.writes.append(request)
        if request.value == DEVICE_REFUSES:  # as the adapter answers a DeviceRefused
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"{request.point_id}: write refused: error property/write-access-denied",
            )
        # 25.5 stands for a value an operator's manual override keeps from taking effect.
        overridden = request.value == OPERATOR_HOLDS
        return control_pb2.WriteCommandResponse(
            status=control_pb2.WRITE_STATUS_OVERRIDDEN
            if overridden
            else control_pb2.WRITE_STATUS_APPLIED,
            message="operator override at priority 8" if overridden else "",
            requested_value=request.value,
            present_value=19.0 if overridden else request.value,
            priority=request.priority,
            audit_id="adapter-audit-1",
        )

    def Relinquish(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.rec.lock:
            self.rec.relinquished.append(request)
        return control_pb2.RelinquishResponse(present_value=20.0, audit_id="adapter-audit-2")


class Optimizer(planning_pb2_grpc.OptimizerServicer):
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.mode: dict[str, int] = {}

    def GetCurrentPlan(self, request: Any, context: grpc.ServicerContext) -> Any:
        if request.building == "unplanned":
            context.abort(grpc.StatusCode.NOT_FOUND, "no plan")
        start = slot_start(datetime.now(UTC))
        hood = "north" if request.building == "pool" else "centre"
        return planning_pb2.Plan(
            building=request.building,
            neighbourhood=hood,
            start=_ts(start),
            slot_minutes=15,
            loads=[
                planning_pb2.LoadSchedule(
                    load_id="ahu-1",
                    kind="hvac",
                    power_kw=HVAC_KW,
                    setpoint=[21.0] * 96,
                    explanation="pre-cool before the 17:00 peak price",
                ),
                planning_pb2.LoadSchedule(
                    load_id="dhw",
                    kind="water_heater",
                    power_kw=HEATER_KW,
                    explanation="heat in cheap slots",
                ),
            ],
            planned=PLANNED,
            baseline=BASELINE,
            status=planning_pb2.SOLVE_STATUS_OPTIMAL,
            mode=self.mode.get(request.building, planning_pb2.MODE_DRY_RUN),  # type: ignore[arg-type]
            created_at=_ts(start),
            grid_kw=[a + b for a, b in zip(HVAC_KW, HEATER_KW, strict=True)],
        )

    def Solve(self, request: Any, context: grpc.ServicerContext) -> Any:
        plan = self.GetCurrentPlan(
            planning_pb2.GetCurrentPlanRequest(building=request.building), context
        )
        return planning_pb2.SolveResponse(
            plans=[plan], status=planning_pb2.SOLVE_STATUS_FEASIBLE, gap=0.004, solve_time_s=1.5
        )

    def SetMode(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.rec.lock:
            self.rec.modes.append((request.building, request.mode))
            self.mode[request.building] = request.mode
        return planning_pb2.SetModeResponse(building=request.building, mode=request.mode)

    def RequestFlexibility(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.rec.lock:
            self.rec.flex.append(request)
        R = planning_pb2.FlexibilityResponse
        if request.peak_limit_kw >= 100:
            return R(
                outcome=R.OUTCOME_ACCEPTED,
                achieved_peak_kw=request.peak_limit_kw - 5,
                reduction_kw=30.0,
                message="met",
            )
        return R(
            outcome=R.OUTCOME_PARTIAL,
            achieved_peak_kw=100.0,
            reduction_kw=20.0,
            message="limited by comfort bands",
        )


MONTHS = [("2026-01", 1000.0, 900.0), ("2026-02", 800.0, 700.0), ("2026-03", 600.0, 560.0)]


def period(name: str, baseline: float, actual: float) -> savings_pb2.PeriodSavings:
    avoided = baseline - actual
    return savings_pb2.PeriodSavings(
        period=name,
        baseline_kwh=baseline,
        actual_kwh=actual,
        avoided_kwh=avoided,
        avoided_eur=avoided * 0.2,
        avoided_co2_kg=avoided * 0.4,
        fractional_savings=avoided / baseline,
        uncertainty_68_kwh=10.0,
        uncertainty_90_kwh=17.0,
    )


class Savings(savings_pb2_grpc.SavingsServicer):
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def Report(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.rec.lock:
            self.rec.reports.append(request)
        periods = [period(*m) for m in MONTHS]
        total = period("total", sum(m[1] for m in MONTHS), sum(m[2] for m in MONTHS))
        building = request.building or "town-hall"
        return savings_pb2.SavingsReport(
            buildings=[
                savings_pb2.BuildingSavings(
                    building=building,
                    neighbourhood="centre",
                    model="daily change-point",
                    statistics=savings_pb2.Statistics(
                        r_squared=0.9, cv_rmse=0.1, nmbe=0.001, n=365, parameters=3, accepted=True
                    ),
                    periods=[*periods, total],
                )
            ],
            total=[*periods, total],
            method="IPMVP Option C, ASHRAE Guideline 14",
        )

    def ImportCsv(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.rec.lock:
            self.rec.imports.append(request.csv)
        if b"bad" in request.csv:
            return savings_pb2.ImportCsvResponse(
                errors=[savings_pb2.RowError(line=2, field="value", reason="not a number")]
            )
        rows = request.csv.count(b"\n") - 1
        return savings_pb2.ImportCsvResponse(rows=rows, points_written=rows)


class PeerServers:
    """The three peers on loopback ports picked by the OS; each can be stopped on its own."""

    def __init__(self, optimizer: Optimizer | None = None) -> None:
        """``optimizer`` replaces the canned optimizer (e.g. one whose plans change)."""
        self.rec = Recorder()
        self.servers: dict[str, grpc.Server] = {}
        self.addresses: dict[str, str] = {}
        self.optimizer = optimizer or Optimizer(self.rec)
        for name, add, servicer in (
            ("adapter", control_pb2_grpc.add_AdapterControlServicer_to_server, Adapter(self.rec)),
            ("optimizer", planning_pb2_grpc.add_OptimizerServicer_to_server, self.optimizer),
            ("savings", savings_pb2_grpc.add_SavingsServicer_to_server, Savings(self.rec)),
        ):
            server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
            add(servicer, server)  # type: ignore[no-untyped-call]
            port = server.add_insecure_port("127.0.0.1:0")
            server.start()
            self.servers[name] = server
            self.addresses[name] = f"127.0.0.1:{port}"

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop(grace=None)


class MemoryStore:
    """The ReadingsStore protocol over a list of rows, with InfluxStore's semantics."""

    def __init__(self, rows: Sequence[tuple[str, datetime, float]]) -> None:
        self.rows = sorted(rows, key=lambda r: (r[0], r[1]))
        self.down = False

    def _match(
        self, tags: Mapping[str, str | Sequence[str]], start: datetime, stop: datetime
    ) -> list[tuple[str, datetime, float]]:
        if self.down:
            from polis.common.influx import InfluxError

            raise InfluxError("down")
        wanted = tags.get("point")
        ids = {wanted} if isinstance(wanted, str) else set(wanted or [])
        return [r for r in self.rows if r[0] in ids and start <= r[1] < stop]

    async def raw_csv(
        self,
        start: datetime,
        stop: datetime,
        points: Sequence[str],
        *,
        limit: int,
        after: After | None = None,
    ) -> str:
        rows = sorted((t, pid, v) for pid, t, v in self._match({"point": points}, start, stop))
        if after is not None:
            position = (parse_rfc3339(after.time), after.point)
            rows = [r for r in rows if (r[0], r[1]) > position]
        return to_flux_csv([(rfc3339(t), pid, v) for t, pid, v in rows[:limit]])

    def query_window(
        self,
        start: datetime,
        stop: datetime,
        tags: Mapping[str, str | Sequence[str]],
        every: timedelta,
        fn: Aggregate = Aggregate.MEAN,
    ) -> list[Row]:
        assert fn == Aggregate.MEAN
        buckets: dict[tuple[str, datetime], list[float]] = {}
        for pid, t, v in self._match(tags, start, stop):
            w = start + ((t - start) // every) * every
            buckets.setdefault((pid, w), []).append(v)
        return [Row(w, sum(vs) / len(vs), {"point": pid}) for (pid, w), vs in buckets.items()]

    def last(
        self,
        tags: Mapping[str, str | Sequence[str]],
        *,
        since: timedelta = timedelta(days=30),
        now: datetime | None = None,
    ) -> list[Row]:
        latest: dict[str, Row] = {}
        stop = now or datetime.now(UTC)
        for pid, t, v in self._match(tags, stop - since, stop + timedelta(microseconds=1)):
            latest[pid] = Row(t, v, {"point": pid})
        return list(latest.values())


class HookReceiver:
    """An HTTP server on loopback for webhook deliveries: each POST is handed to ``answer``,
    whose status code is the reply."""

    def __init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.answer(self.path, self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, headers: Message, body: bytes) -> int:
        raise NotImplementedError

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""Actuals: good recent readings win; otherwise the previous plan's prediction is used."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from polis.common.catalogue import parse_catalogue
from polis.control.v1 import control_pb2 as cpb
from polis.control.v1 import control_pb2_grpc as cpb_grpc
from polis.optimizer.actuals import ActualsFeed, predicted_state, state_points
from polis.optimizer.config import build_building, optimizer_view
from polis.optimizer.domain import Horizon
from polis.optimizer.solve import SolverParams, solve_building
from polis.points.v1 import points_pb2

T0 = datetime(2026, 1, 14, 0, 0, tzinfo=UTC)
CATALOGUE = parse_catalogue(
    {
        "municipality": "m",
        "tariffs": [{"id": "flat", "default_price_eur_per_kwh": 0.2}],
        "buildings": [
            {
                "id": "b",
                "neighbourhood": "n",
                "tariff": "flat",
                "devices": [
                    {
                        "protocol": "bacnet",
                        "id": "bms",
                        "device_instance": 1,
                        "address": "127.0.0.1:47808",
                        "points": [
                            {
                                "id": "zone-temperature",
                                "object": "analog-input,1",
                                "quantity": "temperature",
                                "unit": "degC",
                            },
                            {
                                "id": "dhw-tank-temperature",
                                "object": "analog-input,2",
                                "quantity": "temperature",
                                "unit": "degC",
                            },
                            {
                                "id": "soc",
                                "object": "analog-input,3",
                                "quantity": "state_of_charge",
                                "unit": "%",
                            },
                        ],
                    }
                ],
                "loads": [
                    {
                        "kind": "hvac",
                        "id": "zone",
                        "r_k_per_kw": 1.0,
                        "c_kwh_per_k": 10.0,
                        "max_kw": 5.0,
                        "unoccupied_lo_c": 18.0,
                        "initial_temp_c": 19.0,
                        "temperature_point": "bms/zone-temperature",
                    },
                    {
                        "kind": "water_heater",
                        "id": "dhw",
                        "min_kwh": 1.0,
                        "max_kwh": 10.0,
                        "initial_kwh": 5.0,
                        "heater_kw": 2.0,
                        "daily_draw_kwh": [1.0] * 24,
                        "loss_kw": 0.1,
                        "volume_l": 200.0,
                        "temperature_point": "bms/dhw-tank-temperature",
                    },
                    {
                        "kind": "battery",
                        "id": "battery",
                        "capacity_kwh": 20.0,
                        "initial_kwh": 10.0,
                        "max_charge_kw": 5.0,
                        "max_discharge_kw": 5.0,
                        "soc_point": "bms/soc",
                    },
                ],
            }
        ],
    },
    "actuals",
)
CONFIG = optimizer_view(CATALOGUE)


def _plan() -> tuple[object, object]:
    horizon = Horizon(start=T0, slots=8)
    instance = build_building(CONFIG, "b", horizon, (5.0,) * 8, (2.0,) * 8, (0.0,) * 8)
    plan = solve_building(instance, SolverParams(time_limit_s=5, num_workers=1)).plans[0]
    return instance, plan


@pytest.mark.unit
def test_prediction_integrates_the_plan() -> None:
    instance, plan = _plan()
    state = predicted_state(instance, plan, T0 + timedelta(minutes=30))  # type: ignore[arg-type]
    tank = plan.load("dhw")  # type: ignore[attr-defined]
    expected = 5.0 + sum(tank.power_kw[t] * 0.25 - 0.25 - 0.1 * 0.25 for t in range(2))
    assert state["dhw"] == pytest.approx(expected)
    assert state["zone"] == plan.load("zone").setpoint_c[1]  # type: ignore[attr-defined]
    assert predicted_state(instance, plan, T0) == {}  # type: ignore[arg-type]


class Adapter(cpb_grpc.AdapterControlServicer):
    def __init__(self, readings: list[points_pb2.Reading]) -> None:
        self.readings = readings

    async def ReadPoints(self, request, context):  # type: ignore[no-untyped-def]
        return cpb.ReadPointsResponse(
            readings=[r for r in self.readings if r.point_id in request.point_ids]
        )


def _reading(point: str, value: float, at: datetime, good: bool = True) -> points_pb2.Reading:
    ts = Timestamp()
    ts.FromDatetime(at)
    quality = points_pb2.QUALITY_GOOD if good else points_pb2.QUALITY_MISSING
    return points_pb2.Reading(point_id=point, time=ts, value=value, quality=quality)


@pytest.fixture
async def target() -> AsyncIterator[str]:
    now = T0 + timedelta(minutes=30)
    fake = Adapter(
        [
            _reading("m/b/bms/zone-temperature", 20.5, now - timedelta(minutes=2)),
            _reading("m/b/bms/dhw-tank-temperature", 55.0, now - timedelta(hours=2)),  # old
            _reading("m/b/bms/soc", 40.0, now, good=False),
        ]
    )
    server = grpc.aio.server()
    cpb_grpc.add_AdapterControlServicer_to_server(fake, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


@pytest.mark.integration
async def test_measured_where_good_and_recent_predicted_elsewhere(target: str) -> None:
    instance, plan = _plan()
    feed = ActualsFeed(state_points(CONFIG), target)
    now = T0 + timedelta(minutes=30)
    await feed.refresh(now, {"b": plan}, {"b": instance})  # type: ignore[dict-item]
    predicted = predicted_state(instance, plan, now)  # type: ignore[arg-type]
    assert feed("b") == {"zone": 20.5, "dhw": predicted["dhw"], "battery": predicted["battery"]}
    assert (feed.measured, feed.predicted) == (1, 2)
    await feed.close()


@pytest.mark.integration
async def test_adapter_down_falls_back_to_the_prediction() -> None:
    instance, plan = _plan()
    feed = ActualsFeed(state_points(CONFIG), "127.0.0.1:1", deadline_s=0.5)
    now = T0 + timedelta(minutes=30)
    await feed.refresh(now, {"b": plan}, {"b": instance})  # type: ignore[dict-item]
    assert feed("b") == predicted_state(instance, plan, now)  # type: ignore[arg-type]
    assert feed.measured == 0
    await feed.refresh(now)  # no plan yet either: the configuration's initial state applies
    assert feed("b") == {}
    await feed.close()


@pytest.mark.unit
def test_tank_temperature_converts_to_stored_heat() -> None:
    points = {p.load_id: p for p in state_points(CONFIG)}
    assert points["dhw"].convert(60.0) == pytest.approx(200 * 4186 * 46 / 3.6e6)
    assert points["battery"].convert(50.0) == pytest.approx(10.0)

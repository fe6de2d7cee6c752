"""The alarm job's baseline expectations, from the real savings service over gRPC: the last
complete local day of each building, fetched once per day, and the unoccupied hours
energy.after_hours judges, fetched once per span, as the engine's ``BaselineExpectation``; a
building without an accepted baseline gets none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from polis.alarms.facts import ExpectationKind
from polis.gateway.application.alarm_facts import Baselines, last_local_day
from polis.gateway.peers.clients import Peers
from polis.mv.v1 import savings_pb2_grpc
from polis.savings.application import SavingsApp
from polis.savings.grpc_servicer import SERVICE_NAME, SavingsServicer
from polis.savings.measurement import MeasurementOptions, Window
from polis.savings.sites import Site, SiteDirectory
from polis.savings.store import MemoryMeterStore
from polis.savings.synthetic import SyntheticBuilding, synthetic_building

from .server import grpc_in_thread

pytestmark = pytest.mark.integration

START = datetime(2024, 12, 31, 22, tzinfo=UTC)
SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
END = datetime(2026, 2, 28, 22, tzinfo=UTC)
SITES = SiteDirectory({"town-hall": Site("town-hall", "centre", "larissa")})


def loaded_app() -> SavingsApp:
    hours = int((END - START).total_seconds() // 3600)
    data = synthetic_building(START, hours, 7, SyntheticBuilding(base_kw=20))
    lines = ["meter_id,timestamp,value,unit"]
    for i, (e, c) in enumerate(
        zip(data.series.energy_kwh.tolist(), data.series.temperature_c.tolist(), strict=True)
    ):
        t = (START + timedelta(hours=i)).isoformat()
        lines.append(f"town-hall/main/energy,{t},{e:.3f},kWh")
        lines.append(f"town-hall/weather/outdoor_temperature,{t},{c:.2f},degC")
    app = SavingsApp(MemoryMeterStore(), SITES, MeasurementOptions())
    assert not app.import_csv("\n".join(lines) + "\n").errors
    return app


@pytest.fixture(scope="module")
def savings() -> Iterator[tuple[str, SavingsApp]]:
    app = loaded_app()

    def register(server: grpc.aio.Server) -> None:
        savings_pb2_grpc.add_SavingsServicer_to_server(SavingsServicer(app), server)  # type: ignore[no-untyped-call]

    with grpc_in_thread(register, [SERVICE_NAME]) as address:
        yield address, app


def test_a_local_day_is_its_own_length_across_a_clock_change() -> None:
    # 2026-03-29: Europe/Athens moves from +02:00 to +03:00, a 23-hour day.
    start, end = last_local_day(datetime(2026, 3, 30, 5, tzinfo=UTC), "Europe/Athens")
    assert (start, end) == (
        datetime(2026, 3, 28, 22, tzinfo=UTC),
        datetime(2026, 3, 29, 21, tzinfo=UTC),
    )
    # 21:30 UTC is 23:30 in Athens: the last complete local day is the one before.
    start, end = last_local_day(datetime(2026, 2, 10, 21, 30, tzinfo=UTC), "Europe/Athens")
    assert (start, end) == (
        datetime(2026, 2, 8, 22, tzinfo=UTC),
        datetime(2026, 2, 9, 22, tzinfo=UTC),
    )


async def test_expectations_per_building_once_per_day(savings: tuple[str, SavingsApp]) -> None:
    address, app = savings
    peers = Peers("127.0.0.1:9", "127.0.0.1:9", address, 5.0, 60.0)
    try:
        baselines = Baselines(peers, ["town-hall", "library"], (START, SWITCH), "Europe/Athens")
        now = datetime(2026, 2, 11, 7, tzinfo=UTC)
        assert await baselines.refresh(now) == 1  # the library has no data: no expectation
        (e,) = baselines.current()
        assert await baselines.refresh(now + timedelta(hours=6)) == 0  # the same day: asked
        later = await baselines.refresh(now + timedelta(days=1))
        (next_day,) = baselines.current()
    finally:
        await peers.close()
    day = Window(datetime(2026, 2, 9, 22, tzinfo=UTC), datetime(2026, 2, 10, 22, tzinfo=UTC))
    direct = app.expectation("town-hall", Window(START, SWITCH), day)
    assert (e.building, e.start, e.end) == ("town-hall", day.start, day.end)
    assert e.expected_kwh == pytest.approx(direct.expected_kwh)
    assert e.uncertainty_kwh == pytest.approx(direct.uncertainty_kwh)
    assert e.unoccupied_kw == pytest.approx(direct.unoccupied_kw)
    assert e.model.startswith("hourly TOWT")
    assert later == 1
    assert next_day.start == day.end


async def test_the_after_hours_span_is_asked_once_for_exactly_its_hours(
    savings: tuple[str, SavingsApp],
) -> None:
    address, app = savings
    peers = Peers("127.0.0.1:9", "127.0.0.1:9", address, 5.0, 60.0)
    night = (datetime(2026, 2, 10, 23, tzinfo=UTC), datetime(2026, 2, 11, 1, tzinfo=UTC))
    asked: list[datetime] = []

    def spans(now: datetime) -> dict[str, tuple[datetime, datetime]]:
        asked.append(now)
        return {"town-hall": night} if now < night[1] + timedelta(hours=1) else {}

    try:
        baselines = Baselines(peers, ["town-hall"], (START, SWITCH), "Europe/Athens", spans)
        assert await baselines.refresh(night[1] + timedelta(minutes=10)) == 2  # night and day
        found = {e.kind: e for e in baselines.current()}
        assert await baselines.refresh(night[1] + timedelta(minutes=20)) == 0  # asked already
        # by day no span: the night's expectation is kept for the rule's standing verdict
        assert await baselines.refresh(night[1] + timedelta(hours=8)) == 0
        assert {e.kind for e in baselines.current()} == set(ExpectationKind)
    finally:
        await peers.close()
    direct = app.expectation("town-hall", Window(START, SWITCH), Window(*night))
    e = found[ExpectationKind.AFTER_HOURS]
    assert (e.building, e.start, e.end) == ("town-hall", *night)
    assert e.expected_kwh == pytest.approx(direct.expected_kwh)
    assert e.uncertainty_kwh == pytest.approx(direct.uncertainty_kwh)
    assert 0 < e.uncertainty_kwh < e.expected_kwh
    assert found[ExpectationKind.PERIOD].end - found[ExpectationKind.PERIOD].start == timedelta(
        days=1
    )
    assert len(asked) == 3


async def test_no_expectation_without_the_savings_service_or_a_baseline_period() -> None:
    peers = Peers("127.0.0.1:9", "127.0.0.1:9", "127.0.0.1:9", 0.5, 0.5)
    try:
        baselines = Baselines(peers, ["town-hall"], (START, SWITCH), "Europe/Athens")
        assert await baselines.refresh(datetime(2026, 2, 11, 7, tzinfo=UTC)) == 0
        assert baselines.current() == ()
        assert (
            await Baselines(peers, ["town-hall"], None, "Europe/Athens").refresh(
                datetime(2026, 2, 11, 7, tzinfo=UTC)
            )
            == 0
        )  # no baseline period configured: nothing asked
    finally:
        await peers.close()

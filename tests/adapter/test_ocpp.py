"""OCPP chargers end to end on loopback, OCPP 1.6J and 2.0.1 side by side.

The simulator's depot serves two charge points (``depot-cp1`` speaks 1.6J, ``depot-cp2``
2.0.1) that connect to the adapter's central system; the adapter stores their readings in a
real InfluxDB. A charging limit written through the adapter becomes a charging profile the
simulated charge point obeys (the physics' charging power stays under it), and is cleared when
it expires, and when the adapter stops.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapter.ocpp_fixture import Depot, running_depot, wait_for
from polis.adapter.control import WriteRequest, WriteStatus
from polis.adapter.model import Quality
from polis.common.influx import InfluxStore
from polis.simulator.ocpp_chargers import OcppLink

pytestmark = [pytest.mark.integration, pytest.mark.influx, pytest.mark.slow]

# Wednesday 14 January 2026, 09:00 in Larissa: the depot's cars are plugged in and charging
START = datetime(2026, 1, 14, 7, 0, tzinfo=UTC)
SPEED = 60.0  # a virtual minute per wall second
PREFIX = "larissa/depot"
CHARGERS = {"depot-cp1": [0, 1, 2], "depot-cp2": [3, 4, 5]}  # 1.6J, 2.0.1
LIMIT_KW = {"depot-cp1": 12.0, "depot-cp2": 7.5}
HOLD_S = 600.0  # virtual seconds the limits are written for


def charging_kw(depot: Depot, charge_point: str) -> float:
    """What the physics charged at in the last step, the charge point's chargers together."""
    plant = depot.site.simulation.readings["depot"].plant
    assert plant is not None
    return float(sum(plant.chargers[c].power_kw for c in CHARGERS[charge_point]))


def wanting_kw(depot: Depot, charge_point: str) -> float:
    """What its cars would take without a limit."""
    plant = depot.site.simulation.readings["depot"].plant
    assert plant is not None
    return sum(22.0 for c in CHARGERS[charge_point] if plant.chargers[c].remaining_kwh > 0.05)


def station_limit_w(depot: Depot, charge_point: str) -> float | None:
    points = {p.identity: p for p in depot.site.charge_points["depot"]}
    limit: float | None = points[charge_point].limit_at(depot.clock.now()).station_w
    return limit


def _relinquished(adapter: Any) -> list[Any]:
    return [e for e in adapter.audit.entries() if e["action"] == "relinquish"]


def _booted_and_reported(central: Any, cp: str) -> bool:
    """A charger sends its connectors' StatusNotifications after its BootNotification is
    accepted: booted alone does not mean every connector has reported yet."""
    state_of = central.state(cp)
    return bool(state_of.booted) and all(c.status is not None for c in state_of.connectors.values())


async def test_boot_readings_limit_and_clearing_for_both_versions(
    influx_store: InfluxStore, tmp_path: Path
) -> None:
    state = tmp_path / "adapter"

    def link(port: int) -> OcppLink:
        return OcppLink(f"ws://127.0.0.1:{port}", meter_interval_s=0.2)

    async with running_depot(
        START, SPEED, influx_store, state, link, ocpp_security_profile=0
    ) as depot:
        adapter, central = depot.adapter, depot.adapter.ocpp
        assert central is not None

        # boot: both charge points connect, boot and report every connector
        await wait_for(
            lambda: all(_booted_and_reported(central, cp) for cp in CHARGERS),
            20,
            "both chargers booted and reported",
        )
        for cp in CHARGERS:
            state_of = central.state(cp)
            assert state_of.model == "Polis depot AC"
            assert state_of.connectors, f"{cp} reported no connector"

        def energy_read(cp: str) -> bool:
            reading = adapter.latest.get(f"{PREFIX}/{cp}/connector-1-energy")
            return reading is not None and reading.quality is Quality.GOOD

        await wait_for(lambda: all(energy_read(cp) for cp in CHARGERS), 20, "meter values")
        await wait_for(
            lambda: all(wanting_kw(depot, cp) > LIMIT_KW[cp] for cp in CHARGERS),
            10,
            "cars wanting more than the limits",
        )

        # a charging limit: the profile is accepted, read back, and the physics obeys it
        for cp, kw in LIMIT_KW.items():
            outcome = await adapter.commands.write(
                WriteRequest(
                    f"{PREFIX}/{cp}/charging-limit",
                    kw,
                    duration_s=HOLD_S,
                    requested_by="test",
                    reason="depot smart charging",
                )
            )
            assert outcome.status is WriteStatus.APPLIED, outcome.message
            assert outcome.present_value == pytest.approx(kw)
            assert station_limit_w(depot, cp) == pytest.approx(kw * 1000)
        limited_from = depot.clock.now()
        await wait_for(
            lambda: depot.site.simulation.time > limited_from + timedelta(minutes=3),
            10,
            "three limited minutes",
        )
        for cp, kw in LIMIT_KW.items():
            assert charging_kw(depot, cp) == pytest.approx(kw, abs=0.01), cp
            reported = sum(
                reading.value
                for n in (1, 2, 3)
                if (reading := adapter.latest.get(f"{PREFIX}/{cp}/connector-{n}-power"))
            )
            assert reported <= kw + 0.01, f"{cp} reports {reported} kW under a {kw} kW limit"

        # expiry: the adapter clears the profiles, the chargers charge at their own limit
        await wait_for(
            lambda: all(station_limit_w(depot, cp) is None for cp in CHARGERS),
            HOLD_S / SPEED + 10,
            "the limits cleared at expiry",
        )
        # the charger drops its profile when the clear arrives; the adapter audits it once the
        # charger has acknowledged, a moment later
        limit_points = {f"{PREFIX}/{cp}/charging-limit" for cp in CHARGERS}

        await wait_for(
            lambda: {e["point_id"] for e in _relinquished(adapter)} == limit_points,
            10,
            "expiry audited",
        )
        assert {e["reason"] for e in _relinquished(adapter)} == {"expired"}
        assert all(not p.store.profiles for p in depot.site.charge_points["depot"])
        cleared_at = depot.clock.now()
        await wait_for(
            lambda: depot.site.simulation.time > cleared_at + timedelta(minutes=2),
            10,
            "two free minutes",
        )
        for cp, kw in LIMIT_KW.items():
            if wanting_kw(depot, cp) > kw:
                assert charging_kw(depot, cp) > kw + 1.0, cp

        # a limit in force when the adapter stops is cleared too
        await adapter.commands.write(WriteRequest(f"{PREFIX}/depot-cp1/charging-limit", 5.0))
        assert station_limit_w(depot, "depot-cp1") == 5000.0
    assert all(not p.store.profiles for p in depot.site.charge_points["depot"])
    shutdown = [e for e in adapter.audit.entries() if e.get("reason") == "shutdown"]
    assert [e["point_id"] for e in shutdown] == [f"{PREFIX}/depot-cp1/charging-limit"]

    # the readings are ordinary points in InfluxDB, per connector
    window = (START - timedelta(hours=1), START + timedelta(hours=3))
    for cp in CHARGERS:
        for n in (1, 2, 3):
            for point in ("energy", "power", "status", "session-energy"):
                tags = {"point": f"{PREFIX}/{cp}/connector-{n}-{point}", "quality": "good"}
                assert influx_store.count(*window, tags) > 0, (cp, n, point)
        limits = influx_store.query_range(*window, {"point": f"{PREFIX}/{cp}/charging-limit"})
        values = {round(row.value, 2) for row in limits}
        assert LIMIT_KW[cp] in values, values
        assert 66.0 in values, values  # the chargers' own limit, before and after
    energy = influx_store.query_range(
        *window, {"point": f"{PREFIX}/depot-cp2/connector-1-energy", "quality": "good"}
    )
    assert energy[-1].value >= energy[0].value  # a cumulative register in kWh

    # sessions: started with a pseudonym, never the card's id tag
    sessions = adapter.ocpp.sessions.entries() if adapter.ocpp else []
    begun = [s for s in sessions if s["action"] == "session_started"]
    assert {s["charger"] for s in begun} == set(CHARGERS)
    for session in begun:
        assert len(session["id_tag"]) == 16
    assert "CARD" not in (state / "ocpp-sessions.jsonl").read_text()

"""The adapter's OCPP translations, pseudonyms and credentials (pure)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from polis.adapter.ocpp.security import SecurityError, authorised, load_passwords
from polis.adapter.ocpp.state import (
    ChargerRecorder,
    ChargerState,
    LimitRequest,
    Sample,
    pseudonym,
)
from polis.adapter.ocpp.wire import first_period_kw

pytestmark = pytest.mark.unit

AT = datetime(2026, 1, 14, 7, 0, tzinfo=UTC)


class Sessions:
    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def record(self, action: str, **fields: Any) -> str:
        self.records.append((action, fields))
        return str(len(self.records))


def test_meter_values_become_kwh_and_kw_totals() -> None:
    state = ChargerState.with_connectors("cp", 2)
    recorder = ChargerRecorder(state, Sessions(), b"key")
    recorder.samples(
        1,
        [
            Sample("Energy.Active.Import.Register", 12_345.0, "Wh"),
            Sample("Power.Active.Import", 7_200.0, "W"),
            Sample("Power.Active.Import", 2_400.0, "W", phase="L1"),  # a phase: not the total
            Sample("Power.Active.Import", 3.0, "kW", location="EV"),  # at the car: not stored
            Sample("Current.Import", 16.0, "A"),
        ],
    )
    recorder.samples(2, [Sample("Energy.Active.Import.Register", 3.5, "kWh")])
    recorder.samples(9, [Sample("Power.Active.Import", 1.0, "kW")])  # no such connector
    recorder.status(1, "SuspendedEVSE")
    recorder.status(0, "Faulted")  # the charger itself
    assert state.values()["connector-1-energy"] is None  # not connected: all missing
    state.connected = True
    values = state.values()
    assert values["connector-1-energy"] == pytest.approx(12.345)
    assert values["connector-1-power"] == pytest.approx(7.2)
    assert values["connector-1-status"] == 3.0
    assert values["connector-2-energy"] == 3.5
    assert values["connector-2-power"] is None
    assert values["connector-2-status"] is None
    assert values["connector-1-session-energy"] == 0.0  # no session under way


def test_a_session_keeps_a_pseudonym_and_its_energy() -> None:
    sessions = Sessions()
    state = ChargerState.with_connectors("cp", 1)
    recorder = ChargerRecorder(state, sessions, b"site key")
    recorder.session_started(1, "42", "card-0042", 100.0, AT)
    recorder.samples(1, [Sample("Energy.Active.Import.Register", 112.5, "kWh")])
    state.connected = True
    assert state.values()["connector-1-session-energy"] == pytest.approx(12.5)
    recorder.session_ended("42", 118.0, AT, "EVDisconnected")
    started, ended = sessions.records
    assert started[0] == "session_started"
    assert started[1]["id_tag"] == pseudonym(b"site key", "CARD-0042")  # case-insensitive
    assert "card-0042" not in str(sessions.records).lower()
    assert ended[0] == "session_ended"
    assert ended[1]["energy_kwh"] == pytest.approx(18.0)
    assert pseudonym(b"other key", "card-0042") != started[1]["id_tag"]


def test_a_limit_in_w_for_the_charger_or_per_connector() -> None:
    until = datetime(2026, 1, 14, 7, 15, tzinfo=UTC)
    total = LimitRequest(33.0, AT, until, per_connector=False, connectors=3)
    shared = LimitRequest(33.0, AT, until, per_connector=True, connectors=3)
    assert (total.limit_w, shared.limit_w, total.duration_s) == (33_000.0, 11_000.0, 900)
    schedule = {
        "charging_rate_unit": "A",
        "charging_schedule_period": [
            {"start_period": 60, "limit": 10},
            {"start_period": 0, "limit": 16, "number_phases": 1},
        ],
    }
    assert first_period_kw(schedule) == pytest.approx(16 * 230 / 1000)
    assert first_period_kw({"charging_schedule_period": []}) is None


def test_basic_auth_needs_the_identity_and_its_password(tmp_path: Path) -> None:
    passwords = {"depot-cp1": "s3cret:with-colon"}

    def header(user: str, password: str) -> str:
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    assert authorised(header("depot-cp1", "s3cret:with-colon"), "depot-cp1", passwords)
    assert not authorised(header("depot-cp1", "wrong"), "depot-cp1", passwords)
    assert not authorised(header("depot-cp2", "s3cret:with-colon"), "depot-cp1", passwords)
    assert not authorised(None, "depot-cp1", passwords)
    assert not authorised("Bearer abc", "depot-cp1", passwords)
    assert not authorised("Basic !!!", "depot-cp1", passwords)
    path = tmp_path / "passwords"
    path.write_text("# chargers\n\ndepot-cp1:s3cret:with-colon\n")
    assert load_passwords(path) == passwords
    path.write_text("depot-cp1\n")
    with pytest.raises(SecurityError, match="passwords:1: expected identity:password"):
        load_passwords(path)

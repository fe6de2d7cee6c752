"""The refusals control.command_refused is handed, from the gateway's audit log: a write the
device refused outright counts as one as a write an operator's priority overrides does; a
write that failed because the adapter was down does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from polis.gateway.application.audit import record
from polis.gateway.db.alarm_facts import refused_commands
from polis.gateway.db.engine import session_factory
from polis.gateway.domain.control import REFUSED_BY_DEVICE
from polis.gateway.security.roles import Principal, Role

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 14, 10, tzinfo=UTC)
MARIA = Principal("key:maria", Role.FACILITY_MANAGER, frozenset({"school"}))
POINT = "larissa/school/school-bms/zone-admin-heating-setpoint"


def test_refused_overridden_and_failed_writes(engine: Engine) -> None:
    entries: list[tuple[str, dict[str, object]]] = [
        (REFUSED_BY_DEVICE, {"point_id": POINT, "error": "write refused: write-access-denied"}),
        ("overridden", {"point_id": POINT}),
        ("failed: adapter", {"point_id": POINT}),  # the adapter was down: not a refusal
        ("applied", {"point_id": POINT}),
    ]
    with session_factory(engine)() as session:
        for k, (outcome, detail) in enumerate(entries):
            at = NOW - timedelta(minutes=10 * k)
            record(
                session, MARIA, "override.create", outcome, at=at, building="school", detail=detail
            )
        session.commit()
        found = refused_commands(session, NOW - timedelta(hours=1))
    assert sorted((r.reason, r.at) for r in found) == [
        ("overridden", NOW - timedelta(minutes=10)),
        ("write refused: write-access-denied", NOW),
    ]
    assert {(r.building, r.point_id) for r in found} == {("school", POINT)}

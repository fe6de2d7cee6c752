"""Fencing of the leader's alarm rounds, on SQLite and on a throwaway PostgreSQL: a round is
written only while its replica holds the leader lease in the term the round started in; the
check locks the lease row, so a takeover waits for the round to commit; and a raise judged
before the key's last clear never opens the key again.

In CI (CI=true) a missing PostgreSQL fails the suite; on a developer machine it skips.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from polis.alarms.model import AlarmKey, Transition, TransitionKind
from polis.common.clock import Clock
from polis.gateway.application.alarm_job import Leader, Term, fence, held_term, write_round
from polis.gateway.application.alarms import apply_round
from polis.gateway.application.context import Services
from polis.gateway.application.database import Database
from polis.gateway.application.events import Events
from polis.gateway.coordination.lease import Lease
from polis.gateway.db.engine import make_engine, migrate, session_factory

from .alarm_helpers import assessment

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=pytest.mark.integration),
    ]
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gw.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def services(engine: Engine) -> Services:
    clock = Clock.realtime()
    return Services(
        db=Database(session_factory(engine)),
        clock=clock,
        events=Events(clock),
        control=cast(Any, None),
        planning=cast(Any, None),
        savings=cast(Any, None),
    )


def names() -> tuple[str, AlarmKey]:
    """A lease and an alarm key of this test alone (PostgreSQL is shared by the module)."""
    tag = uuid.uuid4().hex[:8]
    return f"gateway-{tag}", AlarmKey("control.command_refused", f"hall-{tag}", "ahu/setpoint")


def raised(key: AlarmKey, at: datetime) -> Transition:
    return Transition(TransitionKind.RAISED, assessment(key, at))


def cleared(key: AlarmKey, at: datetime) -> Transition:
    return Transition(TransitionKind.CLEARED, assessment(key, at))


def held(services: Services, leader: Leader) -> Term:
    term = services.db.run_sync(lambda s: held_term(s, leader))
    assert term is not None
    return term


def write(
    services: Services, transitions: list[Transition], term: Term | None
) -> tuple[bool, list[str]]:
    written, changes = services.db.run_sync(lambda s: write_round(s, services, transitions, term))
    return written, [c.kind.value for c in changes]


def alarms_of(engine: Engine, key: AlarmKey) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("select id, state from alarms where building = :b order by id"),
            {"b": key.building},
        )
        return [(int(i), str(state)) for i, state in rows]


def test_a_stalled_leader_cannot_reopen_what_its_successor_cleared(
    engine: Engine, services: Services
) -> None:
    lease_name, key = names()
    a = Lease(engine, lease_name, "replica-a", ttl_s=30)
    b = Lease(engine, lease_name, "replica-b", ttl_s=30)
    assert a.acquire() is not None
    old = held(services, Leader(lease_name, "replica-a"))
    # a's round judged a raise at T0 (the key was closed when it read the open keys) and
    # stalled; its lease lapsed, b took over, raised and cleared the key
    a.release()
    assert b.acquire() is not None
    new = held(services, Leader(lease_name, "replica-b"))
    assert new.term == old.term + 1
    assert write(services, [raised(key, T0)], new) == (True, ["raised"])
    assert write(services, [cleared(key, T0 + 5 * MINUTE)], new) == (True, ["cleared"])
    # a wakes and writes its round: refused, under b's lease ...
    assert write(services, [raised(key, T0)], old) == (False, [])
    # ... and under its own lease taken back, since that is a later term
    b.release()
    assert a.acquire() is not None
    assert held(services, Leader(lease_name, "replica-a")).term == old.term + 2
    assert write(services, [raised(key, T0)], old) == (False, [])
    assert alarms_of(engine, key) == [(alarms_of(engine, key)[0][0], "cleared")]


def test_a_raise_judged_before_the_last_clear_is_ignored(
    engine: Engine, services: Services
) -> None:
    _, key = names()
    assert write(services, [raised(key, T0)], None) == (True, ["raised"])
    assert write(services, [cleared(key, T0 + 5 * MINUTE)], None) == (True, ["cleared"])
    for late in (T0 + MINUTE, T0 + 5 * MINUTE):  # judged before, or at, the clear
        assert write(services, [raised(key, late)], None) == (True, [])
    assert len(alarms_of(engine, key)) == 1
    # judged after it: the key raises again, as a new alarm
    assert write(services, [raised(key, T0 + 6 * MINUTE)], None) == (True, ["raised"])
    assert [state for _, state in alarms_of(engine, key)] == ["cleared", "active"]


@pytest.mark.timeout(60)
def test_a_takeover_waits_for_the_fenced_round_to_commit(
    engine: Engine, services: Services
) -> None:
    lease_name, key = names()
    a = Lease(engine, lease_name, "replica-a", ttl_s=0.5)
    b = Lease(engine, lease_name, "replica-b", ttl_s=30)
    assert a.acquire() is not None
    term = held(services, Leader(lease_name, "replica-a"))
    fenced = threading.Event()
    order: list[str] = []
    outcome: dict[str, Any] = {}

    def round_of_a() -> None:
        """The check, a stall (its lease lapses meanwhile), then the writes."""
        with services.db.sessions() as session:
            outcome["fenced"] = fence(session, term)
            fenced.set()  # the lease row is locked until the commit
            time.sleep(1.0)
            apply_round(session, services, [raised(key, T0)])
            order.append("a committed")
            session.commit()

    def takeover_by_b() -> None:
        outcome["b"] = b.acquire()
        order.append("b took over")

    writer = threading.Thread(target=round_of_a)
    writer.start()
    assert fenced.wait(20)
    time.sleep(0.6)  # a's lease has expired: only the lock on its row holds b back
    taker = threading.Thread(target=takeover_by_b)
    taker.start()
    writer.join(30)
    taker.join(30)
    assert outcome["fenced"] is True
    assert order == ["a committed", "b took over"]
    assert outcome["b"] is not None
    assert [state for _, state in alarms_of(engine, key)] == ["active"]
    # a's next round is refused: b holds the lease now
    assert write(services, [cleared(key, T0 + MINUTE)], term) == (False, [])

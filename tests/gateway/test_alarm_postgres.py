"""The alarm lifecycle's SQL on a throwaway PostgreSQL: two writers applying the same raise at
once open one alarm, and the database refuses a second open alarm per key.

In CI (CI=true) a missing PostgreSQL fails the suite; on a developer machine it skips.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from polis.alarms.model import AlarmKey, Transition, TransitionKind
from polis.gateway.db import alarms as store
from polis.gateway.db.engine import make_engine, migrate, session_factory
from polis.gateway.domain.alarms import ChangeKind

from .alarm_helpers import assessment

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
KEY = AlarmKey("comfort.too_cold", "town-hall", "zone-1")


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    migrate(engine)
    yield engine
    engine.dispose()


def test_two_writers_raising_one_key_at_once_open_one_alarm(engine: Engine) -> None:
    sessions = session_factory(engine)
    both_locked = threading.Barrier(2)
    results: list[list[tuple[ChangeKind, int]]] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with sessions() as session:
                # Each has read the open alarms (none) before either inserts: the race the
                # partial unique index settles.
                store.open_keys(session)
                both_locked.wait(timeout=10)
                changes = store.apply_transitions(
                    session, [Transition(TransitionKind.RAISED, assessment(KEY, T0))]
                )
                session.commit()
                results.append([(c.kind, c.alarm.id) for c in changes])
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    with engine.connect() as connection:
        rows = connection.execute(sa.text("select id, state from alarms")).all()
        events = connection.execute(sa.text("select kind from alarm_events")).scalars().all()
    assert len(rows) == 1
    assert sorted(len(r) for r in results) == [0, 1]  # one announced it, the other nothing
    assert list(events) == ["raised"]


def test_the_database_refuses_a_second_open_alarm_per_key(engine: Engine) -> None:
    insert = sa.text(
        "insert into alarms (rule, building, subject, points, severity, severity_rank, message,"
        " first_seen, last_seen, state, evidence) values ('comfort.too_cold', 'town-hall',"
        " 'zone-1', '[]', 'info', 0, '', now(), now(), :state, '{}')"
    )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"state": "acknowledged"})
    with engine.begin() as connection:  # a closed one is history: any number of those
        connection.execute(insert, {"state": "cleared"})
        connection.execute(insert, {"state": "cleared"})

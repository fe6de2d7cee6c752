"""The alarm lifecycle in the gateway's SQL (SQLite file): transitions applied idempotently,
one open alarm per key, history, acknowledgement and e-mail items composed into digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from polis.alarms.model import (
    AlarmKey,
    Assessment,
    Evidence,
    EvidenceSeries,
    Severity,
    Status,
    Transition,
    TransitionKind,
)
from polis.gateway.application import alarm_mail
from polis.gateway.db import alarms as store
from polis.gateway.db.alarm_models import Alarm, AlarmEvent, AlarmMail, AlarmMailItem
from polis.gateway.db.engine import session_factory
from polis.gateway.domain.alarm_mail import MailMode
from polis.gateway.domain.alarms import AlarmFilter, AlarmState, ChangeKind, StateFilter
from polis.gateway.security.roles import Principal, Role

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
COLD = AlarmKey("comfort.too_cold", "town-hall", "zone-1")
STALE = AlarmKey("communication.stale", "pool", "main-meter")


def assessment(
    key: AlarmKey, at: datetime, severity: Severity = Severity.MAJOR, value: float = 17.2
) -> Assessment:
    series = EvidenceSeries(
        "zone temperature", "larissa/town-hall/zone-1/temp", "degC", (at,), (value,)
    )
    return Assessment(
        key,
        Status.RAISE,
        at,
        severity,
        f"{key.subject} at {value} °C",
        ("larissa/town-hall/zone-1/temp",),
        Evidence((series,), {"band_low_c": 20.0}),
    )


def transition(kind: TransitionKind, key: AlarmKey, at: datetime, **kw: object) -> Transition:
    return Transition(kind, assessment(key, at, **kw))  # type: ignore[arg-type]


def apply(engine: Engine, *transitions: Transition) -> list[tuple[ChangeKind, int]]:
    with session_factory(engine)() as session:
        changes = store.apply_transitions(session, list(transitions))
        session.commit()
    return [(c.kind, c.alarm.id) for c in changes]


def rows(engine: Engine) -> list[Alarm]:
    with Session(engine) as session:
        return list(session.scalars(select(Alarm).order_by(Alarm.id)))


def test_a_raise_applied_twice_opens_one_alarm_and_announces_it_once(engine: Engine) -> None:
    first = apply(engine, transition(TransitionKind.RAISED, COLD, T0))
    again = apply(engine, transition(TransitionKind.RAISED, COLD, T0))
    assert first == [(ChangeKind.RAISED, 1)]
    assert again == []
    (alarm,) = rows(engine)
    assert (alarm.state, alarm.severity, alarm.first_seen, alarm.last_seen) == (
        "active",
        "major",
        T0,
        T0,
    )
    assert alarm.evidence["figures"] == {"band_low_c": 20.0}
    assert alarm.evidence["series"][0]["values"] == [17.2]
    assert alarm.evidence["series"][0]["times"] == [T0.isoformat()]


def test_sightings_move_last_seen_and_a_severity_change_is_history(engine: Engine) -> None:
    apply(engine, transition(TransitionKind.RAISED, COLD, T0))
    later = T0 + timedelta(minutes=1)
    assert apply(engine, transition(TransitionKind.SEEN, COLD, later)) == []
    worse = T0 + timedelta(minutes=2)
    changed = apply(
        engine, transition(TransitionKind.SEEN, COLD, worse, severity=Severity.CRITICAL, value=15.0)
    )
    # a round older than what is stored (a late replica) changes nothing
    stale = apply(engine, transition(TransitionKind.SEEN, COLD, later, severity=Severity.INFO))
    (alarm,) = rows(engine)
    assert changed == [(ChangeKind.SEVERITY, 1)]
    assert stale == []
    assert (alarm.last_seen, alarm.severity, alarm.severity_rank) == (worse, "critical", 3)
    assert alarm.message == "zone-1 at 15.0 °C"
    with Session(engine) as session:
        kinds = [(e.kind, e.severity) for e in store.events(session, alarm.id)]
    assert kinds == [("raised", "major"), ("severity", "critical")]


def test_a_hold_that_measured_nothing_keeps_what_raised_the_alarm(engine: Engine) -> None:
    """energy.above_baseline after a leader handover, before its expectation is fetched again:
    the rule holds with no evidence; the alarm keeps its message, severity and evidence."""
    apply(engine, transition(TransitionKind.RAISED, COLD, T0))
    later = T0 + timedelta(minutes=1)
    blind = Assessment(COLD, Status.HOLD, later, Severity.WARNING, "", ())
    assert blind.evidence.empty
    assert apply(engine, Transition(TransitionKind.SEEN, blind)) == []
    (alarm,) = rows(engine)
    assert alarm.last_seen == later
    assert (alarm.severity, alarm.message, alarm.points) == (
        "major",
        "zone-1 at 17.2 °C",
        ["larissa/town-hall/zone-1/temp"],
    )
    assert alarm.evidence["series"][0]["values"] == [17.2]
    assert alarm.evidence["figures"] == {"band_low_c": 20.0}
    # a hold on what the rule measured (inside its hysteresis band) moves them on
    measured = Assessment(
        COLD,
        Status.HOLD,
        later + timedelta(minutes=1),
        Severity.MAJOR,
        "zone-1 at 18.9 °C",
        ("larissa/town-hall/zone-1/temp",),
        Evidence((), {"band_low_c": 20.0, "measured_c": 18.9}),
    )
    apply(engine, Transition(TransitionKind.SEEN, measured))
    (alarm,) = rows(engine)
    assert alarm.message == "zone-1 at 18.9 °C"
    assert alarm.evidence == {"series": [], "figures": {"band_low_c": 20.0, "measured_c": 18.9}}
    with Session(engine) as session:
        assert [e.kind for e in store.events(session, alarm.id)] == ["raised"]


def test_a_clear_closes_the_alarm_once_and_the_key_can_be_raised_again(engine: Engine) -> None:
    apply(engine, transition(TransitionKind.RAISED, COLD, T0))
    clear_at = T0 + timedelta(minutes=30)
    cleared = apply(engine, transition(TransitionKind.CLEARED, COLD, clear_at))
    twice = apply(engine, transition(TransitionKind.CLEARED, COLD, clear_at))
    again = apply(engine, transition(TransitionKind.RAISED, COLD, clear_at + timedelta(hours=1)))
    assert cleared == [(ChangeKind.CLEARED, 1)]
    assert twice == []
    assert again == [(ChangeKind.RAISED, 2)]
    first, second = rows(engine)
    assert (first.state, first.cleared_at) == ("cleared", clear_at)
    assert (second.state, second.cleared_at) == ("active", None)
    with Session(engine) as session:
        assert store.open_keys(session) == {COLD}


def test_the_database_refuses_a_second_open_alarm_per_key(engine: Engine) -> None:
    apply(engine, transition(TransitionKind.RAISED, COLD, T0))
    (alarm,) = rows(engine)
    second = Alarm(
        rule=COLD.rule,
        building=COLD.building,
        subject=COLD.subject,
        points=[],
        severity="info",
        severity_rank=0,
        message="",
        first_seen=T0,
        last_seen=T0,
        state="acknowledged",
        evidence={},
    )
    with Session(engine) as session:
        session.add(second)
        with pytest.raises(IntegrityError):
            session.commit()
    assert [a.id for a in rows(engine)] == [alarm.id]


def test_queries_filter_by_building_severity_state_rule_and_page_by_id(engine: Engine) -> None:
    apply(
        engine,
        transition(TransitionKind.RAISED, COLD, T0),
        transition(TransitionKind.RAISED, STALE, T0, severity=Severity.WARNING),
    )
    apply(engine, transition(TransitionKind.CLEARED, STALE, T0 + timedelta(hours=1)))
    with Session(engine) as session:

        def ids(**kw: object) -> list[int]:
            return [a.id for a in store.query(session, AlarmFilter(**kw))]  # type: ignore[arg-type]

        assert ids() == [2, 1]
        assert ids(buildings=frozenset({"pool"})) == [2]
        assert ids(min_severity=Severity.MAJOR) == [1]
        assert ids(state=StateFilter.OPEN) == [1]
        assert ids(state=StateFilter.CLEARED) == [2]
        assert ids(rule="communication.stale") == [2]
        assert ids(since=T0 + timedelta(minutes=30)) == [2]
        assert ids(limit=1) == [2]
        assert ids(before_id=2) == [1]
        assert store.open_counts(session, None) == {"town-hall": {Severity.MAJOR: 1}}
        assert store.open_counts(session, frozenset({"pool"})) == {}


def test_acknowledging_keeps_the_alarm_open_and_in_its_history(engine: Engine) -> None:
    apply(engine, transition(TransitionKind.RAISED, COLD, T0))
    at = T0 + timedelta(minutes=5)
    with session_factory(engine)() as session:
        row = store.get(session, 1, lock=True)
        assert row is not None
        store.acknowledge(session, row, "key:fm", at, "valve checked")
        session.commit()
    (alarm,) = rows(engine)
    assert (alarm.state, alarm.acknowledged_by, alarm.acknowledged_at) == (
        AlarmState.ACKNOWLEDGED.value,
        "key:fm",
        at,
    )
    assert alarm.acknowledged_comment == "valve checked"
    # still open: a sighting updates it, a clear closes it
    assert apply(engine, transition(TransitionKind.SEEN, COLD, at)) == []
    assert apply(engine, transition(TransitionKind.CLEARED, COLD, at)) == [(ChangeKind.CLEARED, 1)]
    with Session(engine) as session:
        kinds = [e.kind for e in session.scalars(select(AlarmEvent).order_by(AlarmEvent.id))]
    assert kinds == ["raised", "acknowledged", "cleared"]


FM = Principal("key:fm", Role.FACILITY_MANAGER, frozenset({"town-hall"}))
DEPT = Principal("key:dept", Role.ENERGY_DEPARTMENT)


def subscribe(engine: Engine, who: Principal, mode: MailMode, at: datetime) -> None:
    order = alarm_mail.MailOrder(f"{who.subject[4:]}@example.org", mode, 24, Severity.WARNING)
    with session_factory(engine)() as session:
        alarm_mail.set_recipient(session, who, order, at)
        session.commit()


def test_changes_become_immediate_mails_and_digest_items_per_scope(engine: Engine) -> None:
    subscribe(engine, FM, MailMode.IMMEDIATE, T0)
    subscribe(engine, DEPT, MailMode.DIGEST, T0)
    with session_factory(engine)() as session:
        changes = store.apply_transitions(
            session,
            [
                transition(TransitionKind.RAISED, COLD, T0),
                transition(TransitionKind.RAISED, STALE, T0, severity=Severity.WARNING),
                transition(
                    TransitionKind.RAISED,
                    AlarmKey("x.info", "pool", ""),
                    T0,
                    severity=Severity.INFO,
                ),
            ],
        )
        for change in changes:
            alarm_mail.queue_mails(session, change, T0, "https://polis.example")
        session.commit()
    with Session(engine) as session:
        mails = session.scalars(select(AlarmMail)).all()
        items = session.scalars(select(AlarmMailItem).order_by(AlarmMailItem.id)).all()
    # the facility manager: his building only; the department: both, in its digest; info: nobody
    assert [(m.recipient, m.address, m.kind) for m in mails] == [
        ("key:fm", "fm@example.org", "immediate")
    ]
    assert "comfort.too_cold at town-hall/zone-1" in mails[0].subject_line
    assert "https://polis.example/dashboard/alarm?id=1" in mails[0].body
    assert [(i.recipient, i.alarm_id, i.kind) for i in items] == [
        ("key:dept", 1, "raised"),
        ("key:dept", 2, "raised"),
    ]


def test_a_digest_is_composed_once_per_period_with_every_pending_item(engine: Engine) -> None:
    subscribe(engine, DEPT, MailMode.DIGEST, T0)
    with session_factory(engine)() as session:
        for change in store.apply_transitions(
            session, [transition(TransitionKind.RAISED, COLD, T0)]
        ):
            alarm_mail.queue_mails(session, change, T0, None)
        session.commit()

    def compose(at: datetime) -> int:
        with session_factory(engine)() as session:
            n = alarm_mail.compose_digests(session, at, None)
            session.commit()
        return n

    assert compose(T0 + timedelta(hours=23)) == 0  # the period has not passed
    due = T0 + timedelta(hours=24)
    assert compose(due) == 1
    assert compose(due) == 0  # composed already: nothing twice
    assert compose(due + timedelta(hours=24)) == 0  # nothing new: no empty digest
    with Session(engine) as session:
        (mail,) = session.scalars(select(AlarmMail)).all()
        pending = session.scalar(
            select(func.count()).select_from(AlarmMailItem).where(AlarmMailItem.mail_id.is_(None))
        )
    assert (mail.kind, mail.recipient) == ("digest", "key:dept")
    assert mail.subject_line == "[Polis] alarm digest: 1 raised, 0 cleared"
    assert "comfort.too_cold at town-hall/zone-1" in mail.body
    assert "since 2026-03-02 06:00 UTC" in mail.body
    assert pending == 0

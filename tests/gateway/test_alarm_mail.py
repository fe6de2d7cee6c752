"""Alarm e-mail from the real gateway to a real SMTP server on loopback (aiosmtpd): a mail per
raise and clear, a digest per period, retries on a busy server, and nothing lost or sent twice
across a restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from polis.alarms.model import AlarmKey, Severity
from polis.gateway.db.alarm_models import AlarmMail, AlarmMailRecipient
from polis.gateway.settings import GatewaySettings

from .alarm_helpers import AlarmDb
from .conftest import create_keys
from .fakes import MemoryStore, PeerServers
from .server import gateway_settings, run_gateway

pytestmark = pytest.mark.integration

API = "/api/v1"
# One Polis hour per wall second: an hourly digest is due every second.
SPEED = 3600.0
COLD = AlarmKey("comfort.too_cold", "town-hall", "zone-1")
STALE = AlarmKey("communication.stale", "pool", "main-meter")


@dataclass
class Inbox:
    """What the SMTP server accepted, and the replies it gives to the next DATA commands."""

    mails: list[tuple[list[str], Message]] = field(default_factory=list)
    refuse_next: list[str] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.arrived:
            if self.refuse_next:
                return self.refuse_next.pop(0)
            self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
            self.arrived.notify_all()
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        with self.arrived:
            return [m for rcpt, m in self.mails if address in rcpt]

    def wait_for(self, address: str, count: int, timeout: float = 30.0) -> list[Message]:
        with self.arrived:
            assert self.arrived.wait_for(
                lambda: len([1 for rcpt, _ in self.mails if address in rcpt]) >= count, timeout
            ), f"{address}: {count} mails expected, got {self.to(address)}"
        return self.to(address)


class LoopbackSmtp(Controller):
    """aiosmtpd on 127.0.0.1, on a port the OS picks."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__(inbox, hostname="127.0.0.1", port=0)

    def _trigger_server(self) -> None:
        server: Any = self.server
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, LoopbackSmtp]]:
    inbox = Inbox()
    server = LoopbackSmtp(inbox)
    server.start()
    yield inbox, server
    server.stop()


def mail_settings(path: Path, peers: PeerServers, port: int, **kw: Any) -> GatewaySettings:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "gateway_alarm_evaluation": False,  # the alarms are put in as the leader would
        "gateway_smtp_host": "127.0.0.1",
        "gateway_smtp_port": port,
        "gateway_smtp_from": "alarms@polis.example",
        "gateway_smtp_starttls": False,
        "gateway_mail_poll_s": 0.2,
        "gateway_mail_backoff_s": 0.2,
        "gateway_public_url": "https://polis.example",
        "clock_origin": now,
        "clock_start": now,
        "clock_speed": SPEED,
    }
    values.update(kw)
    return gateway_settings(path, peers.addresses, **values)


def eventually(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def outbox(db: AlarmDb) -> list[tuple[str, str]]:
    """(address, status) of every mail in the gateway's outbox, oldest first."""
    with Session(db.engine) as session:
        rows = session.execute(
            select(AlarmMail.address, AlarmMail.status).order_by(AlarmMail.created_at)
        )
        return [(address, status) for address, status in rows]


def last_digest(db: AlarmDb, address: str) -> datetime | None:
    with Session(db.engine) as session:
        return session.scalar(
            select(AlarmMailRecipient.last_digest_at).where(AlarmMailRecipient.address == address)
        )


def subscribe(c: httpx.Client, address: str, mode: str, **kw: Any) -> dict[str, Any]:
    response = c.put(f"{API}/alarms/email", json={"address": address, "mode": mode, **kw})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_immediate_mails_and_hourly_digests(
    smtp: tuple[Inbox, LoopbackSmtp], peers: PeerServers, tmp_path: Path
) -> None:
    inbox, server = smtp
    settings = mail_settings(tmp_path / "gw.db", peers, server.port)
    with run_gateway(settings, MemoryStore([])) as gw:
        keys = create_keys(gw)
        db = AlarmDb(tmp_path / "gw.db", settings.clock(), settings.gateway_public_url)
        with gw.client(keys["facility_manager"]) as fm, gw.client(keys["energy_department"]) as d:
            mine = subscribe(fm, "fm@larissa.example", "immediate")
            digest = subscribe(d, "energy@larissa.example", "digest", digest_hours=1)
            assert fm.get(f"{API}/alarms/email").json() == mine
            assert (digest["mode"], digest["digest_hours"], digest["min_severity"]) == (
                "digest",
                1,
                "warning",
            )
            at = db.services.clock.now()
            cold = db.raise_(COLD, at)
            db.raise_(STALE, at, severity=Severity.WARNING)
            db.raise_(AlarmKey("x.note", "town-hall", ""), at, severity=Severity.INFO)
            (raised,) = inbox.wait_for("fm@larissa.example", 1)
            (first_digest,) = inbox.wait_for("energy@larissa.example", 1)
            db.clear(COLD, db.services.clock.now())
            cleared = inbox.wait_for("fm@larissa.example", 2)[1]
            second_digest = inbox.wait_for("energy@larissa.example", 2)[1]
            # two more digest periods taken with nothing new (a digest would be composed in
            # the same transaction), and every mail composed so far sent: no empty digest
            taken = last_digest(db, "energy@larissa.example")
            assert taken is not None
            eventually(
                "two more digest periods",
                lambda: (
                    (last_digest(db, "energy@larissa.example") or taken)
                    >= taken + timedelta(hours=2)
                ),
            )
            eventually("every mail sent", lambda: {s for _, s in outbox(db)} == {"sent"})
            mails = outbox(db)
        db.close()
    assert raised["Subject"] == ("[Polis] major alarm raised: comfort.too_cold at town-hall/zone-1")
    assert raised["From"] == "alarms@polis.example"
    assert f"https://polis.example/dashboard/alarm?id={cold}" in raised.get_payload()
    assert raised["Message-ID"].endswith("@polis.example>")
    assert cleared["Subject"].startswith("[Polis] major alarm cleared: comfort.too_cold")
    assert first_digest["Subject"] == "[Polis] alarm digest: 2 raised, 0 cleared"
    body = first_digest.get_payload()
    assert "comfort.too_cold at town-hall/zone-1" in body
    assert "communication.stale at pool/main-meter" in body
    assert "x.note" not in body  # below the recipient's severity
    assert second_digest["Subject"] == "[Polis] alarm digest: 0 raised, 1 cleared"
    # the facility manager hears of his building only; nobody hears anything twice
    assert (
        sorted(a for a, _ in mails) == ["energy@larissa.example"] * 2 + ["fm@larissa.example"] * 2
    )
    assert len(inbox.to("fm@larissa.example")) == 2
    assert len(inbox.to("energy@larissa.example")) == 2
    assert len({m["Message-ID"] for _, m in inbox.mails}) == len(inbox.mails)


def test_a_busy_server_is_retried_and_a_refused_address_is_not(
    smtp: tuple[Inbox, LoopbackSmtp], peers: PeerServers, tmp_path: Path
) -> None:
    inbox, server = smtp
    inbox.refuse_next = ["451 4.3.0 busy, try later", "451 4.3.0 still busy"]
    settings = mail_settings(tmp_path / "gw.db", peers, server.port)
    with run_gateway(settings, MemoryStore([])) as gw:
        keys = create_keys(gw)
        db = AlarmDb(tmp_path / "gw.db", settings.clock())
        with gw.client(keys["facility_manager"]) as fm:
            subscribe(fm, "fm@larissa.example", "immediate")
            db.raise_(COLD, db.services.clock.now())
            inbox.wait_for("fm@larissa.example", 1)
            inbox.refuse_next = ["550 5.1.1 no such mailbox"]
            db.clear(COLD, db.services.clock.now())

            def outbox() -> list[AlarmMail]:
                with Session(db.engine) as session:
                    return list(session.scalars(select(AlarmMail).order_by(AlarmMail.created_at)))

            deadline = time.monotonic() + 20
            while outbox()[-1:] and outbox()[-1].status != "failed":
                assert time.monotonic() < deadline, [m.status for m in outbox()]
                time.sleep(0.1)
        rows = outbox()
        db.close()
    assert [(m.status, m.attempts) for m in rows] == [("sent", 3), ("failed", 1)]
    assert "550" in (rows[1].last_error or "")
    assert len(inbox.to("fm@larissa.example")) == 1


def test_mails_queued_while_smtp_is_down_go_out_once_after_a_restart(
    peers: PeerServers, tmp_path: Path
) -> None:
    down = LoopbackSmtp(Inbox())
    down.start()
    dead_port = down.port
    down.stop()  # nothing listens there now
    path = tmp_path / "gw.db"
    settings = mail_settings(path, peers, dead_port, gateway_mail_backoff_s=30.0)
    with run_gateway(settings, MemoryStore([])) as gw:
        keys = create_keys(gw)
        db = AlarmDb(path, settings.clock())
        with gw.client(keys["facility_manager"]) as fm:
            subscribe(fm, "fm@larissa.example", "immediate")
        db.raise_(COLD, db.services.clock.now())
        deadline = time.monotonic() + 20
        while True:  # the first attempt fails: the mail waits for its back-off
            with Session(db.engine) as session:
                mail = session.scalars(select(AlarmMail)).one()
            if mail.status == "retrying" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert (mail.status, mail.attempts) == ("retrying", 1)
    inbox = Inbox()
    up = LoopbackSmtp(inbox)
    up.start()
    try:
        # The restarted gateway finds the mail in its outbox; its back-off is the database's
        # clock's, so make it due now as an operator would after fixing the relay.
        with Session(db.engine) as session:
            session.get(AlarmMail, mail.id).due_s = 0.0  # type: ignore[union-attr]
            session.commit()
        again = settings.model_copy(update={"gateway_smtp_port": up.port})
        with run_gateway(again, MemoryStore([])):
            (sent,) = inbox.wait_for("fm@larissa.example", 1)
            # recorded as sent: no outbox round claims it again
            eventually("the mail recorded as sent", lambda: outbox(db) == [(mail.address, "sent")])
        assert len(inbox.mails) == 1
        assert sent["Message-ID"] == f"<{mail.id}@polis.example>"
        with Session(db.engine) as session:
            final = session.get(AlarmMail, mail.id)
            assert final is not None
            assert (final.status, final.attempts) == ("sent", 2)
    finally:
        up.stop()
        db.close()


def test_email_settings_are_checked_and_scoped(
    smtp: tuple[Inbox, LoopbackSmtp], peers: PeerServers, tmp_path: Path
) -> None:
    _, server = smtp
    settings = mail_settings(tmp_path / "gw.db", peers, server.port)
    with run_gateway(settings, MemoryStore([])) as gw:
        keys = create_keys(gw)
        with (
            gw.client(keys["facility_manager"]) as fm,
            gw.client(keys["neighbourhood_scheme"]) as scheme,
        ):
            assert fm.get(f"{API}/alarms/email").status_code == 404
            bad = fm.put(f"{API}/alarms/email", json={"address": "not an address"})
            hours = fm.put(
                f"{API}/alarms/email",
                json={"address": "a@b.example", "mode": "digest", "digest_hours": 0},
            )
            assert (
                scheme.put(f"{API}/alarms/email", json={"address": "a@b.example"}).status_code
                == 403
            )
            subscribe(fm, "fm@larissa.example", "digest")
            assert fm.delete(f"{API}/alarms/email").status_code == 204
            assert fm.get(f"{API}/alarms/email").status_code == 404
        with gw.client(gw.admin_key) as admin:
            audit = admin.get(f"{API}/audit").json()
    assert (bad.status_code, bad.json()["field"]) == (422, "address")
    assert (hours.status_code, hours.json()["field"]) == (422, "digest_hours")
    mail_audit = [(e["actor"], e["outcome"]) for e in audit if e["action"] == "alarm.mail"]
    fm_subject = mail_audit[0][0]
    assert fm_subject.startswith("key:")
    assert mail_audit == [(fm_subject, "removed"), (fm_subject, "ok")]  # newest first
    off = gateway_settings(tmp_path / "off.db", peers.addresses)
    with run_gateway(off, MemoryStore([])) as gw, gw.client(gw.admin_key) as admin:
        refused = admin.put(f"{API}/alarms/email", json={"address": "a@b.example"})
    assert refused.status_code == 409
    assert "POLIS_GATEWAY_SMTP_HOST" in refused.json()["detail"]

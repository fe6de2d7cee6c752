"""Alarm e-mails (pure): who gets which change, and the text of an immediate mail or a digest.

A recipient chooses ``immediate`` (one mail per raise and per clear) or ``digest`` (one mail
every ``digest_hours`` on the Polis clock listing what was raised and cleared since the last
one, none when nothing was), and the lowest severity worth a mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from polis.gateway.domain.alarms import AlarmView, ChangeKind

SUBJECT_PREFIX = "[Polis]"
MAX_SUBJECT = 300


class MailMode(StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"


@dataclass(frozen=True, slots=True)
class Composed:
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class DigestLine:
    kind: ChangeKind  # raised or cleared
    at: datetime
    alarm: AlarmView


def alarm_link(public_url: str | None, alarm_id: int) -> str:
    """The alarm's dashboard page: absolute when the gateway's public URL is known."""
    path = f"/dashboard/alarm?id={alarm_id}"
    return f"{public_url.rstrip('/')}{path}" if public_url else path


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _where(alarm: AlarmView) -> str:
    return f"{alarm.building}/{alarm.subject}" if alarm.subject else alarm.building


def _clip(subject: str) -> str:
    return subject if len(subject) <= MAX_SUBJECT else subject[: MAX_SUBJECT - 1] + "…"


def immediate(kind: ChangeKind, alarm: AlarmView, public_url: str | None) -> Composed:
    """One raise or clear, as it happened."""
    verb = "raised" if kind is ChangeKind.RAISED else "cleared"
    subject = (
        f"{SUBJECT_PREFIX} {alarm.severity.value} alarm {verb}: {alarm.rule} at {_where(alarm)}"
    )
    lines = [
        f"Alarm {alarm.id} {verb}: {alarm.rule}",
        "",
        alarm.message or "(no message)",
        "",
        f"Building:   {alarm.building}",
        f"Subject:    {alarm.subject or '(the building)'}",
        f"Severity:   {alarm.severity.value}",
        f"First seen: {_when(alarm.first_seen)}",
    ]
    if alarm.cleared_at is not None:
        lines.append(f"Cleared:    {_when(alarm.cleared_at)}")
    if alarm.points:
        lines.append(f"Points:     {', '.join(alarm.points)}")
    lines += ["", f"Details and evidence: {alarm_link(public_url, alarm.id)}", ""]
    return Composed(_clip(subject), "\n".join(lines))


def digest(
    lines: Sequence[DigestLine], since: datetime | None, now: datetime, public_url: str | None
) -> Composed:
    """Every raise and clear since the last digest, raises first, each in time order."""
    raised = [x for x in lines if x.kind is ChangeKind.RAISED]
    cleared = [x for x in lines if x.kind is ChangeKind.CLEARED]
    subject = f"{SUBJECT_PREFIX} alarm digest: {len(raised)} raised, {len(cleared)} cleared"
    period = f"since {_when(since)}" if since is not None else "so far"
    body = [f"Alarms {period}, up to {_when(now)}.", ""]
    for title, group in (("Raised", raised), ("Cleared", cleared)):
        if not group:
            continue
        body.append(f"{title} ({len(group)}):")
        for x in sorted(group, key=lambda x: (x.at, x.alarm.id)):
            a = x.alarm
            body.append(
                f"- {_when(x.at)}  {a.severity.value:<8} {a.rule} at {_where(a)}: {a.message}"
            )
            body.append(f"  {alarm_link(public_url, a.id)}")
        body.append("")
    return Composed(_clip(subject), "\n".join(body))

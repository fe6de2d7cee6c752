"""What a scenario expects: per injected fault, the one alarm it raises, when, and when it
clears; and the checks of the alarms and webhooks a run produced against that."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Expected:
    """One fault's alarm: raised within ``raise_within`` of ``since`` (when the fault made its
    condition true), cleared within ``clear_within`` of ``until`` (when it stopped)."""

    rule: str
    building: str
    subject: str
    since: datetime
    until: datetime
    raise_within: timedelta
    clear_within: timedelta

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.building, self.subject)


def key_of(alarm: dict[str, Any]) -> tuple[str, str, str]:
    return (alarm["rule"], alarm["building"], alarm["subject"])


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def problems(
    expected: list[Expected],
    alarms: list[dict[str, Any]],
    deliveries: list[dict[str, Any]],
    severities_above: frozenset[str] = frozenset({"warning", "major", "critical"}),
) -> list[str]:
    """Everything that differs from one alarm per fault, raised and cleared in time, one
    ``alarm.raised`` and one ``alarm.cleared`` webhook each, and no other alarm above info."""
    out: list[str] = []
    by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for alarm in alarms:
        by_key.setdefault(key_of(alarm), []).append(alarm)
    wanted = {e.key for e in expected}
    for key, found in sorted(by_key.items()):
        if key not in wanted and any(a["severity"] in severities_above for a in found):
            messages = "; ".join(f"{a['first_seen']} {a['message']}" for a in found)
            out.append(f"unexpected {':'.join(key)} ({len(found)}x): {messages}")
    events = Counter((d["event"], key_of(d["data"])) for d in deliveries)
    for e in expected:
        found = by_key.get(e.key, [])
        name = ":".join(e.key)
        if len(found) != 1:
            out.append(f"{name}: {len(found)} alarms, expected exactly one")
            continue
        alarm = found[0]
        first = _at(alarm["first_seen"])
        if not e.since <= first <= e.since + e.raise_within:
            out.append(f"{name}: raised at {first}, expected {e.since} + {e.raise_within}")
        if alarm["cleared_at"] is None:
            out.append(f"{name}: still {alarm['state']} ({alarm['message']})")
        else:
            cleared = _at(alarm["cleared_at"])
            if not e.until <= cleared <= e.until + e.clear_within:
                out.append(f"{name}: cleared at {cleared}, expected {e.until} + {e.clear_within}")
        for event in ("alarm.raised", "alarm.cleared"):
            if events[(event, e.key)] != 1:
                out.append(f"{name}: {events[(event, e.key)]} {event} webhooks, expected one")
    return out

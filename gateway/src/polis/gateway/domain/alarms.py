"""Alarms as the gateway stores, serves and announces them (pure).

The engine (``polis.alarms``) judges rules and answers transitions; here are the states an
alarm goes through in the gateway, the filters of the API, the JSON form of evidence, and the
payload of the ``alarm.raised`` / ``alarm.cleared`` webhooks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from polis.alarms.model import Evidence, Severity


class AlarmState(StrEnum):
    ACTIVE = "active"  # raised, nobody has acknowledged it yet
    ACKNOWLEDGED = "acknowledged"  # still active; someone has seen it
    CLEARED = "cleared"  # its rule's clear condition held: closed for good

    @property
    def is_open(self) -> bool:
        return self is not AlarmState.CLEARED


class StateFilter(StrEnum):
    """What the list asks for: one state, or every open one (active and acknowledged)."""

    OPEN = "open"
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    ANY = "any"

    def states(self) -> tuple[AlarmState, ...]:
        if self is StateFilter.OPEN:
            return (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)
        if self is StateFilter.ANY:
            return tuple(AlarmState)
        return (AlarmState(self.value),)


class ChangeKind(StrEnum):
    RAISED = "raised"
    SEVERITY = "severity"  # still active, at another severity
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


RULES_ACTOR = "rules"
SEVERITIES = tuple(Severity)


def severity_rank(severity: Severity) -> int:
    return severity.rank


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """The list's filters; ``buildings`` None means every building the caller may read."""

    buildings: frozenset[str] | None = None
    min_severity: Severity | None = None
    state: StateFilter = StateFilter.ANY
    rule: str | None = None
    since: datetime | None = None  # last seen at or after
    before_id: int | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class AlarmView:
    """An alarm as the API, webhooks and e-mails show it."""

    id: int
    rule: str
    building: str
    subject: str
    points: tuple[str, ...]
    severity: Severity
    message: str
    first_seen: datetime
    last_seen: datetime
    state: AlarmState
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_comment: str | None = None
    cleared_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """What applying a transition did to the stored alarm: announced by webhook and e-mail."""

    kind: ChangeKind
    alarm: AlarmView


def _number(value: float | None) -> float | None:
    # JSON has no NaN or infinity: a gap in a series is null.
    if value is None or not math.isfinite(value):
        return None
    return value


def evidence_json(evidence: Evidence) -> dict[str, Any]:
    """The evidence as stored (JSON): series with ISO times, and the rule's figures."""
    return {
        "series": [
            {
                "label": s.label,
                "point_id": s.point_id,
                "unit": s.unit,
                "times": [t.isoformat() for t in s.times],
                "values": [_number(v) for v in s.values],
            }
            for s in evidence.series
        ],
        "figures": {
            k: (_number(v) if isinstance(v, float) else v) for k, v in evidence.figures.items()
        },
    }


def webhook_data(alarm: AlarmView) -> dict[str, Any]:
    """The ``data`` of ``alarm.raised`` and ``alarm.cleared``."""
    return {
        "id": alarm.id,
        "rule": alarm.rule,
        "building": alarm.building,
        "subject": alarm.subject,
        "points": list(alarm.points),
        "severity": alarm.severity.value,
        "message": alarm.message,
        "state": alarm.state.value,
        "first_seen": alarm.first_seen.isoformat(),
        "last_seen": alarm.last_seen.isoformat(),
        "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None,
    }


WEBHOOK_EVENTS = {ChangeKind.RAISED: "alarm.raised", ChangeKind.CLEARED: "alarm.cleared"}

"""The alarm engine's contract with whoever runs it: what it is handed, what it answers.

A rule looks at a window of readings and says, per *subject* (a zone, a device, a meter),
one of three things: the raise condition holds (RAISE), the clear condition holds (CLEAR), or
neither (HOLD, inside the hysteresis band: an active alarm stays active, an inactive one stays
inactive). Conditions are judged on the whole window (e.g. "outside the band for more than
30 minutes"), never on counters kept between evaluations, so any replica can evaluate after a
handover from the stored set of active alarms alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}


class Status(StrEnum):
    RAISE = "raise"
    HOLD = "hold"
    CLEAR = "clear"


@dataclass(frozen=True, order=True)
class AlarmKey:
    """What one alarm is about; at most one alarm per key is open (active or acknowledged)."""

    rule: str  # e.g. "comfort.too_cold"
    building: str
    subject: str  # zone, device or point id within the building; "" for the building itself

    def __str__(self) -> str:
        return f"{self.rule}:{self.building}:{self.subject}"


@dataclass(frozen=True)
class EvidenceSeries:
    """One series an alarm's page charts: the readings that triggered it."""

    label: str
    point_id: str
    unit: str
    times: tuple[datetime, ...]
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Evidence:
    """What a verdict rests on: the series charted and the figures (the rule's thresholds and
    durations, and what it measured). A figure that could not be measured is left out, never
    given a placeholder; an assessment that measured nothing (no readings, no expectation)
    has no evidence at all, and a HOLD without evidence says nothing new about an open alarm."""

    series: tuple[EvidenceSeries, ...] = ()
    figures: Mapping[str, float | str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.series and not self.figures


@dataclass(frozen=True)
class Assessment:
    """A rule's judgement of one subject at ``at``."""

    key: AlarmKey
    status: Status
    at: datetime
    severity: Severity
    message: str = ""
    points: tuple[str, ...] = ()
    evidence: Evidence = field(default_factory=Evidence)


class TransitionKind(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"
    SEEN = "seen"  # still active: last_seen, severity, message and evidence may move on


@dataclass(frozen=True)
class Transition:
    kind: TransitionKind
    assessment: Assessment


def reconcile(assessments: Iterable[Assessment], active: set[AlarmKey]) -> list[Transition]:
    """The lifecycle step: RAISE on a closed key raises it, CLEAR on an open key clears it,
    RAISE or HOLD on an open key keeps it (SEEN). A key of ``active`` that no rule assessed
    (its subject left the catalogue, its rule was switched off) is left to the caller."""
    transitions: list[Transition] = []
    for assessment in assessments:
        is_open = assessment.key in active
        if assessment.status is Status.RAISE and not is_open:
            transitions.append(Transition(TransitionKind.RAISED, assessment))
        elif assessment.status is Status.CLEAR and is_open:
            transitions.append(Transition(TransitionKind.CLEARED, assessment))
        elif is_open:
            transitions.append(Transition(TransitionKind.SEEN, assessment))
    return transitions

"""Request and response bodies of the alarms API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from polis.alarms.model import Severity
from polis.gateway.domain.alarm_mail import MailMode
from polis.gateway.domain.alarms import AlarmState

# Enough to catch a typo; the SMTP server is the judge of the rest.
EMAIL_PATTERN = r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$"


class AlarmOut(BaseModel):
    id: int
    rule: str = Field(examples=["comfort.too_cold"])
    building: str = Field(examples=["larissa-town-hall"])
    subject: str = Field(description="Zone, device or point within the building; '' for all of it")
    points: list[str]
    severity: Severity
    message: str
    first_seen: datetime
    last_seen: datetime
    state: AlarmState
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    acknowledged_comment: str | None
    cleared_at: datetime | None


class EvidenceSeriesOut(BaseModel):
    label: str
    point_id: str
    unit: str
    times: list[datetime]
    values: list[float | None] = Field(description="null where the series has a gap")


class EvidenceOut(BaseModel):
    series: list[EvidenceSeriesOut]
    figures: dict[str, float | str | None] = Field(
        description="The rule's thresholds, durations and measured figures"
    )


class AlarmEventOut(BaseModel):
    at: datetime
    kind: str = Field(examples=["raised", "severity", "acknowledged", "cleared"])
    actor: str = Field(description="'rules', or the caller who acknowledged")
    severity: Severity
    detail: dict[str, object]


class AlarmDetailOut(AlarmOut):
    evidence: EvidenceOut
    events: list[AlarmEventOut]


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=2000, examples=["valve actuator replaced"])


class AlarmCountsOut(BaseModel):
    building: str
    open: int
    counts: dict[Severity, int] = Field(description="Open alarms by severity")


class AlarmMailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(max_length=320, pattern=EMAIL_PATTERN, examples=["fm@larissa.gr"])
    mode: MailMode = Field(
        default=MailMode.IMMEDIATE,
        description="immediate: a mail per raise and clear; digest: one every digest_hours",
    )
    digest_hours: int = Field(default=24, ge=1, le=168)
    min_severity: Severity = Field(default=Severity.WARNING)


class AlarmMailOut(BaseModel):
    address: str
    mode: MailMode
    digest_hours: int
    min_severity: Severity
    last_digest_at: datetime | None

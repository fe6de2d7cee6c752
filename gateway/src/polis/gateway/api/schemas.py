"""Request and response bodies of the public API, with OpenAPI examples."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from polis.gateway.security.roles import Role, scope_error


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# keys ---------------------------------------------------------------------------------------
class KeyCreate(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["Larissa town hall FM"])
    role: Role = Field(examples=["facility_manager"])
    buildings: list[str] = Field(default_factory=list, examples=[["larissa-town-hall"]])
    neighbourhood: str | None = Field(default=None, examples=[None])
    rate_per_s: float | None = Field(default=None, gt=0, le=10_000)

    @model_validator(mode="after")
    def _scope(self) -> KeyCreate:
        problem = scope_error(self.role, frozenset(self.buildings), self.neighbourhood)
        if problem:
            raise ValueError(problem)
        return self


class KeyOut(BaseModel):
    id: str
    name: str
    role: Role
    buildings: list[str]
    neighbourhood: str | None
    rate_per_s: float | None
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The API key. Shown once; store it now.")


# catalogue ----------------------------------------------------------------------------------
class Municipality(BaseModel):
    id: str
    name: str
    neighbourhoods: list[str]


class Neighbourhood(BaseModel):
    id: str
    name: str
    municipality: str
    buildings: int


class Building(BaseModel):
    id: str
    name: str
    municipality: str
    neighbourhood: str
    devices: int
    points: int
    use: str | None = None
    floor_area_m2: float | None = None


class Point(BaseModel):
    id: str = Field(examples=["larissa/town-hall/main-meter/energy"])
    device: str
    quantity: str
    unit: str
    kind: str
    brick_class: str
    description: str
    min_value: float | None
    max_value: float | None


class Device(BaseModel):
    id: str
    points: list[Point]


class CatalogueMeta(BaseModel):
    stale: bool = Field(description="True while the adapter is down and the last good list shown")


# readings -----------------------------------------------------------------------------------
class ReadingOut(BaseModel):
    point: str
    time: datetime
    value: float


class ReadingsPage(BaseModel):
    items: list[ReadingOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")
    window: str | None = None
    fn: str | None = None


class ClockOut(BaseModel):
    now: datetime = Field(description="Now on the Polis clock (UTC)")
    speed: float = Field(description="Clock seconds per wall-clock second")
    virtual: bool = Field(description="True when the clock is not the wall clock")


class LastValue(BaseModel):
    point: str
    building: str
    device: str
    quantity: str
    unit: str
    time: datetime
    value: float


# plans --------------------------------------------------------------------------------------
class Mode(StrEnum):
    DRY_RUN = "dry_run"
    APPLY = "apply"


class Figures(BaseModel):
    energy_kwh: float
    cost_eur: float
    peak_kw: float
    co2_kg: float


class LoadScheduleOut(BaseModel):
    load_id: str
    kind: str
    power_kw: list[float]
    setpoint: list[float]
    explanation: str


class PlanOut(BaseModel):
    building: str
    neighbourhood: str
    start: datetime
    slot_minutes: int
    mode: str
    status: str
    gap: float
    created_at: datetime | None
    loads: list[LoadScheduleOut]
    grid_kw: list[float]
    planned: Figures
    baseline: Figures
    expected_savings: Figures = Field(description="baseline minus planned")
    conflicts: list[str]


class SolveCreate(Strict):
    horizon_slots: int = Field(default=96, ge=4, le=192, description="15-minute slots")
    time_limit_s: float = Field(default=10.0, gt=0, le=60)


class SolveOut(BaseModel):
    status: str
    gap: float
    solve_time_s: float
    conflicts: list[str]
    plan: PlanOut | None


class ModeChange(Strict):
    mode: Mode = Field(examples=["apply"])


class ModeOut(BaseModel):
    building: str
    mode: Mode
    approved_by: str


class OverrideCreate(Strict):
    point_id: str = Field(min_length=1, examples=["larissa/town-hall/ahu-1/setpoint"])
    value: float = Field(examples=[21.5])
    duration_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    priority: int = Field(
        default=9,
        ge=9,
        le=16,
        description="BACnet priority: 9 (above the optimizer, below the panel) to 16",
    )
    reason: str = Field(default="", max_length=500, examples=["school event tonight"])


class OverrideOut(BaseModel):
    id: int
    building: str
    point_id: str
    value: float
    priority: int
    reason: str
    requested_by: str
    status: str
    present_value: float | None
    created_at: datetime
    expires_at: datetime | None
    cancelled_at: datetime | None


# neighbourhoods and flexibility ---------------------------------------------------------------
class Aggregate(BaseModel):
    neighbourhood: str
    buildings: int
    load_kw: float | None
    pv_kw: float | None
    flexibility_kw: float | None = Field(
        description="Planned flexible load in the current slot; null when the optimizer is down"
    )
    time: datetime | None


class FlexibilityCreate(Strict):
    window_start: AwareDatetime = Field(examples=["2026-03-02T17:00:00Z"])
    window_end: AwareDatetime = Field(examples=["2026-03-02T20:00:00Z"])
    peak_limit_kw: float = Field(gt=0, le=1_000_000, examples=[250.0])

    @model_validator(mode="after")
    def _window(self) -> FlexibilityCreate:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class FlexibilityOut(BaseModel):
    neighbourhood: str
    outcome: str = Field(examples=["partial"])
    achieved_peak_kw: float
    reduction_kw: float
    message: str


# savings ------------------------------------------------------------------------------------
class PeriodOut(BaseModel):
    period: str
    baseline_kwh: float
    actual_kwh: float
    avoided_kwh: float
    avoided_eur: float
    avoided_co2_kg: float
    fractional_savings: float
    uncertainty_68_kwh: float
    uncertainty_90_kwh: float


class StatisticsOut(BaseModel):
    r_squared: float
    cv_rmse: float
    nmbe: float
    n: int
    parameters: int
    accepted: bool
    reason: str


class BuildingSavingsOut(BaseModel):
    building: str
    neighbourhood: str
    model: str
    statistics: StatisticsOut
    periods: list[PeriodOut]


class SavingsOut(BaseModel):
    scope: str
    scope_id: str
    method: str
    total: list[PeriodOut]
    buildings: list[BuildingSavingsOut] = Field(
        description="Per-building results; empty for neighbourhood schemes (aggregates only)"
    )


class ImportOut(BaseModel):
    rows: int
    points_written: int


# webhooks and audit -------------------------------------------------------------------------
class WebhookCreate(Strict):
    url: AnyHttpUrl = Field(examples=["https://example.org/polis-hook"])
    events: list[str] = Field(min_length=1, examples=[["plan.mode_changed", "override.created"]])


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="HMAC-SHA256 signing secret. Shown once; store it now.")


class DeliveryOut(BaseModel):
    id: str
    event: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    building: str | None
    neighbourhood: str | None
    detail: dict[str, object]
    outcome: str

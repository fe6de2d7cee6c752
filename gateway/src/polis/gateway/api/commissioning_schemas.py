"""Response bodies of the commissioning report (``GET /buildings/{b}/commissioning``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SpanOut(BaseModel):
    since: str = Field(examples=["2025-01-06T00:00:00+02:00"])
    until: str = Field(examples=["2025-01-30T00:00:00+02:00"])


class ParameterOut(BaseModel):
    name: str = Field(examples=["tau_h"])
    value: float = Field(examples=[59.1])
    standard_error: float | None = Field(
        description="from the fit's Jacobian: flags a parameter the data do not determine; "
        "optimistic, not a confidence limit",
        examples=[0.134],
    )


class ZoneCommissioningOut(BaseModel):
    zone: str
    accepted: bool
    reasons: list[str] = Field(description="why the model was rejected (empty when accepted)")
    structure: str | None = Field(examples=["1R1C"])
    parameters: list[ParameterOut]
    holdout_rmse_k: float | None = Field(
        description="24 h-ahead temperature RMSE on the held-out days (K)"
    )
    energy_cv: float | None = Field(description="CV(RMSE) of daily heat pump energy, a fraction")
    holdout_days: int
    cop_source: str | None = Field(examples=["prior"])
    notes: list[str]
    points: dict[str, str] = Field(description="role -> point id")
    readings: dict[str, int] = Field(description="role -> 15-minute steps with a reading")
    plot: str | None = Field(description="URL of the fit plot (PNG), when there is one")


class CommissioningOut(BaseModel):
    building: str
    span: SpanOut
    generated_at: datetime | None
    accepted: list[str]
    rejected: list[str]
    zones: list[ZoneCommissioningOut]

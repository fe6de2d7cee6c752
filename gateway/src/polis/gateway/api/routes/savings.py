"""Savings reports (IPMVP Option C) from the savings service: JSON, CSV and an SVG chart."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from polis.gateway.api.deps import CatalogueDep, PrincipalDep, StateDep
from polis.gateway.api.problems import PEER_RESPONSES
from polis.gateway.api.schemas import SavingsOut
from polis.gateway.domain import savings as domain
from polis.gateway.domain.charts import savings_chart
from polis.gateway.domain.savings import ReportQuery, Scope
from polis.gateway.domain.tabular import csv_lines

router = APIRouter(prefix="/savings", tags=["savings"], responses=PEER_RESPONSES)


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


def render_report(data: dict[str, Any]) -> bytes:
    """A report's JSON as the API serves it (validated against SavingsOut)."""
    return SavingsOut.model_validate(data).model_dump_json().encode()


Start = Annotated[AwareDatetime, Query(examples=["2025-01-01T00:00:00Z"])]


def report_query(
    scope: Scope,
    id: Annotated[str, Query(min_length=1, description="Building, neighbourhood or municipality")],
    baseline_start: Start,
    baseline_end: Start,
    reporting_start: Start,
    reporting_end: Start,
) -> ReportQuery:
    """The report a request asks for, from the query parameters the report and chart share."""
    return ReportQuery(scope, id, baseline_start, baseline_end, reporting_start, reporting_end)


ReportQueryDep = Annotated[ReportQuery, Depends(report_query)]


@router.get("/report", response_model=SavingsOut, responses={200: {"content": {"text/csv": {}}}})
async def report(
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    query: ReportQueryDep,
    format: ReportFormat = ReportFormat.JSON,
) -> Any:
    served = await state.reports.report(principal, catalogue, query)
    if format is ReportFormat.CSV:
        filename = f"savings-{query.scope.value}.csv"
        return StreamingResponse(
            iter(csv_lines(("scope", *domain.PERIOD_FIELDS), domain.csv_rows(served.data))),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return Response(served.json, media_type="application/json")


@router.get(
    "/chart.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="Baseline vs actual per month, with cumulative savings",
)
async def chart(
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    query: ReportQueryDep,
) -> Response:
    served = await state.reports.report(principal, catalogue, query)
    months = domain.monthly(served.data["total"])
    cumulative = [v for _, v in domain.cumulative_avoided(served.data["total"])]
    svg = savings_chart(
        [p["period"] for p in months],
        [p["baseline_kwh"] for p in months],
        [p["actual_kwh"] for p in months],
        cumulative,
        f"Savings, {query.scope.value} {query.scope_id}",
    )
    return Response(svg, media_type="image/svg+xml")

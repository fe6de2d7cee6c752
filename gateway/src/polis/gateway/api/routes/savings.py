"""Savings reports (IPMVP Option C) from the savings service: JSON, CSV and an SVG chart."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AwareDatetime

from polis.gateway.api.deps import CatalogueDep, PrincipalDep, StateDep
from polis.gateway.api.problems import PEER_RESPONSES, Problem
from polis.gateway.api.routes.catalogue import check_building
from polis.gateway.api.schemas import SavingsOut
from polis.gateway.domain import savings as domain
from polis.gateway.domain.catalogue import Catalogue
from polis.gateway.domain.charts import savings_chart
from polis.gateway.domain.tabular import csv_lines
from polis.gateway.security.roles import (
    Principal,
    Role,
    can_read_neighbourhood,
    can_report_all,
    require,
)
from polis.mv.v1 import savings_pb2

router = APIRouter(prefix="/savings", tags=["savings"], responses=PEER_RESPONSES)


class Scope(StrEnum):
    BUILDING = "building"
    NEIGHBOURHOOD = "neighbourhood"
    MUNICIPALITY = "municipality"


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def authorise_scope(
    principal: Principal, catalogue: Catalogue, scope: Scope, scope_id: str
) -> None:
    if scope is Scope.BUILDING:
        check_building(principal, catalogue, scope_id)
    elif scope is Scope.NEIGHBOURHOOD:
        require(
            can_read_neighbourhood(principal, scope_id),
            f"no access to neighbourhood {scope_id}",
        )
        if scope_id not in catalogue.neighbourhoods():
            raise Problem(404, "Not found", f"no neighbourhood {scope_id}", field="id")
    else:
        require(can_report_all(principal), "municipality reports need energy_department or admin")
        if scope_id not in catalogue.municipalities():
            raise Problem(404, "Not found", f"no municipality {scope_id}", field="id")


async def fetch_report(
    state: StateDep,
    principal: Principal,
    catalogue: Catalogue,
    scope: Scope,
    scope_id: str,
    baseline_start: datetime,
    baseline_end: datetime,
    reporting_start: datetime,
    reporting_end: datetime,
) -> domain.ServedReport:
    if baseline_end <= baseline_start:
        raise Problem(
            422,
            "Invalid request",
            "baseline_end: must be after baseline_start",
            field="baseline_end",
        )
    if reporting_end <= reporting_start:
        raise Problem(
            422,
            "Invalid request",
            "reporting_end: must be after reporting_start",
            field="reporting_end",
        )
    authorise_scope(principal, catalogue, scope, scope_id)
    # Neighbourhood schemes see aggregates only, never per-building results.
    per_building = principal.role is not Role.NEIGHBOURHOOD_SCHEME
    periods = (baseline_start, baseline_end, reporting_start, reporting_end)

    async def load() -> domain.ServedReport:
        request = savings_pb2.ReportRequest(
            baseline_start=_ts(baseline_start),
            baseline_end=_ts(baseline_end),
            reporting_start=_ts(reporting_start),
            reporting_end=_ts(reporting_end),
        )
        setattr(request, scope.value, scope_id)
        report = await state.peers.savings_report(request)
        data = domain.report_dict(report, scope.value, scope_id, per_building=per_building)
        return domain.ServedReport(data, SavingsOut.model_validate(data).model_dump_json().encode())

    # Authorised above; the cached report depends only on what was asked and the role's view.
    return await state.reports.get((scope.value, scope_id, *periods, per_building), load)


Start = Annotated[AwareDatetime, Query(examples=["2025-01-01T00:00:00Z"])]


@router.get("/report", response_model=SavingsOut, responses={200: {"content": {"text/csv": {}}}})
async def report(
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    scope: Scope,
    id: Annotated[str, Query(min_length=1, description="Building, neighbourhood or municipality")],
    baseline_start: Start,
    baseline_end: Start,
    reporting_start: Start,
    reporting_end: Start,
    format: ReportFormat = ReportFormat.JSON,
) -> Any:
    served = await fetch_report(
        state,
        principal,
        catalogue,
        scope,
        id,
        baseline_start,
        baseline_end,
        reporting_start,
        reporting_end,
    )
    if format is ReportFormat.CSV:
        return StreamingResponse(
            iter(csv_lines(("scope", *domain.PERIOD_FIELDS), domain.csv_rows(served.data))),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="savings-{scope.value}.csv"'},
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
    scope: Scope,
    id: Annotated[str, Query(min_length=1)],
    baseline_start: Start,
    baseline_end: Start,
    reporting_start: Start,
    reporting_end: Start,
) -> Response:
    served = await fetch_report(
        state,
        principal,
        catalogue,
        scope,
        id,
        baseline_start,
        baseline_end,
        reporting_start,
        reporting_end,
    )
    months = domain.monthly(served.data["total"])
    cumulative = [v for _, v in domain.cumulative_avoided(served.data["total"])]
    svg = savings_chart(
        [p["period"] for p in months],
        [p["baseline_kwh"] for p in months],
        [p["actual_kwh"] for p in months],
        cumulative,
        f"Savings, {scope.value} {id}",
    )
    return Response(svg, media_type="image/svg+xml")

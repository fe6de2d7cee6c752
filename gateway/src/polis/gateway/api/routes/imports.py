"""CSV import of historical interval or billing data, handed to the savings service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from polis.gateway.api.deps import PrincipalDep, StateDep
from polis.gateway.api.problems import PEER_RESPONSES, Problem
from polis.gateway.api.schemas import ImportOut
from polis.gateway.application import imports

router = APIRouter(prefix="/imports", tags=["imports"], responses=PEER_RESPONSES)

MAX_BYTES = 20 * 1024 * 1024


@router.post(
    "/csv",
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "point,time,value\nlarissa/town-hall/main-meter/energy,"
                    "2025-01-01T00:00:00Z,1234.5\n",
                }
            },
        }
    },
    summary="Import historical data (all-or-nothing; errors name line and field)",
)
async def import_csv(
    request: Request,
    state: StateDep,
    principal: PrincipalDep,
    source: Annotated[str, Query(min_length=1, max_length=200, examples=["DEI bills 2025"])],
) -> ImportOut:
    imports.check_may_import(principal)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise Problem(413, "Too large", f"body: larger than {MAX_BYTES} bytes", field="body")
    body = await request.body()
    if not body:
        raise Problem(422, "Invalid request", "body: empty CSV", field="body")
    if len(body) > MAX_BYTES:
        raise Problem(413, "Too large", f"body: larger than {MAX_BYTES} bytes", field="body")
    result = await imports.import_csv(state.services, state.reports, principal, body, source)
    return ImportOut(rows=result.rows, points_written=result.points_written)

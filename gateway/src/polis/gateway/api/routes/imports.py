"""CSV import of historical interval or billing data, handed to the savings service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from polis.gateway import audit
from polis.gateway.api.deps import PrincipalDep, SessionDep, StateDep
from polis.gateway.api.problems import PEER_RESPONSES, Problem
from polis.gateway.api.schemas import ImportOut
from polis.gateway.security.roles import can_import, require

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
    session: SessionDep,
    source: Annotated[str, Query(min_length=1, max_length=200, examples=["DEI bills 2025"])],
) -> ImportOut:
    require(can_import(principal), "imports need energy_department or admin")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise Problem(413, "Too large", f"body: larger than {MAX_BYTES} bytes", field="body")
    body = await request.body()
    if not body:
        raise Problem(422, "Invalid request", "body: empty CSV", field="body")
    if len(body) > MAX_BYTES:
        raise Problem(413, "Too large", f"body: larger than {MAX_BYTES} bytes", field="body")
    response = await state.peers.import_csv(body, source)
    # Imported history can change any baseline: no cached report may outlive an import.
    state.reports.clear()
    if response.errors:
        first = response.errors[0]
        errors = [{"line": e.line, "field": e.field, "message": e.reason} for e in response.errors]
        await run_in_threadpool(
            audit.record,
            session,
            principal,
            "import.csv",
            "rejected",
            detail={"source": source, "errors": len(errors)},
        )
        raise Problem(
            422,
            "Invalid CSV",
            f"line {first.line}: {first.field}: {first.reason}",
            field=first.field,
            extra={"errors": errors},
        )
    await run_in_threadpool(
        audit.record,
        session,
        principal,
        "import.csv",
        "ok",
        detail={"source": source, "rows": response.rows},
    )
    return ImportOut(rows=response.rows, points_written=response.points_written)

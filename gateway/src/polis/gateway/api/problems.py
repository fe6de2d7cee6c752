"""RFC 9457 problem details (application/problem+json) for every error the API returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from polis.common.logging import get_logger
from polis.gateway.application.errors import (
    Conflict,
    InvalidCsv,
    InvalidInput,
    NotFound,
    UseCaseError,
)
from polis.gateway.application.ports import (
    PeerConflict,
    PeerNotFound,
    PeerRejected,
    PeerUnavailable,
)
from polis.gateway.readings import InfluxError
from polis.gateway.security.roles import Forbidden

MEDIA_TYPE = "application/problem+json"
log = get_logger(__name__)


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.headers = headers or {}
        self.extra = extra or {}


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://polis.example/problems/{problem.title.lower().replace(' ', '-')}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
    }
    if problem.field is not None:
        body["field"] = problem.field
    body.update(problem.extra)
    return JSONResponse(
        body, status_code=problem.status, headers=problem.headers, media_type=MEDIA_TYPE
    )


def field_name(loc: Sequence[Any]) -> str:
    """('query', 'start') → 'start'; ('body', 'window', 0) → 'window.0'."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("query", "body", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


# What a use case's refusal is as a problem: status and title.
USE_CASE_PROBLEMS: dict[type[UseCaseError], tuple[int, str]] = {
    InvalidInput: (422, "Invalid request"),
    InvalidCsv: (422, "Invalid CSV"),
    NotFound: (404, "Not found"),
    Conflict: (409, "Conflict"),
}


def use_case_problem(request: Request, exc: UseCaseError) -> JSONResponse:
    status, title = USE_CASE_PROBLEMS.get(type(exc), (422, "Invalid request"))
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidCsv):
        extra["errors"] = [
            {"line": e.line, "field": e.field, "message": e.message} for e in exc.errors
        ]
    return problem_response(
        request, Problem(status, title, exc.detail, field=exc.field, extra=extra)
    )


def install(app: FastAPI, retry_after_s: int) -> None:
    def unavailable(detail: str, service: str) -> Problem:
        headers = {"Retry-After": str(retry_after_s)}
        return Problem(
            503, "Service unavailable", detail, headers=headers, extra={"service": service}
        )

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": field_name(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return problem_response(
            request,
            Problem(
                422,
                "Invalid request",
                f"{first['field']}: {first['message']}",
                field=first["field"],
                extra={"errors": errors},
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        return problem_response(
            request,
            Problem(exc.status_code, title, str(exc.detail), headers=dict(exc.headers or {})),
        )

    @app.exception_handler(UseCaseError)
    async def _use_case(request: Request, exc: UseCaseError) -> JSONResponse:
        return use_case_problem(request, exc)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return problem_response(request, Problem(403, "Forbidden", str(exc)))

    @app.exception_handler(PeerUnavailable)
    async def _unavailable(request: Request, exc: PeerUnavailable) -> JSONResponse:
        log.warning("peer unavailable", service=exc.service, path=request.url.path)
        return problem_response(request, unavailable(exc.message, exc.service))

    @app.exception_handler(InfluxError)
    async def _influx(request: Request, exc: InfluxError) -> JSONResponse:
        log.warning("readings store unavailable", path=request.url.path)
        return problem_response(
            request, unavailable("the readings store is unavailable", "influxdb")
        )

    @app.exception_handler(PeerRejected)
    async def _rejected(request: Request, exc: PeerRejected) -> JSONResponse:
        return problem_response(
            request, Problem(422, "Rejected", f"{exc.service}: {exc.message}", field=exc.field)
        )

    @app.exception_handler(PeerNotFound)
    async def _not_found(request: Request, exc: PeerNotFound) -> JSONResponse:
        return problem_response(request, Problem(404, "Not found", f"{exc.service}: {exc.message}"))

    @app.exception_handler(PeerConflict)
    async def _conflict(request: Request, exc: PeerConflict) -> JSONResponse:
        return problem_response(request, Problem(409, "Conflict", f"{exc.service}: {exc.message}"))


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {MEDIA_TYPE: {"schema": {"type": "object"}}}}
    for code, text in (
        (401, "Not authenticated"),
        (403, "Not allowed for this role or resource"),
        (404, "Unknown resource"),
        (422, "Invalid request; `field` names the offending field"),
        (429, "Rate limit exceeded; see Retry-After"),
    )
}
PEER_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "An internal service is down; see Retry-After",
        "content": {MEDIA_TYPE: {"schema": {"type": "object"}}},
    }
}

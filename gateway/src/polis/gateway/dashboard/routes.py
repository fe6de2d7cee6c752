"""Serve the dashboard pages and assets. Pages carry no data; their scripts call /api/v1."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")
PAGES = ("index", "building", "savings", "neighbourhood")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def mount(app: FastAPI) -> None:
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    def page(name: str) -> FileResponse:
        return FileResponse(STATIC / f"{name}.html", headers=SECURITY_HEADERS)

    @app.get("/dashboard/", include_in_schema=False)
    async def overview() -> FileResponse:
        return page("index")

    @app.get("/dashboard/{name}", include_in_schema=False)
    async def other(name: str) -> FileResponse:
        return page(name if name in PAGES else "index")

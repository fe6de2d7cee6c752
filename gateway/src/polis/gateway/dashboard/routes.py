"""Serve the dashboard pages and assets. Pages carry no data; their scripts call /api/v1."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")
TEMPLATES = Path(__file__).with_name("templates")
# page: (title, script); every page shares templates/layout.html (header, sign-in, navigation)
PAGES = {
    "index": ("Portfolio", "overview"),
    "building": ("Building", "building"),
    "savings": ("Savings report", "savings"),
    "neighbourhood": ("Neighbourhood", "neighbourhood"),
    "alarms": ("Alarms", "alarms"),
    "alarm": ("Alarm", "alarm"),
    "commissioning": ("Commissioning", "commissioning"),
}


def render_pages() -> dict[str, str]:
    """Each page's HTML: the shared layout around the page's own content (built once)."""
    layout = (TEMPLATES / "layout.html").read_text()
    return {
        name: layout.replace("<!--title-->", title)
        .replace("<!--script-->", script)
        .replace("<!--content-->\n", (TEMPLATES / f"{name}.html").read_text())
        for name, (title, script) in PAGES.items()
    }


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

    pages = render_pages()

    def page(name: str) -> HTMLResponse:
        return HTMLResponse(pages[name], headers=SECURITY_HEADERS)

    @app.get("/dashboard/", include_in_schema=False)
    async def overview() -> HTMLResponse:
        return page("index")

    @app.get("/dashboard/{name}", include_in_schema=False)
    async def other(name: str) -> HTMLResponse:
        return page(name if name in PAGES else "index")

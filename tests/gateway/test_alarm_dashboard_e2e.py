"""The alarm pages of the dashboard in headless Chromium: the portfolio's counts by severity,
a building's panel, an alarm's page with its evidence chart and the acknowledge form, the
filtered list; each role sees what it may.

Every wait is on what the page shows (Playwright's ``expect``), never a fixed count of polls
or a sleep, so a busy machine only makes the test slower.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from polis.alarms.model import AlarmKey, Severity

from .alarm_helpers import AlarmDb
from .conftest import create_keys, make_rows
from .fakes import MemoryStore, PeerServers
from .server import Running, gateway_settings, run_gateway
from .test_dashboard_e2e import ARTIFACTS, TIMEOUT_MS, browser, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

__all__ = ["browser"]  # the module-scoped Chromium of the dashboard tests

NOW = datetime.now(UTC).replace(microsecond=0)
COLD = AlarmKey("comfort.too_cold", "town-hall", "zone-1")
STALE = AlarmKey("communication.stale", "pool", "main-meter")
SCHOOL = AlarmKey("hvac.simultaneous_heat_cool", "school-1", "zone-2")


@dataclass
class Env:
    gw: Running
    keys: dict[str, str]
    ids: dict[str, int]


@pytest.fixture(scope="module")
def env(peers: PeerServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    path: Path = tmp_path_factory.mktemp("alarm-dashboard") / "gw.db"
    settings = gateway_settings(path, peers.addresses, gateway_alarm_evaluation=False)
    with run_gateway(settings, MemoryStore(make_rows())) as gw:
        db = AlarmDb(path)
        try:
            ids = {
                "cold": db.raise_(COLD, NOW - timedelta(minutes=20)),
                "stale": db.raise_(STALE, NOW - timedelta(hours=3), severity=Severity.WARNING),
                "school": db.raise_(SCHOOL, NOW - timedelta(hours=1), severity=Severity.CRITICAL),
            }
            db.clear(STALE, NOW - timedelta(hours=2))
            yield Env(gw, create_keys(gw), ids)
        finally:
            db.close()


def new_page(browser, errors: list[str]):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def test_counts_panel_chart_and_acknowledgement(browser, env: Env) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page = new_page(browser, errors)
    sign_in(page, env, "facility_manager")  # type: ignore[arg-type]
    counts = page.locator("#alarm-counts")
    expect(counts).to_be_visible()
    row = counts.locator('tr[data-building="town-hall"]')
    expect(row.locator("td")).to_have_text(["0", "1", "0", "0"])  # critical, major, warning, info
    expect(counts.locator("tbody tr")).to_have_count(1)  # the school is not his
    page.screenshot(path=str(ARTIFACTS / "alarms-portfolio.png"), full_page=True)

    page.locator("#buildings").get_by_role("link", name="town-hall").click()
    panel = page.locator("#alarms-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#alarms-status")).to_have_text("1 open")
    panel.get_by_role("link", name="comfort.too_cold").click()

    expect(page.locator("#title")).to_have_text("comfort.too_cold at town-hall · zone-1")
    expect(page.locator("#alarm-state")).to_have_text("active")
    chart = page.locator("#evidence-charts svg")
    expect(chart).to_have_count(1)
    expect(chart.locator("polyline.series")).to_have_count(1)
    expect(page.locator("#evidence-figures tbody tr").first).to_contain_text("band_low_c")
    page.screenshot(path=str(ARTIFACTS / "alarm-page.png"), full_page=True)

    page.get_by_label("Comment").fill("radiator valve stuck; maintenance called")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#ack-answer")).to_have_text("Acknowledged.")
    expect(page.locator("#alarm-state")).to_have_text("acknowledged")
    expect(page.locator("#acknowledge")).to_be_hidden()
    expect(page.locator("#alarm-events li").last).to_contain_text("acknowledged by key:")
    expect(page.locator("#alarm-events li").last).to_contain_text(
        "radiator valve stuck; maintenance called"
    )
    page.close()
    assert errors == []


def test_the_list_filters_and_pages_through_history(browser, env: Env) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page = new_page(browser, errors)
    sign_in(page, env, "energy_department", "/dashboard/alarms")  # type: ignore[arg-type]
    rows = page.locator("#alarm-list tbody tr")
    expect(rows).to_have_count(2)  # the open ones of every building, newest first
    expect(rows.first).to_have_attribute("data-alarm", str(env.ids["school"]))
    page.get_by_label("State").select_option("cleared")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-rule", "communication.stale")
    page.get_by_label("State").select_option("any")
    page.get_by_label("Severity at least").select_option("critical")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-alarm", str(env.ids["school"]))
    # the department reads every alarm but acknowledges none
    rows.first.get_by_role("link").click()
    expect(page.locator("#alarm-state")).to_have_text("active")
    expect(page.locator("#acknowledge")).to_be_hidden()
    page.close()
    assert errors == []


def test_a_neighbourhood_scheme_sees_no_building_alarms(browser, env: Env) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page = new_page(browser, errors)
    sign_in(page, env, "neighbourhood_scheme")  # type: ignore[arg-type]
    expect(page.locator("#neighbourhoods article")).to_have_count(1)
    expect(page.locator("#alarm-counts")).to_be_hidden()
    page.goto(f"{env.gw.base_url}/dashboard/alarm?id={env.ids['cold']}")
    expect(page.locator("#page-error")).to_contain_text("alarms are per building")
    page.close()
    assert errors == []

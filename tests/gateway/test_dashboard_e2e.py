"""The dashboard in headless Chromium (Debian's), driven the way a user would.

The gateway reads a real InfluxDB (the project's influxd build) and runs on a simulated clock,
as in the demo: its "now" is months before the wall clock and runs 60 times as fast, and the
readings sit just before that "now". Pages that picked time ranges from the browser's clock
would find nothing. Screenshots land in tests/artifacts/ (not committed) for a human to look at.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from polis.common.grpc_server import check_health
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer, free_port
from polis.gateway.influx_readings import InfluxReadings
from polis.savings.synthetic import SyntheticBuilding, synthetic_building

from .conftest import SAMPLES, STEP, T0, create_keys, reading_samples
from .fakes import MONTHS, PeerServers
from .server import Running, own_gateway

pytestmark = [pytest.mark.browser, pytest.mark.influx, pytest.mark.slow, pytest.mark.timeout(300)]

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Generous waits: the machine running the suite may be busy; nothing here measures speed.
TIMEOUT_MS = 30_000
sync_api.expect.set_options(timeout=TIMEOUT_MS)


# The simulated "now" when the gateway starts; the readings end an hour before it.
VIRTUAL_NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SHIFT = VIRTUAL_NOW - timedelta(hours=1) - (T0 + (SAMPLES - 1) * STEP)
SPEED = 60.0


@dataclass
class Env:
    gw: Running
    peers: PeerServers
    keys: dict[str, str]
    origin: datetime  # the wall-clock instant at which the simulated clock read VIRTUAL_NOW


def write_readings(store: InfluxStore) -> None:
    """The suite's readings (tests.gateway.conftest.make_rows), moved to the simulated day."""
    store.write(reading_samples(SHIFT))


@pytest.fixture(scope="module")
def influx(influx_server: InfluxServer, influx_admin: InfluxStore) -> Iterator[InfluxStore]:
    bucket = f"dashboard_{uuid.uuid4().hex[:12]}"
    influx_admin.ensure_bucket(bucket)
    with InfluxStore(influx_server.url, influx_server.token, influx_server.org, bucket) as store:
        write_readings(store)
        yield store
    influx_admin.delete_bucket(bucket)


@contextmanager
def simulated_env(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    peers: PeerServers,
    addresses: dict[str, str],
    influx_server: InfluxServer,
    influx: InfluxStore,
) -> Iterator[Env]:
    """The gateway on the suite's InfluxDB bucket and the simulated clock, with its keys."""
    origin = datetime.now(UTC)
    store = InfluxReadings(influx, influx_server.token)
    clock = {"clock_origin": origin, "clock_start": VIRTUAL_NOW, "clock_speed": SPEED}
    with own_gateway(tmp_path_factory, name, addresses, store, **clock) as gw:
        yield Env(gw, peers, create_keys(gw), origin)


@pytest.fixture(scope="module")
def env(
    influx_server: InfluxServer,
    influx: InfluxStore,
    peers: PeerServers,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Env]:
    with simulated_env(
        tmp_path_factory, "dashboard", peers, peers.addresses, influx_server, influx
    ) as env:
        yield env


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI (apt-get install -y chromium)")
        pytest.skip("chromium not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def sign_in(page, env: Env, role: str, path: str = "/dashboard/") -> None:  # type: ignore[no-untyped-def]
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(env.gw.base_url + path)
    page.get_by_label("API key").fill(env.keys[role])
    page.get_by_label("API key").press("Enter")


def test_portfolio_and_building_page(browser, env: Env) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, env, "admin")
    cards = page.locator(".building-card")
    sync_api.expect(cards).to_have_count(3)
    sync_api.expect(cards.filter(has_text="town-hall").locator(".metric")).to_have_text("45.0")
    sync_api.expect(page.locator("#clock")).to_contain_text(
        f"Simulated time {VIRTUAL_NOW:%Y-%m-%d}"
    )
    page.screenshot(path=str(ARTIFACTS / "portfolio.png"), full_page=True)

    page.get_by_role("link", name="town-hall").click()
    sync_api.expect(page.get_by_role("heading", name="town-hall", level=1)).to_be_visible()
    # Three points have readings; the setpoint has none yet.
    sync_api.expect(page.locator("#live tbody tr")).to_have_count(3)
    newest = T0 + (SAMPLES - 1) * STEP + SHIFT
    sync_api.expect(page.locator("#live tbody tr").first).to_contain_text(
        f"{newest:%Y-%m-%d %H:%M:%S}"
    )
    sync_api.expect(page.locator("#energy polyline.series")).to_have_count(2)
    sync_api.expect(page.locator("#plan .load-row")).to_have_count(2)
    sync_api.expect(page.locator("#plan-explanations li").first).to_contain_text("pre-cool")
    sync_api.expect(page.locator("#plan-summary")).to_contain_text("40.0 kWh")
    page.screenshot(path=str(ARTIFACTS / "building.png"), full_page=True)
    assert errors == []
    page.close()


def test_facility_manager_sets_mode_and_overrides_with_the_keyboard(browser, env: Env) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    sign_in(page, env, "facility_manager", "/dashboard/building?b=town-hall")
    sync_api.expect(page.locator("#control")).to_be_visible()
    sync_api.expect(page.locator("#who-role")).to_have_text("facility manager")
    page.get_by_label("Plan mode").select_option("apply")
    page.get_by_label("Plan mode").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#control-answer")).to_have_text("Mode set to apply.")
    sync_api.expect(page.locator("#plan-summary .badge")).to_have_text("apply")

    page.get_by_role("button", name="Plan now").click()
    sync_api.expect(page.locator("#control-answer")).to_have_text("New plan: feasible.")

    page.get_by_label("Value", exact=True).fill("22")
    page.get_by_label("Reason").fill("open day")
    page.get_by_label("Reason").press("Enter")
    sync_api.expect(page.locator("#control-answer")).to_have_text(
        "Override applied: town-hall/ahu-1/setpoint at 22.0."
    )
    write = env.peers.rec.writes[-1]
    assert (write.value, write.reason) == (22.0, "open day")
    cancel = page.get_by_role("button", name="Cancel override of town-hall/ahu-1/setpoint").first
    cancel.focus()
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#control-answer")).to_contain_text("cancelled")
    page.screenshot(path=str(ARTIFACTS / "building-control.png"), full_page=True)
    page.close()


def test_energy_department_sees_no_controls(browser, env: Env) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    sign_in(page, env, "energy_department", "/dashboard/building?b=town-hall")
    sync_api.expect(page.locator("#plan .load-row")).to_have_count(2)
    sync_api.expect(page.locator("#control")).to_be_hidden()
    page.close()


def test_savings_report_page_and_csv_download(browser, env: Env) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    sign_in(page, env, "energy_department", "/dashboard/savings?scope=building&id=town-hall")
    # The reporting period ends on the simulated day, not the browser's.
    sync_api.expect(page.get_by_label("Reporting to")).to_have_value(f"{VIRTUAL_NOW:%Y-%m-%d}")
    sync_api.expect(page.locator("#chart rect.bar-actual")).to_have_count(len(MONTHS))
    sync_api.expect(page.locator("#periods tbody tr")).to_have_count(len(MONTHS) + 1)
    avoided = sum(baseline - actual for _, baseline, actual in MONTHS)
    total_row = page.locator("#periods tbody tr").last
    sync_api.expect(total_row.locator("td").nth(2)).to_have_text(f"{avoided:,.0f}")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    text = Path(info.value.path()).read_text()
    assert text.splitlines()[0].startswith("scope,period,baseline_kwh")
    page.close()


def test_neighbourhood_page_on_a_phone_with_the_keyboard(browser, env: Env) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    sign_in(page, env, "neighbourhood_scheme", "/dashboard/neighbourhood?n=centre")
    sync_api.expect(page.locator("#pv")).to_have_text("19.5")
    page.get_by_label("From (UTC)").fill("2026-03-02T17:00")
    page.get_by_label("To (UTC)").fill("2026-03-02T20:00")
    page.get_by_label("Peak limit (kW)").fill("80")
    page.get_by_label("Peak limit (kW)").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Send request"
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#flex-answer")).to_contain_text("partial: planned peak 100.0 kW")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows sideways at phone width
    page.screenshot(path=str(ARTIFACTS / "neighbourhood-phone.png"), full_page=True)
    page.close()


def test_scheme_is_refused_building_pages(browser, env: Env) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    sign_in(page, env, "neighbourhood_scheme", "/dashboard/building?b=town-hall")
    sync_api.expect(page.locator("#page-error")).to_contain_text("no access to building")
    page.close()


def test_the_clock_is_the_simulated_one(env: Env) -> None:
    with env.gw.client(env.keys["admin"]) as c:
        before = datetime.now(UTC)
        answer = c.get("/api/v1/clock").json()
        after = datetime.now(UTC)
    now = datetime.fromisoformat(answer["now"])
    assert (answer["speed"], answer["virtual"]) == (SPEED, True)
    assert VIRTUAL_NOW + (before - env.origin) * SPEED <= now
    assert now <= VIRTUAL_NOW + (after - env.origin) * SPEED


# -- the savings page on the real savings service ------------------------------------------
HISTORY_START = datetime(2024, 12, 31, 22, tzinfo=UTC)  # 1 January 2025, Athens
MEASURES_FROM = datetime(2025, 12, 31, 22, tzinfo=UTC)  # 1 January 2026, Athens
REDUCTION = 0.12


def history_csv() -> str:
    """A year and two months of a building's meter and weather, 12 % less from 2026."""
    hours = int((VIRTUAL_NOW - HISTORY_START).total_seconds() // 3600)
    data = synthetic_building(
        HISTORY_START, hours, 11, SyntheticBuilding(base_kw=20), REDUCTION, MEASURES_FROM
    )
    lines = ["meter_id,timestamp,value,unit"]
    energy, temperature = data.series.energy_kwh.tolist(), data.series.temperature_c.tolist()
    for i, (e, c) in enumerate(zip(energy, temperature, strict=True)):
        t = (HISTORY_START + timedelta(hours=i)).isoformat()
        lines.append(f"town-hall/town-hall-main/energy,{t},{e:.3f},kWh")
        lines.append(f"town-hall/weather/outdoor_temperature,{t},{c:.2f},degC")
    return "\n".join(lines) + "\n"


def serving(address: str) -> bool:
    # Playwright's sync API keeps an event loop on this thread: ask from another one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(check_health(address))).result()


@pytest.fixture(scope="module")
def savings_service(
    influx_server: InfluxServer, influx: InfluxStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``python -m polis.savings serve`` on the suite's InfluxDB bucket, as deployed."""
    work = tmp_path_factory.mktemp("savings")
    sites = work / "catalogue.yaml"
    sites.write_text(
        "municipality: larissa\nbuildings:\n  - {id: town-hall, neighbourhood: centre}\n"
    )
    port = free_port()
    env = {
        **os.environ,
        "POLIS_INFLUX_URL": influx_server.url,
        "POLIS_INFLUX_TOKEN": influx_server.token,
        "POLIS_INFLUX_ORG": influx_server.org,
        "POLIS_INFLUX_BUCKET": influx.bucket,
        "POLIS_SAVINGS_GRPC_PORT": str(port),
        "POLIS_CATALOGUE": str(sites),
        "POLIS_LOG_LEVEL": "WARNING",
    }
    log = (work / "savings.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "polis.savings", "serve"], env=env, stdout=log, stderr=log
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not serving(address):
            assert proc.poll() is None, (work / "savings.log").read_text()
            assert time.monotonic() < deadline, "savings service not serving after 60 s"
            time.sleep(0.3)
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def real_savings_env(
    influx_server: InfluxServer,
    influx: InfluxStore,
    peers: PeerServers,
    savings_service: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Env]:
    addresses = {**peers.addresses, "savings": savings_service}
    with simulated_env(
        tmp_path_factory, "dashboard-savings", peers, addresses, influx_server, influx
    ) as env:
        with env.gw.client(env.keys["admin"], timeout=120) as c:
            imported = c.post(
                "/api/v1/imports/csv",
                params={"source": "town hall meter export"},
                content=history_csv().encode(),
                headers={"Content-Type": "text/csv"},
            )
            assert imported.status_code == 200, imported.text
        yield env


def test_savings_page_on_the_real_service(browser, real_savings_env: Env) -> None:  # type: ignore[no-untyped-def]
    env = real_savings_env
    period = {
        "baseline_start": "2025-01-01",
        "baseline_end": "2026-01-01",
        "reporting_start": "2026-01-01",
        "reporting_end": "2026-03-01",
    }
    with env.gw.client(env.keys["energy_department"], timeout=120) as c:
        report = c.get(
            "/api/v1/savings/report",
            params={
                "scope": "building",
                "id": "town-hall",
                **{k: f"{v}T00:00:00Z" for k, v in period.items()},
            },
        )
    assert report.status_code == 200, report.text
    periods = report.json()["total"]
    # months are Athens months; the page's dates are UTC midnights, so March has two hours
    assert [p["period"] for p in periods] == ["2026-01", "2026-02", "2026-03", "total"]
    total = periods[-1]
    # the service found the 12 % reduction in the imported meter data
    assert total["fractional_savings"] == pytest.approx(REDUCTION, abs=0.03)

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    sign_in(page, env, "energy_department", "/dashboard/savings?scope=building&id=town-hall")
    sync_api.expect(page.get_by_label("Reporting to")).to_have_value(f"{VIRTUAL_NOW:%Y-%m-%d}")
    for name, value in period.items():
        page.locator(f"#{name}").fill(value)
    page.get_by_role("button", name="Show").click()
    rows = page.locator("#periods tbody tr")
    # The page's own first report (its default period) is still on its way when Show asks
    # for this one: whichever arrives last, the table shows the period asked for last.
    try:
        sync_api.expect(rows).to_have_count(len(periods))
    except AssertionError:
        notice = page.locator("#report-error").text_content()
        raise AssertionError(f"the savings table did not fill; the page says {notice!r}") from None
    sync_api.expect(rows.last.locator("td").nth(2)).to_have_text(f"{total['avoided_kwh']:,.0f}")
    sync_api.expect(rows.last.locator("td").nth(4)).to_have_text(
        f"{100 * total['fractional_savings']:.1f}"
    )
    sync_api.expect(page.locator("#chart rect.bar-actual")).to_have_count(len(periods) - 1)
    page.screenshot(path=str(ARTIFACTS / "savings.png"), full_page=True)
    page.close()

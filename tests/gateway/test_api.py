"""The REST API over real HTTP against canned peers and an in-memory readings store."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from .conftest import SAMPLES, STEP, T0, Env, power_value, pv_value
from .fakes import BASELINE, DEVICE_REFUSES, HEATER_KW, HVAC_KW, MONTHS, PLANNED

pytestmark = pytest.mark.integration

API = "/api/v1"
RANGE = {"start": T0.isoformat(), "end": (T0 + SAMPLES * STEP).isoformat()}


def test_catalogue_tree_for_the_energy_department(env: Env) -> None:
    with env.client("energy_department") as c:
        municipalities = c.get(f"{API}/municipalities").json()
        buildings = c.get(f"{API}/buildings").json()
        devices = c.get(f"{API}/buildings/town-hall/devices").json()
    assert municipalities == [
        {"id": "larissa", "name": "larissa", "neighbourhoods": ["centre", "north"]}
    ]
    assert [b["id"] for b in buildings] == ["pool", "school-1", "town-hall"]
    town_hall = next(b for b in buildings if b["id"] == "town-hall")
    assert (town_hall["neighbourhood"], town_hall["devices"], town_hall["points"]) == (
        "centre",
        3,
        4,
    )
    assert [d["id"] for d in devices] == ["ahu-1", "main-meter", "pv-inverter"]
    setpoint = devices[0]["points"][0]
    assert (setpoint["quantity"], setpoint["kind"], setpoint["min_value"]) == (
        "setpoint",
        "command",
        16.0,
    )


def test_facility_manager_lists_only_own_buildings(env: Env) -> None:
    with env.client("facility_manager") as c:
        assert [b["id"] for b in c.get(f"{API}/buildings").json()] == ["town-hall"]
        assert c.get(f"{API}/neighbourhoods").json() == []


def test_raw_readings_paginate_in_time_order(env: Env) -> None:
    ids = ["town-hall/main-meter/power", "school-1/main-meter/power"]
    seen = []
    cursor = None
    with env.client("admin") as c:
        for _ in range(20):
            params: dict[str, Any] = {**RANGE, "point": ids, "limit": 7}
            if cursor:
                params["cursor"] = cursor
            page = c.get(f"{API}/readings", params=params).json()
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert len(seen) == 2 * SAMPLES
    expected = sorted(
        [(T0 + i * STEP, "school-1/main-meter/power", power_value(1, i)) for i in range(SAMPLES)]
        + [(T0 + i * STEP, "town-hall/main-meter/power", power_value(0, i)) for i in range(SAMPLES)]
    )
    got = [(item["time"], item["point"], item["value"]) for item in seen]
    assert got == [(t.isoformat().replace("+00:00", "Z"), p, v) for t, p, v in expected]


def test_window_mean_matches_hand_computed_average(env: Env) -> None:
    with env.client("facility_manager") as c:
        page = c.get(
            f"{API}/readings",
            params={**RANGE, "point": "town-hall/main-meter/power", "window": "1h"},
        ).json()
    per_hour = SAMPLES // 12
    expected = [
        sum(power_value(0, i) for i in range(h * 12, h * 12 + 12)) / 12 for h in range(per_hour)
    ]
    assert [item["value"] for item in page["items"]] == expected
    assert page["window"] == "1h"
    assert page["fn"] == "mean"


def test_readings_csv_streams_every_row(env: Env) -> None:
    with env.client("energy_department") as c:
        response = c.get(
            f"{API}/readings",
            params={**RANGE, "point": "pool/main-meter/power", "format": "csv"},
        )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["point", "time", "value"]
    assert [float(r[2]) for r in rows[1:]] == [power_value(2, i) for i in range(SAMPLES)]


def test_last_values_are_the_newest_rows(env: Env) -> None:
    with env.client("facility_manager") as c:
        values = c.get(f"{API}/readings/last", params={"building": "town-hall"}).json()
    by_point = {v["point"]: v["value"] for v in values}
    assert by_point["town-hall/main-meter/power"] == power_value(0, SAMPLES - 1)
    assert by_point["town-hall/pv-inverter/power"] == pv_value(SAMPLES - 1)


def test_live_values_arrive_as_server_sent_events(env: Env) -> None:
    with (
        env.client("facility_manager") as c,
        c.stream("GET", f"{API}/buildings/town-hall/live") as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = []
        for line in response.iter_lines():
            lines.append(line)
            if line.startswith("data:"):
                break
    assert "event: readings" in lines
    import json

    data = json.loads(lines[-1].removeprefix("data: "))
    assert {d["point"] for d in data} >= {"town-hall/main-meter/power"}


def test_plan_shows_expected_savings_and_explanations(env: Env) -> None:
    # school-1: no other test changes its mode.
    with env.client("energy_department") as c:
        plan = c.get(f"{API}/buildings/school-1/plan").json()
    assert plan["expected_savings"]["energy_kwh"] == BASELINE.energy_kwh - PLANNED.energy_kwh
    assert plan["expected_savings"]["cost_eur"] == BASELINE.cost_eur - PLANNED.cost_eur
    assert [load["load_id"] for load in plan["loads"]] == ["ahu-1", "dhw"]
    assert plan["loads"][0]["power_kw"] == HVAC_KW
    assert plan["loads"][0]["explanation"].startswith("pre-cool")
    assert plan["grid_kw"] == [a + b for a, b in zip(HVAC_KW, HEATER_KW, strict=True)]
    assert (plan["status"], plan["mode"]) == ("optimal", "dry_run")


def test_mode_change_reaches_optimizer_and_audit(env: Env) -> None:
    with env.client("facility_manager") as c:
        response = c.put(f"{API}/buildings/town-hall/mode", json={"mode": "apply"})
        assert response.status_code == 200, response.text
        audit = c.get(f"{API}/audit", params={"building": "town-hall"}).json()
    assert ("town-hall", 2) in env.peers.rec.modes
    assert any(e["action"] == "plan.mode" and e["detail"] == {"mode": "apply"} for e in audit)


def test_override_is_written_and_relinquished(env: Env) -> None:
    with env.client("facility_manager") as c:
        created = c.post(
            f"{API}/buildings/town-hall/overrides",
            json={
                "point_id": "town-hall/ahu-1/setpoint",
                "value": 22.5,
                "duration_minutes": 30,
                "reason": "evening event",
            },
        )
        assert created.status_code == 201, created.text
        body = created.json()
        write = env.peers.rec.writes[-1]
        assert (write.point_id, write.value, write.duration.seconds) == (
            "town-hall/ahu-1/setpoint",
            22.5,
            1800,
        )
        assert write.requested_by.startswith("key:")
        assert write.priority == 9  # above the optimizer's 13, below the panel's 8
        assert body["status"] == "applied"
        cancelled = c.delete(f"{API}/buildings/town-hall/overrides/{body['id']}").json()
        assert cancelled["status"] == "cancelled"
        assert cancelled["present_value"] == 20.0
        assert env.peers.rec.relinquished[-1].point_id == "town-hall/ahu-1/setpoint"
        again = c.delete(f"{API}/buildings/town-hall/overrides/{body['id']}")
        assert again.status_code == 409


def test_override_outside_point_limits_names_value(env: Env) -> None:
    with env.client("facility_manager") as c:
        response = c.post(
            f"{API}/buildings/town-hall/overrides",
            json={"point_id": "town-hall/ahu-1/setpoint", "value": 40},
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "value"


def test_override_at_the_operators_priority_is_refused_naming_it(env: Env) -> None:
    writes = len(env.peers.rec.writes)
    with env.client("facility_manager") as c:
        response = c.post(
            f"{API}/buildings/town-hall/overrides",
            json={"point_id": "town-hall/ahu-1/setpoint", "value": 22, "priority": 8},
        )
    assert response.status_code == 422
    assert response.json()["field"] == "priority"
    assert len(env.peers.rec.writes) == writes  # nothing sent to the adapter


def test_a_write_the_device_refuses_is_a_conflict_audited_as_refused(env: Env) -> None:
    with env.client("facility_manager") as c:
        response = c.post(
            f"{API}/buildings/town-hall/overrides",
            json={"point_id": "town-hall/ahu-1/setpoint", "value": DEVICE_REFUSES},
        )
        assert response.status_code == 409, response.text
        assert "write-access-denied" in response.json()["detail"]
        listed = c.get(f"{API}/buildings/town-hall/overrides").json()
        assert all(o["value"] != DEVICE_REFUSES for o in listed)  # nothing in force
    with env.client("admin") as c:
        audit = c.get(f"{API}/audit", params={"building": "town-hall"}).json()
    refused = [e for e in audit if e["outcome"] == "refused"]
    assert [(e["action"], e["detail"]["point_id"]) for e in refused] == [
        ("override.create", "town-hall/ahu-1/setpoint")
    ]
    assert "write-access-denied" in refused[0]["detail"]["error"]


def test_flexibility_request_answers_in_kw(env: Env) -> None:
    body = {
        "window_start": "2026-03-02T17:00:00Z",
        "window_end": "2026-03-02T20:00:00Z",
        "peak_limit_kw": 80,
    }
    with env.client("neighbourhood_scheme") as c:
        answer = c.post(f"{API}/neighbourhoods/centre/flexibility-requests", json=body).json()
    assert answer == {
        "neighbourhood": "centre",
        "outcome": "partial",
        "achieved_peak_kw": 100.0,
        "reduction_kw": 20.0,
        "message": "limited by comfort bands",
    }
    sent = env.peers.rec.flex[-1]
    assert (sent.neighbourhood, sent.peak_limit_kw) == ("centre", 80)
    assert sent.window_end.ToDatetime() - sent.window_start.ToDatetime() == timedelta(hours=3)


def test_neighbourhood_aggregate_sums_load_pv_and_flexibility(env: Env) -> None:
    with env.client("neighbourhood_scheme") as c:
        agg = c.get(f"{API}/neighbourhoods/centre/aggregate").json()
    last = SAMPLES - 1
    assert agg["load_kw"] == power_value(0, last) + power_value(1, last)
    assert agg["pv_kw"] == abs(pv_value(last))
    assert agg["buildings"] == 2
    # Two buildings with the same canned plan: hvac + heater in the current slot, each.
    assert agg["flexibility_kw"] is not None
    assert agg["flexibility_kw"] >= 2 * min(HVAC_KW)


def report_params(scope: str, id_: str, **extra: str) -> dict[str, str]:
    return {
        "scope": scope,
        "id": id_,
        "baseline_start": "2025-01-01T00:00:00Z",
        "baseline_end": "2026-01-01T00:00:00Z",
        "reporting_start": "2026-01-01T00:00:00Z",
        "reporting_end": "2026-04-01T00:00:00Z",
        **extra,
    }


def test_savings_report_json_csv_and_chart(env: Env) -> None:
    with env.client("facility_manager") as c:
        report = c.get(
            f"{API}/savings/report", params=report_params("building", "town-hall")
        ).json()
        text = c.get(
            f"{API}/savings/report", params=report_params("building", "town-hall", format="csv")
        ).text
        svg = c.get(f"{API}/savings/chart.svg", params=report_params("building", "town-hall"))
    total = next(p for p in report["total"] if p["period"] == "total")
    assert total["avoided_kwh"] == sum(b - a for _, b, a in MONTHS)
    assert report["buildings"][0]["statistics"]["accepted"] is True
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["period"] for r in rows[:4]] == ["2026-01", "2026-02", "2026-03", "total"]
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.count('class="bar-actual"') == len(MONTHS)


def test_neighbourhood_scheme_never_sees_per_building_savings(env: Env) -> None:
    with env.client("neighbourhood_scheme") as c:
        report = c.get(f"{API}/savings/report", params=report_params("neighbourhood", "centre"))
    assert report.status_code == 200
    assert report.json()["buildings"] == []
    assert report.json()["total"]


def test_csv_import_passes_through_and_reports_row_errors(env: Env) -> None:
    good = b"point,time,value\ntown-hall/main-meter/energy,2025-01-01T00:00:00Z,1\n"
    with env.client("energy_department") as c:
        ok = c.post(
            f"{API}/imports/csv",
            params={"source": "bills"},
            content=good,
            headers={"Content-Type": "text/csv"},
        )
        bad = c.post(
            f"{API}/imports/csv",
            params={"source": "bills"},
            content=good + b"bad\n",
            headers={"Content-Type": "text/csv"},
        )
    assert ok.json() == {"rows": 1, "points_written": 1}
    assert env.peers.rec.imports[-2] == good
    assert bad.status_code == 422
    assert bad.json()["field"] == "value"
    assert bad.json()["errors"] == [{"line": 2, "field": "value", "message": "not a number"}]


def test_health_and_readiness_need_no_key(env: Env) -> None:
    with env.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/readyz").json() == {"status": "ok"}


def test_plan_now_returns_the_solver_outcome(env: Env) -> None:
    with env.client("facility_manager") as c:
        response = c.post(f"{API}/buildings/town-hall/plan", json={"horizon_slots": 8})
        too_long = c.post(f"{API}/buildings/town-hall/plan", json={"time_limit_s": 600})
    body = response.json()
    assert (body["status"], body["gap"], body["solve_time_s"]) == ("feasible", 0.004, 1.5)
    assert body["plan"]["building"] == "town-hall"
    assert too_long.status_code == 422
    assert too_long.json()["field"] == "time_limit_s"


def test_savings_reports_are_reused_until_history_is_imported(env: Env) -> None:
    # A period no other test asks for, so the first request reaches the savings service.
    params = report_params("building", "school-1", reporting_end="2026-03-15T00:00:00Z")

    def asked() -> int:
        return sum(
            1
            for r in env.peers.rec.reports
            if r.building == "school-1" and r.reporting_end.ToDatetime().day == 15
        )

    with env.client("energy_department") as c:
        first = c.get(f"{API}/savings/report", params=params).json()
        again = c.get(f"{API}/savings/report", params=params).json()
        as_admin = c.get(
            f"{API}/savings/report", params=params, headers={"X-API-Key": env.keys["admin"]}
        ).json()
        assert asked() == 1
        imported = c.post(
            f"{API}/imports/csv",
            params={"source": "bills"},
            content=b"point,time,value\nschool-1/main-meter/energy,2025-01-01T00:00:00Z,1\n",
            headers={"Content-Type": "text/csv"},
        )
        assert imported.status_code == 200
        after_import = c.get(f"{API}/savings/report", params=params).json()
    assert asked() == 2
    assert first == again == as_admin == after_import

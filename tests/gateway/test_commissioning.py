"""``GET /api/v1/buildings/{b}/commissioning`` and its fit plots, through the real gateway from
the optimizer's real Commissioning service reading a real report (``commissioning_report``).

Readable as the building's other data: the facility manager of another building and a
neighbourhood scheme are refused before anything is looked up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .commissioning_report import BUILDING, SPAN, commissioning_service, write_town_hall_report
from .conftest import create_keys
from .fakes import MemoryStore, PeerServers
from .server import Running, own_gateway

pytestmark = pytest.mark.integration

API = "/api/v1"


@dataclass
class Stack:
    gw: Running
    keys: dict[str, str]
    reports: Path
    written: dict[str, Any]


@pytest.fixture(scope="module")
def stack(peers: PeerServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    reports = tmp_path_factory.mktemp("reports")
    written = write_town_hall_report(reports)
    with commissioning_service(reports) as address:
        addresses = {**peers.addresses, "optimizer": address}
        with own_gateway(tmp_path_factory, "commissioning", addresses, MemoryStore([])) as gw:
            yield Stack(gw, create_keys(gw), reports, written)


def _get(stack: Stack, role: str, path: str) -> Any:
    with stack.gw.client(stack.keys[role], timeout=20) as client:
        return client.get(API + path)


def test_the_report_as_the_facility_manager_sees_it(stack: Stack) -> None:
    answer = _get(stack, "facility_manager", f"/buildings/{BUILDING}/commissioning")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["building"] == BUILDING
    assert report["span"] == SPAN
    assert report["generated_at"] is not None
    assert (report["accepted"], report["rejected"]) == (["offices"], ["council-chamber"])

    offices, chamber = report["zones"]
    expected = stack.written["zones"][0]
    assert offices["accepted"] is True
    assert offices["reasons"] == []
    assert offices["structure"] == "1R1C"
    assert offices["holdout_rmse_k"] == expected["holdout_rmse_k"] <= 0.5
    assert offices["energy_cv"] == expected["energy_cv"] <= 0.15
    assert offices["holdout_days"] == 3
    assert offices["cop_source"] == "prior"
    parameters = {p["name"]: p for p in offices["parameters"]}
    assert parameters["tau_h"]["value"] == expected["tau_h"]
    assert parameters["tau_h"]["value"] == pytest.approx(50.0, rel=0.25)  # the offices' truth
    assert parameters["tau_h"]["standard_error"] == expected["standard_errors"]["tau_h"]
    for name in ("r_k_per_kw", "c_kwh_per_k", "gains_occupied_kw", "cop_nominal"):
        assert parameters[name]["value"] == expected["parameters"][name]
    # the aperture's error is the fit's "aperture_m2"
    aperture = parameters["solar_aperture_m2"]
    assert aperture["standard_error"] == expected["standard_errors"]["aperture_m2"]
    assert parameters["cop_nominal"]["standard_error"] is None  # given, not fitted
    assert offices["points"]["temperature"].endswith("zone-offices-temperature")
    assert offices["plot"] == f"{API}/buildings/{BUILDING}/commissioning/offices/plot.png"

    assert chamber["accepted"] is False
    assert chamber["reasons"] == ["no point for: temperature, power"]
    assert chamber["parameters"] == []
    assert (chamber["holdout_rmse_k"], chamber["energy_cv"], chamber["plot"]) == (None,) * 3


def test_the_fit_plot_is_the_png_commissioning_wrote(stack: Stack) -> None:
    answer = _get(
        stack, "energy_department", f"/buildings/{BUILDING}/commissioning/offices/plot.png"
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.content == (stack.reports / f"{BUILDING}-offices.png").read_bytes()
    assert answer.content.startswith(b"\x89PNG")
    missing = _get(stack, "admin", f"/buildings/{BUILDING}/commissioning/council-chamber/plot.png")
    assert missing.status_code == 404
    assert "no fit plot of town-hall/council-chamber" in missing.json()["detail"]


def test_access_is_that_of_the_building(stack: Stack) -> None:
    for role, path in (
        ("facility_manager", "/buildings/pool/commissioning"),  # not their building
        ("facility_manager", "/buildings/pool/commissioning/offices/plot.png"),
        ("neighbourhood_scheme", f"/buildings/{BUILDING}/commissioning"),
    ):
        answer = _get(stack, role, path)
        assert answer.status_code == 403, (role, path)
    with stack.gw.client(None, timeout=20) as anonymous:
        assert anonymous.get(f"{API}/buildings/{BUILDING}/commissioning").status_code == 401


def test_a_building_without_a_report_and_an_unknown_building(stack: Stack) -> None:
    none = _get(stack, "admin", "/buildings/school-1/commissioning")
    assert none.status_code == 404
    assert none.json()["detail"] == "optimizer: no commissioning report for school-1"
    unknown = _get(stack, "admin", "/buildings/city-hall/commissioning")
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "building"
    bad = _get(stack, "admin", f"/buildings/{BUILDING}/commissioning/..%2Fx/plot.png")
    assert bad.status_code in (404, 422)


def test_a_report_caught_while_it_is_written_is_answered_as_unreadable(stack: Stack) -> None:
    """``commission`` rewriting the pool's report as it is asked for: the JSON cut short, a
    zone entry that is not an object, the fit plot cut short. Each is a 404 naming the
    building and the file's flaw, never a 5xx or half a PNG; the whole files are served."""
    report = stack.reports / "pool-commissioning.json"
    plot = stack.reports / "pool-hall.png"
    whole = json.dumps({**stack.written, "building": "pool"})
    png = (stack.reports / f"{BUILDING}-offices.png").read_bytes()
    path = "/buildings/pool/commissioning"
    try:
        report.write_text(whole[: len(whole) // 2])
        cut = _get(stack, "admin", path)
        assert cut.status_code == 404, cut.text
        assert cut.headers["content-type"] == "application/problem+json"
        detail = cut.json()["detail"]
        assert detail.startswith(
            "optimizer: unreadable commissioning report of pool (pool-commissioning.json: "
        )
        assert "ask again once commissioning has finished" in detail

        report.write_text(json.dumps({"building": "pool", "zones": ["offices"]}))
        odd = _get(stack, "admin", path)
        assert odd.status_code == 404, odd.text
        assert "unreadable commissioning report of pool" in odd.json()["detail"]
        assert "zones[0] is not an object" in odd.json()["detail"]

        report.write_text(whole)
        assert _get(stack, "admin", path).status_code == 200

        plot.write_bytes(png[: len(png) - 100])
        half = _get(stack, "admin", f"{path}/hall/plot.png")
        assert half.status_code == 404
        assert half.json()["detail"] == (
            f"optimizer: unreadable fit plot of pool/hall (pool-hall.png: not a whole PNG, "
            f"{len(png) - 100} bytes): being written, or damaged: ask again once "
            "commissioning has finished"
        )
        plot.write_bytes(png)
        served = _get(stack, "admin", f"{path}/hall/plot.png")
        assert served.status_code == 200
        assert served.content == png
    finally:
        report.unlink(missing_ok=True)
        plot.unlink(missing_ok=True)

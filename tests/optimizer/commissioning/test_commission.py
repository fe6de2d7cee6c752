"""``python -m polis.optimizer commission`` end to end on a real InfluxDB.

Three simulated weeks and three held-out days of the library's reading room, from the
simulator's own physics (tests/optimizer/identify/simulated.py), are written as the adapter
writes readings, under the point ids of the simulator's catalogue. The command maps the
points, reads them back as 15-minute means, identifies the zone and writes the catalogue and
the report. The truth (R = 1/UA, C = thermal mass) is read only to judge the result.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml

from optimizer.commissioning.catalogue import write_simulator_catalogue
from optimizer.identify.simulated import START, STEP_HOURS, SimulatedZone, zone_histories
from polis.common.catalogue import load_catalogue
from polis.common.catalogue.loads import ZoneConfig
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer
from polis.common.lineprotocol import Sample, to_ns
from polis.optimizer.__main__ import main
from polis.optimizer.identify.series import FloatArray

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAYS = 24  # 21 to train on, 3 held out
BUILDING = "library"
ZONE = "reading-room"
BMS = "library-bms"
TOLERANCE = 0.25


HISTORIES = {(z.building, z.zone): z for z in zone_histories(DAYS)}


def _zone(building: str = BUILDING, zone: str = ZONE) -> SimulatedZone:
    return HISTORIES[(building, zone)]


def _samples(
    point: str, quantity: str, unit: str, values: FloatArray, building: str = BUILDING
) -> list[Sample]:
    tags = {
        "municipality": "larissa",
        "building": building,
        "device": f"{building}-bms",
        "point": f"larissa/{building}/{building}-bms/{point}",
        "quantity": quantity,
        "unit": unit,
        "quality": "good",
    }
    step = timedelta(hours=STEP_HOURS)
    return [
        Sample("reading", tags, {"value": float(v)}, to_ns(START + k * step))
        for k, v in enumerate(values)
        if np.isfinite(v)
    ]


def _write_history(
    store: InfluxStore, zone: SimulatedZone, *, shared: bool = True, cooling_output: bool = False
) -> None:
    """The zone's points; ``shared``: the building's outdoor and irradiance points too;
    ``cooling_output``: the heat pump's cooling output (100 % in a step where it cooled)."""
    s, b, z = zone.series, zone.building, zone.zone
    assert s.cooling_power_kw is not None
    assert s.occupancy is not None
    assert s.irradiance_w_m2 is not None
    # The BMS meters the heat pump's electric input whatever its mode.
    power = s.power_kw + s.cooling_power_kw
    samples = (
        _samples(f"zone-{z}-temperature", "temperature", "degC", s.temperature_c, b)
        + _samples(f"zone-{z}-heat-pump-electric-power", "active_power", "kW", power, b)
        + _samples(f"zone-{z}-occupancy-level", "position", "%", 100.0 * s.occupancy, b)
    )
    if shared:
        samples += _samples("outdoor-air-temperature", "temperature", "degC", s.outdoor_c, b)
        samples += _samples("global-irradiance", "status", "1", s.irradiance_w_m2, b)
    if cooling_output:
        cools = np.where(s.cooling_power_kw > 0.0, 100.0, 0.0)
        samples += _samples(f"zone-{z}-cooling-output", "position", "%", cools, b)
    store.write(samples)


def _environment(
    monkeypatch: pytest.MonkeyPatch, server: InfluxServer, store: InfluxStore, catalogue: Path
) -> None:
    monkeypatch.setenv("POLIS_CATALOGUE", str(catalogue))
    monkeypatch.setenv("POLIS_INFLUX_URL", server.url)
    monkeypatch.setenv("POLIS_INFLUX_TOKEN", server.token)
    monkeypatch.setenv("POLIS_INFLUX_ORG", server.org)
    monkeypatch.setenv("POLIS_INFLUX_BUCKET", store.bucket)


@pytest.mark.timeout(120)
def test_commission_learns_the_reading_room(
    influx_server: InfluxServer,
    influx_store: InfluxStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    zone = _zone()
    _write_history(influx_store, zone)
    catalogue = write_simulator_catalogue(tmp_path / "catalogue.yaml")
    _environment(monkeypatch, influx_server, influx_store, catalogue)
    out, report = tmp_path / "learned.yaml", tmp_path / "report"

    code = main(
        [
            "commission",
            "--building",
            BUILDING,
            "--since",
            "2025-01-06",
            "--until",
            "2025-01-30",
            "--out",
            str(out),
            "--report",
            str(report),
        ]
    )

    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"[1/1] {ZONE}: identifying" in printed
    assert f"{ZONE}: ACCEPTED" in printed
    learned = load_catalogue(out)
    (hvac,) = [load for load in learned.building(BUILDING).loads if isinstance(load, ZoneConfig)]
    assert hvac.r_k_per_kw is not None
    assert hvac.c_kwh_per_k is not None
    tau = hvac.r_k_per_kw * hvac.c_kwh_per_k
    assert tau == pytest.approx(zone.tau_h, rel=TOLERANCE)
    assert hvac.r_k_per_kw == pytest.approx(zone.r_k_per_kw, rel=TOLERANCE)
    assert hvac.c_kwh_per_k == pytest.approx(zone.c_kwh_per_k, rel=TOLERANCE)
    # every number from data: the simulator's own figures are replaced
    original = load_catalogue(catalogue).building(BUILDING).loads
    (before,) = [load for load in original if isinstance(load, ZoneConfig)]
    assert hvac.c_kwh_per_k != before.c_kwh_per_k
    assert hvac.gains_occupied_kw != before.gains_occupied_kw
    assert hvac.solar_aperture_m2 != before.solar_aperture_m2
    # other buildings untouched
    assert learned.building("town-hall") == load_catalogue(catalogue).building("town-hall")

    data = json.loads((report / f"{BUILDING}-commissioning.json").read_text())
    assert data["accepted"] == [ZONE]
    assert data["rejected"] == []
    (entry,) = data["zones"]
    assert entry["accepted"] is True
    assert entry["holdout_rmse_k"] <= 0.5
    assert entry["energy_cv"] <= 0.15
    assert entry["cop_source"] == "prior"
    assert entry["readings"]["temperature"] == DAYS * 96
    assert (report / f"{BUILDING}-{ZONE}.png").stat().st_size > 10_000
    print(
        f"tau {tau:.1f} h (true {zone.tau_h:.1f}), R {hvac.r_k_per_kw:.3f} "
        f"(true {zone.r_k_per_kw:.3f}), C {hvac.c_kwh_per_k:.1f} (true {zone.c_kwh_per_k:.1f}), "
        f"RMSE {entry['holdout_rmse_k']:.3f} K, CV {entry['energy_cv']:.1%}"
    )
    assert yaml.safe_load(out.read_text())["municipality"] == "larissa"


@pytest.mark.timeout(120)
def test_without_history_the_zone_is_rejected_and_keeps_its_model(
    influx_server: InfluxServer,
    influx_store: InfluxStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    catalogue = write_simulator_catalogue(tmp_path / "catalogue.yaml")
    _environment(monkeypatch, influx_server, influx_store, catalogue)
    out, report = tmp_path / "learned.yaml", tmp_path / "report"
    argv = ["commission", "--building", BUILDING, "--since", "2025-01-06"]
    code = main([*argv, "--until", "2025-01-30", "--out", str(out), "--report", str(report)])
    assert code == 0
    assert f"{ZONE}: REJECTED" in capsys.readouterr().out
    assert load_catalogue(out).building(BUILDING) == load_catalogue(catalogue).building(BUILDING)
    data = json.loads((report / f"{BUILDING}-commissioning.json").read_text())
    assert data["rejected"] == [ZONE]
    assert data["zones"][0]["reasons"]


@pytest.mark.timeout(180)
def test_town_hall_split_by_cooling_output_and_a_zone_left_out_by_the_mapping(
    influx_server: InfluxServer,
    influx_store: InfluxStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two zones: the offices (which cool at some winter noons) learned with their power
    split by the cooling output; the council chamber's temperature taken out by the mapping
    file, so it is rejected and keeps its model."""
    offices, chamber = _zone("town-hall", "offices"), _zone("town-hall", "council-chamber")
    _write_history(influx_store, offices, cooling_output=True)
    _write_history(influx_store, chamber, shared=False)
    catalogue = write_simulator_catalogue(tmp_path / "catalogue.yaml")
    _environment(monkeypatch, influx_server, influx_store, catalogue)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("zones:\n  council-chamber:\n    temperature: null\n", encoding="utf-8")
    out, report = tmp_path / "learned.yaml", tmp_path / "report"

    code = main(
        [
            "commission",
            "--building",
            "town-hall",
            "--since",
            "2025-01-06",
            "--until",
            "2025-01-30",
            "--mapping",
            str(mapping),
            "--out",
            str(out),
            "--report",
            str(report),
        ]
    )

    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "[2/2] council-chamber" in printed
    data = json.loads((report / "town-hall-commissioning.json").read_text())
    assert data["accepted"] == ["offices"]
    assert data["rejected"] == ["council-chamber"]
    zones = {z["zone"]: z for z in data["zones"]}
    assert zones["council-chamber"]["reasons"] == ["no point for: temperature"]
    assert any("split by the cooling output" in n for n in zones["offices"]["notes"])
    learned = {
        load.id: load
        for load in load_catalogue(out).building("town-hall").loads
        if isinstance(load, ZoneConfig)
    }
    before = {
        load.id: load
        for load in load_catalogue(catalogue).building("town-hall").loads
        if isinstance(load, ZoneConfig)
    }
    r, c = learned["offices"].r_k_per_kw, learned["offices"].c_kwh_per_k
    assert r is not None
    assert c is not None
    tau = r * c
    assert tau == pytest.approx(offices.tau_h, rel=TOLERANCE)
    assert learned["council-chamber"] == before["council-chamber"]
    print(
        f"offices: tau {tau:.1f} h (true {offices.tau_h:.1f}), "
        f"RMSE {zones['offices']['holdout_rmse_k']:.3f} K, CV {zones['offices']['energy_cv']:.1%}"
    )

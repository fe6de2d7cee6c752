"""The closed loop on learned models: the optimizer configured only from commissioning.

1. **History.** Three weeks of the municipality on its own schedules (14 January to
   3 February 2026), written by the real adapter over real BACnet/IP and Modbus TCP into the
   real InfluxDB, on a stepped clock (:mod:`closed_loop.history`). The adapter reads the
   catalogue a facility manager has: the simulator's devices and points without its
   physics, every zone and tank ``model: uncommissioned``.
2. **Commissioning.** ``python -m polis.optimizer commission`` over every building, from that
   catalogue and that history only, writing the learned catalogue.
3. **The day.** Wednesday 4 February 2026 in closed loop (:mod:`closed_loop.day`) twice from
   the same warmed-up state: the optimizer on the simulator's true models, and on the
   learned catalogue; and as-is, the buildings on their own schedules.

The test reads the simulator's truth to judge what was learned; the product never does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from closed_loop.day import DayRun, closed_loop_day, print_comparison
from closed_loop.history import free_base_port, nameplate_document, write_history
from closed_loop.scenario import as_is_day, day_figures, warmed_up
from polis.common.catalogue import Catalogue, load_catalogue, parse_catalogue
from polis.common.catalogue.loads import ModelState, TankConfig, ZoneConfig
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer
from polis.optimizer.__main__ import main as optimizer_main
from polis.simulator.catalogue import catalogue
from polis.simulator.config import MunicipalityConfig, load_config
from polis.simulator.endpoints import endpoint_layout

pytestmark = [pytest.mark.integration, pytest.mark.influx]

# Wednesday 4 February 2026, local midnight (Europe/Athens is UTC+2 in winter); the school's
# Christmas closure ends on 7 January, so three weeks before it are all term time
DAY_START = datetime(2026, 2, 3, 22, 0, tzinfo=UTC)
HISTORY_DAYS = 21
SAMPLE = timedelta(minutes=15)
MODBUS_POLL_S, BACNET_POLL_S = 1.0, 0.2  # the closed loop's, as in the truth run
TAU_TOLERANCE = 0.25
RMSE_LIMIT_K = 0.5
CV_LIMIT = 0.15
COST_MARGIN = 1.02
# comfort no worse than as-is: what a planned day may add per zone, degree-hours
COMFORT_SLACK_KH = 0.05


@pytest.fixture
def second_store(influx_server: InfluxServer, influx_admin: InfluxStore) -> Iterator[InfluxStore]:
    """A bucket of its own for the truth run, so the two days' readings stay apart."""
    bucket = f"test_{uuid.uuid4().hex[:12]}"
    influx_admin.ensure_bucket(bucket)
    store = InfluxStore(influx_server.url, influx_server.token, influx_server.org, bucket)
    yield store
    store.close()
    influx_admin.delete_bucket(bucket)


def _commission(
    monkeypatch: pytest.MonkeyPatch,
    server: InfluxServer,
    store: InfluxStore,
    nameplate: Path,
    out: Path,
    report: Path,
) -> None:
    monkeypatch.setenv("POLIS_CATALOGUE", str(nameplate))
    monkeypatch.setenv("POLIS_INFLUX_URL", server.url)
    monkeypatch.setenv("POLIS_INFLUX_TOKEN", server.token)
    monkeypatch.setenv("POLIS_INFLUX_ORG", server.org)
    monkeypatch.setenv("POLIS_INFLUX_BUCKET", store.bucket)
    local = DAY_START + timedelta(hours=2)
    code = optimizer_main(
        [
            "commission",
            "--since",
            (local - timedelta(days=HISTORY_DAYS)).date().isoformat(),
            "--until",
            local.date().isoformat(),
            "--out",
            str(out),
            "--report",
            str(report),
        ]
    )
    assert code == 0


def _truth(config: MunicipalityConfig, base_port: int) -> dict[str, Any]:
    layout = endpoint_layout(config, "127.0.0.1", base_port)
    return catalogue(config, layout, modbus_poll_s=MODBUS_POLL_S, bacnet_poll_s=BACNET_POLL_S)


def _check_learned_zones(learned: Catalogue, truth: dict[str, Any], reports: Path) -> list[str]:
    """Every zone learned, its time constant near the truth, its held-out errors within the
    acceptance; the printed table's lines."""
    true_loads = {(b["id"], x["id"]): x for b in truth["buildings"] for x in b["loads"]}
    lines = []
    for building in learned.buildings:
        report = json.loads((reports / f"{building.id}-commissioning.json").read_text())
        zones = {z["zone"]: z for z in report["zones"]}
        for load in building.loads:
            if not isinstance(load, ZoneConfig):
                continue
            zone = zones[load.id]
            assert load.model is ModelState.LEARNED, (building.id, load.id, zone["reasons"])
            assert load.r_k_per_kw is not None
            assert load.c_kwh_per_k is not None
            true = true_loads[(building.id, load.id)]
            tau = load.r_k_per_kw * load.c_kwh_per_k
            true_tau = true["r_k_per_kw"] * true["c_kwh_per_k"]
            # the written (1R1C) model's own held-out figures, where a 2R2C model was chosen
            rmse = zone.get("one_node_holdout_rmse_k", zone["holdout_rmse_k"])
            cv = zone.get("one_node_energy_cv", zone["energy_cv"])
            lines.append(
                f"  {building.id + '/' + load.id:26s} tau {tau:5.1f} h (true {true_tau:4.1f}, "
                f"{tau / true_tau - 1:+.1%}), R {load.r_k_per_kw:.3f} ({true['r_k_per_kw']:.3f}), "
                f"C {load.c_kwh_per_k:5.1f} ({true['c_kwh_per_k']:.0f}), "
                f"RMSE {rmse:.3f} K, CV {cv:.1%} ({zone['structure']} chosen: "
                f"{zone['holdout_rmse_k']:.3f} K)"
            )
            assert tau == pytest.approx(true_tau, rel=TAU_TOLERANCE), lines[-1]
            assert rmse <= RMSE_LIMIT_K, lines[-1]
            assert cv <= CV_LIMIT, lines[-1]
    return lines


@pytest.mark.slow
@pytest.mark.timeout(3000)
async def test_closed_loop_on_learned_models_costs_about_what_truth_does(
    influx_server: InfluxServer,
    influx_store: InfluxStore,
    second_store: InfluxStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = load_config()
    base_port = free_base_port(config)
    nameplate = tmp_path / "nameplate.yaml"
    document = nameplate_document(config, base_port, MODBUS_POLL_S, BACNET_POLL_S)
    nameplate.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    start = DAY_START - timedelta(days=HISTORY_DAYS)
    history = await write_history(
        config, document, base_port, influx_store, tmp_path / "history", start, DAY_START, SAMPLE
    )
    learned_path, reports = tmp_path / "learned.yaml", tmp_path / "reports"
    _commission(monkeypatch, influx_server, influx_store, nameplate, learned_path, reports)
    learned = load_catalogue(learned_path, complete=True)
    truth = _truth(config, base_port)
    lines = _check_learned_zones(learned, truth, reports)
    tanks = [x for b in learned.buildings for x in b.loads if isinstance(x, TankConfig)]
    assert {t.model for t in tanks} == {ModelState.LEARNED}

    warm = warmed_up(config, DAY_START)
    as_is = day_figures(config, as_is_day(warm, DAY_START), DAY_START)
    runs: dict[str, DayRun] = {}
    runs["truth"] = await closed_loop_day(
        config,
        warm,
        DAY_START,
        lambda _site: parse_catalogue(truth, "truth"),
        second_store,
        tmp_path / "truth",
        base_port,
    )
    runs["learned"] = await closed_loop_day(
        config,
        warm,
        DAY_START,
        lambda _site: learned,
        influx_store,
        tmp_path / "learned",
        base_port,
    )
    print(
        f"\nhistory: {HISTORY_DAYS} days sampled every {SAMPLE.total_seconds() / 60:.0f} min, "
        f"{history.points} points, wall {history.wall_s:.0f} s; learned zones:"
    )
    print("\n".join(lines))
    print_comparison(f"the local day after {DAY_START.isoformat()}", as_is, runs)

    truth_day, learned_day = runs["truth"].figures, runs["learned"].figures
    assert learned_day.cost_eur <= COST_MARGIN * truth_day.cost_eur
    assert learned_day.cost_eur < as_is.cost_eur
    assert learned_day.ev_kwh >= 0.9 * as_is.ev_kwh
    for zone, kh in learned_day.comfort_kh.items():
        assert kh <= as_is.comfort_kh[zone] + COMFORT_SLACK_KH, (zone, kh, as_is.comfort_kh[zone])
    # the learned day ran on measured states and its commands went through the adapter
    learned_run = runs["learned"]
    writes = [r for r in learned_run.audit if r["action"] == "write"]
    assert sum(w["status"] == "applied" for w in writes) >= 0.95 * len(writes)
    assert learned_run.relinquished == sum(
        len(p) for p in learned_run.config.command_points().values()
    )

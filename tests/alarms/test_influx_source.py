"""The evaluator over a real InfluxDB: the library's simulated readings with three faults
written as the adapter writes them, evaluated, the right alarms raised; the InfluxDB source
answers a plan as the in-memory one does."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from alarms.simulated import SimulatedReadings, lines, simulate, utc
from polis.alarms.engine import AlarmEngine
from polis.alarms.evaluator import AlarmEvaluator, unassessed
from polis.alarms.influx_source import InfluxReadings
from polis.alarms.memory_source import MemoryReadings
from polis.alarms.model import AlarmKey, Status, TransitionKind
from polis.alarms.windows import Aggregate, SeriesRequest, Windows
from polis.common.influx import READING, InfluxStore, Sample, to_ns
from polis.simulator.config import load_config

pytestmark = [pytest.mark.integration, pytest.mark.influx]

NOW = utc(2026, 1, 12, 12)  # a Monday, 14:00 in Athens: the library is open
LIBRARY = "larissa/library"
ZONE = f"{LIBRARY}/library-bms/zone-reading-room"
HOUR = timedelta(hours=1)


def faulty_library() -> SimulatedReadings:
    """Six hours of the library, then: its hvac meter silent for 40 minutes (the adapter
    writes ``missing``), the reading room at 16 °C for 90 minutes with the heat pump at full
    output, the outdoor sensor out of range in a third of its last hour's readings."""
    config = load_config()
    config = config.model_copy(update={"buildings": [config.buildings[1]]})
    sim = simulate(config, NOW - timedelta(hours=6), 0.25)
    now = NOW.timestamp()
    cut = now - 40 * 60
    for pid in list(sim.readings.points()):
        if "/library-hvac/" in pid:
            t, v, q = sim.readings.rows(pid)
            late = t >= cut
            sim.readings.drop(pid)
            sim.readings.add(
                pid, t, v, [("missing" if x else y) for x, y in zip(late, q, strict=True)]
            )
    t = np.arange(now - 90 * 60, now, 60.0)
    for name, value in (("temperature", 16.0), ("heating-output", 100.0), ("cooling-output", 0.0)):
        sim.readings.drop_after(f"{ZONE}-{name}", t[0])
        sim.readings.add(f"{ZONE}-{name}", t, np.full(t.shape, value))
    outdoor = f"{LIBRARY}/library-bms/outdoor-air-temperature"
    t, v, q = sim.readings.rows(outdoor)
    flagged = [
        ("out_of_range" if now - 3600 <= x < now and i % 3 == 0 else y)
        for i, (x, y) in enumerate(zip(t, q, strict=True))
    ]
    sim.readings.drop(outdoor)
    sim.readings.add(outdoor, t, v, flagged)
    return sim


@pytest.fixture(scope="module")
def library() -> SimulatedReadings:
    return faulty_library()


@pytest.fixture
def loaded(influx_store: InfluxStore, library: SimulatedReadings) -> InfluxStore:
    influx_store.write_lines(lines(library.readings, library.catalogue))
    return influx_store


def test_the_evaluator_raises_the_three_faults_and_nothing_else(
    loaded: InfluxStore, library: SimulatedReadings
) -> None:
    evaluator = AlarmEvaluator(library.catalogue, loaded)
    transitions = evaluator.evaluate(NOW)
    raised = {
        str(t.assessment.key): t.assessment for t in transitions if t.kind is TransitionKind.RAISED
    }
    assert set(raised) == {
        "communication.stale:library:library-hvac",
        "comfort.too_cold:library:reading-room",
        "communication.quality:library:library-bms",
    }
    cold = raised["comfort.too_cold:library:reading-room"]
    assert "under capacity" in cold.message
    assert cold.evidence.figures["measured_c"] == 16.0
    assert cold.evidence.figures["threshold_c"] == 19.0  # the band's 20.5 °C less 1.5 K
    assert cold.evidence.series[0].point_id == f"{ZONE}-temperature"
    assert cold.evidence.series[0].values[-1] == 16.0
    quality = raised["communication.quality:library:library-bms"]
    assert quality.points == (f"{LIBRARY}/library-bms/outdoor-air-temperature",)
    assert quality.evidence.figures["worst_rate"] == pytest.approx(1 / 3, abs=0.05)
    stale = raised["communication.stale:library:library-hvac"]
    # the meter reported every 5 minutes: its last measured reading came 45 minutes ago
    assert stale.evidence.figures["silence_min"] == 45.0

    # the next evaluation, with those alarms open: seen, nothing raised again, nothing left out
    active = {t.assessment.key for t in transitions if t.kind is TransitionKind.RAISED}
    again = evaluator.evaluate(NOW + timedelta(minutes=1), active_keys=active)
    assert {t.kind for t in again} == {TransitionKind.SEEN}
    assert {t.assessment.key for t in again} == active
    gone = AlarmKey("comfort.too_cold", "library", "no-such-zone")
    assert unassessed({*active, gone}, again) == {gone}


def _same_series(a: Windows, b: Windows) -> None:
    assert a.series.keys() == b.series.keys()
    for name in a.series:
        assert a.series[name].keys() == b.series[name].keys(), name
        for point, series in a.series[name].items():
            other = b.series[name][point]
            assert series.times == other.times, (name, point)
            for x, y in zip(series.values, other.values, strict=True):
                assert math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-6), (name, point, x, y)


def test_influx_answers_a_plan_as_memory_does(
    loaded: InfluxStore, library: SimulatedReadings
) -> None:
    engine = AlarmEngine(library.catalogue)
    plan = engine.plan(NOW)
    from_influx = InfluxReadings(loaded, "larissa").fetch(plan)
    from_memory = library.readings.fetch(plan)
    assert from_influx.first_seen == from_memory.first_seen
    assert from_influx.last_measured == from_memory.last_measured
    assert from_influx.quality == from_memory.quality
    assert from_influx.starts == from_memory.starts
    assert from_influx.starts  # the heat pump's status point has readings in the hour
    _same_series(from_influx, from_memory)
    verdicts = {(a.key, a.status) for a in engine.assess(NOW, from_influx)}
    assert verdicts == {(a.key, a.status) for a in engine.assess(NOW, from_memory)}
    assert (AlarmKey("comfort.too_cold", "library", "reading-room"), Status.RAISE) in verdicts


def test_a_point_split_by_its_quality_tags_is_aggregated_as_one_series(
    influx_store: InfluxStore,
) -> None:
    """The adapter tags readings good, stale or reset, and InfluxDB keeps one series per tag:
    a window's mean weighs every reading (three good at 20 °C and one stale at 26 °C: 21.5,
    not the mean of the two series' means, 23), and a counter's last value is its latest
    reading, a reset counter's 5 kWh, not the 900 kWh it had before. A point whose series
    never share a window (the outdoor sensor, stale for a while) needs nothing more."""
    start = NOW - timedelta(hours=1)
    temperature = f"{LIBRARY}/library-bms/zone-reading-room-temperature"
    counter = f"{LIBRARY}/library-main/import-energy"
    outdoor = f"{LIBRARY}/library-bms/outdoor-air-temperature"
    rows = [
        (outdoor, 10, 5.0, "good"),
        (outdoor, 11, 6.0, "good"),
        (outdoor, 20, 7.0, "stale"),
        (temperature, 0, 20.0, "good"),
        (temperature, 1, 20.0, "good"),
        (temperature, 2, 20.0, "good"),
        (temperature, 3, 26.0, "stale"),
        (counter, 10, 900.0, "good"),
        (counter, 50, 5.0, "reset"),
    ]
    memory = MemoryReadings()
    for point, minute, value, quality in rows:
        at = start + timedelta(minutes=minute)
        memory.add(point, [at.timestamp()], [value], quality)
        influx_store.write(
            [
                Sample(
                    READING,
                    {"municipality": "larissa", "point": point, "quality": quality},
                    {"value": value},
                    to_ns(at),
                )
            ]
        )
    source = InfluxReadings(influx_store, "larissa")
    mean = SeriesRequest(
        "zone5", Aggregate.MEAN, timedelta(minutes=5), start, NOW, frozenset({temperature, outdoor})
    )
    last = SeriesRequest("energy1h", Aggregate.LAST, HOUR, start, NOW, frozenset({counter}))
    assert source.series(mean)[temperature].values == (21.5,)
    assert source.series(mean)[outdoor].values == (5.5, 7.0)
    assert source.series(last)[counter].values == (5.0,)
    for request in (mean, last):
        assert source.series(request) == memory.series(request)

"""Storing planned power in InfluxDB: measurement ``plan``, tags building/load, field power_kw."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from polis.common.influx import InfluxStore, Sample, to_ns
from polis.optimizer.domain import Plan

PLAN_MEASUREMENT = "plan"


class PlanSink(Protocol):
    def store(self, plans: Iterable[Plan]) -> int: ...


def plan_samples(plan: Plan) -> list[Sample]:
    samples = []
    for schedule in plan.loads:
        for t, power in enumerate(schedule.power_kw):
            samples.append(
                Sample(
                    measurement=PLAN_MEASUREMENT,
                    tags={"building": plan.building, "load": schedule.load_id},
                    fields={"power_kw": float(power)},
                    time_ns=to_ns(plan.horizon.slot_start(t)),
                )
            )
    for t, grid in enumerate(plan.grid_kw):
        samples.append(
            Sample(
                measurement=PLAN_MEASUREMENT,
                tags={"building": plan.building, "load": "grid"},
                fields={"power_kw": float(grid)},
                time_ns=to_ns(plan.horizon.slot_start(t)),
            )
        )
    return samples


class InfluxPlanSink:
    def __init__(self, store: InfluxStore, bucket: str | None = None) -> None:
        self._store = store
        self._bucket = bucket

    def store(self, plans: Iterable[Plan]) -> int:
        samples = [s for plan in plans for s in plan_samples(plan)]
        return self._store.write(samples, bucket=self._bucket)


class NullPlanSink:
    def store(self, plans: Iterable[Plan]) -> int:
        return 0

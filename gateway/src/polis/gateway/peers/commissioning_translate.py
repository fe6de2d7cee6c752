"""Protobuf of ``polis.commissioning.v1`` → the gateway's commissioning types."""

from __future__ import annotations

from polis.commissioning.v1 import commissioning_pb2 as pb
from polis.gateway.domain.commissioning import (
    CommissioningReport,
    Parameter,
    Plot,
    ZoneCommissioning,
)
from polis.gateway.peers.translate import instant


def _zone(z: pb.ZoneReport) -> ZoneCommissioning:
    return ZoneCommissioning(
        zone=z.zone,
        accepted=z.accepted,
        reasons=tuple(z.reasons),
        structure=z.structure,
        parameters=tuple(
            Parameter(p.name, p.value, p.standard_error if p.HasField("standard_error") else None)
            for p in z.parameters
        ),
        holdout_rmse_k=z.holdout_rmse_k if z.HasField("holdout_rmse_k") else None,
        energy_cv=z.energy_cv if z.HasField("energy_cv") else None,
        holdout_days=z.holdout_days,
        cop_source=z.cop_source,
        notes=tuple(z.notes),
        points=dict(z.points),
        readings=dict(z.readings),
        has_plot=z.has_plot,
    )


def report(message: pb.Report) -> CommissioningReport:
    return CommissioningReport(
        building=message.building,
        since=message.since,
        until=message.until,
        generated_at=instant(message.generated_at),
        zones=tuple(_zone(z) for z in message.zones),
    )


def plot(message: pb.Plot) -> Plot:
    return Plot(message.media_type, message.data, instant(message.generated_at))

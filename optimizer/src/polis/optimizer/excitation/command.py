"""``python -m polis.optimizer excite --building B [--zone Z] --days N``: ask the optimizer
service to run an identification excitation, follow it, stop it or show it.

The service runs the steps (it owns every write to the building and the exclusion with its
apply mode) and refuses zones the catalogue does not enable; this command only asks and
prints. With ``--follow`` it prints each step as the service writes it, and Ctrl-C stops the
excitation: the service relinquishes the zone's setpoint, which returns the zone to its own
control, and the line printed last says whether the adapter confirmed it. A relinquish the
adapter does not confirm is retried until the last step's write expires, when the adapter's
own expiry returns the zone to its control.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import grpc
from pydantic import Field

from polis.commissioning.v1 import commissioning_pb2 as pb
from polis.commissioning.v1 import commissioning_pb2_grpc as pb_grpc
from polis.common.settings import PolisSettings, SettingsError, load_settings

FOLLOW_POLL_S = 2.0
_STATES = {
    pb.EXCITATION_STATE_RUNNING: "running",
    pb.EXCITATION_STATE_DONE: "done",
    pb.EXCITATION_STATE_STOPPED: "stopped",
}


class ExciteSettings(PolisSettings):
    optimizer_address: str = "127.0.0.1:50052"
    grpc_deadline_s: float = Field(default=10.0, gt=0)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m polis.optimizer excite",
        description=(
            "Run bounded setpoint steps on zones held at one setpoint, so their history can "
            "be identified (docs/commissioning.md, Excitation). The zone's hvac load must "
            "have an 'excitation' block in the catalogue, and its building must be in dry run."
        ),
    )
    p.add_argument("--building", required=True, help="building id in the catalogue")
    p.add_argument(
        "--zone", action="append", default=[], help="zone id (repeat; default: every enabled)"
    )
    p.add_argument("--days", type=float, help="how long to run (at most the zone's max_days)")
    p.add_argument(
        "--start", type=_instant, help="ISO 8601 start with offset (default: now, Polis clock)"
    )
    p.add_argument("--optimizer", help="optimizer gRPC address (POLIS_OPTIMIZER_ADDRESS)")
    actions = p.add_mutually_exclusive_group()
    actions.add_argument("--follow", action="store_true", help="print progress; Ctrl-C stops")
    actions.add_argument("--stop", action="store_true", help="stop and relinquish now")
    actions.add_argument("--status", action="store_true", help="show the building's excitations")
    return p


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. +02:00 or Z")
    return value


def _when(stamp: object) -> str:
    assert hasattr(stamp, "ToDatetime")
    return f"{stamp.ToDatetime(tzinfo=UTC):%Y-%m-%d %H:%M} UTC"


def describe(excitation: pb.Excitation) -> str:
    e = excitation
    last = f", last {e.last_setpoint_c:g} °C" if e.HasField("last_setpoint_c") else ""
    return (
        f"{e.building}/{e.zone}: {_STATES.get(e.state, '?')}, ±{e.amplitude_k:g} K around "
        f"{e.base_c:g} °C on {e.point_id}, {_when(e.start)} – {_when(e.end)}; "
        f"{e.written}/{e.steps} steps written, {e.refused} refused, "
        f"{e.overridden} overridden{last}" + (f" ({e.message})" if e.message else "")
    )


def _print(excitations: Sequence[pb.Excitation]) -> None:
    for e in excitations:
        print(describe(e), flush=True)


def _follow(
    stub: pb_grpc.CommissioningStub, building: str, zones: list[str], deadline: float
) -> None:
    shown: dict[str, str] = {}
    try:
        while True:
            listed = stub.ListExcitations(
                pb.ListExcitationsRequest(building=building), timeout=deadline
            ).excitations
            ours = [e for e in listed if not zones or e.zone in zones]
            for e in ours:
                line = describe(e)
                if shown.get(e.zone) != line:
                    shown[e.zone] = line
                    print(line, flush=True)
            if not any(e.state == pb.EXCITATION_STATE_RUNNING for e in ours):
                return
            time.sleep(FOLLOW_POLL_S)
    except KeyboardInterrupt:
        stopped = stub.StopExcitation(
            pb.StopExcitationRequest(
                building=building, zones=zones, requested_by="excite --follow"
            ),
            timeout=deadline,
        )
        _print(stopped.excitations)


def run(args: argparse.Namespace, settings: ExciteSettings) -> int:
    target = args.optimizer or settings.optimizer_address
    deadline = settings.grpc_deadline_s
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.CommissioningStub(channel)  # type: ignore[no-untyped-call]
        if args.status:
            listed = stub.ListExcitations(
                pb.ListExcitationsRequest(building=args.building), timeout=deadline
            )
            _print(listed.excitations)
            if not listed.excitations:
                print(f"no excitation of {args.building} since the optimizer started")
            return 0
        if args.stop:
            stopped = stub.StopExcitation(
                pb.StopExcitationRequest(
                    building=args.building, zones=args.zone, requested_by="excite --stop"
                ),
                timeout=deadline,
            )
            _print(stopped.excitations)
            return 0
        if args.days is None:
            print("--days is required to start an excitation", file=sys.stderr)
            return 2
        request = pb.StartExcitationRequest(
            building=args.building, zones=args.zone, days=args.days, requested_by="excite"
        )
        if args.start is not None:
            request.start.FromDatetime(args.start.astimezone(UTC))
        started = stub.StartExcitation(request, timeout=deadline)
        _print(started.excitations)
        if args.follow:
            _follow(stub, args.building, list(args.zone), deadline)
        else:
            print(
                f"stop it with: python -m polis.optimizer excite --building {args.building} --stop"
            )
    return 0


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args, load_settings(ExciteSettings))
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    except grpc.RpcError as error:
        code = error.code() if isinstance(error, grpc.Call) else None
        detail = error.details() if isinstance(error, grpc.Call) else str(error)
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            print(f"the optimizer did not answer ({code.name}): {detail}", file=sys.stderr)
            return 1
        name = code.name if code is not None else "error"
        print(f"refused ({name}): {detail}", file=sys.stderr)
        return 2

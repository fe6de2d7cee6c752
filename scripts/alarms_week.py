"""False alarms of the whole alarm path: a fault-free simulated week of the default municipality.

    uv run python scripts/alarms_week.py [--days 7] [--speed 400] [--poll-s 0.35]

Runs the stack of the alarm tests (tests/alarms/stack.py) without faults: the simulator
(five buildings of Larissa, real BACnet/IP, Modbus TCP and OCPP on loopback), the building
adapter writing to a real InfluxDB, the savings service on a year of simulated history (the
energy rules' baselines), and the gateway process evaluating every rule every 5 virtual
minutes, all on one accelerated clock from Monday 12 January 2026, 06:00 local. At the end it
prints the alarms raised, by rule and severity, and every one above info; it exits 1 if there
is any.

The devices are polled every ``--poll-s`` wall seconds, so every ``speed × poll`` virtual
seconds: the rules judge 5-minute windows, which want a reading in each (2.5 virtual minutes
or less). A pause of a few wall seconds of the machine is as many virtual minutes times the
speed without readings, so the stale rule waits 12 polls here instead of 5 (printed with the
configuration). A week takes ``7 × 86,400 / speed`` wall seconds (about 25 min at 400×) plus a
minute to start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from alarms.stack import Scenario, running_stack

from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer, find_binary
from polis.common.logging import configure_logging

START = datetime(2026, 1, 12, 4, 0, tzinfo=UTC)  # Monday 12 January, 06:00 in Larissa
ABOVE_INFO = ("warning", "major", "critical")
STALE_POLLS = 12


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    parser.add_argument("--speed", type=float, default=400.0, help="clock speed (default 400)")
    parser.add_argument(
        "--poll-s", type=float, default=0.35, help="wall seconds between polls (default 0.35)"
    )
    parser.add_argument(
        "--baseline-days", type=int, default=365, help="days of history for the baselines"
    )
    parser.add_argument(
        "--work", type=Path, help="keep the services' logs and data here (default: removed)"
    )
    return parser


def _scenario(args: argparse.Namespace) -> Scenario:
    return Scenario(
        name="fault-free-week",
        start=START,
        speed=args.speed,
        poll_s=args.poll_s,
        alarms={"rules": {"communication.stale": {"raise_after_intervals": STALE_POLLS}}},
        interval_s=300.0,
        baseline_days=args.baseline_days,
    )


async def _run(args: argparse.Namespace, influx: InfluxServer, work: Path) -> list[dict[str, Any]]:
    scenario = _scenario(args)
    bucket = f"week_{uuid.uuid4().hex[:8]}"
    admin = InfluxStore(influx.url, influx.token, influx.org, "raw")
    admin.ensure_bucket(bucket)
    store = InfluxStore(influx.url, influx.token, influx.org, bucket)
    end = START + timedelta(days=args.days)
    try:
        async with running_stack(scenario, influx, store, work) as stack:
            print(f"stack up; simulating {START:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC")
            day = START
            while day < end:
                day = min(day + timedelta(days=1), end)
                await stack.until(day)
                so_far = await stack.alarms()
                above = sum(a["severity"] in ABOVE_INFO for a in so_far)
                print(f"  {day:%a %d %b %H:%M}: {len(so_far)} alarms, {above} above info")
            await asyncio.sleep(2.0)
            return cast(list[dict[str, Any]], await stack.alarms())
    finally:
        store.close()
        admin.delete_bucket(bucket)
        admin.close()


def _judged_nights(gateway_log: Path) -> Counter[str]:
    """Per building, the after-hours spans the gateway had the baseline model's prediction
    for (each judged by energy.after_hours until the next): none would mean the rule never
    judged, and a quiet week would prove nothing of it."""
    nights: Counter[str] = Counter()
    for line in gateway_log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("event") == "after-hours expectation":
            nights[str(entry.get("building"))] += 1
    return nights


def _report(alarms: list[dict[str, Any]], nights: Counter[str]) -> int:
    print("\nafter-hours spans judged against the baseline model's prediction, per building:")
    print("  " + (", ".join(f"{b} {n}" for b, n in sorted(nights.items())) or "none"))
    counts = Counter((a["rule"], a["severity"]) for a in alarms)
    print(f"\nalarms raised: {len(alarms)}")
    for (rule, severity), n in sorted(counts.items()):
        print(f"  {rule:32s} {severity:9s} {n}")
    above = [a for a in alarms if a["severity"] in ABOVE_INFO]
    print(f"above info: {len(above)}")
    for a in above:
        where = "/".join(p for p in (a["building"], a["subject"]) if p)
        print(f"  {a['first_seen']} {a['rule']} {where} {a['severity']}: {a['message']}")
    return 1 if above else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging("alarms-week", "WARNING")  # the services' own logs are in --work
    binary = find_binary()
    if binary is None:
        print("influxd not built: run `make influxd`", file=sys.stderr)
        return 2
    print(
        f"{args.days:g} fault-free days at {args.speed:g}x, polls every {args.poll_s:g} s "
        f"({args.speed * args.poll_s / 60:.1f} virtual min), stale after {STALE_POLLS} polls, "
        f"baselines on {args.baseline_days} days of history"
    )
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="polis-alarms-week-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        influx = InfluxServer(binary=binary, data_dir=work / "influxdb")
        influx.start()
        try:
            alarms = asyncio.run(_run(args, influx, work))
        finally:
            influx.stop()
        nights = _judged_nights(work / "gateway.log")
    code = _report(alarms, nights)
    print(f"wall time {time.monotonic() - began:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())

"""How fast the demo's learning phase can run: readings per 15 virtual minutes that the
simulator and the adapter, as separate processes on one accelerated clock, sustain.

    uv run python bench/history_rate.py [--hours 24] [--speeds 1440,3600,5000,7200] \
        [--poll-s 0.1]

For each clock speed, the simulator (``--nameplate-only``, every point of the demo's
catalogue) and the building adapter run ``--hours`` virtual hours into a fresh InfluxDB,
both polled every ``--poll-s`` wall seconds. Printed per speed: the readings per 15-minute
window of a zone temperature, a zone's heat pump power and a main meter's import counter
(behind the town hall's shared Modbus gateway), the share of the windows with none (gaps for
identification), and the ratio of the readings to what the poll interval asks for. The first
speed is the baseline of the ratio column's last figure: the rate at that speed against the
rate at the baseline, per wall second.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from demo import Stack, free_udp_port, simulator_base_port

from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer, find_binary, free_port

START = datetime(2026, 1, 20, 22, tzinfo=UTC)  # local midnight, a Wednesday
POINTS = {
    "zone temperature": "larissa/town-hall/town-hall-bms/zone-offices-temperature",
    "heat pump power": "larissa/town-hall/town-hall-bms/zone-offices-heat-pump-electric-power",
    "main meter counter": "larissa/town-hall/town-hall-main/import-energy",
}


def _run(binary: Path, speed: float, hours: float, poll_s: float) -> dict[str, tuple[float, float]]:
    """Per point: (readings per 15-minute window, share of windows without one)."""
    work = Path(tempfile.mkdtemp(prefix="history-rate-"))
    (work / "logs").mkdir()
    influx = InfluxServer(binary, work / "influxdb", free_port())
    influx.start()
    origin = datetime.now(UTC) + timedelta(seconds=8)
    env = {
        **os.environ,
        "POLIS_INFLUX_URL": influx.url,
        "POLIS_INFLUX_TOKEN": influx.token,
        "POLIS_INFLUX_ORG": influx.org,
        "POLIS_INFLUX_BUCKET": influx.bucket,
        "POLIS_LOG_LEVEL": "WARNING",
        "POLIS_CLOCK_ORIGIN": origin.isoformat(),
        "POLIS_CLOCK_START": START.isoformat(),
        "POLIS_CLOCK_SPEED": f"{speed:.3f}",
    }
    catalogue = work / "catalogue.yaml"
    stack = Stack(work, env)
    served = ["--nameplate-only", "--catalogue", str(catalogue)]
    served += ["--base-port", str(simulator_base_port())]
    served += ["--modbus-poll-s", f"{poll_s:g}", "--bacnet-poll-s", f"{poll_s:g}"]
    try:
        stack.start("simulator", ["-m", "polis.simulator", *served])
        while not catalogue.exists():
            stack.check_alive()
            time.sleep(0.2)
        stack.start(
            "adapter",
            ["-m", "polis.adapter", "run", "--catalogue", str(catalogue)],
            {
                "POLIS_ADAPTER_GRPC_PORT": str(free_port()),
                "POLIS_ADAPTER_METRICS_PORT": "0",
                "POLIS_ADAPTER_STATE_DIR": str(work / "adapter"),
                "POLIS_ADAPTER_BACNET_ADDRESS": f"127.0.0.1:{free_udp_port()}",
                "POLIS_ADAPTER_OCPP_PORT": str(free_port()),
                "POLIS_ADAPTER_OCPP_SECURITY_PROFILE": "0",
            },
        )
        end = origin.timestamp() + hours * 3600 / speed
        while time.time() < end + 2.0:
            stack.check_alive()
            time.sleep(0.5)
    finally:
        stack.stop()
    # the first virtual hour is start-up: the adapter connects while the clock runs
    first, stop = START + timedelta(hours=1), START + timedelta(hours=hours)
    windows = int((stop - first) / timedelta(minutes=15))
    out = {}
    with InfluxStore(influx.url, influx.token, influx.org, influx.bucket) as store:
        for name, point in POINTS.items():
            rows = store.query_window(first, stop, {"point": point}, timedelta(minutes=15))
            count = store.count(first, stop, {"point": point})
            out[name] = (count / windows, 1.0 - len(rows) / windows)
    influx.stop()
    shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=24.0, help="virtual hours per speed")
    parser.add_argument("--speeds", default="1440,3600,5000,7200")
    parser.add_argument("--poll-s", type=float, default=0.1, help="wall seconds between polls")
    args = parser.parse_args()
    binary = find_binary()
    if binary is None:
        print("influxd not built: run `make influxd`", file=sys.stderr)
        return 2
    speeds = [float(s) for s in args.speeds.split(",")]
    print(f"{args.hours:g} virtual hours per speed, polls every {args.poll_s:g} s wall")
    print(
        f"{'speed':>7s} {'wall s':>7s} {'point':20s} {'per 15 min':>10s} {'asked':>7s} "
        f"{'ratio':>6s} {'empty':>6s} {'per wall s vs first':>20s}"
    )
    baseline: dict[str, float] = {}
    for speed in speeds:
        started = time.monotonic()
        result = _run(binary, speed, args.hours, args.poll_s)
        wall = time.monotonic() - started
        asked = 900.0 / (args.poll_s * speed)  # polls per 15 virtual minutes
        for name, (per_window, empty) in result.items():
            per_wall = per_window * speed / 900.0
            baseline.setdefault(name, per_wall)
            print(
                f"{speed:7.0f} {wall:7.0f} {name:20s} {per_window:10.2f} {asked:7.2f} "
                f"{per_window / asked:6.2f} {empty:6.1%} {per_wall / baseline[name]:20.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

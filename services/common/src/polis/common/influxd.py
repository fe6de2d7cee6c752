"""A real InfluxDB 2.x server as a local process: build (once), start, set up, wait, stop.

Used by the test suite's session fixture and by ``make demo``. The server listens on loopback
only, keeps its data in its own directory, and is set up non-interactively (org, bucket,
operator token) through the /api/v2/setup endpoint.

CLI: ``python -m polis.common.influxd {build,start,stop,status}``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PINNED_VERSION = "v2.7.12"
_REPO_ROOT = Path(__file__).resolve().parents[4]
BUILD_SCRIPT = _REPO_ROOT / "scripts" / "build-influxd.sh"


def cache_dir() -> Path:
    return Path(os.environ.get("POLIS_CACHE", Path.home() / ".cache" / "polis"))


def cached_binary(version: str = PINNED_VERSION) -> Path:
    return cache_dir() / f"influxd-{version}" / "influxd"


def find_binary(version: str = PINNED_VERSION) -> Path | None:
    """POLIS_INFLUXD, then the build cache, then PATH."""
    explicit = os.environ.get("POLIS_INFLUXD")
    if explicit:
        return Path(explicit) if Path(explicit).exists() else None
    cached = cached_binary(version)
    if cached.exists():
        return cached
    found = shutil.which("influxd")
    return Path(found) if found else None


def build(version: str = PINNED_VERSION) -> Path:
    """Build influxd from its Go module with the project's script; cached per machine."""
    if not BUILD_SCRIPT.exists():
        raise FileNotFoundError(f"build script not found at {BUILD_SCRIPT}")
    env = {**os.environ, "INFLUXD_VERSION": version}
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    return Path(result.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class InfluxServer:
    """One influxd process with its own data directory."""

    binary: Path
    data_dir: Path
    port: int = 0
    org: str = "polis"
    bucket: str = "raw"
    token: str = "polis-dev-token"
    username: str = "polis"
    password: str = "polis-dev-password"
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> InfluxServer:
        if not self.port:
            self.port = free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_path or self.data_dir / "influxd.log"
        args = [
            str(self.binary),
            f"--http-bind-address=127.0.0.1:{self.port}",
            f"--bolt-path={self.data_dir / 'influxd.bolt'}",
            f"--engine-path={self.data_dir / 'engine'}",
            f"--sqlite-path={self.data_dir / 'influxd.sqlite'}",
            "--reporting-disabled",
            # influxd samples allocations and mutexes for /debug/pprof unless told not to:
            # about a tenth of its CPU per point ingested
            "--pprof-disabled",
            "--log-level=warn",
        ]
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        (self.data_dir / "influxd.pid").write_text(str(self.process.pid))
        self.wait_healthy(timeout)
        self.setup()
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"influxd exited with code {self.process.returncode}; see {self.data_dir}"
                )
            try:
                response = httpx.get(f"{self.url}/health", timeout=2.0)
                if response.status_code == 200 and response.json().get("status") == "pass":
                    return
                last_error = f"HTTP {response.status_code}"
            except httpx.HTTPError as error:
                last_error = str(error)
            time.sleep(0.2)
        raise TimeoutError(f"influxd at {self.url} not healthy after {timeout}s: {last_error}")

    def setup(self) -> None:
        """Onboard once (org, bucket, operator token); a second call finds it done."""
        allowed = httpx.get(f"{self.url}/api/v2/setup", timeout=5.0).json().get("allowed", False)
        if not allowed:
            return
        response = httpx.post(
            f"{self.url}/api/v2/setup",
            json={
                "username": self.username,
                "password": self.password,
                "org": self.org,
                "bucket": self.bucket,
                "token": self.token,
            },
            timeout=10.0,
        )
        response.raise_for_status()

    def version(self) -> str:
        result = subprocess.run(
            [str(self.binary), "version"], check=True, capture_output=True, text=True
        )
        return result.stdout.strip()

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def __enter__(self) -> InfluxServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _stop_pid(pid_file: Path, timeout: float = 20.0) -> bool:
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m polis.common.influxd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build influxd once (cached) and print its path")
    start = sub.add_parser("start", help="start a detached server and set it up")
    for command in (start, sub.add_parser("stop"), sub.add_parser("status")):
        command.add_argument("--data-dir", type=Path, default=Path(".run/influxdb"))
    start.add_argument("--port", type=int, default=8086)
    start.add_argument("--org", default=os.environ.get("POLIS_INFLUX_ORG", "polis"))
    start.add_argument("--bucket", default=os.environ.get("POLIS_INFLUX_BUCKET", "raw"))
    start.add_argument("--token", default=os.environ.get("POLIS_INFLUX_TOKEN", "polis-dev-token"))
    args = parser.parse_args(argv)

    if args.command == "build":
        print(build())
        return 0
    pid_file = args.data_dir / "influxd.pid"
    if args.command == "stop":
        print("stopped" if _stop_pid(pid_file) else "not running")
        return 0
    if args.command == "status":
        running = pid_file.exists()
        print(f"running (pid {pid_file.read_text()})" if running else "not running")
        return 0 if running else 1
    binary = find_binary() or build()
    server = InfluxServer(
        binary, args.data_dir, args.port, org=args.org, bucket=args.bucket, token=args.token
    )
    try:
        server.start()
    except (RuntimeError, TimeoutError) as error:
        server.stop()
        print(f"influxd failed to start: {error}", file=sys.stderr)
        return 1
    server.process = None  # detached: leave it running for `stop`
    print(f"influxd {server.version()} healthy at {server.url} (data in {args.data_dir})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Start ``python -m polis.simulator`` on loopback and build adapter configuration from it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml


@contextmanager
def running_simulator(workdir: Path, *extra: str) -> Iterator[dict[str, Any]]:
    manifest = workdir / "manifest.yaml"
    env = {**os.environ, "POLIS_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "polis.simulator", "--manifest", str(manifest), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not manifest.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"simulator did not start (exit {proc.returncode})")
            time.sleep(0.1)
        yield yaml.safe_load(manifest.read_text())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RecordingWriter:
    """Stands in for InfluxStore.write_lines; keeps every line it accepted."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.down = False

    def write_lines(self, lines: Sequence[str], bucket: str | None = None) -> None:
        if self.down:
            raise ConnectionError("influx down")
        self.lines.extend(lines)


def parse_line(line: str) -> tuple[dict[str, str], float, int]:
    head, value, time_ns = line.rsplit(" ", 2)
    tags = dict(part.split("=", 1) for part in head.split(",")[1:])
    return tags, float(value.removeprefix("value=")), int(time_ns)

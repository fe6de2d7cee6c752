"""A throwaway PostgreSQL cluster on a loopback port in a temporary directory.

Debian's server binaries refuse to run as root, so when the tests run as root the cluster runs
as the ``postgres`` system user through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresMissing(RuntimeError):
    pass


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresMissing("PostgreSQL server binaries not found (apt-get install -y postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Yield a SQLAlchemy URL of an empty database; stop and delete everything afterwards."""
    bindir = _bindir()
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="polis-pg-"))
    data = root / "data"
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    log = root / "server.log"

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "polis",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c shared_buffers=16MB -c max_connections=40",
            "start",
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                probe = subprocess.run(
                    [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                    capture_output=True,
                    check=False,
                )
                if probe.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not become ready")
                time.sleep(0.1)
            run(
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "polis",
                "gateway",
            )
            yield f"postgresql+psycopg://polis@127.0.0.1:{port}/gateway"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)

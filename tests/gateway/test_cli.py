"""python -m polis.gateway: keys created from the command line, settings errors named."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from polis.gateway.security.keys import split_key

pytestmark = pytest.mark.integration


def cli(*args: str, db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "POLIS_GATEWAY_DATABASE_URL": f"sqlite:///{db}",
        "POLIS_LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "polis.gateway", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_create_key_stores_only_the_hash(tmp_path: Path) -> None:
    db = tmp_path / "gw.db"
    result = cli("create-key", "--role", "facility_manager", "--building", "pool", db=db)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    parts = split_key(key)
    assert parts is not None
    key_id, secret = parts
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("select secret_hash, role, buildings from api_keys where id = :id"),
            {"id": key_id},
        ).one()
        dump = "\n".join(str(r) for r in connection.execute(sa.text("select * from api_keys")))
    engine.dispose()
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (row.role, row.buildings) == ("facility_manager", '["pool"]')
    assert secret not in dump
    assert secret not in result.stderr


def test_facility_manager_key_needs_buildings(tmp_path: Path) -> None:
    result = cli("create-key", "--role", "facility_manager", db=tmp_path / "gw.db")
    assert result.returncode == 2
    assert "buildings" in result.stderr


def test_bad_setting_is_named(tmp_path: Path) -> None:
    result = cli("migrate", db=tmp_path / "gw.db", POLIS_GATEWAY_PORT="eighty")
    assert result.returncode == 2
    assert "POLIS_GATEWAY_PORT" in result.stderr

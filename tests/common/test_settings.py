from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from pydantic import Field

from polis.common.settings import PolisSettings, SettingsError, load_settings

pytestmark = pytest.mark.integration


class _ServiceSettings(PolisSettings):
    demo_port: int = Field(default=50051, ge=0, le=65535)


def test_defaults_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLIS_DEMO_PORT", raising=False)
    assert load_settings(_ServiceSettings).demo_port == 50051


def test_non_numeric_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLIS_DEMO_PORT", "eighty")
    with pytest.raises(SettingsError) as error:
        load_settings(_ServiceSettings)
    assert "POLIS_DEMO_PORT" in str(error.value)
    assert "'eighty'" in str(error.value)


def test_placeholder_secret_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLIS_ENVIRONMENT", "production")
    monkeypatch.delenv("POLIS_INFLUX_TOKEN", raising=False)
    with pytest.raises(SettingsError, match="POLIS_INFLUX_TOKEN"):
        load_settings(_ServiceSettings)
    monkeypatch.setenv("POLIS_INFLUX_TOKEN", "a-real-token-of-some-length")
    assert load_settings(_ServiceSettings).environment == "production"


def test_secret_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLIS_INFLUX_TOKEN", "super-secret-value")
    settings = load_settings(_ServiceSettings)
    assert "super-secret-value" not in repr(settings)


def test_clock_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLIS_CLOCK_ORIGIN", "2026-11-01T00:00:00Z")
    monkeypatch.setenv("POLIS_CLOCK_START", "2026-01-01T00:00:00Z")
    monkeypatch.setenv("POLIS_CLOCK_SPEED", "60")
    clock = load_settings(_ServiceSettings).clock()
    origin = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    assert clock.at_wall(origin + 60) == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("module", "variable"),
    [
        ("polis.gateway", "POLIS_GATEWAY_PORT"),
        ("polis.savings", "POLIS_SAVINGS_GRPC_PORT"),
        ("polis.simulator", "POLIS_CLOCK_SPEED"),
    ],
)
def test_service_refuses_to_start_with_a_bad_value(module: str, variable: str) -> None:
    env = {**os.environ, variable: "not-a-number"}
    args = [sys.executable, "-m", module]
    if module == "polis.savings":
        args.append("serve")
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert variable in result.stderr, result.stderr


def test_logging_survives_a_replaced_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from polis.common.logging import configure_logging, get_logger

    original = sys.stderr
    replaced = io.StringIO()
    sys.stderr = replaced
    try:
        configure_logging("test", fmt="json")
        replaced.close()  # what a finished test's capture does to its stream
        sys.stderr = original
        get_logger("t").info("still logging", point="p1")
    finally:
        sys.stderr = original
    assert '"point": "p1"' in capsys.readouterr().err

"""Settings from the environment (POLIS_*) and optional YAML, validated by pydantic.

A bad value fails at start-up with a message that names the environment variable, so an
operator knows exactly what to fix.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from polis.common.clock import Clock

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "polis-dev-token", "secret"})


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(Exception):
    """Raised when settings do not validate; the message names every offending variable."""


class PolisSettings(BaseSettings):
    """Settings every Polis service shares. Services subclass this and add their own fields."""

    model_config = SettingsConfigDict(env_prefix="POLIS_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    log_format: str = Field(default="console", pattern=r"^(console|json)$")

    influx_url: str = "http://127.0.0.1:8086"
    influx_token: SecretStr = SecretStr("polis-dev-token")
    influx_org: str = "polis"
    influx_bucket: str = "raw"
    influx_timeout_ms: int = Field(default=10_000, gt=0)

    # The municipality catalogue (YAML) every service reads its view of: POLIS_CATALOGUE.
    catalogue: Path | None = None

    # Shared virtual clock: every process configured alike computes the same virtual time.
    clock_origin: datetime | None = None
    clock_start: datetime | None = None
    clock_speed: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> PolisSettings:
        if self.environment is Environment.PRODUCTION:
            for name, value in self.__dict__.items():
                if isinstance(value, SecretStr) and value.get_secret_value() in PLACEHOLDER_SECRETS:
                    raise ValueError(
                        f"POLIS_{name.upper()} holds a placeholder secret; set a real one "
                        "in production"
                    )
        return self

    def clock(self) -> Clock:
        now = datetime.now(UTC)
        origin = self.clock_origin or now
        return Clock(origin=origin, start=self.clock_start or origin, speed=self.clock_speed)


S = TypeVar("S", bound=BaseSettings)


def _describe(cls: type[BaseSettings], error: ValidationError) -> str:
    prefix = str(cls.model_config.get("env_prefix", ""))
    lines = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        if loc:
            variable = (prefix + loc[0]).upper()
            rest = ".".join(loc[1:])
            where = f"{variable}{'.' + rest if rest else ''}"
        else:
            where = "settings"
        given = item.get("input")
        shown = "" if isinstance(given, dict | SecretStr) or given is None else f" (got {given!r})"
        lines.append(f"{where}: {item['msg']}{shown}")
    return f"invalid {cls.__name__}:\n  " + "\n  ".join(lines)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build settings from the environment, raising SettingsError that names each variable."""
    try:
        return cls(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(cls, error)) from None


def catalogue_path(settings: PolisSettings) -> Path:
    """``POLIS_CATALOGUE``, for the services that cannot run without it."""
    if settings.catalogue is None:
        raise SettingsError("POLIS_CATALOGUE: the municipality catalogue (a YAML file) is not set")
    return settings.catalogue

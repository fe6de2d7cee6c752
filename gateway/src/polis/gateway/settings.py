"""Gateway settings (POLIS_* environment variables), validated at start-up."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, SecretStr, field_validator, model_validator

from polis.common.settings import Environment, PolisSettings

MIN_JWT_SECRET_BYTES = 32


class GatewaySettings(PolisSettings):
    """Everything the gateway needs; secrets are SecretStr and never logged."""

    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(default=8080, ge=0, le=65535)
    # SQLAlchemy URL: sqlite:///path (embedded default) or postgresql+psycopg://...
    gateway_database_url: str = "sqlite:///polis-gateway.db"

    jwt_secret: SecretStr = SecretStr("changeme")
    jwt_issuer: str = "polis"
    jwt_audience: str = "polis-gateway"
    jwt_leeway_s: float = Field(default=10.0, ge=0)

    # Created (or re-hashed) on start-up when set; shown nowhere, stored hashed.
    bootstrap_admin_key: SecretStr | None = None

    adapter_address: str = "127.0.0.1:50051"
    optimizer_address: str = "127.0.0.1:50052"
    savings_address: str = "127.0.0.1:50053"
    grpc_deadline_s: float = Field(default=5.0, gt=0)
    # savings reports and CSV imports (baseline fits for every building in scope)
    report_deadline_s: float = Field(default=120.0, gt=0)
    peer_retry_after_s: int = Field(default=10, ge=1)

    catalogue_ttl_s: float = Field(default=60.0, ge=0)

    rate_limit_per_s: float = Field(default=20.0, gt=0)
    rate_limit_burst: int = Field(default=40, ge=1)

    # How long resolved API keys, last values and savings reports are served from memory.
    key_cache_ttl_s: float = Field(default=30.0, ge=0)
    last_values_cache_ttl_s: float = Field(default=1.0, ge=0)
    savings_cache_ttl_s: float = Field(default=30.0, ge=0)

    webhook_max_attempts: int = Field(default=5, ge=1, le=20)
    webhook_backoff_s: float = Field(default=2.0, gt=0)
    webhook_timeout_s: float = Field(default=5.0, gt=0)

    # Each replica looks for due webhook deliveries this often (and at once after queuing one).
    webhook_poll_s: float = Field(default=1.0, gt=0)
    webhook_concurrency: int = Field(default=16, ge=1, le=256)

    plan_poll_s: float = Field(default=60.0, gt=0)
    # Lifetime of the leader lease (renewed every third of it): at most this long without a
    # leader after one dies without releasing it.
    leader_lease_s: float = Field(default=15.0, gt=0)
    # How often each replica checks whether another one invalidated the shared caches.
    cache_sync_s: float = Field(default=1.0, gt=0)
    live_interval_s: float = Field(default=5.0, gt=0)
    readings_max_rows: int = Field(default=10_000, ge=1)

    # Alarms (docs/alarms.md): the leader evaluates the rules every this many seconds of the
    # Polis clock, against the baseline model fitted on this period (no energy expectations
    # without one).
    gateway_alarm_evaluation: bool = True  # false: alarms are served, none evaluated
    gateway_alarm_interval_s: float = Field(default=60.0, gt=0)
    gateway_alarm_baseline_start: datetime | None = None
    gateway_alarm_baseline_end: datetime | None = None
    # Alarm e-mail through SMTP; off while no host is set. Links point at the public URL.
    gateway_smtp_host: str | None = None
    gateway_smtp_port: int = Field(default=587, ge=1, le=65535)
    gateway_smtp_from: str | None = None
    gateway_smtp_starttls: bool = True
    gateway_smtp_username: str | None = None
    gateway_smtp_password: SecretStr | None = None
    gateway_smtp_timeout_s: float = Field(default=10.0, gt=0)
    gateway_mail_poll_s: float = Field(default=5.0, gt=0)
    gateway_mail_max_attempts: int = Field(default=8, ge=1, le=50)
    gateway_mail_backoff_s: float = Field(default=30.0, gt=0)
    gateway_public_url: str | None = None

    @field_validator("bootstrap_admin_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Compose passes an unset variable through as "": that means no bootstrap key.
        return None if value == "" else value

    @field_validator(
        "gateway_smtp_host",
        "gateway_smtp_from",
        "gateway_smtp_username",
        "gateway_smtp_password",
        "gateway_public_url",
        "gateway_alarm_baseline_start",
        "gateway_alarm_baseline_end",
        mode="before",
    )
    @classmethod
    def _empty_setting_is_unset(cls, value: object) -> object:
        # Compose and config maps pass an unset variable through as "".
        return None if value == "" else value

    @model_validator(mode="after")
    def _alarm_settings_fit_together(self) -> GatewaySettings:
        if self.gateway_smtp_host is not None and not self.gateway_smtp_from:
            raise ValueError("POLIS_GATEWAY_SMTP_FROM: needed when POLIS_GATEWAY_SMTP_HOST is set")
        start, end = self.gateway_alarm_baseline_start, self.gateway_alarm_baseline_end
        if (start is None) != (end is None):
            raise ValueError("POLIS_GATEWAY_ALARM_BASELINE_START and _END: give both or neither")
        if start is not None and end is not None:
            if start.tzinfo is None or end.tzinfo is None:
                raise ValueError("POLIS_GATEWAY_ALARM_BASELINE_START/_END: need a UTC offset")
            if end <= start:
                raise ValueError("POLIS_GATEWAY_ALARM_BASELINE_END: must be after _START")
        return self

    @model_validator(mode="after")
    def _strong_jwt_secret_in_production(self) -> GatewaySettings:
        if self.environment is Environment.PRODUCTION:
            if len(self.jwt_secret.get_secret_value().encode()) < MIN_JWT_SECRET_BYTES:
                raise ValueError(
                    f"POLIS_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes in production"
                )
            if self.gateway_database_url.startswith("sqlite") is False and (
                "changeme" in self.gateway_database_url
            ):
                raise ValueError("POLIS_GATEWAY_DATABASE_URL holds a placeholder password")
        return self

"""The adapter's runtime settings: ``POLIS_ADAPTER_*`` environment variables.

What the adapter reads (buildings, devices, points, write limits) is the municipality
catalogue (``POLIS_CATALOGUE``); these say how this process runs.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from polis.common.settings import PolisSettings

_BIP = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:/(\d{1,2}))?(?::(\d{1,5}))?$")


def _split(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def _check_bip(value: str, form: str) -> str:
    """A BACnet/IP address ``ip[/prefix][:port]`` with its numbers in range."""
    match = _BIP.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not {form}")
    octets, prefix, port = match.groups()[:4], match.group(5), match.group(6)
    if any(int(o) > 255 for o in octets):
        raise ValueError(f"{value!r}: an IPv4 octet is above 255")
    if prefix is not None and not 1 <= int(prefix) <= 32:
        raise ValueError(f"{value!r}: prefix /{prefix} is not 1..32")
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValueError(f"{value!r}: port {port} is not 1..65535")
    return value.strip()


class AdapterSettings(BaseSettings):
    """Every field has a safe default; ``POLIS_ADAPTER_GRPC_PORT=50061`` sets ``grpc_port``."""

    model_config = SettingsConfigDict(env_prefix="POLIS_ADAPTER_", extra="ignore", frozen=True)

    automation_priority: int = Field(default=13, ge=9, le=16)
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    metrics_port: int = Field(default=9161, ge=0, le=65535)
    # ip[/prefix][:port]; the prefix gives the subnet's broadcast address (needed in BBMD mode)
    bacnet_address: str = "127.0.0.1:47990"
    # foreign-device registration with the BBMD of another subnet (docs/adapter.md)
    bacnet_bbmd_address: str | None = None
    bacnet_bbmd_ttl_s: int = Field(default=300, ge=10, le=65535)
    # the adapter as its own subnet's BBMD, with the peer BBMDs of its broadcast
    # distribution table (comma-separated ip[/prefix][:port]; its own entry is implied)
    bacnet_bbmd_mode: bool = False
    bacnet_bdt: str = ""
    state_dir: Path = Path("var/adapter")
    batch_size: int = Field(default=5000, ge=1)
    flush_interval_s: float = Field(default=1.0, gt=0)
    buffer_max_readings: int = Field(default=5_000_000, ge=1000)
    buffer_warn_fraction: float = Field(default=0.8, gt=0, lt=1)
    # OCPP central system, started when the catalogue has OCPP chargers (docs/adapter.md)
    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = Field(default=9000, ge=0, le=65535)
    # 0: plain ws, no authentication (loopback tests only); 1: HTTP basic auth over ws;
    # 2: basic auth over TLS (wss), the default
    ocpp_security_profile: int = Field(default=2, ge=0, le=2)
    ocpp_tls_cert: Path | None = None
    ocpp_tls_key: Path | None = None
    # one ``identity:password`` line per charger; a secret file, never the catalogue
    ocpp_passwords_file: Path | None = None
    # key of the id tag pseudonyms; default: a random key kept in state_dir
    ocpp_id_tag_key: SecretStr | None = None
    ocpp_heartbeat_s: int = Field(default=300, ge=1)
    ocpp_response_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("bacnet_address")
    @classmethod
    def _local_address(cls, value: str) -> str:
        return _check_bip(value, "ip[/prefix][:port], e.g. 192.0.2.10/24:47808")

    @field_validator("bacnet_bbmd_address")
    @classmethod
    def _bbmd_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if "/" in value:
            raise ValueError(f"{value!r}: a BBMD is addressed as ip[:port], without a prefix")
        return _check_bip(value, "ip[:port], e.g. 10.20.0.5:47808")

    @field_validator("bacnet_bdt")
    @classmethod
    def _bdt_entries(cls, value: str) -> str:
        entries = _split(value)
        for entry in entries:
            _check_bip(entry, "comma-separated ip[/prefix][:port] of peer BBMDs")
        return ",".join(entries)

    @model_validator(mode="after")
    def _one_bacnet_ip_mode(self) -> AdapterSettings:
        if self.bacnet_bbmd_mode and self.bacnet_bbmd_address:
            raise ValueError(
                "POLIS_ADAPTER_BACNET_BBMD_MODE and POLIS_ADAPTER_BACNET_BBMD_ADDRESS exclude "
                "each other: a BBMD does not register as a foreign device"
            )
        if self.bacnet_bdt and not self.bacnet_bbmd_mode:
            raise ValueError(
                "POLIS_ADAPTER_BACNET_BDT is the table of a BBMD: set "
                "POLIS_ADAPTER_BACNET_BBMD_MODE=true with it"
            )
        if self.bacnet_bbmd_mode and "/" not in self.bacnet_address:
            raise ValueError(
                f"POLIS_ADAPTER_BACNET_ADDRESS {self.bacnet_address!r}: in BBMD mode it needs "
                "the subnet prefix for the broadcast address, e.g. 192.0.2.10/24:47808"
            )
        return self

    @property
    def bacnet_bdt_peers(self) -> tuple[str, ...]:
        return tuple(_split(self.bacnet_bdt))


def ocpp_settings_problems(settings: AdapterSettings) -> list[str]:
    """What the chosen OCPP security profile still needs, naming the variables."""
    problems = []
    if settings.ocpp_security_profile >= 1 and settings.ocpp_passwords_file is None:
        problems.append(
            "POLIS_ADAPTER_OCPP_PASSWORDS_FILE: security profile "
            f"{settings.ocpp_security_profile} needs the chargers' basic-auth passwords"
        )
    if settings.ocpp_security_profile == 2:
        for name, value in (("CERT", settings.ocpp_tls_cert), ("KEY", settings.ocpp_tls_key)):
            if value is None:
                problems.append(
                    f"POLIS_ADAPTER_OCPP_TLS_{name}: security profile 2 (TLS) needs it; "
                    "POLIS_ADAPTER_OCPP_SECURITY_PROFILE=0 serves plain ws for loopback tests"
                )
    return problems


class AdapterProcessSettings(PolisSettings):
    """Shared settings (POLIS_*): InfluxDB, logging, the virtual clock, the catalogue."""

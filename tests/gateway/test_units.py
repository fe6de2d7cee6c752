"""Pure gateway logic: keys, token buckets, cursors, webhooks, aggregates, settings."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from polis.common.catalogue import parse_catalogue
from polis.common.settings import SettingsError, load_settings
from polis.gateway.domain.aggregates import split_power
from polis.gateway.domain.catalogue import PointInfo, metadata_view
from polis.gateway.domain.paging import (
    PagingError,
    decode_after,
    decode_cursor,
    encode_after,
    encode_cursor,
    parse_rfc3339,
    parse_window,
    rfc3339,
)
from polis.gateway.domain.webhooks import backoff_s, should_retry, sign, verify
from polis.gateway.readings import After
from polis.gateway.security import keys
from polis.gateway.security.ratelimit import TokenBuckets, retry_after_header
from polis.gateway.settings import GatewaySettings

pytestmark = pytest.mark.unit


def test_key_round_trip_and_storage_is_a_hash() -> None:
    new = keys.generate_key()
    key_id, secret = keys.split_key(new.plaintext)  # type: ignore[misc]
    assert key_id == new.key_id
    assert new.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in new.secret_hash
    assert keys.secret_matches(secret, new.secret_hash)
    assert not keys.secret_matches(secret + "x", new.secret_hash)
    assert keys.generate_key().plaintext != new.plaintext


@pytest.mark.parametrize("text", ["", "pk_", "pk_abc", "xx_abc_def", "pk__secret"])
def test_malformed_keys_are_recognised(text: str) -> None:
    assert keys.split_key(text) is None


def test_bootstrap_key_must_be_strong() -> None:
    good = keys.generate_key()
    assert keys.key_from_bootstrap(good.plaintext) == (good.key_id, good.secret_hash)
    with pytest.raises(ValueError, match="POLIS_BOOTSTRAP_ADMIN_KEY"):
        keys.key_from_bootstrap("pk_abcdef_short")


def test_token_bucket_allows_burst_then_refills_at_rate() -> None:
    buckets = TokenBuckets(rate=2.0, burst=3)
    assert [buckets.take("k", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k", 0.0) == pytest.approx(0.5)
    assert buckets.take("other", 0.0) == 0.0
    assert buckets.take("k", 0.5) == 0.0  # one token back after 1/rate seconds
    assert buckets.take("k", 0.5) == pytest.approx(0.5)
    assert buckets.take("k", 100.0, rate=10.0) == 0.0
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.2) == "3"


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor(1234)) == 1234
    assert decode_cursor(None) == 0
    for bad in ("!!", encode_cursor(5)[:-1] + "%", "eDo1"):
        with pytest.raises(PagingError) as error:
            decode_cursor(bad)
        assert error.value.field == "cursor"


def test_windows() -> None:
    assert parse_window("15m") == timedelta(minutes=15)
    assert parse_window("2d") == timedelta(days=2)
    for bad in ("0m", "15", "m", "1.5h", "-1h"):
        with pytest.raises(PagingError):
            parse_window(bad)


def test_webhook_signature_is_hmac_of_timestamp_and_body() -> None:
    body = b'{"event":"alarm"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", 1_700_000_000, body) == f"sha256={expected}"
    assert verify("s3cret", 1_700_000_000, body, f"sha256={expected}", now=1_700_000_100)
    assert not verify("s3cret", 1_700_000_000, body, f"sha256={expected}", now=1_700_001_000)
    assert not verify("s3cret", 1_700_000_000, body + b" ", f"sha256={expected}", now=1_700_000_000)


def test_backoff_doubles_and_caps() -> None:
    assert [backoff_s(n, 2.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff_s(30, 2.0, cap_s=60) == 60
    assert [should_retry(c) for c in (None, 500, 503, 429, 408, 400, 404, 410)] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]


def point(pid: str, device: str, brick: str = "") -> PointInfo:
    return PointInfo(pid, "m", "n", "b", device, "active_power", "kW", "instantaneous", brick)


def test_split_power_recognises_pv_by_device_or_brick_class() -> None:
    points = [
        point("a", "main-meter"),
        point("b", "pv-1"),
        point("c", "inv", "PV_Panel"),
        point("d", "sub-meter"),
    ]
    assert split_power(points, {"a": 50.0, "b": -4.0, "c": 3.0, "d": 7.0}) == (57.0, 7.0)
    assert split_power(points, {}) == (None, None)


def test_display_names_come_from_the_municipality_catalogue() -> None:
    municipality = parse_catalogue(
        {
            "municipality": "larissa",
            "name": "Larissa",
            "neighbourhoods": [{"id": "kentro", "name": "Kentro"}, {"id": "viopa"}],
            "buildings": [
                {
                    "id": "town-hall",
                    "neighbourhood": "kentro",
                    "name": "Town hall",
                    "use": "office",
                    "floor_area_m2": 2400,
                },
                {"id": "depot", "neighbourhood": "viopa"},
            ],
        }
    )
    meta = metadata_view(municipality)
    assert meta.municipalities["larissa"].name == "Larissa"
    assert meta.neighbourhoods["kentro"].name == "Kentro"
    assert meta.neighbourhoods["viopa"].name is None  # shown by its id
    hall = meta.buildings["town-hall"]
    assert (hall.name, hall.use, hall.floor_area_m2) == ("Town hall", "office", 2400)
    assert meta.buildings["depot"].name is None


def test_production_refuses_placeholder_and_short_jwt_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POLIS_ENVIRONMENT", "production")
    monkeypatch.setenv("POLIS_INFLUX_TOKEN", "a-real-influx-token-value")
    with pytest.raises(SettingsError, match="POLIS_JWT_SECRET"):
        load_settings(GatewaySettings)
    monkeypatch.setenv("POLIS_JWT_SECRET", "short-but-not-placeholder")
    with pytest.raises(SettingsError, match="at least 32 bytes"):
        load_settings(GatewaySettings)
    monkeypatch.setenv("POLIS_JWT_SECRET", "x" * 40)
    assert load_settings(GatewaySettings).jwt_secret.get_secret_value() == "x" * 40
    monkeypatch.setenv("POLIS_RATE_LIMIT_BURST", "0")
    with pytest.raises(SettingsError, match="POLIS_RATE_LIMIT_BURST"):
        load_settings(GatewaySettings)


def test_empty_bootstrap_key_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLIS_BOOTSTRAP_ADMIN_KEY", "")
    assert load_settings(GatewaySettings).bootstrap_admin_key is None


def test_position_cursor_round_trip_and_garbage() -> None:
    after = After("2026-03-01T00:15:00.123456789Z", "town-hall/main,meter")
    assert decode_after(encode_after(after)) == after
    assert decode_after(None) is None
    for bad in (encode_cursor(5), "!!", encode_after(After("yesterday", "p"))):
        with pytest.raises(PagingError) as error:
            decode_after(bad)
        assert error.value.field == "cursor"


def test_rfc3339_text_floors_to_microseconds() -> None:
    assert parse_rfc3339("2026-03-01T00:15:00.123456789Z") == datetime(
        2026, 3, 1, 0, 15, 0, 123456, tzinfo=UTC
    )
    assert parse_rfc3339("2026-03-01T00:15:00Z") == datetime(2026, 3, 1, 0, 15, tzinfo=UTC)
    assert rfc3339(datetime(2026, 3, 1, 0, 15, tzinfo=UTC)) == "2026-03-01T00:15:00Z"
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_rfc3339("2026-03-01 00:15:00")

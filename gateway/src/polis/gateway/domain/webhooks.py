"""Webhook signatures and retry schedule (pure).

A delivery carries ``X-Polis-Timestamp`` (Unix seconds) and ``X-Polis-Signature:
sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<raw body>"`` under the subscription's
secret. Receivers recompute it, compare in constant time and reject stale timestamps.
"""

from __future__ import annotations

import hashlib
import hmac

EVENTS = frozenset(
    {
        "plan.updated",
        "plan.mode_changed",
        "override.created",
        "override.cancelled",
        # An alarm of the rules (docs/alarms.md) opened or closed.
        "alarm.raised",
        "alarm.cleared",
        # A command the device did not take, at once; kept for its subscribers (the rules
        # announce the same refusal as alarm.raised with rule control.command_refused).
        "alarm",
    }
)
SIGNATURE_HEADER = "X-Polis-Signature"
TIMESTAMP_HEADER = "X-Polis-Timestamp"
EVENT_HEADER = "X-Polis-Event"
DELIVERY_HEADER = "X-Polis-Delivery"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: int, body: bytes, signature: str, now: float, tolerance_s: float = 300
) -> bool:
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff_s(attempt: int, base_s: float, cap_s: float = 300.0) -> float:
    """Delay before retry number ``attempt`` (1-based): base, 2·base, 4·base … capped."""
    return float(min(cap_s, base_s * 2 ** (attempt - 1)))


def should_retry(status_code: int | None) -> bool:
    """Network errors, 408, 429 and 5xx are retried; other 4xx mean the receiver refused it."""
    if status_code is None:
        return True
    return status_code in (408, 429) or status_code >= 500

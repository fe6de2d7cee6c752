"""Opaque cursors and window lengths for readings queries (pure).

Two kinds of cursor: an offset (``o:``) into a computed list of windows, and a position
(``k:``) in the (time, point) order of raw rows, so that the next page of raw rows starts where
the last one ended instead of reading and skipping everything before it.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

from polis.gateway.readings import After

_WINDOW = re.compile(r"^(\d{1,6})(s|m|h|d)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class PagingError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# RFC 3339 in UTC as InfluxDB writes it: whole seconds, or up to nine fractional digits.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise PagingError("cursor", "not a cursor this API returned") from None
    kind, _, rest = text.partition(":")
    return kind, rest


def encode_cursor(offset: int) -> str:
    return _encode(f"o:{offset}")


def decode_cursor(cursor: str | None) -> int:
    """The offset of an offset cursor (0 when there is none)."""
    if not cursor:
        return 0
    kind, number = _decode(cursor)
    try:
        offset = int(number)
    except ValueError:
        raise PagingError("cursor", "not a cursor this API returned") from None
    if kind != "o" or offset < 0:
        raise PagingError("cursor", "not a cursor this API returned")
    return offset


def encode_after(after: After) -> str:
    return _encode(f"k:{after.time}|{after.point}")


def decode_after(cursor: str | None) -> After | None:
    """The position of a raw-rows cursor (None when there is none)."""
    if not cursor:
        return None
    kind, rest = _decode(cursor)
    time, sep, point = rest.partition("|")
    if kind != "k" or not sep or not point or _RFC3339.match(time) is None:
        raise PagingError("cursor", "not a cursor this API returned")
    return After(time, point)


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 UTC instant as a datetime, floored to microseconds."""
    if _RFC3339.match(text) is None:
        raise ValueError(f"not an RFC 3339 UTC instant: {text!r}")
    head, _, frac = text[:-1].partition(".")
    micros = int(frac[:6].ljust(6, "0")) if frac else 0
    return datetime.fromisoformat(head).replace(microsecond=micros, tzinfo=UTC)


def rfc3339(value: datetime) -> str:
    """A UTC datetime as RFC 3339 text, the way the API writes instants."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def parse_window(text: str) -> timedelta:
    """'15m' → 15 minutes; seconds, minutes, hours or days."""
    match = _WINDOW.match(text)
    if match is None:
        raise PagingError("window", "a whole number and s, m, h or d, e.g. 15m")
    length = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if length <= timedelta(0):
        raise PagingError("window", "must be positive")
    return length
